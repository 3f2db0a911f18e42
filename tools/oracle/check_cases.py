#!/usr/bin/env python3
"""Validate golden-case files and re-compute their outputs in float64.

Usage:  python3 check_cases.py DIR [DIR ...]      (needs numpy)

Checks, for every *.json in each DIR:
  * the file parses; `name` equals the file stem and starts with `family`;
  * every tensor's data length equals the product of its shape;
  * weights / outputs / initial states are consistent with `resolved`;
  * error cases: the steps before `at` have outputs, the others do not;
  * `equal_to` twins (when present) have identical outputs;
  * family counts reach the minimums of the schema table (TF.js case dirs);
  * every recorded output agrees with an independent float64 NumPy
    re-implementation of the TF.js formulas (the band is
    |got - exp| <= abs + rel*|exp|; the script reports the worst use of it).
Exits non-zero on any failure.
"""
import json
import math
import os
import sys

import numpy as np

MIN_COUNTS = {
    'basic': 24, 'activation': 80, 'activation_null': 3, 'use_bias': 6, 'unit_forget_bias': 4,
    'flags': 24, 'mask': 14, 'initial_state': 6, 'stacked': 12, 'stateful': 10,
    'bidirectional': 23, 'dropout': 14, 'edge': 14, 'big': 6, 'error': 25,
}
ERROR_KINDS = {'unsupported_option', 'invalid_units', 'input_rank', 'input_shape',
               'initial_state_count', 'initial_state_shape', 'unknown_activation',
               'invalid_merge_mode', 'not_stateful', 'missing_cell', 'tfjs_limitation'}


# ----------------------------------------------------------------------------
# float64 reference
# ----------------------------------------------------------------------------
def _softplus(x):
    return np.logaddexp(0.0, x)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
ACT = {
    'tanh': np.tanh,
    'sigmoid': lambda x: 1.0 / (1.0 + np.exp(-x)),
    'hardSigmoid': lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
    'relu': lambda x: np.maximum(x, 0.0),
    'relu6': lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    'linear': lambda x: x,
    'elu': lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    'selu': lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    'softplus': _softplus,
    'softsign': lambda x: x / (1.0 + np.abs(x)),
    'swish': lambda x: x / (1.0 + np.exp(-x)),
    'mish': lambda x: x * np.tanh(_softplus(x)),
    'gelu': lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    'gelu_new': lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    'softmax': _softmax,
    'logSoftmax': lambda x: x - x.max(axis=-1, keepdims=True) - np.log(
        np.exp(x - x.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)),
}


class Cell:
    def __init__(self, info, weights):
        self.cls = info['class_name']
        self.u = info['units']
        self.act = ACT[info['activation']]
        self.ract = ACT[info['recurrent_activation']] if info['recurrent_activation'] else None
        self.W = weights.pop(0)
        self.U = weights.pop(0)
        self.b = weights.pop(0) if info['use_bias'] else None
        self.reset_after = info.get('reset_after', False)
        self.nstates = 2 if self.cls == 'LSTMCell' else 1

    def step(self, x, states):
        u = self.u
        if self.cls == 'SimpleRNNCell':
            h = x @ self.W
            if self.b is not None:
                h = h + self.b
            h = self.act(h + states[0] @ self.U)
            return h, [h]
        if self.cls == 'GRUCell':
            hp = states[0]
            if self.reset_after:
                b = self.b if self.b is not None else np.zeros((2, 3 * u))
                mx = x @ self.W + b[0]
                mh = hp @ self.U + b[1]
                z = self.ract(mx[:, :u] + mh[:, :u])
                r = self.ract(mx[:, u:2 * u] + mh[:, u:2 * u])
                hh = self.act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
            else:
                mx = x @ self.W
                if self.b is not None:
                    mx = mx + self.b
                inner = hp @ self.U[:, :2 * u]
                z = self.ract(mx[:, :u] + inner[:, :u])
                r = self.ract(mx[:, u:2 * u] + inner[:, u:2 * u])
                hh = self.act(mx[:, 2 * u:] + (r * hp) @ self.U[:, 2 * u:])
            h = z * hp + (1.0 - z) * hh
            return h, [h]
        if self.cls == 'LSTMCell':
            hp, cp = states
            a = x @ self.W + hp @ self.U
            if self.b is not None:
                a = a + self.b
            i = self.ract(a[:, :u])
            f = self.ract(a[:, u:2 * u])
            c = f * cp + i * self.act(a[:, 2 * u:3 * u])
            o = self.ract(a[:, 3 * u:])
            h = o * self.act(c)
            return h, [h, c]
        raise ValueError(self.cls)


