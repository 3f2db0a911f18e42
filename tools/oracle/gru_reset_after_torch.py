#!/usr/bin/python3
"""Golden cases for GRU `resetAfter: true` (which TF.js 4.22.0 cannot build).

Usage (Debian's system python, which has torch and numpy):
    /usr/bin/python3 tools/oracle/gru_reset_after_torch.py tests/golden/reset_after

Writes one JSON file per case, family `reset_after`, in the same schema as the
TF.js cases (tests/golden/README.md). Expected outputs come from
`torch.nn.GRU(batch_first=True)` in float32: PyTorch's GRU is exactly the Keras
reset-after GRU

    z  = sigma(x.Wz + bxz + h.Uz + bhz)
    r  = sigma(x.Wr + bxr + h.Ur + bhr)
    hh = tanh(x.Wh + bxh + r * (h.Uh + bhh))
    h' = z*h + (1-z)*hh        (PyTorch: h' = (1-z)*n + z*h, n = hh)

with gate order r,z,n in PyTorch and z,r,h in Keras/TF.js. Weights are converted:
kernel [I, 3u] = weight_ih_l0^T with the blocks reordered to z,r,h,
recurrent_kernel [u, 3u] likewise from weight_hh_l0, bias [2, 3u] = [input bias;
recurrent bias] (each reordered); `useBias: false` <-> torch `bias=False`.

A few extra cases use activations PyTorch's GRU does not offer (hardSigmoid
recurrent activation, relu activation, masks with TF.js semantics); their outputs
are a float64 NumPy evaluation of the formula above, rounded once to float32
(`"reference": "numpy-float64"`).

Deterministic: every case seeds torch / numpy from its own number.
"""
import json
import os
import sys

import numpy as np
import torch

TOL = {'abs': 1e-5, 'rel': 1e-4}
TORCH_BACKEND = 'torch-' + torch.__version__
NUMPY_BACKEND = 'numpy-' + np.__version__ + '-float64'


# ----------------------------------------------------------------------------
# JSON output in the style of generate_cases.js
# ----------------------------------------------------------------------------
class F32:
    def __init__(self, arr):
        self.a = np.asarray(arr, dtype=np.float32).reshape(-1)


def js_format(digits, n, neg):
    """JS Number#toString layout of the decimal 0.<digits> * 10^n."""
    k = len(digits)
    if k <= n <= 21:
        out = digits + '0' * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + '.' + digits[n:]
    elif -6 < n <= 0:
        out = '0.' + '0' * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ('.' + digits[1:] if k > 1 else '') + 'e' + ('+' if e > 0 else '-') + str(abs(e))
    return ('-' if neg else '') + out


def sci_to_js(s):
    """'d.ddde+XX' (shortest digits) -> JS-style string."""
    mant, exp = s.lower().split('e')
    neg = mant.startswith('-')
    mant = mant.lstrip('-')
    ip, _, fp = mant.partition('.')
    digits = (ip + fp).rstrip('0')
    lead = len(digits) - len(digits.lstrip('0'))
    digits = digits.lstrip('0') or '0'
    n = int(exp) + len(ip) - lead
    return js_format(digits, n, neg)


def f32str(v):
    """Shortest decimal that round-trips to this float32, formatted like JS Number#toString; -0 -> 0."""
    v = np.float32(v)
    if not np.isfinite(v):
        raise ValueError('non-finite value')
    if v == 0:
        return '0'
    out = sci_to_js(np.format_float_scientific(v, unique=True, trim='-'))
    assert np.float32(float(out)) == v, (out, v)
    return out


