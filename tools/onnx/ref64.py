"""Independent float64 NumPy reference of the ONNX LSTM / GRU / RNN operators.

Written from the ONNX operator specification (opsets 7, 14, 22), not from any
runtime's code.  Conventions (layout 0):
  X [T, B, I]; W [nd, G*H, I]; R [nd, G*H, H]; B [nd, 2*G*H] = [Wb | Rb];
  P [nd, 3H] = [Pi | Po | Pf]; sequence_lens [B]; initial_h / initial_c [nd, B, H];
  Y [T, nd, B, H]; Y_h / Y_c [nd, B, H].
Gate blocks: LSTM i o f c; GRU z r h; RNN i.
layout 1: X [B, T, I], Y [B, T, nd, H], states [B, nd, H].

Activation functions (spec "Activation functions" list):
  Relu, Tanh, Sigmoid, Affine(a*x+b), LeakyRelu, ThresholdedRelu (x if x > alpha),
  ScaledTanh a*tanh(b*x), HardSigmoid min(max(a*x+b,0),1), Elu, Softsign, Softplus.
Names are matched case-insensitively here (the spec's names are CamelCase).
activation_alpha / activation_beta are consumed in the order of the activation list,
each function taking only the parameters it uses.  A missing value takes the default
passed in `defaults` (spec defaults: those of the corresponding ONNX operators).

sequence_lens[b] == 0: the spec does not say what Y_h / Y_c hold for an empty sequence.
zero_length='zeros' (default) gives zeros (what onnxruntime does, even when initial_h /
initial_c are given); zero_length='initial' carries the initial state through.

clip: the spec says clipping "is applied to the input of activations"; this reference
clips the gate pre-activations (the inputs of f and g) and NOT the cell state fed to h
(`clip_cell_before_h=False`), which is where every implementation we know clips.
"""
import numpy as np

# Spec defaults (those of the corresponding ONNX operators).  ScaledTanh has none in
# the (removed, experimental) ScaledTanh-1 schema: a missing value is an error here.
SPEC_DEFAULTS = {
    'leakyrelu': {'alpha': 0.01},
    'thresholdedrelu': {'alpha': 1.0},
    'elu': {'alpha': 1.0},
    'hardsigmoid': {'alpha': 0.2, 'beta': 0.5},
    'affine': {'alpha': 1.0, 'beta': 0.0},
    'scaledtanh': {},
}
PARAMS = {
    'relu': (), 'tanh': (), 'sigmoid': (), 'softsign': (), 'softplus': (),
    'affine': ('alpha', 'beta'), 'leakyrelu': ('alpha',), 'thresholdedrelu': ('alpha',),
    'scaledtanh': ('alpha', 'beta'), 'hardsigmoid': ('alpha', 'beta'), 'elu': ('alpha',),
}


def _f32(v):
    return float(np.float32(v))


def make_act(name, alpha=None, beta=None):
    n = name.lower()
    a = alpha
    b = beta
    if n == 'relu':
        return lambda x: np.maximum(x, 0.0)
    if n == 'tanh':
        return np.tanh
    if n == 'sigmoid':
        return lambda x: 1.0 / (1.0 + np.exp(-x))
    if n == 'affine':
        return lambda x: a * x + b
    if n == 'leakyrelu':
        return lambda x: np.where(x >= 0, x, a * x)
    if n == 'thresholdedrelu':
        return lambda x: np.where(x > a, x, 0.0)
    if n == 'scaledtanh':
        return lambda x: a * np.tanh(b * x)
    if n == 'hardsigmoid':
        return lambda x: np.minimum(np.maximum(a * x + b, 0.0), 1.0)
    if n == 'elu':
        return lambda x: np.where(x >= 0, x, a * (np.exp(np.minimum(x, 0.0)) - 1.0))
    if n == 'softsign':
        return lambda x: x / (1.0 + np.abs(x))
    if n == 'softplus':
        return lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)
    raise ValueError('unknown activation ' + name)


def resolve_activations(names, alphas, betas, defaults=SPEC_DEFAULTS):
    alphas = list(alphas or [])
    betas = list(betas or [])
    ia = ib = 0
    out = []
    for name in names:
        n = name.lower()
        if n not in PARAMS:
            raise ValueError('unknown activation ' + name)
        kw = {}
        for p in PARAMS[n]:
            src, idx = (alphas, ia) if p == 'alpha' else (betas, ib)
            if idx < len(src):
                kw[p] = float(src[idx])
                if p == 'alpha':
                    ia += 1
                else:
                    ib += 1
            else:
                if p not in defaults.get(n, {}):
                    raise ValueError('no default for %s of %s' % (p, name))
                kw[p] = defaults[n][p]
        out.append(make_act(name, kw.get('alpha'), kw.get('beta')))
    return out


