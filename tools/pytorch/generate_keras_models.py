#!/usr/bin/python3
"""Keras / TF.js layers-model golden files whose weights come from PyTorch (tests/models/keras).

Usage (Debian's system python, which has torch 1.13 and numpy):
    /usr/bin/python3 tools/pytorch/generate_keras_models.py tests/models/keras
    /usr/bin/python3 tools/pytorch/check_keras_models.py tests/models/keras

Each case is a directory holding what `tensorflowjs_converter` writes for a Keras
model (`model.json` + `group1-shard1of1.bin`) and a `reference.json`
(`{description, generatedBy, calls: [{inputs: [{name, shape, data}], outputs: [...]}]}`,
input named after the InputLayer, output after the last layer, data flat
row-major, shortest float32 round-trip decimals).

No Keras or TensorFlow is involved: the topology is written here in the spelling
Keras serialises (layer `get_config()` key order and names as in Keras 2.11 /
standalone Keras 2.2.4 / Keras 3.6 sources), the weights are converted in Python
from seeded PyTorch modules, and the expected outputs are PyTorch's own outputs.
The conversion (see tests/models/keras/README.md, written by this script):

  GRU  (torch r,z,n -> Keras z,r,h): kernel = reorder(weight_ih_l0)^T [in, 3u],
       recurrent_kernel = reorder(weight_hh_l0)^T [u, 3u],
       bias = [reorder(bias_ih_l0); reorder(bias_hh_l0)] [2, 3u] (reset_after=True)
  LSTM (torch i,f,g,o == Keras i,f,c,o): kernel = weight_ih_l0^T [in, 4u],
       recurrent_kernel = weight_hh_l0^T [u, 4u], bias = bias_ih_l0 + bias_hh_l0 [4u]
  CuDNNGRU:  kernel / recurrent_kernel as GRU, bias = [reorder(b_ih), reorder(b_hh)] [6u]
  CuDNNLSTM: kernel / recurrent_kernel as LSTM, bias = [b_ih, b_hh] [8u]
  Dense (torch nn.Linear): kernel = weight^T, bias = bias
  Bidirectional: forward = the `_l0` tensors, backward = the `_l0_reverse` tensors.

Deterministic (seeded); re-running produces byte-identical files.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_safetensors import F32, dumps  # noqa: E402

CONVERTED_BY = 'TensorFlow.js Converter v4.22.0'
GENERATED_BY_REF = f'PyTorch {torch.__version__} (torch.nn, float32, CPU) via tools/pytorch/generate_keras_models.py'


# ----------------------------------------------------------------------------
# Keras config spellings
# ----------------------------------------------------------------------------
def k2_init(kind):
    """tf.keras 2.x initializers.serialize()."""
    return {'glorot_uniform': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
            'orthogonal': {'class_name': 'Orthogonal', 'config': {'gain': 1.0, 'seed': None}},
            'zeros': {'class_name': 'Zeros', 'config': {}}}[kind]


def k224_init(kind):
    """standalone Keras 2.2.4 initializers.serialize() (glorot_uniform is a VarianceScaling)."""
    return {'glorot_uniform': {'class_name': 'VarianceScaling',
                               'config': {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform',
                                          'seed': None}},
            'orthogonal': {'class_name': 'Orthogonal', 'config': {'gain': 1.0, 'seed': None}},
            'zeros': {'class_name': 'Zeros', 'config': {}}}[kind]


def k2_base(name, batch_input_shape=None):
    """tf.keras 2.x Layer.get_config(): name, trainable, [batch_input_shape], dtype."""
    c = {'name': name, 'trainable': True}
    if batch_input_shape is not None:
        c['batch_input_shape'] = batch_input_shape
    c['dtype'] = 'float32'
    return c


def k2_input_layer(name, batch_input_shape):
    return {'class_name': 'InputLayer',
            'config': {'batch_input_shape': batch_input_shape, 'dtype': 'float32', 'sparse': False,
                       'ragged': False, 'name': name}}


def k2_rnn_flags(return_sequences):
    """tf.keras 2.x RNN.get_config() part (zero_output_for_mask only when True)."""
    return {'return_sequences': return_sequences, 'return_state': False, 'go_backwards': False,
            'stateful': False, 'unroll': False, 'time_major': False}


def k2_regs(*names):
    return {n: None for n in names}


def k2_gru(name, units, return_sequences):
    c = k2_base(name)
    c.update(k2_rnn_flags(return_sequences))
    c.update({'units': units, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': True,
              'kernel_initializer': k2_init('glorot_uniform'),
              'recurrent_initializer': k2_init('orthogonal'),
              'bias_initializer': k2_init('zeros')})
    c.update(k2_regs('kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
                     'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
                     'bias_constraint'))
    c.update({'dropout': 0.0, 'recurrent_dropout': 0.0, 'implementation': 2, 'reset_after': True})
    return {'class_name': 'GRU', 'config': c}


def k2_lstm(name, units, return_sequences):
    c = k2_base(name)
    c.update(k2_rnn_flags(return_sequences))
    c.update({'units': units, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': True,
              'kernel_initializer': k2_init('glorot_uniform'),
              'recurrent_initializer': k2_init('orthogonal'),
              'bias_initializer': k2_init('zeros'), 'unit_forget_bias': True})
    c.update(k2_regs('kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
                     'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
                     'bias_constraint'))
    c.update({'dropout': 0.0, 'recurrent_dropout': 0.0, 'implementation': 2})
    return {'class_name': 'LSTM', 'config': c}


def k2_dense(name, units):
    c = k2_base(name)
    c.update({'units': units, 'activation': 'linear', 'use_bias': True,
              'kernel_initializer': k2_init('glorot_uniform'), 'bias_initializer': k2_init('zeros')})
    c.update(k2_regs('kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
                     'kernel_constraint', 'bias_constraint'))
    return {'class_name': 'Dense', 'config': c}


def k2_bidirectional(name, inner, merge_mode='concat'):
    """Wrapper.get_config() = base + {'layer'}, then Bidirectional adds merge_mode."""
    c = k2_base(name)
    c['layer'] = inner
    c['merge_mode'] = merge_mode
    return {'class_name': 'Bidirectional', 'config': c}


def k2_cudnn(cls, name, units, return_sequences, base, init, time_major):
    """_CuDNNRNN.get_config(): flags (+ time_major in tf.keras) then CuDNNGRU/CuDNNLSTM keys."""
    c = dict(base)
    c.update({'return_sequences': return_sequences, 'return_state': False, 'go_backwards': False,
              'stateful': False})
    if time_major:
        c['time_major'] = False
    c.update({'units': units, 'kernel_initializer': init('glorot_uniform'),
              'recurrent_initializer': init('orthogonal'), 'bias_initializer': init('zeros')})
    if cls == 'CuDNNLSTM':
        c['unit_forget_bias'] = True
    c.update(k2_regs('kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
                     'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
                     'bias_constraint'))
    return {'class_name': cls, 'config': c}


# --- Keras 3 ---
def k3_obj(module, class_name, config, build_input_shape=None):
    o = {'module': module, 'class_name': class_name, 'config': config, 'registered_name': None}
    if build_input_shape is not None:
        o['build_config'] = {'input_shape': build_input_shape}
    return o


def k3_policy():
    return k3_obj('keras', 'DTypePolicy', {'name': 'float32'})


def k3_init(kind):
    return {'glorot_uniform': k3_obj('keras.initializers', 'GlorotUniform', {'seed': None}),
            'orthogonal': k3_obj('keras.initializers', 'OrthogonalInitializer', {'gain': 1.0, 'seed': None}),
            'zeros': k3_obj('keras.initializers', 'Zeros', {})}[kind]


def k3_gru_model(input_name, batch_shape, units):
    gru = {'name': 'gru', 'trainable': True, 'dtype': k3_policy(),
           'return_sequences': True, 'return_state': False, 'go_backwards': False, 'stateful': False,
           'unroll': False, 'zero_output_for_mask': False,
           'units': units, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': True,
           'kernel_initializer': k3_init('glorot_uniform'),
           'recurrent_initializer': k3_init('orthogonal'),
           'bias_initializer': k3_init('zeros')}
    gru.update(k2_regs('kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer',
                       'activity_regularizer', 'kernel_constraint', 'recurrent_constraint',
                       'bias_constraint'))
    gru.update({'dropout': 0.0, 'recurrent_dropout': 0.0, 'reset_after': True, 'seed': None})
    layers = [k3_obj('keras.layers', 'InputLayer',
                     {'batch_shape': batch_shape, 'dtype': 'float32', 'sparse': False, 'ragged': False,
                      'name': input_name, 'optional': False}),
              k3_obj('keras.layers', 'GRU', gru, build_input_shape=batch_shape)]
    return k3_obj('keras', 'Sequential',
                  {'name': 'sequential', 'trainable': True, 'dtype': k3_policy(), 'layers': layers,
                   'build_input_shape': batch_shape}, build_input_shape=batch_shape)


def strip_keys(obj, keys):
    """What tensorflowjs_converter does to a Keras 3 config (_discard_v3_keys)."""
    if isinstance(obj, dict):
        return {k: strip_keys(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [strip_keys(v, keys) for v in obj]
    return obj


# ----------------------------------------------------------------------------
# PyTorch -> Keras weight conversion
# ----------------------------------------------------------------------------
def np32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def rzn_to_zrh(m):
    """Blocks along axis 0 in PyTorch GRU order r,z,n -> Keras order z,r,h."""
    u = m.shape[0] // 3
    return np.concatenate([m[u:2 * u], m[:u], m[2 * u:]], axis=0)


def gru_weights(gru, sfx=''):
    g = lambda n: np32(getattr(gru, n + sfx))
    return [rzn_to_zrh(g('weight_ih_l0')).T.copy(), rzn_to_zrh(g('weight_hh_l0')).T.copy(),
            np.stack([rzn_to_zrh(g('bias_ih_l0')), rzn_to_zrh(g('bias_hh_l0'))])]


def lstm_weights(lstm, sfx=''):
    g = lambda n: np32(getattr(lstm, n + sfx))
    return [g('weight_ih_l0').T.copy(), g('weight_hh_l0').T.copy(),
            (g('bias_ih_l0') + g('bias_hh_l0')).astype(np.float32)]


def cudnn_gru_weights(gru):
    k, r, b = gru_weights(gru)
    return [k, r, b.reshape(-1)]          # [z_i r_i h_i | z_h r_h h_h]


def cudnn_lstm_weights(lstm):
    g = lambda n: np32(getattr(lstm, n))
    return [g('weight_ih_l0').T.copy(), g('weight_hh_l0').T.copy(),
            np.concatenate([g('bias_ih_l0'), g('bias_hh_l0')])]


def dense_weights(lin):
    return [np32(lin.weight).T.copy(), np32(lin.bias)]


# ----------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------
def write_case(out_dir, name, topology, manifest_weights, ref):
    """manifest_weights: list of (weight name, float32 array) in manifest order."""
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    blob = b''.join(np.ascontiguousarray(a, dtype='<f4').tobytes() for _, a in manifest_weights)
    with open(os.path.join(d, 'group1-shard1of1.bin'), 'wb') as fh:
        fh.write(blob)
    model = {
        'format': 'layers-model',
        'generatedBy': 'keras v' + topology['keras_version'],
        'convertedBy': CONVERTED_BY,
        'modelTopology': topology,
        'weightsManifest': [{'paths': ['group1-shard1of1.bin'],
                             'weights': [{'name': n, 'shape': list(a.shape), 'dtype': 'float32'}
                                         for n, a in manifest_weights]}],
    }
    with open(os.path.join(d, 'model.json'), 'w') as fh:
        json.dump(model, fh)         # one line, like the converter's json.dump
    with open(os.path.join(d, 'reference.json'), 'w') as fh:
        fh.write(dumps(ref) + '\n')


def tj(name, t):
    a = np32(t) if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float32)
    return {'name': name, 'shape': list(a.shape), 'data': F32(a)}


def reference(desc, in_name, x, out_name, y):
    return {'description': desc, 'generatedBy': GENERATED_BY_REF,
            'calls': [{'inputs': [tj(in_name, x)], 'outputs': [tj(out_name, y)]}]}


def seeded(seed, *modules):
    """Re-draw every parameter U(-0.8, 0.8) (wider than PyTorch's default)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in modules:
            for p in m.parameters():
                p.uniform_(-0.8, 0.8)


def inputs(seed, *shape):
    gen = torch.Generator().manual_seed(seed + 1000)
    return torch.rand(*shape, generator=gen) * 4 - 2


def k2_topology(model_config, version='2.11.0'):
    return {'keras_version': version, 'backend': 'tensorflow', 'model_config': model_config}


def sequential(name, layers):
    return {'class_name': 'Sequential', 'config': {'name': name, 'layers': layers}}


def by_layer_name(weights):
    """tensorflowjs_converter walks the HDF5 `model_weights` group, whose keys (layer
    names) h5py lists in name order; within a layer, Keras' weight order."""
    return [w for _, w in sorted(((n.split('/')[0], i), (n, a)) for i, (n, a) in enumerate(weights))]


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def gru_reset_after(out_dir):
    gru, x, y = _gru_reset_after_model()
    B, T, F = x.shape
    U = gru.hidden_size
    topo = k2_topology(sequential('sequential', [k2_input_layer('input_1', [None, T, F]),
                                                 k2_gru('gru', U, True)]))
    k, r, b = gru_weights(gru)
    w = [('gru/gru_cell/kernel', k), ('gru/gru_cell/recurrent_kernel', r), ('gru/gru_cell/bias', b)]
    write_case(out_dir, 'gru_reset_after', topo, by_layer_name(w),
               reference(f'Sequential: InputLayer [null,{T},{F}] -> GRU(units={U}, reset_after=True, '
                         f'return_sequences=True); weights and output from torch.nn.GRU({F}, {U}, '
                         'batch_first=True)', 'input_1', x, 'gru', y))


def _gru_reset_after_model():
    B, T, F, U = 2, 5, 3, 4
    gru = torch.nn.GRU(F, U, batch_first=True)
    seeded(11, gru)
    x = inputs(11, B, T, F)
    with torch.no_grad():
        y, _ = gru(x)
    return gru, x, y


@case
def gru_reset_after_last(out_dir):
    B, T, F, U, O = 3, 6, 4, 5, 3
    gru = torch.nn.GRU(F, U, batch_first=True)
    lin = torch.nn.Linear(U, O)
    seeded(12, gru, lin)
    x = inputs(12, B, T, F)
    with torch.no_grad():
        seq, _ = gru(x)
        y = lin(seq[:, -1])
    topo = k2_topology(sequential('sequential', [k2_input_layer('input_1', [None, None, F]),
                                                 k2_gru('gru', U, False), k2_dense('dense', O)]))
    k, r, b = gru_weights(gru)
    dk, db = dense_weights(lin)
    w = [('gru/gru_cell/kernel', k), ('gru/gru_cell/recurrent_kernel', r), ('gru/gru_cell/bias', b),
         ('dense/kernel', dk), ('dense/bias', db)]
    write_case(out_dir, 'gru_reset_after_last', topo, by_layer_name(w),
               reference(f'Sequential: InputLayer [null,null,{F}] (any length) -> GRU(units={U}, '
                         f'reset_after=True, return_sequences=False) -> Dense({O}, linear); '
                         f'= torch nn.Linear({U},{O}) applied to torch.nn.GRU output[:, -1]; '
                         'the manifest lists dense/* before gru/* (converter order: layer names sorted)',
                         'input_1', x, 'dense', y))


@case
def bidirectional_gru_reset_after(out_dir):
    B, T, F, U = 2, 6, 3, 4
    gru = torch.nn.GRU(F, U, batch_first=True, bidirectional=True)
    seeded(13, gru)
    x = inputs(13, B, T, F)
    with torch.no_grad():
        y, _ = gru(x)
    inner = k2_gru('gru', U, True)
    topo = k2_topology(sequential('sequential', [k2_input_layer('input_1', [None, T, F]),
                                                 k2_bidirectional('bidirectional', inner)]))
    fk, fr, fb = gru_weights(gru)
    bk, br, bb = gru_weights(gru, '_reverse')
    w = [('bidirectional/forward_gru/gru_cell/kernel', fk),
         ('bidirectional/forward_gru/gru_cell/recurrent_kernel', fr),
         ('bidirectional/forward_gru/gru_cell/bias', fb),
         ('bidirectional/backward_gru/gru_cell/kernel', bk),
         ('bidirectional/backward_gru/gru_cell/recurrent_kernel', br),
         ('bidirectional/backward_gru/gru_cell/bias', bb)]
    write_case(out_dir, 'bidirectional_gru_reset_after', topo, by_layer_name(w),
               reference(f'Sequential: InputLayer [null,{T},{F}] -> Bidirectional(GRU(units={U}, '
                         'reset_after=True, return_sequences=True), merge_mode="concat"); '
                         f'= torch.nn.GRU({F}, {U}, bidirectional=True, batch_first=True) output '
                         '([forward, backward] per step, backward aligned with input time)',
                         'input_1', x, 'bidirectional', y))


@case
def lstm_from_torch(out_dir):
    B, T, F, U = 3, 4, 5, 6
    lstm = torch.nn.LSTM(F, U, batch_first=True)
    seeded(14, lstm)
    x = inputs(14, B, T, F)
    with torch.no_grad():
        y, _ = lstm(x)
    topo = k2_topology(sequential('sequential', [k2_input_layer('input_1', [None, T, F]),
                                                 k2_lstm('lstm', U, True)]))
    k, r, b = lstm_weights(lstm)
    w = [('lstm/lstm_cell/kernel', k), ('lstm/lstm_cell/recurrent_kernel', r), ('lstm/lstm_cell/bias', b)]
    write_case(out_dir, 'lstm_from_torch', topo, by_layer_name(w),
               reference(f'Sequential: InputLayer [null,{T},{F}] -> LSTM(units={U}, '
                         'recurrent_activation="sigmoid", return_sequences=True); '
                         f'= torch.nn.LSTM({F}, {U}, batch_first=True) output (Keras bias = b_ih + b_hh)',
                         'input_1', x, 'lstm', y))


@case
def cudnn_gru(out_dir):
    B, T, F, U = 2, 5, 4, 3
    gru = torch.nn.GRU(F, U, batch_first=True)
    seeded(15, gru)
    x = inputs(15, B, T, F)
    with torch.no_grad():
        y, _ = gru(x)
    layer = k2_cudnn('CuDNNGRU', 'cu_dnngru', U, True, k2_base('cu_dnngru'), k2_init, time_major=True)
    topo = k2_topology(sequential('sequential', [k2_input_layer('input_1', [None, T, F]), layer]))
    k, r, b = cudnn_gru_weights(gru)
    w = [('cu_dnngru/kernel', k), ('cu_dnngru/recurrent_kernel', r), ('cu_dnngru/bias', b)]
    write_case(out_dir, 'cudnn_gru', topo, by_layer_name(w),
               reference(f'tf.keras 2.x (tf.compat.v1.keras.layers.CuDNNGRU) Sequential: InputLayer '
                         f'[null,{T},{F}] -> CuDNNGRU(units={U}, return_sequences=True); raw cuDNN layout: '
                         f'kernel [{F},{3*U}] and recurrent_kernel [{U},{3*U}] in z,r,h column blocks, '
                         f'bias [{6*U}] = input biases z,r,h then recurrent biases z,r,h; '
                         f'= torch.nn.GRU({F}, {U}, batch_first=True) output',
                         'input_1', x, 'cu_dnngru', y))


@case
def cudnn_lstm(out_dir):
    B, T, F, U = 3, 6, 4, 5
    lstm = torch.nn.LSTM(F, U, batch_first=True)
    seeded(16, lstm)
    x = inputs(16, B, T, F)
    with torch.no_grad():
        seq, _ = lstm(x)
        y = seq[:, -1]
    # standalone Keras 2.2.4: no InputLayer in the Sequential config, the first layer
    # carries batch_input_shape and dtype (later layers have no dtype key), names end in _1
    base = {'name': 'cu_dnnlstm_1', 'trainable': True, 'batch_input_shape': [None, T, F], 'dtype': 'float32'}
    layer = k2_cudnn('CuDNNLSTM', 'cu_dnnlstm_1', U, False, base, k224_init, time_major=False)
    topo = k2_topology(sequential('sequential_1', [layer]), version='2.2.4')
    k, r, b = cudnn_lstm_weights(lstm)
    w = [('cu_dnnlstm_1/kernel', k), ('cu_dnnlstm_1/recurrent_kernel', r), ('cu_dnnlstm_1/bias', b)]
    write_case(out_dir, 'cudnn_lstm', topo, by_layer_name(w),
               reference(f'standalone Keras 2.2.4 Sequential (no InputLayer entry; the first layer has '
                         f'batch_input_shape [null,{T},{F}]) -> CuDNNLSTM(units={U}, return_sequences=False); '
                         f'raw cuDNN layout: kernel [{F},{4*U}], recurrent_kernel [{U},{4*U}] in i,f,c,o '
                         f'column blocks, bias [{8*U}] = input biases i,f,c,o then recurrent biases i,f,c,o; '
                         f'= torch.nn.LSTM({F}, {U}, batch_first=True) output[:, -1]. The implicit input '
                         'is named cu_dnnlstm_1_input',
                         'cu_dnnlstm_1_input', x, 'cu_dnnlstm_1', y))


def _keras3(out_dir, name, converter_faithful):
    gru, x, y = _gru_reset_after_model()
    B, T, F = x.shape
    U = gru.hidden_size
    mc = k3_gru_model('input_layer', [None, T, F], U)
    k, r, b = gru_weights(gru)
    if converter_faithful:
        mc = strip_keys(mc, ('module', 'registered_name', 'date_saved'))
        w = [('layers/gru/cell/vars/0', k), ('layers/gru/cell/vars/1', r), ('layers/gru/cell/vars/2', b)]
        desc = ('gru_reset_after in Keras 3.6 spelling exactly as tensorflowjs_converter writes a .keras '
                'archive: module / registered_name stripped, no "backend" key, weight names = the '
                'model.weights.h5 paths (layers/gru/cell/vars/0..2 = kernel, recurrent_kernel, bias). '
                'TF.js 4.22 loadLayersModel cannot match these names; same weights and data as gru_reset_after')
    else:
        w = [('gru/gru_cell/kernel', k), ('gru/gru_cell/recurrent_kernel', r), ('gru/gru_cell/bias', b)]
        desc = ('gru_reset_after in Keras 3.6 config spelling (module / registered_name / build_config, '
                'DTypePolicy objects, InputLayer batch_shape, zero_output_for_mask, seed; no "backend" '
                'key) with Keras-2-style weight names gru/gru_cell/*; same weights and data as gru_reset_after')
    topo = {'keras_version': '3.6.0', 'model_config': mc}
    write_case(out_dir, name, topo, w, reference(desc, 'input_layer', x, 'gru', y))


@case
def keras3_gru(out_dir):
    _keras3(out_dir, 'keras3_gru', False)


@case
def keras3_gru_converter_names(out_dir):
    _keras3(out_dir, 'keras3_gru_converter_names', True)


README = """# Keras / TF.js layers-model golden files (weights from PyTorch)

Written by `tools/pytorch/generate_keras_models.py` (no Keras/TensorFlow involved; seeded,
byte-reproducible) and verified by `tools/pytorch/check_keras_models.py`, which re-implements
the Keras layers in float64 NumPy from `model.json` + the shard and compares with the PyTorch
reference to 1e-6. Do not edit by hand.

Each directory holds `model.json` (TF.js layers-model format as `tensorflowjs_converter`
writes it: `format`, `generatedBy`, `convertedBy`, `modelTopology: {{keras_version, backend,
model_config}}`, `weightsManifest` with one group, one shard), `group1-shard1of1.bin` (the
float32 little-endian weights concatenated in manifest order) and `reference.json`
(`{{description, generatedBy, calls: [{{inputs: [{{name, shape, data}}], outputs: [...]}}]}}`;
the input is named after the input layer, the output after the model's last layer; data flat
row-major, every number the shortest decimal that round-trips to its float32).

| case | model | weights (manifest order) |
|---|---|---|
{rows}

## Conversion PyTorch -> Keras used here

* GRU (`reset_after=True`, `recurrent_activation="sigmoid"`): PyTorch stacks gates r, z, n;
  Keras z, r, h. `kernel = reorder(weight_ih_l0).T` [in, 3u], `recurrent_kernel =
  reorder(weight_hh_l0).T` [u, 3u], `bias` [2, 3u] with row 0 = reorder(`bias_ih_l0`) (input
  bias), row 1 = reorder(`bias_hh_l0`) (recurrent bias, the part multiplied by r). Both compute
  `h' = z*h + (1-z)*tanh(x Wh + b_xh + r*(h Uh + b_hh))`.
* LSTM: PyTorch i, f, g, o = Keras i, f, c, o, so `kernel = weight_ih_l0.T` [in, 4u],
  `recurrent_kernel = weight_hh_l0.T` [u, 4u], `bias = bias_ih_l0 + bias_hh_l0` [4u] (summed in
  float32).
* Bidirectional (merge_mode concat): `forward_gru` from the `_l0` tensors, `backward_gru` from
  `_l0_reverse`; PyTorch's output `[..., :u]` / `[..., u:]` are Keras' forward / backward halves
  (both aligned with input time).
* Dense from `nn.Linear`: `kernel = weight.T`, `bias = bias`.
* CuDNNGRU (Keras' raw cuDNN layout, keras/layers/cudnn_recurrent.py in Keras 2.2.4 and
  keras/layers/rnn/cudnn_gru.py in tf.keras 2.x, which slice z = `[:, :u]`, r = `[:, u:2u]`,
  h = `[:, 2u:]` and bias = `[z_i, r_i, h_i, z_h, r_h, h_h]` before handing cuDNN its r, z, h
  order): `kernel` / `recurrent_kernel` exactly as the GRU above, `bias` [6u] =
  reorder(`bias_ih_l0`) followed by reorder(`bias_hh_l0`), i.e. the GRU's [2, 3u] bias
  flattened. cuDNN's GRU is the reset-after GRU.
* CuDNNLSTM (keras/layers/rnn/cudnn_lstm.py): `kernel` / `recurrent_kernel` as the LSTM above
  (i, f, c, o blocks), `bias` [8u] = `bias_ih_l0` (input biases i, f, c, o) followed by
  `bias_hh_l0` (recurrent biases); cuDNN adds the two halves at run time, the file keeps them apart.

## Spelling notes

* Keras 2 (`gru_reset_after`, `gru_reset_after_last`, `bidirectional_gru_reset_after`,
  `lstm_from_torch`, `cudnn_gru`): tf.keras 2.11 `get_config()` key order, snake_case, an
  `InputLayer` with `batch_input_shape`, `dtype: "float32"` strings, initializers as
  `{{class_name, config}}`, `time_major: false`, no `zero_output_for_mask` (tf.keras writes it
  only when true), `implementation: 2`. Weight names are the HDF5 names minus `:0`
  (`gru/gru_cell/kernel`, `bidirectional/forward_gru/gru_cell/kernel`, `dense/kernel`,
  `cu_dnngru/kernel`). The converter lists layers in HDF5 key order (sorted by layer name), so in
  `gru_reset_after_last` `dense/*` comes before `gru/*`: match weights by name, not position.
* `cudnn_lstm` is standalone Keras 2.2.4 (where CuDNN layers usually come from): no `InputLayer`
  entry (the first layer carries `batch_input_shape` and `dtype`), no `time_major`, glorot as
  `VarianceScaling`, layer name `cu_dnnlstm_1`, implicit input `cu_dnnlstm_1_input`.
* `keras3_gru`: Keras 3.6 `config.json` spelling (`module`, `registered_name`, `build_config`,
  `DTypePolicy` objects as `dtype`, `InputLayer.batch_shape`, `optional`, RNN
  `zero_output_for_mask: false`, GRU `seed`, `OrthogonalInitializer`, Sequential
  `build_input_shape`), topology without `backend`, weights named `gru/gru_cell/*`.
* `keras3_gru_converter_names`: what tensorflowjs_converter's Keras 3 path
  (`h5_v3_merged_saved_model_to_tfjs_format`) really emits: it deletes every `module`,
  `registered_name` and `date_saved` key, writes only `keras_version` + `model_config`, and names
  weights by their `model.weights.h5` path: `layers/gru/cell/vars/0|1|2` = kernel,
  recurrent_kernel, bias (Keras 3 saving_lib paths use the snake_case class name). TF.js 4.22's
  `loadWeights` cannot map these names (it expects `<layer>/<index>`), so TF.js itself rejects
  this file; a loader may accept it (same data as `gru_reset_after`) or reject it with an error.

## What TF.js 4.22 itself does with these files

Checked once with `@tensorflow/tfjs` 4.22.0 (`loadLayersModel(tf.io.fromMemory(...))`, cpu
backend): `lstm_from_torch` loads and its `predict` matches the PyTorch reference within 9e-8.
Every GRU case stops at construction (`GRUCell does not support reset_after parameter set to
true.`), `cudnn_*` at `Unknown layer: CuDNNGRU` / `CuDNNLSTM`, and both Keras 3 files at
``An InputLayer should be passed either a `batchInputShape` or an `inputShape`.`` (TF.js does
not know `batch_shape`; a `DTypePolicy` object as `dtype` is accepted). With Keras 3 converter
weight names TF.js fails with `Provided weight data has no target variable:
layers/lstm/cell/vars/0` (tried on an LSTM copy of `lstm_from_torch`). So everything here except
`lstm_from_torch` is beyond TF.js 4.22; the outputs come from PyTorch.
"""


def manifest_rows(out_dir):
    rows = []
    for name in CASES:
        with open(os.path.join(out_dir, name, 'model.json')) as fh:
            m = json.load(fh)
        with open(os.path.join(out_dir, name, 'reference.json')) as fh:
            r = json.load(fh)
        ws = '<br>'.join(f"`{w['name']}` {w['shape']}" for w in m['weightsManifest'][0]['weights'])
        rows.append(f"| `{name}` | {r['description']} | {ws} |")
    return rows


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for name, fn in CASES.items():
        fn(out_dir)
    with open(os.path.join(out_dir, 'README.md'), 'w') as fh:
        fh.write(README.format(rows='\n'.join(manifest_rows(out_dir))))
    print(f'wrote {len(CASES)} cases to {out_dir}')


if __name__ == '__main__':
    main()