class RNNRef:
    """One (possibly stacked) recurrent layer, TF.js semantics."""

    def __init__(self, info, weights):
        self.info = info
        self.cells = [Cell(ci, weights) for ci in info['cells']]
        # StackedRNNCells (also an array of one cell): flat states in reverse cell order
        self.stacked = info['state_names'][0].startswith('cell')
        self.state_size = info['state_size']
        self.states = None

    def zero_states(self, B):
        return [np.zeros((B, n)) for n in self.state_size]

    def _step(self, x, flat):
        if not self.stacked:
            return self.cells[0].step(x, flat)
        # flat = reverse cell order
        nested = []
        rest = list(flat)
        for cell in reversed(self.cells):
            nested.append(rest[:cell.nstates])
            rest = rest[cell.nstates:]
        nested.reverse()
        new_nested = []
        inp = x
        for cell, st in zip(self.cells, nested):
            inp, ns = cell.step(inp, st)
            new_nested.append(ns)
        out_flat = []
        for ns in reversed(new_nested):
            out_flat.extend(ns)
        return inp, out_flat

    def run(self, x, mask, init, go_backwards):
        B, T, _ = x.shape
        states = [s.copy() for s in init]
        order = range(T - 1, -1, -1) if go_backwards else range(T)
        outs = []
        last = None
        for t in order:
            o, ns = self._step(x[:, t, :], states)
            if mask is not None:
                m = (mask[:, t] != 0).astype(np.float64)[:, None]
                o = o * m + states[0] * (1.0 - m)
                ns = [n * m + s * (1.0 - m) for n, s in zip(ns, states)]
            states = ns
            last = o
            outs.append(o)
        return last, np.stack(outs, axis=1), states

    def call(self, x, mask, init, stateful):
        info = self.info
        if init is None:
            init = self.states if stateful else self.zero_states(x.shape[0])
        last, seq, states = self.run(x, mask, init, info['go_backwards'])
        if stateful:
            self.states = states
        out = seq if info['return_sequences'] else last
        return out, states


def f32(t):
    """JSON tensor -> float64 array holding the float32 values (strtod then cast to float)."""
    return np.array(t['data'], dtype=np.float64).astype(np.float32).astype(np.float64).reshape(
        t['shape'])


def ref_case(case):
    """Replays the steps on the float64 reference; returns list of output lists per step."""
    res = case['resolved']
    weights = [f32(w) for w in case['weights']]
    bidi = res['class_name'] == 'Bidirectional'
    if bidi:
        half = len(weights) // 2
        fw = RNNRef(res['forward'], weights[:half])
        bw = RNNRef(res['backward'], weights[half:])
        layers = [fw, bw]
    else:
        layers = [RNNRef(res, list(weights))]
    stateful = res['stateful']
    results = []
    first = True
    for st in case['steps']:
        if st['op'] == 'reset_states':
            if 'states' in st and not bidi:
                layers[0].states = [f32(s) for s in st['states']]
            else:
                for ly in layers:
                    ly.states = ly.zero_states(ly.states[0].shape[0])
            results.append(None)
            continue
        inp = st['inputs']
        x = f32(inp['x'])
        mask = None
        if 'mask' in inp:
            mask = f32(inp['mask'])
        init = None
        if 'initial_state' in inp:
            init = [f32(s) for s in inp['initial_state']]
        if stateful and first:
            for ly in layers:
                ly.states = ly.zero_states(x.shape[0])
        first = False
        if not bidi:
            out, states = layers[0].call(x, mask, init, stateful)
            outs = [out] + (states if res['return_state'] else [])
        else:
            n = len(layers[0].state_size)
            fi = init[:n] if init is not None else None
            bi = init[n:] if init is not None else None
            y, fs = layers[0].call(x, mask, fi, stateful)
            yr, bs = layers[1].call(x, mask, bi, stateful)
            if res['return_sequences']:
                yr = yr[:, ::-1, :]
            mm = res['merge_mode']
            if mm == 'concat':
                merged = [np.concatenate([y, yr], axis=-1)]
            elif mm == 'sum':
                merged = [y + yr]
            elif mm == 'ave':
                merged = [0.5 * (y + yr)]
            elif mm == 'mul':
                merged = [y * yr]
            elif mm is None:
                merged = [y, yr]
            else:
                raise ValueError(mm)
            outs = merged + ((fs + bs) if res['return_state'] else [])
        results.append(outs)
    return results


