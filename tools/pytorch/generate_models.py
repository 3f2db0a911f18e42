#!/usr/bin/python3
"""Golden PyTorch checkpoints for the safetensors importer (tests/models/pytorch).

Usage (Debian's system python, which has torch 1.13 and numpy):
    /usr/bin/python3 tools/pytorch/generate_models.py tests/models/pytorch

Writes, for every case, `<case>.safetensors` (the module's state dict, float32,
`__metadata__` describing the recurrent module) and `<case>.reference.json` (one
input -> output / h_n / c_n call of that module), both via export_safetensors.export
(see its docstring for the exact file layouts), plus `bad/` (malformed files for
the error paths, described in bad/README.md) and README.md.

Every module is built with batch_first=True (input [B,T,F], output [B,T,D*H]) except
the two `*_seq_first*` cases (batch_first=False: [T,B,F], [T,B,D*H]); h0 / h_n / c0 / c_n
stay [num_layers*D, B, H] as PyTorch always has them.

Deterministic: each case seeds torch from its own number. Parameters are drawn
U(-0.8, 0.8) (wider than PyTorch's default U(-1/sqrt(H), 1/sqrt(H)), so the gates
saturate and a wrong gate order or transpose shows); inputs and initial states are
U(-2, 2) from a separate generator. For ReLU cases the seed is bumped (in steps of
1000) until fewer than half of `output` and of `h_n` are exactly zero. Re-running
produces byte-identical files.

After writing, every case is re-read from disk with an independent strict
safetensors reader and recomputed by a float64 NumPy implementation of PyTorch's
LSTM / GRU / RNN equations; the run fails unless every output matches the
reference within 1e-6 * max(1, |reference|).
"""
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_safetensors import (export, metadata_of, describe, read_safetensors,  # noqa: E402
                                safetensors_bytes)

GENERATED_BY = f'PyTorch {torch.__version__} (torch.nn, float32, CPU) via tools/pytorch/generate_models.py'

KINDS = {
    # tag: (class, extra kwargs, label)
    'lstm': (torch.nn.LSTM, {}, 'nn.LSTM'),
    'gru': (torch.nn.GRU, {}, 'nn.GRU'),
    'rnn_tanh': (torch.nn.RNN, {'nonlinearity': 'tanh'}, "nn.RNN(nonlinearity='tanh')"),
    'rnn_relu': (torch.nn.RNN, {'nonlinearity': 'relu'}, "nn.RNN(nonlinearity='relu')"),
}

# variant: (num_layers, bidirectional, bias, prefixed, (B, T, F, H))
VARIANTS = {
    'l1': (1, False, True, False, (2, 5, 3, 4)),
    'l2': (2, False, True, False, (3, 4, 5, 3)),
    'bidir': (1, True, True, False, (2, 6, 4, 5)),
    'l2_bidir': (2, True, True, False, (3, 5, 3, 2)),
    'nobias': (1, False, False, False, (2, 4, 5, 6)),
    'prefixed': (2, False, True, True, (2, 5, 4, 3)),
}


class Encoder(torch.nn.Module):
    """`encoder.norm.*` is an unrelated sibling of the recurrent module `encoder.rnn`."""
    def __init__(self, rnn, features):
        super().__init__()
        self.norm = torch.nn.LayerNorm(features)
        self.rnn = rnn


class Wrapper(torch.nn.Module):
    def __init__(self, rnn, features, out_features):
        super().__init__()
        self.encoder = Encoder(rnn, features)
        self.head = torch.nn.Linear(out_features, 2)


def uniform(gen, *shape):
    return torch.rand(*shape, generator=gen, dtype=torch.float32) * 4 - 2