def num(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return '0'
    out = sci_to_js(np.format_float_scientific(float(v), unique=True, trim='-'))
    assert float(out) == float(v)
    return out


def ser(v, ind=0):
    pad = ' ' * ind
    if isinstance(v, F32):
        return '[' + ','.join(f32str(x) for x in v.a) + ']'
    if v is None:
        return 'null'
    if isinstance(v, (bool, int, float)):
        return num(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        if not v:
            return '[]'
        if all(not isinstance(e, (dict, list, F32)) for e in v):
            return '[' + ','.join(ser(e) for e in v) + ']'
        return '[\n' + ',\n'.join(pad + ' ' + ser(e, ind + 1) for e in v) + '\n' + pad + ']'
    if isinstance(v, dict):
        if not v:
            return '{}'
        return '{\n' + ',\n'.join(pad + ' ' + json.dumps(k) + ': ' + ser(x, ind + 1)
                                 for k, x in v.items()) + '\n' + pad + '}'
    raise TypeError(type(v))


def tensor(arr, name=None):
    a = np.asarray(arr, dtype=np.float32)
    o = {}
    if name is not None:
        o['name'] = name
    o['shape'] = list(a.shape)
    o['data'] = F32(a)
    return o


# ----------------------------------------------------------------------------
# weight conversion
# ----------------------------------------------------------------------------
def reorder_rzn_to_zrh(m, u):
    """Rows (or entries) in PyTorch order r,z,n -> Keras order z,r,h."""
    return np.concatenate([m[u:2 * u], m[0:u], m[2 * u:3 * u]], axis=0)


def keras_weights(gru, u, suffix='', prefix='rnn'):
    w_ih = getattr(gru, 'weight_ih_l0' + suffix).detach().numpy()
    w_hh = getattr(gru, 'weight_hh_l0' + suffix).detach().numpy()
    ws = [
        tensor(reorder_rzn_to_zrh(w_ih, u).T, prefix + '/kernel'),
        tensor(reorder_rzn_to_zrh(w_hh, u).T, prefix + '/recurrent_kernel'),
    ]
    if gru.bias:
        b_ih = getattr(gru, 'bias_ih_l0' + suffix).detach().numpy()
        b_hh = getattr(gru, 'bias_hh_l0' + suffix).detach().numpy()
        ws.append(tensor(np.stack([reorder_rzn_to_zrh(b_ih, u), reorder_rzn_to_zrh(b_hh, u)]),
                         prefix + '/bias'))
    return ws


# ----------------------------------------------------------------------------
# float64 NumPy reference (Keras formula, TF.js masking semantics)
# ----------------------------------------------------------------------------
ACT = {
    'tanh': np.tanh,
    'sigmoid': lambda x: 1.0 / (1.0 + np.exp(-x)),
    'hardSigmoid': lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
    'relu': lambda x: np.maximum(x, 0.0),
    'softsign': lambda x: x / (1.0 + np.abs(x)),
}


def np_gru(x, W, U, b, h0, act, ract, go_backwards, mask=None):
    u = U.shape[0]
    x = x.astype(np.float64)
    W, U = W.astype(np.float64), U.astype(np.float64)
    b = np.zeros((2, 3 * u)) if b is None else b.astype(np.float64)
    h = h0.astype(np.float64)
    outs = []
    T = x.shape[1]
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        mx = x[:, t] @ W + b[0]
        mh = h @ U + b[1]
        z = ract(mx[:, :u] + mh[:, :u])
        r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        hn = z * h + (1.0 - z) * hh
        if mask is not None:
            m = (mask[:, t] != 0).astype(np.float64)[:, None]
            hn = hn * m + h * (1.0 - m)
        h = hn
        outs.append(h)
    return np.stack(outs, axis=1), h


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------
CASES = []


def add(tag, description, fn):
    CASES.append((tag, description, fn))


def rnd(gen, *shape):
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1)


def layer_cfg(u, **flags):
    cfg = {'name': 'rnn', 'units': u, 'resetAfter': True, 'recurrentActivation': 'sigmoid'}
    cfg.update(flags)
    return {'class_name': 'GRU', 'config': cfg}


def output_names(cfg):
    return ['output'] + (['h'] if cfg.get('returnState') else [])


def torch_single(seed, B, T, I, u, bias=True, seq=False, state=False, back=False, init=False,
                 stateful_calls=None):
    """One GRU layer; stateful_calls: list of ('call', T) / ('reset',) for stateful cases."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    gru = torch.nn.GRU(I, u, batch_first=True, bias=bias)
    flags = {}
    if not bias:
        flags['useBias'] = False
    if seq:
        flags['returnSequences'] = True
    if state:
        flags['returnState'] = True
    if back:
        flags['goBackwards'] = True
    if stateful_calls is not None:
        flags['stateful'] = True
    layer = layer_cfg(u, **flags)
    weights = keras_weights(gru, u)
    steps = []
    plan = stateful_calls if stateful_calls is not None else [('call', T)]
    h = torch.zeros(1, B, u)
    with torch.no_grad():
        for item in plan:
            if item[0] == 'reset':
                steps.append({'op': 'reset_states'})
                h = torch.zeros(1, B, u)
                continue
            Tk = item[1]
            x = rnd(gen, B, Tk, I)
            inputs = {'x': tensor(x.numpy())}
            h0 = h if stateful_calls is not None else torch.zeros(1, B, u)
            if init:
                h0 = rnd(gen, 1, B, u)
                inputs['initial_state'] = [tensor(h0[0].numpy(), 'h')]
            xin = torch.flip(x, dims=[1]) if back else x
            seq_out, hn = gru(xin, h0)
            h = hn
            out = seq_out if seq else seq_out[:, -1, :]
            outs = [tensor(out.numpy(), 'output')]
            if state:
                outs.append(tensor(hn[0].numpy(), 'h'))
            steps.append({'op': 'call', 'inputs': inputs, 'outputs': outs})
    return layer, weights, steps, TORCH_BACKEND, 'pytorch'


def torch_bidi(seed, B, T, I, u, merge, seq, state, init=False):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    gru = torch.nn.GRU(I, u, batch_first=True, bidirectional=True)
    inner = layer_cfg(u)
    if seq:
        inner['config']['returnSequences'] = True
    if state:
        inner['config']['returnState'] = True
    cfg = {'name': 'bidi'}
    if merge != 'default':
        cfg['mergeMode'] = merge
    cfg['layer'] = inner
    layer = {'class_name': 'Bidirectional', 'config': cfg}
    weights = (keras_weights(gru, u, '', 'bidi/forward_rnn') +
               keras_weights(gru, u, '_reverse', 'bidi/backward_rnn'))
    with torch.no_grad():
        x = rnd(gen, B, T, I)
        inputs = {'x': tensor(x.numpy())}
        h0 = torch.zeros(2, B, u)
        if init:
            h0 = rnd(gen, 2, B, u)
            inputs['initial_state'] = [tensor(h0[0].numpy(), 'forward.h'),
                                       tensor(h0[1].numpy(), 'backward.h')]
        out, hn = gru(x, h0)  # out[..., u:] is already re-aligned to input order
        fw_seq, bw_seq = out[..., :u], out[..., u:]
        if seq:
            y, yr = fw_seq, bw_seq
        else:
            y, yr = hn[0], hn[1]  # backward "last output" = state after input step 0
        if merge in ('concat', 'default'):
            merged = [torch.cat([y, yr], dim=-1)]
        elif merge == 'sum':
            merged = [y + yr]
        elif merge == 'ave':
            merged = [0.5 * (y + yr)]
        elif merge == 'mul':
            merged = [y * yr]
        elif merge is None:
            merged = [y, yr]
        names = ['output_forward', 'output_backward'] if merge is None else ['output']
        outs = [tensor(m.numpy(), n) for m, n in zip(merged, names)]
        if state:
            outs += [tensor(hn[0].numpy(), 'forward.h'), tensor(hn[1].numpy(), 'backward.h')]
    steps = [{'op': 'call', 'inputs': inputs, 'outputs': outs}]
    return layer, weights, steps, TORCH_BACKEND, 'pytorch'


def numpy_single(seed, B, T, I, u, act, ract, seq=True, state=True, back=False, mask=None,
                 init=False, bias=True):
    rng = np.random.default_rng(seed)
    f32 = lambda *s, r=1.0: rng.uniform(-r, r, size=s).astype(np.float32)
    W, U = f32(I, 3 * u, r=0.6), f32(u, 3 * u, r=0.6)
    b = f32(2, 3 * u, r=0.6) if bias else None
    flags = {}
    if act != 'tanh':
        flags['activation'] = act
    cfg = layer_cfg(u, **flags)
    cfg['config']['recurrentActivation'] = ract
    if not bias:
        cfg['config']['useBias'] = False
    if seq:
        cfg['config']['returnSequences'] = True
    if state:
        cfg['config']['returnState'] = True
    if back:
        cfg['config']['goBackwards'] = True
    weights = [tensor(W, 'rnn/kernel'), tensor(U, 'rnn/recurrent_kernel')]
    if bias:
        weights.append(tensor(b, 'rnn/bias'))
    x = f32(B, T, I, r=2.0)
    inputs = {'x': tensor(x)}
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float32)
        inputs['mask'] = tensor(mask)
    h0 = np.zeros((B, u), dtype=np.float32)
    if init:
        h0 = f32(B, u)
        inputs['initial_state'] = [tensor(h0, 'h')]
    seq_out, hn = np_gru(x, W, U, b, h0, ACT[act], ACT[ract], back, mask)
    outs = [tensor((seq_out if seq else seq_out[:, -1]).astype(np.float32), 'output')]
    if state:
        outs.append(tensor(hn.astype(np.float32), 'h'))
    steps = [{'op': 'call', 'inputs': inputs, 'outputs': outs}]
    return cfg, weights, steps, NUMPY_BACKEND, 'numpy-float64'


# --- PyTorch cases ---
add('u4_seq', 'GRU resetAfter units=4, B=2 T=5 I=3, returnSequences (torch.nn.GRU)',
    lambda: torch_single(101, 2, 5, 3, 4, seq=True))
add('all_ones_dims_state', 'GRU resetAfter B=1 T=1 I=1 units=1, returnState',
    lambda: torch_single(102, 1, 1, 1, 1, state=True))
add('u16_t20_seq_state', 'GRU resetAfter units=16, B=3 T=20 I=8, returnSequences+returnState',
    lambda: torch_single(103, 3, 20, 8, 16, seq=True, state=True))
add('u5_last', 'GRU resetAfter units=5, B=4 T=7 I=2, last output only',
    lambda: torch_single(104, 4, 7, 2, 5))
add('back_seq_state', 'GRU resetAfter goBackwards returnSequences+returnState (sequence in processing order = torch on the time-flipped input)',
    lambda: torch_single(105, 2, 6, 3, 4, seq=True, state=True, back=True))
add('back_last', 'GRU resetAfter goBackwards, last output only',
    lambda: torch_single(106, 3, 9, 4, 3, back=True))
add('initstate_seq_state', 'GRU resetAfter with initialState (torch h0), returnSequences+returnState',
    lambda: torch_single(107, 3, 5, 3, 4, seq=True, state=True, init=True))
add('initstate_back_state', 'GRU resetAfter with initialState and goBackwards, returnState',
    lambda: torch_single(108, 2, 4, 2, 6, state=True, back=True, init=True))
add('nobias_seq', 'GRU resetAfter useBias=false (torch bias=False), returnSequences',
    lambda: torch_single(109, 2, 6, 3, 4, bias=False, seq=True))
add('nobias_back_state', 'GRU resetAfter useBias=false, goBackwards, returnState',
    lambda: torch_single(110, 1, 8, 5, 7, bias=False, state=True, back=True))
add('t1_b4_seq_state', 'GRU resetAfter T=1 B=4, returnSequences+returnState',
    lambda: torch_single(111, 4, 1, 6, 2, seq=True, state=True))
add('bidi_concat_seq', 'Bidirectional(GRU resetAfter) concat returnSequences (torch bidirectional=True; backward sequence re-aligned to input order)',
    lambda: torch_bidi(112, 2, 5, 3, 4, 'concat', True, False))
add('bidi_concat_last_state', 'Bidirectional(GRU resetAfter) concat, last output + returnState (backward last output = state after input step 0 = torch h_n[1])',
    lambda: torch_bidi(113, 3, 6, 2, 3, 'concat', False, True))
add('bidi_null_seq_state_initstate', 'Bidirectional(GRU resetAfter) mergeMode=null returnSequences+returnState with initialState [forward.h, backward.h]',
    lambda: torch_bidi(114, 2, 4, 3, 2, None, True, True, init=True))
add('bidi_sum_seq', 'Bidirectional(GRU resetAfter) sum returnSequences',
    lambda: torch_bidi(115, 2, 5, 4, 3, 'sum', True, False))
add('stateful_seq', 'stateful GRU resetAfter: 2 consecutive calls (the second starts from the first call\'s final state = torch h0), resetStates(), 1 call',
    lambda: torch_single(116, 2, None, 3, 4, seq=True, stateful_calls=[('call', 4), ('call', 4), ('reset',), ('call', 3)]))
add('stateful_state_varying_t', 'stateful GRU resetAfter returnState, B=1, T varying (3, 1, 5)',
    lambda: torch_single(117, 1, None, 2, 5, state=True, stateful_calls=[('call', 3), ('call', 1), ('call', 5)]))
# --- NumPy float64 cases (activations torch.nn.GRU does not offer, TF.js-style masks) ---
add('np_hardsigmoid_seq_state', 'GRU resetAfter recurrentActivation=hardSigmoid (TF.js default), returnSequences+returnState; float64 NumPy reference',
    lambda: numpy_single(201, 2, 6, 3, 4, 'tanh', 'hardSigmoid'))
add('np_relu_hardsigmoid_back', 'GRU resetAfter activation=relu recurrentActivation=hardSigmoid goBackwards; float64 NumPy reference',
    lambda: numpy_single(202, 3, 5, 2, 3, 'relu', 'hardSigmoid', back=True))
add('np_softsign_sigmoid_nobias', 'GRU resetAfter activation=softsign useBias=false; float64 NumPy reference',
    lambda: numpy_single(203, 2, 4, 3, 3, 'softsign', 'sigmoid', bias=False))
add('np_mask_initstate', 'GRU resetAfter with mask (TF.js semantics: masked steps repeat the previous output, keep the state) and initialState; float64 NumPy reference',
    lambda: numpy_single(204, 3, 6, 3, 4, 'tanh', 'hardSigmoid', init=True,
                         mask=[[1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]]))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for i, (tag, desc, fn) in enumerate(CASES, 1):
        name = f'reset_after_{i:03d}_{tag}'
        layer, weights, steps, backend, reference = fn()
        case = {
            'schema_version': 1,
            'name': name,
            'family': 'reset_after',
            'description': desc,
            'tfjs_version': '4.22.0',
            'backend': backend,
            'reference': reference,
            'layer': layer,
            'weights': weights,
            'steps': steps,
            'tolerance': TOL,
        }
        with open(os.path.join(out_dir, name + '.json'), 'w') as fh:
            fh.write(ser(case) + '\n')
    print(f'wrote {len(CASES)} cases to {out_dir}')


if __name__ == '__main__':
    main()