# ----------------------------------------------------------------------------
# structural checks
# ----------------------------------------------------------------------------
class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def check_tensor(t, what):
    need(isinstance(t.get('shape'), list) and isinstance(t.get('data'), list), f'{what}: bad tensor')
    n = 1
    for d in t['shape']:
        need(isinstance(d, int) and d >= 0, f'{what}: bad shape {t["shape"]}')
        n *= d
    need(len(t['data']) == n, f'{what}: {len(t["data"])} values for shape {t["shape"]}')
    for v in t['data']:
        need(isinstance(v, (int, float)) and math.isfinite(v), f'{what}: bad value {v}')
        # the shortest decimal that round-trips to this float32 must be what is written
        need(float(repr(np.float32(v)).replace('np.float32(', '').rstrip(')')) == float(v),
             f'{what}: {v} is not the shortest float32 decimal')


def expected_weight_shapes(res, F):
    infos = [res['forward'], res['backward']] if res['class_name'] == 'Bidirectional' else [res]
    shapes = []
    for info in infos:
        inp = F
        for c in info['cells']:
            k = {'SimpleRNNCell': 1, 'GRUCell': 3, 'LSTMCell': 4}[c['class_name']]
            u = c['units']
            shapes += [[inp, k * u], [u, k * u]]
            if c['use_bias']:
                shapes.append([2, k * u] if c.get('reset_after') else [k * u])
            inp = u
    return shapes


def state_sizes(res):
    if res['class_name'] == 'Bidirectional':
        return res['forward']['state_size'] + res['backward']['state_size']
    return res['state_size']


def expected_output_shapes(res, B, T):
    if res['class_name'] == 'Bidirectional':
        u = res['forward']['state_size'][0]
        o = [B, T, u] if res['return_sequences'] else [B, u]
        mm = res['merge_mode']
        if mm == 'concat':
            outs = [o[:-1] + [2 * u]]
        elif mm is None:
            outs = [o, o]
        else:
            outs = [o]
    else:
        u = res['state_size'][0]
        outs = [[B, T, u] if res['return_sequences'] else [B, u]]
    if res['return_state']:
        outs += [[B, n] for n in state_sizes(res)]
    return outs


def synth_resolved(layer):
    """`resolved` for reference cases TF.js cannot build (GRU resetAfter), from the config."""
    cfg = layer['config']
    if layer['class_name'] == 'Bidirectional':
        fw = synth_resolved(cfg['layer'])
        bw = dict(fw, go_backwards=not fw['go_backwards'])
        for d in (fw, bw):
            d.pop('output_names')
        names = ['forward.' + n for n in fw['state_names']] + ['backward.' + n for n in bw['state_names']]
        mm = cfg['mergeMode'] if 'mergeMode' in cfg else 'concat'
        outs = ['output_forward', 'output_backward'] if mm is None else ['output']
        return {'class_name': 'Bidirectional', 'merge_mode': mm,
                'return_sequences': fw['return_sequences'], 'return_state': fw['return_state'],
                'stateful': fw['stateful'], 'forward': fw, 'backward': bw, 'state_names': names,
                'output_names': outs + (names if fw['return_state'] else [])}
    assert layer['class_name'] == 'GRU' and cfg.get('resetAfter') is True
    u = cfg['units']
    return {
        'class_name': 'GRU',
        'return_sequences': bool(cfg.get('returnSequences', False)),
        'return_state': bool(cfg.get('returnState', False)),
        'go_backwards': bool(cfg.get('goBackwards', False)),
        'stateful': bool(cfg.get('stateful', False)),
        'cells': [{'class_name': 'GRUCell', 'units': u, 'activation': cfg.get('activation', 'tanh'),
                   'recurrent_activation': cfg.get('recurrentActivation', 'hardSigmoid'),
                   'use_bias': cfg.get('useBias', True), 'reset_after': True,
                   'dropout': 0, 'recurrent_dropout': 0, 'state_size': [u]}],
        'state_size': [u],
        'state_names': ['h'],
        'output_names': ['output'] + (['h'] if cfg.get('returnState') else []),
    }