def build_case(seed, kind, variant, init_state=False, batch_first=True):
    cls, kw, label = KINDS[kind]
    layers, bidir, bias, prefixed, (B, T, F, H) = VARIANTS[variant]
    torch.manual_seed(seed)
    rnn = cls(F, H, num_layers=layers, bidirectional=bidir, bias=bias, batch_first=batch_first,
              **kw)
    with torch.no_grad():
        for p in rnn.parameters():
            p.uniform_(-0.8, 0.8)
    D = 2 if bidir else 1
    module = Wrapper(rnn, F, D * H) if prefixed else rnn
    gen = torch.Generator().manual_seed(seed + 1000)
    x = uniform(gen, B, T, F)
    if not batch_first:
        x = x.transpose(0, 1).contiguous()  # PyTorch's default layout [T, B, F]
    h0 = c0 = None
    if init_state:
        h0 = uniform(gen, layers * D, B, H)
        if kind == 'lstm':
            c0 = uniform(gen, layers * D, B, H)
    args = [f'{F}, {H}']
    if layers != 1:
        args.append(f'num_layers={layers}')
    if bidir:
        args.append('bidirectional=True')
    if not bias:
        args.append('bias=False')
    if 'nonlinearity' in kw:
        args.append(f"nonlinearity='{kw['nonlinearity']}'")
    args.append(f'batch_first={batch_first}')
    desc = f'torch.nn.{cls.__name__}({", ".join(args)}), input B={B} T={T}'
    if not batch_first:
        desc += ', sequence-major: input [T, B, F], output [T, B, D*H]'
    if prefixed:
        desc += ('; held as `encoder.rnn` inside a wrapper module, so its keys are '
                 '`encoder.rnn.weight_ih_l0`, ...; the state dict also holds the unrelated '
                 '`encoder.norm.weight`, `encoder.norm.bias`, `head.weight`, `head.bias`; '
                 'the reference is the recurrent module alone (prefix "encoder.rnn.")')
    if init_state:
        desc += '; called with initial state h0' + (' and c0' if c0 is not None else '')
    return module, x, h0, c0, desc


CASES = []
seed = 100
for kind in KINDS:
    for variant in VARIANTS:
        seed += 1
        CASES.append((f'{kind}_{variant}', seed, kind, variant, False))
CASES.append(('lstm_l2_bidir_h0c0', 201, 'lstm', 'l2_bidir', True))
CASES.append(('gru_l1_h0', 202, 'gru', 'l1', True))
CASES.append(('rnn_relu_bidir_h0', 203, 'rnn_relu', 'bidir', True))
# batch_first=False (PyTorch's default): the metadata says so and the loader follows it.
CASES.append(('lstm_l2_bidir_seq_first_h0c0', 204, 'lstm', 'l2_bidir', True, False))
CASES.append(('gru_l1_seq_first', 205, 'gru', 'l1', False, False))


# ----------------------------------------------------------------------------
# malformed files for the error paths
# ----------------------------------------------------------------------------
BAD_README = """# Malformed PyTorch checkpoints

Written by `tools/pytorch/generate_models.py`; every loader must reject these
with an error (never crash or read out of bounds). All start from the state dict
of `torch.nn.LSTM(3, 2, batch_first=True)` (seed 300): `weight_ih_l0` [8, 3],
`weight_hh_l0` [8, 2], `bias_ih_l0` [8], `bias_hh_l0` [8]; `__metadata__` says
module LSTM, input_size 3, hidden_size 2, num_layers 1, bias true.

| file | what is wrong | expected failure |
|---|---|---|
| `missing_tensor.safetensors` | well-formed file, but `bias_hh_l0` is absent (metadata still says `bias: true`) | converter: missing tensor `bias_hh_l0` |
| `extra_l1_tensor.safetensors` | well-formed file with an extra `weight_ih_l1` [8, 2] although `num_layers` is 1 | converter: unexpected tensor `weight_ih_l1` |
| `wrong_shape.safetensors` | well-formed file, `weight_hh_l0` is [8, 3] instead of [8, 2] | converter: shape mismatch for `weight_hh_l0` |
| `truncated.safetensors` | a valid file with its last 12 bytes cut off (the data section is shorter than the offsets say) | reader: data shorter than the header's offsets |
| `header_too_long.safetensors` | the 8-byte header length claims 4096 more bytes than the file holds | reader: header length exceeds the file size |
| `too_small.safetensors` | 5 bytes: not even the 8-byte header length | reader: file too small |
"""