DEFAULT_ACTS = {'LSTM': ['Sigmoid', 'Tanh', 'Tanh'], 'GRU': ['Sigmoid', 'Tanh'], 'RNN': ['Tanh']}
GATES = {'LSTM': 4, 'GRU': 3, 'RNN': 1}


def run(op, attrs, X, W, R, B=None, seq=None, h0=None, c0=None, P=None,
        defaults=SPEC_DEFAULTS, clip_cell_before_h=False, zero_length='zeros'):
    """Returns dict Y, Y_h (and Y_c for LSTM) as float64 arrays in the model's layout."""
    H = int(attrs['hidden_size'])
    direction = attrs.get('direction', 'forward')
    if isinstance(direction, bytes):
        direction = direction.decode()
    nd = 2 if direction == 'bidirectional' else 1
    layout = int(attrs.get('layout', 0))
    clip = attrs.get('clip')
    lbr = int(attrs.get('linear_before_reset', 0))
    input_forget = int(attrs.get('input_forget', 0))
    G = GATES[op]
    X = np.asarray(X, np.float64)
    if layout == 1:
        X = X.transpose(1, 0, 2)
        if h0 is not None:
            h0 = np.asarray(h0).transpose(1, 0, 2)
        if c0 is not None:
            c0 = np.asarray(c0).transpose(1, 0, 2)
    T, Bn, _ = X.shape
    names = attrs.get('activations')
    nper = len(DEFAULT_ACTS[op])
    if names is None:
        names = DEFAULT_ACTS[op] * nd
    names = [n.decode() if isinstance(n, bytes) else n for n in names]
    acts = resolve_activations(names, attrs.get('activation_alpha'), attrs.get('activation_beta'), defaults)
    W = np.asarray(W, np.float64)
    R = np.asarray(R, np.float64)
    Bv = np.zeros((nd, 2 * G * H)) if B is None else np.asarray(B, np.float64)
    Pv = np.zeros((nd, 3 * H)) if P is None else np.asarray(P, np.float64)
    seq = np.full(Bn, T, np.int64) if seq is None else np.asarray(seq, np.int64)
    h0 = np.zeros((nd, Bn, H)) if h0 is None else np.asarray(h0, np.float64)
    c0 = np.zeros((nd, Bn, H)) if c0 is None else np.asarray(c0, np.float64)
    Y = np.zeros((T, nd, Bn, H))
    Yh = np.zeros((nd, Bn, H))
    Yc = np.zeros((nd, Bn, H))

    def cl(v):
        return v if clip is None else np.clip(v, -clip, clip)

    for d in range(nd):
        rev = (direction == 'reverse') or d == 1
        a = acts[d * nper:(d + 1) * nper]
        Wd, Rd = W[d], R[d]
        Wb, Rb = Bv[d, :G * H], Bv[d, G * H:]
        for b in range(Bn):
            L = int(seq[b])
            h = h0[d, b].copy()
            c = c0[d, b].copy()
            steps = range(L - 1, -1, -1) if rev else range(L)
            for t in steps:
                x = X[t, b]
                if op == 'RNN':
                    h = a[0](cl(Wd @ x + Rd @ h + Wb + Rb))
                elif op == 'GRU':
                    xw = Wd @ x + Wb
                    z = a[0](cl(xw[:H] + Rd[:H] @ h + Rb[:H]))
                    r = a[0](cl(xw[H:2 * H] + Rd[H:2 * H] @ h + Rb[H:2 * H]))
                    if lbr:
                        hh = a[1](cl(xw[2 * H:] + r * (Rd[2 * H:] @ h + Rb[2 * H:])))
                    else:
                        hh = a[1](cl(xw[2 * H:] + Rd[2 * H:] @ (r * h) + Rb[2 * H:]))
                    h = (1.0 - z) * hh + z * h
                else:
                    g = Wd @ x + Rd @ h + Wb + Rb
                    pi, po, pf = Pv[d, :H], Pv[d, H:2 * H], Pv[d, 2 * H:]
                    i = a[0](cl(g[:H] + pi * c))
                    if input_forget:
                        f = 1.0 - i
                    else:
                        f = a[0](cl(g[2 * H:3 * H] + pf * c))
                    cc = a[1](cl(g[3 * H:]))
                    c = f * c + i * cc
                    o = a[0](cl(g[H:2 * H] + po * c))
                    h = o * a[2](cl(c) if clip_cell_before_h else c)
                Y[t, d, b] = h
            if L == 0 and zero_length == 'zeros':
                h = np.zeros(H)
                c = np.zeros(H)
            Yh[d, b] = h
            Yc[d, b] = c
    out = {'Y': Y, 'Y_h': Yh}
    if op == 'LSTM':
        out['Y_c'] = Yc
    if layout == 1:
        out['Y'] = Y.transpose(2, 0, 1, 3)
        out['Y_h'] = Yh.transpose(1, 0, 2)
        if op == 'LSTM':
            out['Y_c'] = Yc.transpose(1, 0, 2)
    return out