def check_case(path, case, is_tfjs):
    stem = os.path.splitext(os.path.basename(path))[0]
    need(case.get('schema_version') == 1, 'schema_version')
    need(case.get('name') == stem, f'name {case.get("name")} != stem {stem}')
    fam = case.get('family')
    need(isinstance(fam, str) and stem.startswith(fam + '_'), 'family/name prefix')
    rest = stem[len(fam) + 1:]
    need(len(rest) > 4 and rest[:3].isdigit() and rest[3] == '_', 'name is not <family>_<nnn>_<tag>')
    need(case.get('tolerance') == {'abs': 1e-5, 'rel': 1e-4}, 'tolerance')
    need(case.get('tfjs_version') == '4.22.0', 'tfjs_version')
    if is_tfjs:
        need(case.get('backend') == 'cpu', 'backend')
    for k in ('description', 'layer', 'weights', 'steps'):
        need(k in case, f'missing {k}')
    for w in case['weights']:
        check_tensor(w, f'weight {w.get("name")}')
    err = case.get('expect_error')
    if err:
        need(err['kind'] in ERROR_KINDS, f'kind {err["kind"]}')
        need(err['match'] in ('exact', 'prefix'), 'match')
        need(isinstance(err['message'], str) and err['message'], 'message')
    res = case.get('resolved')
    if res is None and is_tfjs:
        need(err is not None and err['at'] == 'construct', 'resolved missing without construct error')
    ncalls = 0
    for si, st in enumerate(case['steps']):
        need(st['op'] in ('call', 'reset_states'), 'op')
        has_out = 'outputs' in st
        if err is not None:
            before = err['at'] != 'construct' and si < err['at']
        else:
            before = True
        if st['op'] == 'call':
            ncalls += 1
            check_tensor(st['inputs']['x'], f'step {si} x')
            if 'mask' in st['inputs']:
                check_tensor(st['inputs']['mask'], f'step {si} mask')
                need(st['inputs']['mask']['shape'] == st['inputs']['x']['shape'][:2], 'mask shape')
            for s in st['inputs'].get('initial_state', []):
                check_tensor(s, f'step {si} initial_state')
            need(has_out == before, f'step {si}: outputs present={has_out}, expected {before}')
            if has_out:
                for o in st['outputs']:
                    check_tensor(o, f'step {si} output {o.get("name")}')
        else:
            need(not has_out, 'reset_states with outputs')
            for s in st.get('states', []):
                check_tensor(s, f'step {si} reset state')
    need(ncalls > 0, 'no call step')
    if res is not None and case['weights']:
        F = next(s for s in case['steps'] if s['op'] == 'call')['inputs']['x']['shape'][-1]
        need([w['shape'] for w in case['weights']] == expected_weight_shapes(res, F),
             'weight shapes do not match resolved')
        for st in case['steps']:
            if 'outputs' not in st:
                continue
            B, T = st['inputs']['x']['shape'][:2]
            need([o['name'] for o in st['outputs']] == res['output_names'], 'output names')
            need([o['shape'] for o in st['outputs']] == expected_output_shapes(res, B, T),
                 'output shapes')
            if 'initial_state' in st['inputs']:
                need([s['shape'] for s in st['inputs']['initial_state']] ==
                     [[B, n] for n in state_sizes(res)], 'initial_state shapes')
                names = [s.get('name') for s in st['inputs']['initial_state']]
                need(names == res['state_names'], 'initial_state names')


