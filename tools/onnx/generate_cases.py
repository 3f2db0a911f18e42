#!/usr/bin/python3
"""Generates the ONNX LSTM / GRU / RNN golden cases (tests/golden/onnx).

Run with /usr/bin/python3 (Debian: numpy, python3-onnx 1.12, torch 1.13) from anywhere:
    /usr/bin/python3 tools/onnx/generate_cases.py [--out DIR] [--only FAMILY,...]
onnxruntime-node 1.30.0 must be installed in tools/onnx (npm install --ignore-scripts).
Deterministic: fixed seeds, so re-running rewrites byte-identical files.
"""
import argparse
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref64  # noqa: E402
from common import (Raw, decode, dump, encode, enc_varint, f32_str, feed_json, run_ort,  # noqa: E402,F401
                    sha256, tensor_json, write_json)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IR_VERSION = 8
TOL = {'abs': Raw('0.00001'), 'rel': Raw('0.0001')}
SLOTS = {
    'LSTM': ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'],
    'GRU': ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
    'RNN': ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
}
OUTS = {'LSTM': ['Y', 'Y_h', 'Y_c'], 'GRU': ['Y', 'Y_h'], 'RNN': ['Y', 'Y_h']}
G = {'LSTM': 4, 'GRU': 3, 'RNN': 1}
ORT_DEFAULTS = {  # what onnxruntime uses for a missing activation_alpha / activation_beta
    'leakyrelu': {'alpha': 0.01}, 'thresholdedrelu': {'alpha': 0.0}, 'elu': {'alpha': 1.0},
    'hardsigmoid': {'alpha': 0.2, 'beta': 0.5}, 'affine': {'alpha': 0.0, 'beta': 0.0},
    'scaledtanh': {'alpha': 0.0, 'beta': 0.0},
}

CASES = []  # every case: dict with 'name', 'jobs', 'finalize'
COUNTERS = {}


def next_name(family, slug):
    COUNTERS[family] = COUNTERS.get(family, 0) + 1
    return '%s_%03d_%s' % (family, COUNTERS[family], slug)


def rng_for(name):
    return np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)


def attr_json(v):
    if isinstance(v, float):
        return float(np.float32(v))
    if isinstance(v, list):
        return [attr_json(x) for x in v]
    return v


def make_attr(k, v):
    if isinstance(v, list) and v and isinstance(v[0], float):
        return helper.make_attribute(k, [float(np.float32(x)) for x in v])
    return helper.make_attribute(k, v)


def tensor_proto(name, arr, storage):
    arr = np.asarray(arr)
    if storage == 'raw':
        return numpy_helper.from_array(arr, name)
    dt = {np.dtype('float32'): TensorProto.FLOAT, np.dtype('int32'): TensorProto.INT32}[arr.dtype]
    return helper.make_tensor(name, dt, list(arr.shape), arr.reshape(-1).tolist())