def write_bad(out_dir):
    bad = os.path.join(out_dir, 'bad')
    os.makedirs(bad, exist_ok=True)
    torch.manual_seed(300)
    m = torch.nn.LSTM(3, 2, batch_first=True)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in m.state_dict().items()}
    meta = metadata_of(describe(m))

    def put(name, data):
        with open(os.path.join(bad, name), 'wb') as fh:
            fh.write(data)

    missing = {k: v for k, v in sd.items() if k != 'bias_hh_l0'}
    put('missing_tensor.safetensors', safetensors_bytes(missing, meta))
    extra = dict(sd)
    extra['weight_ih_l1'] = np.linspace(-0.5, 0.5, 16, dtype=np.float32).reshape(8, 2)
    put('extra_l1_tensor.safetensors', safetensors_bytes(extra, meta))
    wrong = dict(sd)
    wrong['weight_hh_l0'] = np.linspace(-0.5, 0.5, 24, dtype=np.float32).reshape(8, 3)
    put('wrong_shape.safetensors', safetensors_bytes(wrong, meta))
    good = safetensors_bytes(sd, meta)
    put('truncated.safetensors', good[:-12])
    n = struct.unpack('<Q', good[:8])[0]
    put('header_too_long.safetensors', struct.pack('<Q', n + 4096) + good[8:])
    put('too_small.safetensors', good[:5])
    with open(os.path.join(bad, 'README.md'), 'w') as fh:
        fh.write(BAD_README)
    # the three well-formed ones must parse, the three broken ones must not
    for name in ('missing_tensor', 'extra_l1_tensor', 'wrong_shape'):
        read_safetensors(os.path.join(bad, name + '.safetensors'))
    for name in ('truncated', 'header_too_long', 'too_small'):
        try:
            read_safetensors(os.path.join(bad, name + '.safetensors'))
        except ValueError:
            continue
        raise AssertionError(name + ' was accepted')