def main():
    args = sys.argv[1:]
    check_counts = '--no-counts' not in args
    verbose = '--verbose' in args
    dirs = [a for a in args if not a.startswith('--')]
    per_case = []
    if not dirs:
        print(__doc__)
        print('options: --no-counts (skip the family minimums, e.g. for a sample dir), '
              '--verbose (list the cases closest to the tolerance)')
        sys.exit(2)
    failures = 0
    worst = (0.0, None)
    max_abs = (0.0, None)
    for d in dirs:
        files = sorted(f for f in os.listdir(d) if f.endswith('.json'))
        cases = {}
        counts = {}
        total_bytes = 0
        n_checked_ref = 0
        for f in files:
            p = os.path.join(d, f)
            total_bytes += os.path.getsize(p)
            try:
                with open(p) as fh:
                    case = json.load(fh)
                is_tfjs = 'reference' not in case
                if not is_tfjs and 'resolved' not in case:
                    case['resolved'] = synth_resolved(case['layer'])
                check_case(p, case, is_tfjs)
                cases[case['name']] = case
                counts[case['family']] = counts.get(case['family'], 0) + 1
                if case.get('expect_error') is None:
                    ref = ref_case(case)
                    n_checked_ref += 1
                    case_worst = [0.0, 0.0, 0.0]
                    for st, r in zip(case['steps'], ref):
                        if r is None:
                            continue
                        need(len(r) == len(st['outputs']), 'reference output count')
                        for o, rv in zip(st['outputs'], r):
                            exp = f32(o)
                            need(rv.shape == exp.shape, f'reference shape {rv.shape} vs {exp.shape}')
                            diff = np.abs(rv - exp)
                            band = diff / (1e-5 + 1e-4 * np.abs(exp))
                            if band.size:
                                case_worst = max(case_worst, [float(band.max()), float(diff.max()),
                                                              float(np.abs(exp).max())])
                                if band.max() > worst[0]:
                                    worst = (float(band.max()), case['name'])
                                if diff.max() > max_abs[0]:
                                    max_abs = (float(diff.max()), case['name'])
                                need(band.max() <= 1.0,
                                     f'output {o["name"]} differs from float64 reference by {diff.max():.3g}')
                    per_case.append((case_worst, case['name']))
            except Fail as e:
                failures += 1
                print(f'FAIL {p}: {e}')
            except Exception as e:  # noqa
                failures += 1
                print(f'FAIL {p}: {type(e).__name__}: {e}')
        # twins
        for name, case in cases.items():
            tw = case.get('equal_to')
            if not tw or tw not in cases:
                continue
            a = [o['data'] for s in case['steps'] for o in s.get('outputs', [])]
            b = [o['data'] for s in cases[tw]['steps'] for o in s.get('outputs', [])]
            if a != b:
                failures += 1
                print(f'FAIL {name}: outputs differ from twin {tw}')
        is_tfjs_dir = any('reference' not in c for c in cases.values())
        if check_counts and is_tfjs_dir:
            for fam, n in MIN_COUNTS.items():
                if counts.get(fam, 0) < n:
                    failures += 1
                    print(f'FAIL family {fam}: {counts.get(fam, 0)} cases < {n}')
        print(f'{d}: {len(files)} files, {total_bytes / 1e6:.2f} MB, '
              f'{n_checked_ref} re-computed in float64')
        print('  families: ' + ', '.join(f'{k} {v}' for k, v in sorted(counts.items())))
    if verbose:
        for (b, dmax, emax), name in sorted(per_case, reverse=True)[:25]:
            print(f'  {100 * b:7.2f}% of band  max|diff| {dmax:.3g}  max|exp| {emax:.3g}  {name}')
    print(f'max |recorded - float64| = {max_abs[0]:.3g} ({max_abs[1]}); '
          f'worst use of the tolerance band = {100 * worst[0]:.2f}% ({worst[1]})')
    if failures:
        print(f'{failures} FAILURES')
        sys.exit(1)
    print('all checks passed')


if __name__ == '__main__':
    main()