def value_info(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


class OpCase:
    """One single-node LSTM/GRU/RNN model plus the values to feed."""

    def __init__(self, name, family, op, desc, T=4, B=2, I=3, H=3, attrs=None, opset=14,
                 bias=True, peep=False, seq=None, h0=False, c0=False, outs=None, init_states=False,
                 storage='raw', dim_param=False, wscale=0.6, bscale=0.4, xscale=1.0, trailing=False,
                 arrays=None, hidden_attr=True, extra_nodes=None, slot_names=None):
        self.name, self.family, self.op, self.desc = name, family, op, desc
        attrs = list(attrs or [])
        if hidden_attr and not any(k == 'hidden_size' for k, _ in attrs):
            attrs.insert(0, ('hidden_size', H))
        self.attrs = attrs
        ad = dict(attrs)
        direction = ad.get('direction', 'forward')
        nd = 2 if direction == 'bidirectional' else 1
        layout = int(ad.get('layout', 0))
        self.nd, self.layout = nd, layout
        self.T, self.B, self.I, self.H = T, B, I, H
        self.opset, self.storage = opset, storage
        rng = rng_for(name)
        g = G[op]
        u = lambda s, shape: rng.uniform(-s, s, size=shape).astype(np.float32)  # noqa: E731
        xs = (B, T, I) if layout else (T, B, I)
        ss = (B, nd, H) if layout else (nd, B, H)
        vals = {'X': u(xscale, xs), 'W': u(wscale, (nd, g * H, I)), 'R': u(wscale, (nd, g * H, H))}
        if bias:
            vals['B'] = u(bscale, (nd, 2 * g * H))
        if seq is not None:
            vals['sequence_lens'] = np.asarray(seq, np.int32)
        if h0:
            vals['initial_h'] = u(0.7, ss)
        if c0:
            vals['initial_c'] = u(0.7, ss)
        if peep:
            vals['P'] = u(0.5, (nd, 3 * H))
        for k, v in (arrays or {}).items():
            if v is None:
                vals.pop(k, None)
            else:
                vals[k] = v
        self.vals = vals
        slots = SLOTS[op]
        names = dict(slot_names or {})
        node_inputs = [names.get(s, s) if s in vals else '' for s in slots]
        if not trailing:
            while node_inputs and node_inputs[-1] == '':
                node_inputs.pop()
        outs = outs or OUTS[op]
        node_outputs = [o if o in outs else '' for o in OUTS[op]]
        while node_outputs and node_outputs[-1] == '':
            node_outputs.pop()
        self.node_inputs, self.node_outputs, self.outs = node_inputs, node_outputs, outs
        fed = ['X', 'sequence_lens', 'initial_h', 'initial_c']
        self.graph_inputs = [s for s in slots if s in vals and s in fed and not (init_states and s != 'X')]
        self.initializers = [s for s in slots if s in vals and s not in self.graph_inputs]

        def dims_of(s):
            d = list(vals[s].shape)
            if dim_param:
                if s == 'X':
                    d = (['batch_size', 'seq_length', d[2]] if layout else ['seq_length', 'batch_size', d[2]])
                elif s == 'sequence_lens':
                    d = ['batch_size']
                else:
                    d = ([d[0] if False else 'batch_size', d[1], d[2]] if layout else [d[0], 'batch_size', d[2]])
            return d
        self.gi_dims = {s: dims_of(s) for s in self.graph_inputs}
        node = helper.make_node(op, node_inputs, node_outputs, name='rnn0')
        for k, v in attrs:
            node.attribute.append(make_attr(k, v))
        nodes = [node] + list(extra_nodes or [])
        inputs = [value_info(s, TensorProto.INT32 if s == 'sequence_lens' else TensorProto.FLOAT, self.gi_dims[s])
                  for s in self.graph_inputs]
        outputs = [value_info(o, TensorProto.FLOAT, None) for o in outs]
        inits = [tensor_proto(s, vals[s], storage) for s in self.initializers]
        graph = helper.make_graph(nodes, 'g', inputs, outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)],
                                  producer_name='recurrent tools/onnx')
        model.ir_version = IR_VERSION
        self.model = model
        self.bytes = model.SerializeToString()

    def feeds(self):
        return {s: feed_json(self.vals[s]) for s in self.graph_inputs}

    def ref(self, defaults=ref64.SPEC_DEFAULTS):
        ad = {k: v for k, v in self.attrs}
        v = self.vals
        return ref64.run(self.op, ad, v['X'], v['W'], v['R'], v.get('B'), v.get('sequence_lens'),
                         v.get('initial_h'), v.get('initial_c'), v.get('P'), defaults=defaults)

    def base_json(self, model_bytes=None):
        mb = model_bytes if model_bytes is not None else self.bytes
        return {
            'schema_version': 1, 'name': self.name, 'family': self.family, 'description': self.desc,
            'op': self.op, 'opset': self.opset, 'ir_version': IR_VERSION, 'onnxruntime_version': None,
            'model_file': self.name + '.onnx', 'model_sha256': sha256(mb),
            'attributes': {k: attr_json(v) for k, v in self.attrs},
            'node_inputs': self.node_inputs, 'node_outputs': self.node_outputs,
            'graph_inputs': [{'name': s, 'dims': self.gi_dims[s]} for s in self.graph_inputs],
            'initializer_storage': 'raw_data' if self.storage == 'raw' else 'float_data/int32_data',
            'dims': {'seq_length': self.T, 'batch_size': self.B, 'input_size': self.I,
                     'hidden_size': self.H, 'num_directions': self.nd, 'layout': self.layout},
            'inputs': {s: tensor_json(self.vals[s]) for s in self.graph_inputs},
            'weights': {s: tensor_json(self.vals[s]) for s in self.initializers},
        }


def max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(a[k], np.float64) - np.asarray(b[k], np.float64)))) if np.size(a[k]) else 0.0
               for k in a)


def fmt_diff(d):
    return Raw(('%.3g' % d).replace('e-0', 'e-').replace('e+0', 'e+'))


def ort_outputs(res, outs):
    return {o: np.asarray(res['outputs'][o]['data'], np.float32).reshape(res['outputs'][o]['shape']) for o in outs}


STATE = {'ort_version': None, 'warnings': [], 'skipped': []}


def warn(msg):
    STATE['warnings'].append(msg)
    print('WARNING: ' + msg, file=sys.stderr)


