#!/usr/bin/python3
"""Check tests/models/keras: re-run every model from its model.json + weight shard in
float64 NumPy (an independent implementation of the Keras layers, reading only the
files) and compare with the PyTorch outputs stored in reference.json.

Usage:
    /usr/bin/python3 tools/pytorch/check_keras_models.py tests/models/keras

Passes iff every output matches within 1e-6 (absolute) and every weight in the
manifest is used exactly once. This proves the PyTorch -> Keras weight conversion
done by generate_keras_models.py (gate reorder, transposes, bias layouts) and that
the topology says what the reference computed.

Layer semantics implemented (Keras 2 / Keras 3, inference, no masking):
  GRU (reset_after=True):  mx = x.W + b[0], mh = h.U + b[1]   (column blocks z, r, h)
      z = ract(mx_z + mh_z), r = ract(mx_r + mh_r), hh = act(mx_h + r*mh_h), h = z*h + (1-z)*hh
  LSTM: m = x.W + h.U + b (blocks i, f, c, o); c = f*c + i*act(c~); h = o*act(c)
  CuDNNGRU: cuDNN's GRU with Keras' raw layout: kernel/recurrent_kernel column blocks
      z, r, h; bias[6u] = [bz_i, br_i, bh_i, bz_r, br_r, bh_r] (input then recurrent):
      r = sigmoid(W_r x + b_Wr + R_r h + b_Rr), z likewise,
      h~ = tanh(W_h x + b_Wh + r*(R_h h + b_Rh)), h = (1-z)*h~ + z*h
  CuDNNLSTM: kernel blocks i, f, c, o; bias[8u] = input biases (i,f,c,o) then
      recurrent biases; gates use b_W + b_R
  Bidirectional(merge_mode concat): [forward(x), reverse_time(backward(reverse_time(x)))]
      for sequences; [forward last, backward last] otherwise
  Dense: act(x.kernel + bias)
"""
import json
import os
import sys

import numpy as np