# ----------------------------------------------------------------------------
# independent check: float64 NumPy PyTorch-RNN from the files on disk
# ----------------------------------------------------------------------------
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_torch_rnn(sd, prefix, m, x, h0=None, c0=None):
    kind, H, L = m['type'], m['hidden_size'], m['num_layers']
    D = 2 if m['bidirectional'] else 1
    B, T, _ = x.shape
    h0 = np.zeros((L * D, B, H)) if h0 is None else h0
    c0 = np.zeros((L * D, B, H)) if c0 is None else c0
    act = np.tanh if m['nonlinearity'] == 'tanh' else (lambda v: np.maximum(v, 0.0))
    inp = x
    hn, cn = [], []
    for layer in range(L):
        outs = []
        for d in range(D):
            sfx = f'_l{layer}' + ('_reverse' if d else '')
            g = lambda n: sd[prefix + n + sfx].astype(np.float64)
            Wi, Wh = g('weight_ih'), g('weight_hh')
            if m['bias']:
                bi, bh = g('bias_ih'), g('bias_hh')
            else:
                bi = bh = np.zeros(Wi.shape[0])
            h, c = h0[layer * D + d], c0[layer * D + d]
            seq = [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                gi = inp[:, t] @ Wi.T + bi
                gh = h @ Wh.T + bh
                if kind == 'LSTM':
                    i, f, gg, o = np.split(gi + gh, 4, axis=1)
                    c = _sig(f) * c + _sig(i) * np.tanh(gg)
                    h = _sig(o) * np.tanh(c)
                elif kind == 'GRU':
                    r = _sig(gi[:, :H] + gh[:, :H])
                    z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
                    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                    h = (1 - z) * n + z * h
                else:
                    h = act(gi + gh)
                seq[t] = h
            outs.append(np.stack(seq, axis=1))
            hn.append(h)
            cn.append(c)
        inp = np.concatenate(outs, axis=2)
    res = {'output': inp, 'h_n': np.stack(hn)}
    if kind == 'LSTM':
        res['c_n'] = np.stack(cn)
    return res


def check_case(stem):
    import json
    sd, meta = read_safetensors(stem + '.safetensors')
    with open(stem + '.reference.json') as fh:
        ref = json.load(fh)
    m = ref['module']
    assert meta['module'] == m['type'] and meta['prefix'] == m['prefix'], (meta, m)
    assert meta['batch_first'] == ('true' if m['batch_first'] else 'false'), (meta, m)
    call = ref['calls'][0]
    arr = {t['name']: np.array(t['data'], dtype=np.float64).reshape(t['shape'])
           for t in call['inputs']}
    x = arr['input'] if m['batch_first'] else arr['input'].transpose(1, 0, 2)
    got = np_torch_rnn(sd, m['prefix'], m, x, arr.get('h0'), arr.get('c0'))
    if not m['batch_first']:
        got['output'] = got['output'].transpose(1, 0, 2)
    worst = 0.0
    for t in call['outputs']:
        want = np.array(t['data'], dtype=np.float64).reshape(t['shape'])
        assert got[t['name']].shape == want.shape, (stem, t['name'])
        err = np.abs(got[t['name']] - want) / np.maximum(1.0, np.abs(want))
        worst = max(worst, float(np.max(err)))
    assert set(got) == {t['name'] for t in call['outputs']}
    assert worst <= 1e-6, (stem, worst)
    return worst


def lively(module, x, h0):
    rnn = [m for m in module.modules() if isinstance(m, torch.nn.RNN)][0]
    with torch.no_grad():
        out, hn = rnn(x) if h0 is None else rnn(x, h0)
    return float((out == 0).float().mean()) < 0.5 and float((hn == 0).float().mean()) < 0.5


README = """# PyTorch golden checkpoints

Written by `tools/pytorch/generate_models.py` (PyTorch {torch}, float32, CPU, seeded,
byte-reproducible); do not edit by hand. Each case is a pair:

* `<case>.safetensors`: the module's `state_dict()`, float32, keys exactly as PyTorch
  names them (`weight_ih_l0`, `weight_hh_l1_reverse`, `encoder.rnn.bias_ih_l0`, ...),
  with `__metadata__` = {{module, input_size, hidden_size, num_layers, bidirectional,
  nonlinearity, bias, batch_first, prefix, format}} as strings (booleans "true"/"false",
  prefix = the recurrent module's key prefix, "" or "encoder.rnn.").
* `<case>.reference.json`: `{{description, generatedBy, module: {{type, input_size,
  hidden_size, num_layers, bidirectional, nonlinearity, bias, batch_first, prefix}},
  calls: [{{inputs: [input, h0?, c0?], outputs: [output, h_n, c_n?]}}]}}`, tensors as
  `{{name, shape, data}}` with flat row-major data, every number the shortest decimal
  that round-trips to its float32.

Every module but the `*_seq_first*` ones has `batch_first=True`: `input` is [B, T, F],
`output` [B, T, D*H] ([T, B, F] and [T, B, D*H] for `batch_first=False`; forward half
first, then the backward half, already aligned with input time),
`h0`/`c0`/`h_n`/`c_n` are [num_layers*D, B, H], index = layer*D + direction
(direction 1 = reverse). Without `h0`/`c0` the initial states are zero.

PyTorch parameter layouts (gate blocks stacked along dim 0):
`nn.LSTM` weight_ih_l{{k}} [4H, in] (i, f, g, o), weight_hh [4H, H], bias_ih/bias_hh [4H];
`nn.GRU` [3H, in] (r, z, n), bias_hh's n block sits inside r * (W_hn h + b_hn);
`nn.RNN` [H, in]. `in` = F for layer 0, D*H above.

| case | module |
|---|---|
{rows}

`bad/`: malformed files for the error paths (see `bad/README.md`).

Check: the generator re-reads every file with an independent safetensors reader and
recomputes the outputs with float64 NumPy (PyTorch's equations); all {n} cases match:
max |diff| / max(1, |reference|) = {worst:.1e} (limit 1e-6).
"""


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    rows, worst = [], 0.0
    for name, seed, kind, variant, init, *layout in CASES:
        batch_first = layout[0] if layout else True
        for attempt in range(100):
            module, x, h0, c0, desc = build_case(seed + 1000 * attempt, kind, variant, init,
                                                 batch_first)
            module.eval()
            if kind != 'rnn_relu' or lively(module, x, h0):
                break
        else:
            raise RuntimeError(name + ': no lively seed')
        stem = os.path.join(out_dir, name)
        export(module, stem, x, h0=h0, c0=c0, description=desc, generated_by=GENERATED_BY)
        worst = max(worst, check_case(stem))
        rows.append(f'| `{name}` | {desc} |')
    write_bad(out_dir)
    with open(os.path.join(out_dir, 'README.md'), 'w') as fh:
        fh.write(README.format(torch=torch.__version__, rows='\n'.join(rows), n=len(CASES),
                               worst=max(worst, 1e-12)))
    print(f'wrote {len(CASES)} cases + bad/ to {out_dir}; NumPy re-check worst scaled |diff| = {worst:.3g}')


if __name__ == '__main__':
    main()