def add_op(family, slug, op, desc, **kw):
    """A valid case whose expected outputs come from onnxruntime."""
    name = next_name(family, slug)
    c = OpCase(name, family, op, desc, **kw)

    def finalize(results, out_dir):
        r = results[name]
        if 'error' in r:
            warn('%s: onnxruntime refused a valid case: %s' % (name, r['error']))
            return None
        got = ort_outputs(r, c.outs)
        ref = c.ref()
        d = max_diff(got, {o: ref[o] for o in c.outs})
        if d > 1e-5:
            warn('%s: ref64 differs from onnxruntime by %g' % (name, d))
        j = c.base_json()
        j['outputs'] = {o: tensor_json(got[o]) for o in c.outs}
        j['outputs_source'] = 'onnxruntime'
        j['tolerance'] = TOL
        j['ref64_max_abs_diff'] = fmt_diff(d)
        return c.bytes, j
    CASES.append({'name': name, 'family': family, 'case': c, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': c.bytes, 'feeds': c.feeds(), 'outputs': c.outs}]})
    return c


def add_spec(op, slug, desc, **kw):
    name = next_name('spec', slug)
    c = OpCase(name, 'spec', op, desc, **kw)

    def finalize(results, out_dir):
        r = results[name]
        if 'error' in r:
            warn('%s: onnxruntime refused: %s' % (name, r['error']))
            return None
        got = ort_outputs(r, c.outs)
        ref = c.ref(ref64.SPEC_DEFAULTS)
        ref_ort = c.ref(ORT_DEFAULTS)
        d_spec = max_diff(got, {o: ref[o] for o in c.outs})
        d_ort = max_diff(got, {o: ref_ort[o] for o in c.outs})
        if d_ort > 1e-5:
            warn('%s: onnxruntime does not match ref64 with its own defaults (%g)' % (name, d_ort))
        if d_spec < 1e-4:
            warn('%s: onnxruntime matches the spec defaults: not a departure' % name)
        j = c.base_json()
        j['outputs'] = {o: tensor_json(ref[o].astype(np.float32)) for o in c.outs}
        j['outputs_source'] = 'ref64 (ONNX spec defaults; onnxruntime departs)'
        j['onnxruntime_outputs'] = {o: tensor_json(got[o]) for o in c.outs}
        j['tolerance'] = TOL
        j['ref64_max_abs_diff'] = fmt_diff(d_spec)
        j['onnxruntime_vs_ref64_with_onnxruntime_defaults_max_abs_diff'] = fmt_diff(d_ort)
        return c.bytes, j
    CASES.append({'name': name, 'family': 'spec', 'case': c, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': c.bytes, 'feeds': c.feeds(), 'outputs': c.outs}]})


def add_layout1(slug, op, desc, **kw):
    name = next_name('layout1', slug)
    attrs = list(kw.pop('attrs', []))
    c = OpCase(name, 'layout1', op, desc, attrs=attrs + [('layout', 1)], **kw)
    # layout-0 twin: same weights, X and states transposed
    arrays = {k: v for k, v in c.vals.items()}
    arrays['X'] = c.vals['X'].transpose(1, 0, 2).copy()
    for s in ('initial_h', 'initial_c'):
        if s in arrays:
            arrays[s] = arrays[s].transpose(1, 0, 2).copy()
    twin = OpCase(name, 'layout1', op, desc, attrs=attrs, arrays=arrays, **kw)

    def finalize(results, out_dir):
        r1, r0 = results[name], results[name + '#twin']
        if 'error' not in r1:
            warn('%s: onnxruntime accepted layout=1' % name)
        if 'error' in r0:
            warn('%s: twin refused %s' % (name, r0['error']))
            return None
        got0 = ort_outputs(r0, c.outs)
        got = {}
        for o in c.outs:
            got[o] = got0[o].transpose(2, 0, 1, 3) if o == 'Y' else got0[o].transpose(1, 0, 2)
        ref = c.ref()  # layout 1 computed directly
        d = max_diff(got, {o: ref[o] for o in c.outs})
        if d > 1e-5:
            warn('%s: ref64 differs by %g' % (name, d))
        j = c.base_json()
        if 'error' in r1:
            j['onnxruntime_error'] = r1['error']
        j['outputs'] = {o: tensor_json(np.ascontiguousarray(got[o])) for o in c.outs}
        j['outputs_source'] = ('onnxruntime on the layout-0 twin (same weights, X and states transposed), '
                               'outputs transposed to layout 1')
        j['tolerance'] = TOL
        j['ref64_max_abs_diff'] = fmt_diff(d)
        return c.bytes, j
    CASES.append({'name': name, 'family': 'layout1', 'case': c, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': c.bytes, 'feeds': c.feeds(), 'outputs': c.outs},
                           {'id': name + '#twin', 'model': twin.bytes, 'feeds': twin.feeds(), 'outputs': c.outs}]})


def add_error(slug, op, desc, feeds_override=None, **kw):
    name = next_name('error', slug)
    c = OpCase(name, 'error', op, desc, **kw)
    feeds = c.feeds()
    if feeds_override:
        feeds.update(feeds_override)

    def finalize(results, out_dir):
        r = results[name]
        if 'error' not in r:
            STATE['skipped'].append('%s (%s): onnxruntime accepted it' % (name, desc))
            warn('%s: onnxruntime did NOT refuse (%s); case not written' % (name, desc))
            return None
        j = c.base_json()
        j['expect_error'] = r['error']
        return c.bytes, j
    CASES.append({'name': name, 'family': 'error', 'case': c, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': c.bytes, 'feeds': feeds, 'outputs': c.outs}]})


# ------------------------------------------------------------------------- op families

def lstm_cases():
    A = lambda slug, desc, kw: add_op('lstm', slug, 'LSTM', desc, **kw)  # noqa: E731
    A('forward', 'forward, defaults (f=Sigmoid g=Tanh h=Tanh), B given', {})
    A('reverse', 'direction reverse', dict(attrs=[('direction', 'reverse')]))
    A('bidirectional', 'direction bidirectional', dict(attrs=[('direction', 'bidirectional')]))
    A('no_B', 'no B input (zero biases)', dict(bias=False))
    A('no_B_bidirectional', 'bidirectional, no B', dict(bias=False, attrs=[('direction', 'bidirectional')]))
    A('init_h_only', 'initial_h given, initial_c not (zeros): inputs X,W,R,B,"",initial_h', dict(h0=True))
    A('init_c_only', 'initial_c given, initial_h not: inputs X,W,R,B,"","",initial_c', dict(c0=True))
    A('init_h_c', 'initial_h and initial_c', dict(h0=True, c0=True))
    A('bidirectional_states', 'bidirectional with initial_h and initial_c', dict(h0=True, c0=True, attrs=[('direction', 'bidirectional')]))
    A('reverse_states', 'reverse with initial_h and initial_c', dict(h0=True, c0=True, attrs=[('direction', 'reverse')]))
    A('peepholes', 'peepholes P = [Pi|Po|Pf]', dict(peep=True, h0=True, c0=True))
    A('peepholes_no_B', 'peepholes without B: inputs X,W,R,"","","","",P', dict(peep=True, bias=False))
    A('peepholes_bidirectional', 'bidirectional peepholes with states', dict(peep=True, h0=True, c0=True, attrs=[('direction', 'bidirectional')]))
    A('input_forget', 'input_forget=1: f = 1 - i', dict(attrs=[('input_forget', 1)], c0=True))
    A('input_forget_peep_reverse', 'input_forget=1 with peepholes, reverse', dict(attrs=[('direction', 'reverse'), ('input_forget', 1)], peep=True, h0=True, c0=True))
    A('clip', 'clip=0.5 with large weights: gate pre-activations clipped to [-0.5, 0.5]', dict(attrs=[('clip', 0.5)], T=5, wscale=1.8))
    A('clip_peepholes', 'clip=0.7 with peepholes and large weights', dict(attrs=[('clip', 0.7)], peep=True, c0=True, wscale=1.8))
    n = 4
    H = 3
    Bc = np.zeros((1, 8 * H), np.float32)
    Bc[0, :H] = 3.0  # input gate open
    Bc[0, 2 * H:3 * H] = 5.0  # forget gate ~1
    Bc[0, 3 * H:4 * H] = 4.0  # candidate ~ +tanh(clip)
    A('clip_cell_past_clip', 'clip=1.0; biases keep i, f open and the candidate positive so the cell state grows to ~5 > clip: the cell state itself is not clipped (h = o*tanh(c) with c unclipped)',
      dict(attrs=[('clip', 1.0)], T=8, B=2, I=2, H=H, wscale=0.1, arrays={'B': Bc}))
    del n
    A('seqlens_forward', 'sequence_lens [3,4,1] forward: Y zero past each length, Y_h/Y_c at the last valid step', dict(B=3, seq=[3, 4, 1], h0=True, c0=True))
    A('seqlens_reverse', 'sequence_lens [2,4,3] reverse: each sequence starts at its own last valid step', dict(B=3, seq=[2, 4, 3], attrs=[('direction', 'reverse')], h0=True, c0=True))
    A('seqlens_bidirectional_zero', 'bidirectional sequence_lens [3,0,4] with initial_h/initial_c: batch 1 has length 0 (see Y_h/Y_c for it)', dict(B=3, seq=[3, 0, 4], attrs=[('direction', 'bidirectional')], h0=True, c0=True))
    A('seqlens_zero_no_states', 'sequence_lens [0,2] forward, no initial states', dict(seq=[0, 2]))
    A('seqlens_all_zero', 'sequence_lens all 0 with initial_h/initial_c', dict(seq=[0, 0], h0=True, c0=True, attrs=[('direction', 'bidirectional')]))
    A('seqlens_full', 'sequence_lens all equal to T (same as absent)', dict(seq=[4, 4]))
    A('only_Y', 'only Y requested (node outputs [Y])', dict(outs=['Y']))
    A('only_Y_h', 'only Y_h requested (node outputs ["", Y_h])', dict(outs=['Y_h'], h0=True))
    A('only_Y_c', 'only Y_c requested (node outputs ["", "", Y_c])', dict(outs=['Y_c'], c0=True))
    A('Y_h_Y_c', 'Y_h and Y_c, no Y (node outputs ["", Y_h, Y_c])', dict(outs=['Y_h', 'Y_c'], attrs=[('direction', 'bidirectional')]))
    A('size1', 'T=1 B=1 I=1 H=1', dict(T=1, B=1, I=1, H=1))
    A('T10_B4_everything', 'T=10 B=4 I=5 H=6 bidirectional, sequence_lens, initial_h, initial_c, peepholes', dict(T=10, B=4, I=5, H=6, seq=[10, 3, 7, 1], h0=True, c0=True, peep=True, attrs=[('direction', 'bidirectional')]))
    A('opset7', 'opset 7 (LSTM-7, no layout attribute)', dict(opset=7, h0=True, c0=True))
    A('opset22', 'opset 22 (LSTM-22)', dict(opset=22, attrs=[('direction', 'bidirectional')], h0=True))
    A('explicit_forward', 'direction "forward" written explicitly, plus explicit input_forget=0 and layout=0', dict(attrs=[('direction', 'forward'), ('input_forget', 0), ('layout', 0)]))
    A('act_hardsigmoid_default', 'f=HardSigmoid without alpha/beta (defaults 0.2, 0.5)', dict(attrs=[('activations', ['HardSigmoid', 'Tanh', 'Tanh'])]))
    A('act_hardsigmoid_ab', 'f=HardSigmoid alpha 0.3 beta 0.4', dict(attrs=[('activations', ['HardSigmoid', 'Tanh', 'Tanh']), ('activation_alpha', [0.3]), ('activation_beta', [0.4])]))
    A('act_relu_softsign', 'g=Relu h=Softsign', dict(attrs=[('activations', ['Sigmoid', 'Relu', 'Softsign'])]))
    A('act_elu_softplus', 'g=Elu(0.8) h=Softplus', dict(attrs=[('activations', ['Sigmoid', 'Elu', 'Softplus']), ('activation_alpha', [0.8])]))
    A('act_scaledtanh_affine', 'g=ScaledTanh(1.5, 0.7) h=Affine(0.6, 0.1)', dict(attrs=[('activations', ['Sigmoid', 'ScaledTanh', 'Affine']), ('activation_alpha', [1.5, 0.6]), ('activation_beta', [0.7, 0.1])]))
    A('act_leakyrelu_thresholdedrelu', 'g=LeakyRelu(0.2) h=ThresholdedRelu(0.05): x > alpha ? x : 0', dict(attrs=[('activations', ['Sigmoid', 'LeakyRelu', 'ThresholdedRelu']), ('activation_alpha', [0.2, 0.05])]))
    A('act_six_per_direction', 'bidirectional, six activations (forward Sigmoid/LeakyRelu(0.1)/ScaledTanh(0.9,1.1), reverse HardSigmoid(0.25,0.45)/Tanh/Affine(0.8,-0.05)); alpha/beta packed across directions',
      dict(attrs=[('direction', 'bidirectional'), ('activations', ['Sigmoid', 'LeakyRelu', 'ScaledTanh', 'HardSigmoid', 'Tanh', 'Affine']),
                  ('activation_alpha', [0.1, 0.9, 0.25, 0.8]), ('activation_beta', [1.1, 0.45, -0.05])]))
    A('act_defaults_leaky_elu', 'LeakyRelu and Elu without alpha (defaults 0.01 and 1.0: onnxruntime agrees with the spec)', dict(attrs=[('activations', ['Sigmoid', 'LeakyRelu', 'Elu'])]))
    A('act_lowercase', 'lower-case activation names sigmoid/tanh/relu', dict(attrs=[('activations', ['sigmoid', 'tanh', 'relu'])]))
    A('dim_param_float_data', 'X dims [seq_length, batch_size, 3] as dim_param, initializers stored as float_data', dict(dim_param=True, storage='float', h0=True, c0=True, seq=[4, 2]))
    A('states_as_initializers', 'sequence_lens, initial_h, initial_c stored as initializers (constant), only X fed', dict(seq=[3, 4], h0=True, c0=True, init_states=True))
    A('trailing_empty_inputs', 'trailing "" inputs: X,W,R,B,"","","",""', dict(trailing=True))
    A('reverse_seqlens_zero', 'reverse, sequence_lens [0,3] with initial_h and initial_c', dict(seq=[0, 3], h0=True, c0=True, attrs=[('direction', 'reverse')]))
    A('opset7_bidirectional_seqlens', 'opset 7 bidirectional with sequence_lens and peepholes', dict(opset=7, seq=[2, 4], peep=True, attrs=[('direction', 'bidirectional')]))


def gru_cases():
    A = lambda slug, desc, kw: add_op('gru', slug, 'GRU', desc, **kw)  # noqa: E731
    A('forward_lbr0_absent', 'forward, linear_before_reset absent (0)', {})
    A('forward_lbr0_explicit', 'forward, linear_before_reset=0 explicit', dict(attrs=[('linear_before_reset', 0)]))
    A('forward_lbr1', 'forward, linear_before_reset=1', dict(attrs=[('linear_before_reset', 1)]))
    A('reverse_lbr0', 'reverse, lbr 0', dict(attrs=[('direction', 'reverse')]))
    A('reverse_lbr1', 'reverse, lbr 1', dict(attrs=[('direction', 'reverse'), ('linear_before_reset', 1)]))
    A('bidirectional_lbr0', 'bidirectional, lbr 0', dict(attrs=[('direction', 'bidirectional')]))
    A('bidirectional_lbr1', 'bidirectional, lbr 1', dict(attrs=[('direction', 'bidirectional'), ('linear_before_reset', 1)]))
    A('bidirectional_lbr0_h0', 'bidirectional with initial_h, lbr 0', dict(h0=True, attrs=[('direction', 'bidirectional')]))
    A('no_B_lbr0', 'no B, lbr 0', dict(bias=False))
    A('no_B_lbr1', 'no B, lbr 1', dict(bias=False, attrs=[('linear_before_reset', 1)]))
    A('initial_h_lbr1', 'initial_h, lbr 1', dict(h0=True, attrs=[('linear_before_reset', 1)]))
    A('clip_lbr0', 'clip=0.6, lbr 0, large weights', dict(attrs=[('clip', 0.6)], wscale=1.8))
    A('clip_lbr1', 'clip=0.6, lbr 1, large weights', dict(attrs=[('clip', 0.6), ('linear_before_reset', 1)], wscale=1.8))
    A('seqlens_forward', 'sequence_lens [4,2,3] forward', dict(B=3, seq=[4, 2, 3]))
    A('seqlens_reverse_lbr1', 'sequence_lens [3,5,1] reverse, lbr 1, initial_h', dict(T=5, B=3, seq=[3, 5, 1], h0=True, attrs=[('direction', 'reverse'), ('linear_before_reset', 1)]))
    A('seqlens_bidirectional_zero', 'bidirectional sequence_lens [0,4,2] with initial_h: batch 0 has length 0', dict(B=3, seq=[0, 4, 2], h0=True, attrs=[('direction', 'bidirectional')]))
    A('seqlens_all_zero', 'sequence_lens all 0 with initial_h', dict(seq=[0, 0], h0=True))
    A('only_Y_h', 'only Y_h requested', dict(outs=['Y_h'], attrs=[('linear_before_reset', 1)]))
    A('only_Y', 'only Y requested', dict(outs=['Y']))
    A('act_hardsigmoid_softsign', 'f=HardSigmoid(0.3, 0.45) g=Softsign', dict(attrs=[('activations', ['HardSigmoid', 'Softsign']), ('activation_alpha', [0.3]), ('activation_beta', [0.45])]))
    A('act_relu_scaledtanh_bidir', 'bidirectional: forward Sigmoid/Relu, reverse Sigmoid/ScaledTanh(1.2, 0.8)', dict(attrs=[('direction', 'bidirectional'), ('activations', ['Sigmoid', 'Relu', 'Sigmoid', 'ScaledTanh']), ('activation_alpha', [1.2]), ('activation_beta', [0.8])]))
    A('act_elu_leaky_packed', 'bidirectional: forward HardSigmoid(0.25,0.5)/Elu(0.7), reverse Sigmoid/LeakyRelu(0.15): alpha [0.25,0.7,0.15], beta [0.5]', dict(attrs=[('direction', 'bidirectional'), ('activations', ['HardSigmoid', 'Elu', 'Sigmoid', 'LeakyRelu']), ('activation_alpha', [0.25, 0.7, 0.15]), ('activation_beta', [0.5])]))
    A('act_thresholdedrelu_affine', 'f=Sigmoid g=ThresholdedRelu(0.1); reverse g=Affine(0.9, 0.05)', dict(attrs=[('direction', 'bidirectional'), ('activations', ['Sigmoid', 'ThresholdedRelu', 'Sigmoid', 'Affine']), ('activation_alpha', [0.1, 0.9]), ('activation_beta', [0.05])]))
    A('act_lowercase', 'lower-case activation names sigmoid/tanh', dict(attrs=[('activations', ['sigmoid', 'tanh'])]))
    A('opset7', 'opset 7 (GRU-7)', dict(opset=7, h0=True, attrs=[('linear_before_reset', 1)]))
    A('opset22', 'opset 22 (GRU-22)', dict(opset=22, attrs=[('direction', 'reverse')]))
    A('size1', 'T=1 B=1 I=1 H=1', dict(T=1, B=1, I=1, H=1))
    A('T10_B4', 'T=10 B=4 I=5 H=6 bidirectional lbr 1, sequence_lens, initial_h', dict(T=10, B=4, I=5, H=6, seq=[10, 1, 8, 5], h0=True, attrs=[('direction', 'bidirectional'), ('linear_before_reset', 1)]))
    A('dim_param_float_data', 'dim_param dims + float_data/int32_data storage, sequence_lens and initial_h fed', dict(dim_param=True, storage='float', seq=[3, 4], h0=True))
    A('states_as_initializers', 'sequence_lens and initial_h as initializers', dict(seq=[4, 2], h0=True, init_states=True, attrs=[('linear_before_reset', 1)]))
    A('trailing_empty_inputs', 'trailing "" inputs: X,W,R,B,"",""', dict(trailing=True))


def rnn_cases():
    A = lambda slug, desc, kw: add_op('rnn', slug, 'RNN', desc, **kw)  # noqa: E731
    A('tanh_default', 'forward, default activation Tanh', {})
    A('reverse', 'reverse', dict(attrs=[('direction', 'reverse')]))
    A('bidirectional', 'bidirectional', dict(attrs=[('direction', 'bidirectional')]))
    A('no_B', 'no B', dict(bias=False))
    A('initial_h', 'initial_h', dict(h0=True))
    A('relu', 'Relu', dict(attrs=[('activations', ['Relu'])]))
    A('sigmoid', 'Sigmoid', dict(attrs=[('activations', ['Sigmoid'])]))
    A('leakyrelu', 'LeakyRelu(0.3)', dict(attrs=[('activations', ['LeakyRelu']), ('activation_alpha', [0.3])]))
    A('elu', 'Elu(0.6)', dict(attrs=[('activations', ['Elu']), ('activation_alpha', [0.6])]))
    A('hardsigmoid', 'HardSigmoid(0.35, 0.55)', dict(attrs=[('activations', ['HardSigmoid']), ('activation_alpha', [0.35]), ('activation_beta', [0.55])]))
    A('affine', 'Affine(0.7, -0.1)', dict(attrs=[('activations', ['Affine']), ('activation_alpha', [0.7]), ('activation_beta', [-0.1])]))
    A('scaledtanh', 'ScaledTanh(1.3, 0.6)', dict(attrs=[('activations', ['ScaledTanh']), ('activation_alpha', [1.3]), ('activation_beta', [0.6])]))
    A('thresholdedrelu', 'ThresholdedRelu(0.2)', dict(attrs=[('activations', ['ThresholdedRelu']), ('activation_alpha', [0.2])]))
    A('softsign', 'Softsign', dict(attrs=[('activations', ['Softsign'])]))
    A('softplus', 'Softplus', dict(attrs=[('activations', ['Softplus'])]))
    A('alpha_packing_bidir', 'bidirectional forward LeakyRelu(0.25), reverse ScaledTanh(0.8, 1.4): alpha [0.25, 0.8], beta [1.4]', dict(attrs=[('direction', 'bidirectional'), ('activations', ['LeakyRelu', 'ScaledTanh']), ('activation_alpha', [0.25, 0.8]), ('activation_beta', [1.4])]))
    A('alpha_packing_bidir2', 'bidirectional forward Relu (takes nothing), reverse HardSigmoid(0.3, 0.6)', dict(attrs=[('direction', 'bidirectional'), ('activations', ['Relu', 'HardSigmoid']), ('activation_alpha', [0.3]), ('activation_beta', [0.6])]))
    A('leakyrelu_default', 'LeakyRelu without alpha (default 0.01)', dict(attrs=[('activations', ['LeakyRelu'])], wscale=1.0))
    A('clip', 'clip=0.4 with large weights', dict(attrs=[('clip', 0.4)], wscale=1.8))
    A('seqlens_forward', 'sequence_lens [2,4,3] forward with initial_h', dict(B=3, seq=[2, 4, 3], h0=True))
    A('seqlens_reverse', 'sequence_lens [4,1,3] reverse', dict(B=3, seq=[4, 1, 3], attrs=[('direction', 'reverse')]))
    A('seqlens_bidirectional_zero', 'bidirectional sequence_lens [3,0,4] with initial_h', dict(B=3, seq=[3, 0, 4], h0=True, attrs=[('direction', 'bidirectional')]))
    A('only_Y_h', 'only Y_h requested', dict(outs=['Y_h']))
    A('only_Y', 'only Y requested', dict(outs=['Y'], attrs=[('direction', 'bidirectional')]))
    A('opset7', 'opset 7 (RNN-7)', dict(opset=7, h0=True))
    A('opset22', 'opset 22 (RNN-22)', dict(opset=22, attrs=[('activations', ['Relu'])]))
    A('size1', 'T=1 B=1 I=1 H=1', dict(T=1, B=1, I=1, H=1))
    A('T10_B4', 'T=10 B=4 I=5 H=6 bidirectional, sequence_lens, initial_h', dict(T=10, B=4, I=5, H=6, seq=[7, 10, 2, 9], h0=True, attrs=[('direction', 'bidirectional')]))
    A('dim_param_float_data', 'dim_param dims + float_data storage', dict(dim_param=True, storage='float', h0=True))


def layout1_cases():
    add_layout1('lstm', 'LSTM', 'layout=1 LSTM bidirectional with initial_h, initial_c, sequence_lens, peepholes',
                attrs=[('direction', 'bidirectional')], h0=True, c0=True, seq=[3, 4], peep=True)
    add_layout1('gru', 'GRU', 'layout=1 GRU reverse, lbr 1, initial_h', T=5,
                attrs=[('direction', 'reverse'), ('linear_before_reset', 1)], h0=True)
    add_layout1('rnn', 'RNN', 'layout=1 RNN forward with initial_h and sequence_lens', B=3, seq=[4, 2, 3], h0=True)
    add_layout1('lstm_only_Y_h', 'LSTM', 'layout=1 LSTM, only Y_h and Y_c requested', outs=['Y_h', 'Y_c'], c0=True)


def spec_cases():
    add_spec('LSTM', 'lstm_thresholdedrelu', 'LSTM h=ThresholdedRelu without activation_alpha: spec default alpha 1.0 (ThresholdedRelu op); onnxruntime uses 0',
             attrs=[('activations', ['Sigmoid', 'Tanh', 'ThresholdedRelu'])], wscale=1.5, xscale=2.0, bscale=1.5)
    add_spec('LSTM', 'lstm_affine', 'LSTM g=Affine without alpha/beta: spec default alpha 1.0 beta 0.0 (Affine op); onnxruntime uses 0, 0',
             attrs=[('activations', ['Sigmoid', 'Affine', 'Tanh'])])
    add_spec('GRU', 'gru_thresholdedrelu', 'GRU g=ThresholdedRelu without alpha: spec default 1.0; onnxruntime uses 0',
             attrs=[('activations', ['Sigmoid', 'ThresholdedRelu'])], wscale=1.5, xscale=2.0, bscale=1.5)
    add_spec('GRU', 'gru_affine_bidir', 'GRU bidirectional, g=Affine without alpha/beta in both directions: spec 1.0/0.0; onnxruntime 0/0',
             attrs=[('direction', 'bidirectional'), ('activations', ['Sigmoid', 'Affine', 'Sigmoid', 'Affine'])])
    add_spec('RNN', 'rnn_thresholdedrelu', 'RNN ThresholdedRelu without alpha: spec default 1.0; onnxruntime uses 0',
             attrs=[('activations', ['ThresholdedRelu'])], wscale=1.5, xscale=2.0, bscale=1.5)
    add_spec('RNN', 'rnn_affine', 'RNN Affine without alpha/beta: spec 1.0/0.0; onnxruntime 0/0',
             attrs=[('activations', ['Affine'])], wscale=0.4)


def error_cases():
    E = add_error
    E('no_hidden_size', 'LSTM', 'hidden_size attribute missing', hidden_attr=False)
    E('hidden_size_mismatch', 'GRU', 'hidden_size=4 but W has 3*3 rows', attrs=[('hidden_size', 4)])
    E('clip_zero', 'LSTM', 'clip must be > 0', attrs=[('clip', 0.0)])
    E('clip_negative', 'LSTM', 'clip negative', attrs=[('clip', -1.0)])
    # onnxruntime 1.30.0 accepts (so no case): RNN clip 0, GRU linear_before_reset=2, LSTM input_forget=2
    E('gru_clip_negative', 'GRU', 'GRU clip negative', attrs=[('clip', -0.5)])
    E('lstm_two_activations', 'LSTM', 'LSTM needs 3 (6 if bidirectional) activations', attrs=[('activations', ['Sigmoid', 'Tanh'])])
    E('gru_bidir_two_activations', 'GRU', 'bidirectional GRU needs 4 activations, 2 given', attrs=[('direction', 'bidirectional'), ('activations', ['Sigmoid', 'Tanh'])])
    E('unknown_activation', 'GRU', 'unknown activation name "Swish"', attrs=[('activations', ['Sigmoid', 'Swish'])])
    E('rnn_lowercase_activation', 'RNN', 'RNN with lower-case activation "relu"', attrs=[('activations', ['relu'])])
    E('seqlens_gt_T', 'LSTM', 'sequence_lens [5, 2] > T=4 (refused at run time)', seq=[5, 2])
    E('seqlens_negative', 'GRU', 'negative sequence_lens [-1, 3]', seq=[-1, 3])
    E('direction_backward', 'GRU', 'direction must be forward, reverse or bidirectional', attrs=[('direction', 'backward')])
    E('W_input_size', 'LSTM', 'W input_size 4 but X has 3 features', arrays={'W': np.full((1, 12, 4), 0.1, np.float32)})
    E('initial_h_batch', 'GRU', 'initial_h batch 3 but X batch 2', arrays={'initial_h': np.zeros((1, 3, 3), np.float32)})
    E('R_shape', 'RNN', 'R shape [1,3,2] (should be [1,3,3])', arrays={'R': np.full((1, 3, 2), 0.1, np.float32)})
    E('B_shape', 'LSTM', 'B shape [1,12] (should be [1,24])', arrays={'B': np.zeros((1, 12), np.float32)})
    E('P_shape', 'LSTM', 'P shape [1,6] (should be [1,9])', arrays={'P': np.zeros((1, 6), np.float32)})
    E('layout2', 'RNN', 'layout=2', attrs=[('layout', 2)])
    E('W_num_directions', 'LSTM', 'bidirectional but W has num_directions 1', attrs=[('direction', 'bidirectional')],
      arrays={'W': np.full((1, 12, 3), 0.1, np.float32), 'R': np.full((2, 12, 3), 0.1, np.float32), 'B': np.zeros((2, 24), np.float32)})
    E('X_rank2', 'RNN', 'X of rank 2', arrays={'X': np.zeros((4, 3), np.float32)})
    E('initial_c_shape', 'LSTM', 'initial_c hidden 2, should be 3', h0=True, arrays={'initial_c': np.zeros((1, 2, 2), np.float32)})
    E('seqlens_wrong_batch', 'RNN', 'sequence_lens has 3 entries for batch 2', arrays={'sequence_lens': np.array([4, 4, 4], np.int32)})


# ------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(REPO, 'tests', 'golden', 'onnx'))
    ap.add_argument('--only', default='', help='comma-separated families: lstm, gru, rnn, layout1, spec, error, '
                    'wire, malformed, torch, glue, external (default: all)')
    args = ap.parse_args()
    only = set(x for x in args.only.split(',') if x)
    fams = [('lstm', lstm_cases), ('gru', gru_cases), ('rnn', rnn_cases), ('layout1', layout1_cases),
            ('spec', spec_cases), ('error', error_cases)]
    import extra  # wire, malformed, torch
    import glue
    import external
    for fam, fn in fams:
        if not only or fam in only:
            fn()
    if not only or 'wire' in only:
        extra.wire_cases(CASES, STATE, sys.modules[__name__])
    if not only or 'malformed' in only:
        extra.malformed_cases(CASES, STATE, sys.modules[__name__])
    if not only or 'torch' in only:
        extra.torch_cases(CASES, STATE, sys.modules[__name__])
    if not only or 'glue' in only:
        glue.glue_cases(CASES, STATE, sys.modules[__name__])
    if not only or 'external' in only:
        external.external_cases(CASES, STATE, sys.modules[__name__])
    jobs = [j for c in CASES for j in c['jobs']]
    ver, results = run_ort(jobs)
    STATE['ort_version'] = ver
    os.makedirs(args.out, exist_ok=True)
    counts = {}
    written = set()
    for c in CASES:
        r = c['finalize'](results, args.out)
        if r is None:
            continue
        mb, j = r
        j['onnxruntime_version'] = ver
        with open(os.path.join(args.out, c['name'] + '.onnx'), 'wb') as fh:
            fh.write(mb)
        write_json(os.path.join(args.out, c['name'] + '.json'), j)
        written.add(c['name'])
        counts[c['family']] = counts.get(c['family'], 0) + 1
    # remove stale files from an earlier run
    for fn in sorted(os.listdir(args.out)):
        stem, ext = os.path.splitext(fn)
        if ext in ('.onnx', '.json') and stem not in written and (not only or stem.split('_')[0] in only):
            os.remove(os.path.join(args.out, fn))
    # the external family's data files (.bin beside the models, its own subdirectories)
    if not only or 'external' in only:
        kept = STATE.get('written_files', set())
        for fn in sorted(os.listdir(args.out)):
            p = os.path.join(args.out, fn)
            if fn.startswith('external_') and fn.endswith('.bin') and fn not in kept:
                os.remove(p)
            elif fn in external.SUBDIRS or (fn.startswith('external_') and os.path.isdir(p)):
                for sub in sorted(os.listdir(p)):
                    if os.path.join(fn, sub) not in kept:
                        os.remove(os.path.join(p, sub))
                if not os.listdir(p):
                    os.rmdir(p)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(args.out) for f in fs)
    print('onnxruntime', ver)
    for k in sorted(counts):
        print('  %-10s %d' % (k, counts[k]))
    print('  total %d cases, %d bytes' % (sum(counts.values()), total))
    if STATE.get('torch_op_types'):
        print('op types in torch exports:', ', '.join(sorted(STATE['torch_op_types'])))
    for n in STATE.get('external_ort_accepts', []):
        print('onnxruntime accepts (recurrent refuses):', n)
    for s in STATE['skipped']:
        print('skipped:', s)
    if STATE['warnings']:
        print('%d warnings' % len(STATE['warnings']))


if __name__ == '__main__':
    main()