TOL = 1e-6


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT = {'tanh': np.tanh, 'sigmoid': sigmoid, 'linear': lambda x: x, None: lambda x: x,
       'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0), 'relu': lambda x: np.maximum(x, 0)}


def act_of(cfg, key, default):
    v = cfg.get(key, default)
    if isinstance(v, dict):            # Keras 3 may serialise activations as objects
        v = v.get('config', {}).get('name', v.get('class_name'))
    return ACT[v]


# ----------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------
def load_weights(case_dir, manifest):
    out = {}
    for group in manifest:
        buf = b''
        for p in group['paths']:
            with open(os.path.join(case_dir, p), 'rb') as fh:
                buf += fh.read()
        off = 0
        for w in group['weights']:
            assert w['dtype'] == 'float32', w
            n = int(np.prod(w['shape'], dtype=np.int64))
            a = np.frombuffer(buf, dtype='<f4', count=n, offset=off).reshape(w['shape'])
            off += 4 * n
            assert w['name'] not in out, 'duplicate weight ' + w['name']
            out[w['name']] = a.astype(np.float64)
        assert off == len(buf), f'shard holds {len(buf)} bytes, manifest {off}'
    return out


def snake(name):
    import re
    s = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', s).lower()


class Weights:
    """Finds a layer's kernel / recurrent_kernel / bias under either naming scheme:
    Keras 2 `<layer>[/<sub>]/[<cell>/]<kernel|recurrent_kernel|bias>` or Keras 3
    model.weights.h5 paths `layers/<snake class>/[cell/]vars/<index>`."""
    def __init__(self, table):
        self.table = dict(table)
        self.used = set()

    def take(self, prefix, keys=('kernel', 'recurrent_kernel', 'bias')):
        found = {}
        for n, a in self.table.items():
            if n.startswith(prefix + '/'):
                found[n] = a
        if not found:
            raise KeyError(f'no weights under {prefix}/')
        out = {}
        for n, a in found.items():
            last = n.split('/')[-1]
            if last.isdigit():          # Keras 3 vars/<index>, index = creation order
                last = keys[int(last)]
            assert last in keys and last not in out, (n, keys)
            out[last] = a
            self.used.add(n)
        return out


# ----------------------------------------------------------------------------
# layers
# ----------------------------------------------------------------------------
def run_sequence(step, x, h, backwards):
    T = x.shape[1]
    outs = [None] * T
    for t in (range(T - 1, -1, -1) if backwards else range(T)):
        h = step(x[:, t], h)
        outs[t if not backwards else T - 1 - t] = h[0] if isinstance(h, tuple) else h
    return np.stack(outs, axis=1), h


def keras_gru(cfg, w, x):
    assert cfg.get('reset_after', False) is True, 'only reset_after=True here'
    act, ract = act_of(cfg, 'activation', 'tanh'), act_of(cfg, 'recurrent_activation', 'sigmoid')
    W, U = w['kernel'], w['recurrent_kernel']
    u = U.shape[0]
    b = w.get('bias', np.zeros((2, 3 * u)))
    assert W.shape == (x.shape[2], 3 * u) and U.shape == (u, 3 * u) and b.shape == (2, 3 * u)

    def step(xt, h):
        mx, mh = xt @ W + b[0], h @ U + b[1]
        z = ract(mx[:, :u] + mh[:, :u])
        r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        return z * h + (1 - z) * hh
    return finish(cfg, *run_sequence(step, x, np.zeros((x.shape[0], u)), cfg.get('go_backwards', False)))


def keras_lstm(cfg, w, x):
    act, ract = act_of(cfg, 'activation', 'tanh'), act_of(cfg, 'recurrent_activation', 'sigmoid')
    W, U = w['kernel'], w['recurrent_kernel']
    u = U.shape[0]
    b = w.get('bias', np.zeros(4 * u))
    assert W.shape == (x.shape[2], 4 * u) and U.shape == (u, 4 * u) and b.shape == (4 * u,)

    def step(xt, hc):
        h, c = hc
        m = xt @ W + h @ U + b
        i, f, cc, o = (m[:, k * u:(k + 1) * u] for k in range(4))
        c = ract(f) * c + ract(i) * act(cc)
        return ract(o) * act(c), c
    z = np.zeros((x.shape[0], u))
    seq, (h, _) = run_sequence(step, x, (z, z), cfg.get('go_backwards', False))
    return finish(cfg, seq, h)


def cudnn_gru(cfg, w, x):
    W, R, b = w['kernel'], w['recurrent_kernel'], w['bias']
    u = R.shape[0]
    assert W.shape == (x.shape[2], 3 * u) and R.shape == (u, 3 * u) and b.shape == (6 * u,)
    blk = lambda m, k: m[:, k * u:(k + 1) * u]      # k: 0 = z, 1 = r, 2 = h
    bW = lambda k: b[k * u:(k + 1) * u]
    bR = lambda k: b[(3 + k) * u:(4 + k) * u]

    def step(xt, h):
        z = sigmoid(xt @ blk(W, 0) + bW(0) + h @ blk(R, 0) + bR(0))
        r = sigmoid(xt @ blk(W, 1) + bW(1) + h @ blk(R, 1) + bR(1))
        hh = np.tanh(xt @ blk(W, 2) + bW(2) + r * (h @ blk(R, 2) + bR(2)))
        return (1 - z) * hh + z * h
    return finish(cfg, *run_sequence(step, x, np.zeros((x.shape[0], u)), cfg.get('go_backwards', False)))


def cudnn_lstm(cfg, w, x):
    W, R, b = w['kernel'], w['recurrent_kernel'], w['bias']
    u = R.shape[0]
    assert W.shape == (x.shape[2], 4 * u) and R.shape == (u, 4 * u) and b.shape == (8 * u,)

    def step(xt, hc):
        h, c = hc
        g = [xt @ W[:, k * u:(k + 1) * u] + b[k * u:(k + 1) * u]
             + h @ R[:, k * u:(k + 1) * u] + b[(4 + k) * u:(5 + k) * u] for k in range(4)]
        c = sigmoid(g[1]) * c + sigmoid(g[0]) * np.tanh(g[2])
        return sigmoid(g[3]) * np.tanh(c), c
    z = np.zeros((x.shape[0], u))
    seq, (h, _) = run_sequence(step, x, (z, z), cfg.get('go_backwards', False))
    return finish(cfg, seq, h)


def finish(cfg, seq, h):
    assert not cfg.get('return_state', False) and not cfg.get('stateful', False)
    assert not cfg.get('time_major', False)
    return seq if cfg.get('return_sequences', False) else h


RNN = {'GRU': keras_gru, 'LSTM': keras_lstm, 'CuDNNGRU': cudnn_gru, 'CuDNNLSTM': cudnn_lstm}


def apply_layer(layer, weights, x, keras3):
    cls, cfg = layer['class_name'], layer['config']
    name = cfg['name']
    def take(keys=('kernel', 'recurrent_kernel', 'bias')):
        try:
            return weights.take(name, keys)
        except KeyError:
            if not keras3:
                raise
            return weights.take(f'layers/{snake(cls)}', keys)
    if cls in RNN:
        return RNN[cls](cfg, take(), x)
    if cls == 'Dense':
        w = take(('kernel', 'bias'))
        y = x @ w['kernel'] + (w['bias'] if 'bias' in w else 0.0)
        return act_of(cfg, 'activation', 'linear')(y)
    if cls == 'Bidirectional':
        inner = cfg['layer']
        icls, icfg = inner['class_name'], inner['config']
        assert cfg.get('merge_mode', 'concat') == 'concat'
        assert not keras3
        fw = weights.take(f'{name}/forward_{icfg["name"]}')
        bw = weights.take(f'{name}/backward_{icfg["name"]}')
        yf = RNN[icls](icfg, fw, x)
        yb = RNN[icls](icfg, bw, x[:, ::-1])
        if icfg.get('return_sequences', False):
            yb = yb[:, ::-1]
        return np.concatenate([yf, yb], axis=-1)
    raise NotImplementedError(cls)


def check_case(case_dir):
    with open(os.path.join(case_dir, 'model.json')) as fh:
        model = json.load(fh)
    with open(os.path.join(case_dir, 'reference.json')) as fh:
        ref = json.load(fh)
    assert model['format'] == 'layers-model'
    topo = model['modelTopology']
    keras3 = topo['keras_version'].startswith('3')
    mc = topo['model_config']
    assert mc['class_name'] == 'Sequential'
    layers = mc['config']['layers']
    weights = Weights(load_weights(case_dir, model['weightsManifest']))
    if layers[0]['class_name'] == 'InputLayer':
        icfg = layers[0]['config']
        in_name, batch_shape = icfg['name'], icfg.get('batch_input_shape', icfg.get('batch_shape'))
        layers = layers[1:]
    else:                                   # Keras 2.2.x: the first layer carries the shape
        in_name = layers[0]['config']['name'] + '_input'
        batch_shape = layers[0]['config']['batch_input_shape']
    worst = 0.0
    for call in ref['calls']:
        (inp,), (out,) = call['inputs'], call['outputs']
        assert inp['name'] == in_name, (inp['name'], in_name)
        assert len(inp['shape']) == len(batch_shape)
        assert all(d is None or d == s for d, s in zip(batch_shape, inp['shape'])), (batch_shape, inp['shape'])
        assert out['name'] == layers[-1]['config']['name']
        y = np.array(inp['data'], dtype=np.float64).reshape(inp['shape'])
        for layer in layers:
            y = apply_layer(layer, weights, y, keras3)
        want = np.array(out['data'], dtype=np.float64).reshape(out['shape'])
        assert y.shape == want.shape, (y.shape, want.shape)
        worst = max(worst, float(np.max(np.abs(y - want))))
    unused = set(weights.table) - weights.used
    assert not unused, f'unused weights {sorted(unused)}'
    return worst


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    root = sys.argv[1]
    cases = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, 'model.json')))
    failed = 0
    for c in cases:
        try:
            worst = check_case(os.path.join(root, c))
            ok = worst <= TOL
            print(f'{"ok  " if ok else "FAIL"} {c:32s} max |numpy - torch| = {worst:.3g}')
            failed += not ok
        except Exception as e:  # noqa: BLE001
            print(f'FAIL {c:32s} {type(e).__name__}: {e}')
            failed += 1
    print(f'{len(cases) - failed}/{len(cases)} cases pass (tolerance {TOL})')
    sys.exit(1 if failed or not cases else 0)


if __name__ == '__main__':
    main()
