#!/usr/bin/python3
"""Export a PyTorch nn.LSTM / nn.GRU / nn.RNN to safetensors plus a reference I/O pair.

Pure python3 + torch + numpy (the `safetensors` package is not needed: the format
is written here, byte-compatible with the reference implementation, see below).

Library use
-----------
    from export_safetensors import export
    export(module, "out/my_lstm", example_input)              # writes
    #   out/my_lstm.safetensors      the whole state dict, float32
    #   out/my_lstm.reference.json   input -> output / h_n (/ c_n) of the RNN

`module` is an nn.LSTM / nn.GRU / nn.RNN, or any nn.Module that contains exactly
one of them (or name it with `rnn="encoder.rnn"`). The state dict is written as it
is, keys and prefixes unchanged (`encoder.rnn.weight_ih_l0`, `head.weight`, ...);
the reference pair is the recurrent submodule run alone on `example_input`.
Keyword arguments: `h0=`, `c0=` (initial states, PyTorch layout
[num_layers*num_directions, batch, hidden]; LSTM needs both or neither),
`rnn=` (submodule name), `description=`, `generated_by=`.

CLI use
-------
    python3 export_safetensors.py --demo OUT_DIR
        builds a small seeded nn.LSTM (2 layers, bidirectional, batch_first) and
        exports OUT_DIR/demo_lstm.{safetensors,reference.json}
    python3 export_safetensors.py MODEL.pt OUT_STEM --input-shape B,T,F [--seed N] [--rnn NAME]
        MODEL.pt is a `torch.save`d module (nn.LSTM/GRU/RNN, or a module holding one);
        the input is uniform(-1, 1) from torch.manual_seed(N) (default 0), laid out
        as the module expects (B,T,F if batch_first, else T,B,F).

safetensors layout written (checked against huggingface/safetensors
`safetensors/src/tensor.rs`: `prepare()`, `serialize()`, `Metadata::validate()`,
and its `test_serialization` / `test_empty` byte vectors, reproduced by
`python3 export_safetensors.py --selftest`):
  * 8 bytes: N, little-endian u64, the header length;
  * N bytes: UTF-8 JSON, compact (no spaces), `__metadata__` first (string -> string,
    keys sorted here), then one entry per tensor
    `{"dtype":"F32","shape":[...],"data_offsets":[begin,end]}` in data order;
    padded with spaces (0x20) so that N is a multiple of 8;
  * the tensors' raw little-endian bytes, row-major, packed in header order with no
    gaps; offsets are relative to the first byte after the header; the last end
    offset equals the data size (the file has no trailing bytes).
  Tensors are ordered like the reference writer does: by dtype alignment (all F32
  here), then by name (byte order).

`__metadata__` (all values strings): module ("LSTM" | "GRU" | "RNN"), input_size,
hidden_size, num_layers, bidirectional ("true"/"false"), nonlinearity ("tanh" for
LSTM/GRU, "tanh" or "relu" for RNN), bias, batch_first, prefix (the state-dict key
prefix of the recurrent module, "" or e.g. "encoder.rnn."), format ("pt", the
value HF tooling writes for PyTorch checkpoints).

reference.json:
    {"description", "generatedBy",
     "module": {"type", "input_size", "hidden_size", "num_layers", "bidirectional",
                "nonlinearity", "bias", "batch_first", "prefix"},
     "calls": [{"inputs":  [{"name": "input", "shape", "data"}, {"name": "h0"}?, {"name": "c0"}?],
                "outputs": [{"name": "output"}, {"name": "h_n"}, {"name": "c_n"}?]}]}
`data` is flat row-major; every number is the shortest decimal that round-trips to
the float32 value (parse with strtod and cast to float, or strtof). Shapes are
PyTorch's: input [B,T,F] and output [B,T,D*H] when batch_first (else [T,B,F] and
[T,B,D*H]),
h_n / c_n / h0 / c0 [num_layers*D, B, H] (layer-major, direction-minor), D = 2 if
bidirectional else 1.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

RNN_TYPES = (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN)


# ----------------------------------------------------------------------------
# safetensors writer / reader
# ----------------------------------------------------------------------------
def _header_bytes(entries, metadata):
    """entries: list of (name, dtype, shape, begin, end) in data order."""
    parts = []
    if metadata is not None:
        meta = ','.join(json.dumps(k, ensure_ascii=False) + ':' + json.dumps(v, ensure_ascii=False)
                        for k, v in sorted(metadata.items()))
        parts.append('"__metadata__":{' + meta + '}')
    for name, dtype, shape, begin, end in entries:
        parts.append(json.dumps(name, ensure_ascii=False) + ':{"dtype":"' + dtype + '","shape":['
                     + ','.join(str(int(d)) for d in shape) + '],"data_offsets":['
                     + str(begin) + ',' + str(end) + ']}')
    buf = ('{' + ','.join(parts) + '}').encode('utf-8')
    buf += b' ' * ((8 - len(buf) % 8) % 8)
    return buf


_DTYPES = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64', np.dtype('int64'): 'I64',
           np.dtype('int32'): 'I32', np.dtype('float16'): 'F16', np.dtype('uint8'): 'U8',
           np.dtype('int8'): 'I8', np.dtype('bool'): 'BOOL'}
# the reference writer orders tensors by descending dtype (its enum order), then name
_DTYPE_RANK = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32',
               'U32', 'F32', 'F64', 'I64', 'U64']


def safetensors_bytes(tensors, metadata=None, order='reference'):
    """Serialise {name: numpy array} (and an optional {str: str} metadata map).

    order='reference' sorts like huggingface/safetensors does; order='given' keeps
    the dict's order (only used to build deliberately odd test files)."""
    items = []
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        if a.dtype not in _DTYPES:
            raise TypeError(f'{name}: unsupported dtype {a.dtype}')
        items.append((name, _DTYPES[a.dtype], a.astype(a.dtype.newbyteorder('<'), copy=False)))
    if order == 'reference':
        items.sort(key=lambda it: (-_DTYPE_RANK.index(it[1]), it[0].encode('utf-8')))
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError('__metadata__ must map strings to strings')
    entries, blobs, off = [], [], 0
    for name, dt, a in items:
        b = a.tobytes()
        entries.append((name, dt, a.shape, off, off + len(b)))
        blobs.append(b)
        off += len(b)
    header = _header_bytes(entries, metadata)
    return struct.pack('<Q', len(header)) + header + b''.join(blobs)


def write_safetensors(path, tensors, metadata=None):
    data = safetensors_bytes(tensors, metadata)
    with open(path, 'wb') as fh:
        fh.write(data)
    return len(data)


_NP_OF = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Strict reader (same checks as the reference `read_metadata`/`validate`).

    Returns (tensors: {name: numpy array}, metadata: {str: str} or None)."""
    with open(path, 'rb') as fh:
        buf = fh.read()
    if len(buf) < 8:
        raise ValueError('HeaderTooSmall')
    n = struct.unpack('<Q', buf[:8])[0]
    if n > 100_000_000:
        raise ValueError('HeaderTooLarge')
    if 8 + n > len(buf):
        raise ValueError('InvalidHeaderLength')
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', None)
    items = sorted(header.items(), key=lambda kv: tuple(kv[1]['data_offsets']))
    start, out = 0, {}
    data = buf[8 + n:]
    for name, info in items:
        b, e = info['data_offsets']
        if b != start or e < b:
            raise ValueError(f'InvalidOffset({name})')
        dt = _NP_OF[info['dtype']]
        count = int(np.prod(info['shape'], dtype=np.int64))
        if e - b != count * dt.itemsize:
            raise ValueError('TensorInvalidInfo')
        start = e
        out[name] = np.frombuffer(data[b:e], dtype=dt.newbyteorder('<')).reshape(info['shape'])
    if start != len(data):
        raise ValueError('MetadataIncompleteBuffer')
    return out, metadata


def _selftest():
    """Reproduce the byte vectors of the reference implementation's unit tests."""
    x = np.arange(6, dtype=np.float32)
    got = safetensors_bytes({'attn.0': x.reshape(1, 2, 3)})
    want = bytes([64, 0, 0, 0, 0, 0, 0, 0]) + \
        b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}' + x.tobytes()
    assert got == want, got
    got = safetensors_bytes({'attn0': x.reshape(1, 1, 2, 3)})
    want = bytes([72, 0, 0, 0, 0, 0, 0, 0]) + \
        b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}' + b' ' * 7 + x.tobytes()
    assert got == want, got
    assert safetensors_bytes({}) == bytes([8, 0, 0, 0, 0, 0, 0, 0]) + b'{}' + b' ' * 6
    got = safetensors_bytes({}, {'framework': 'pt'})
    assert got == bytes([40, 0, 0, 0, 0, 0, 0, 0]) + b'{"__metadata__":{"framework":"pt"}}' + b' ' * 5, got
    print('safetensors self-test: OK (matches huggingface/safetensors tensor.rs test vectors)')


# ----------------------------------------------------------------------------
# JSON with float32-exact numbers
# ----------------------------------------------------------------------------
def f32str(v):
    """Shortest decimal that round-trips to this float32; -0 -> 0."""
    v = np.float32(v)
    if not np.isfinite(v):
        raise ValueError('non-finite value')
    if v == 0:
        return '0'
    s = np.format_float_positional(v, unique=True, trim='-') if 1e-4 <= abs(v) < 1e7 else \
        np.format_float_scientific(v, unique=True, trim='-')
    assert np.float32(float(s)) == v, (s, v)
    return s


class F32:
    """Marks a flat float32 array for `dumps` (printed on one line)."""
    def __init__(self, arr):
        self.a = np.asarray(arr, dtype=np.float32).reshape(-1)


def dumps(v, ind=0):
    """Indented JSON; F32 arrays and lists of scalars stay on one line."""
    pad = ' ' * ind
    if isinstance(v, F32):
        return '[' + ','.join(f32str(x) for x in v.a) + ']'
    if isinstance(v, dict):
        if not v:
            return '{}'
        return '{\n' + ',\n'.join(pad + '  ' + json.dumps(k) + ': ' + dumps(x, ind + 2)
                                 for k, x in v.items()) + '\n' + pad + '}'
    if isinstance(v, (list, tuple)):
        if not v:
            return '[]'
        if all(not isinstance(e, (dict, list, tuple, F32)) for e in v):
            return '[' + ','.join(dumps(e) for e in v) + ']'
        return '[\n' + ',\n'.join(pad + '  ' + dumps(e, ind + 2) for e in v) + '\n' + pad + ']'
    if isinstance(v, (bool, type(None), str, int)) and not isinstance(v, np.generic):
        return json.dumps(v)
    if isinstance(v, float):
        return json.dumps(v)
    raise TypeError(type(v))


def tensor_json(name, t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    a = a.astype(np.float32)
    return {'name': name, 'shape': list(a.shape), 'data': F32(a)}


# ----------------------------------------------------------------------------
# module description + export
# ----------------------------------------------------------------------------
def find_rnn(module, name=None):
    """(qualified name, submodule) of the nn.LSTM/GRU/RNN inside `module`."""
    if name is not None:
        sub = module.get_submodule(name) if name else module
        if not isinstance(sub, RNN_TYPES):
            raise TypeError(f'{name!r} is a {type(sub).__name__}, not nn.LSTM/GRU/RNN')
        return name, sub
    found = [(n, m) for n, m in module.named_modules() if isinstance(m, RNN_TYPES)]
    if len(found) != 1:
        raise ValueError(f'expected exactly one nn.LSTM/GRU/RNN, found {[n for n, _ in found]}; '
                         'pass rnn=NAME')
    return found[0]


def describe(rnn, prefix=''):
    kind = type(rnn).__name__
    return {
        'type': kind,
        'input_size': rnn.input_size,
        'hidden_size': rnn.hidden_size,
        'num_layers': rnn.num_layers,
        'bidirectional': bool(rnn.bidirectional),
        'nonlinearity': rnn.nonlinearity if kind == 'RNN' else 'tanh',
        'bias': bool(rnn.bias),
        'batch_first': bool(rnn.batch_first),
        'prefix': prefix,
    }


def metadata_of(desc):
    s = lambda v: ('true' if v else 'false') if isinstance(v, bool) else str(v)
    meta = {'module': desc['type']}
    for k in ('input_size', 'hidden_size', 'num_layers', 'bidirectional', 'nonlinearity',
              'bias', 'batch_first', 'prefix'):
        meta[k] = s(desc[k])
    meta['format'] = 'pt'
    return meta


def export(module, path_stem, example_input, h0=None, c0=None, rnn=None, description=None,
           generated_by=None):
    """Write <path_stem>.safetensors and <path_stem>.reference.json; returns the reference dict."""
    name, sub = find_rnn(module, rnn)
    prefix = name + '.' if name else ''
    desc = describe(sub, prefix)
    is_lstm = isinstance(sub, torch.nn.LSTM)
    if is_lstm and (h0 is None) != (c0 is None):
        raise ValueError('nn.LSTM needs both h0 and c0, or neither')
    if not is_lstm and c0 is not None:
        raise ValueError('c0 is only for nn.LSTM')

    sd = {k: v.detach().cpu().to(torch.float32).contiguous().numpy() for k, v in module.state_dict().items()}
    d = os.path.dirname(path_stem)
    if d:
        os.makedirs(d, exist_ok=True)
    write_safetensors(path_stem + '.safetensors', sd, metadata_of(desc))

    x = example_input.detach().to(torch.float32)
    inputs = [tensor_json('input', x)]
    with torch.no_grad():
        if h0 is None:
            out, state = sub(x)
        elif is_lstm:
            out, state = sub(x, (h0, c0))
            inputs += [tensor_json('h0', h0), tensor_json('c0', c0)]
        else:
            out, state = sub(x, h0)
            inputs.append(tensor_json('h0', h0))
    outputs = [tensor_json('output', out)]
    if is_lstm:
        outputs += [tensor_json('h_n', state[0]), tensor_json('c_n', state[1])]
    else:
        outputs.append(tensor_json('h_n', state))
    ref = {
        'description': description or f'torch.nn.{desc["type"]} exported by export_safetensors.py',
        'generatedBy': generated_by or f'PyTorch {torch.__version__} (torch.nn, float32, CPU) via '
                                       'tools/pytorch/export_safetensors.py',
        'module': desc,
        'calls': [{'inputs': inputs, 'outputs': outputs}],
    }
    with open(path_stem + '.reference.json', 'w') as fh:
        fh.write(dumps(ref) + '\n')
    return ref


# ----------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------
def _demo(out_dir):
    torch.manual_seed(0)
    m = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.rand(2, 5, 3) * 2 - 1
    stem = os.path.join(out_dir, 'demo_lstm')
    export(m, stem, x, description='demo: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)')
    print(f'wrote {stem}.safetensors and {stem}.reference.json')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--demo', metavar='OUT_DIR', help='export a small seeded demo nn.LSTM')
    ap.add_argument('--selftest', action='store_true', help='check the safetensors writer')
    ap.add_argument('model', nargs='?', help='torch.save()d module (.pt)')
    ap.add_argument('out_stem', nargs='?', help='output path without extension')
    ap.add_argument('--input-shape', help='B,T,F (batch_first) or T,B,F')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--rnn', help='qualified name of the recurrent submodule')
    a = ap.parse_args(argv)
    if a.selftest:
        _selftest()
        return 0
    if a.demo:
        _demo(a.demo)
        return 0
    if not (a.model and a.out_stem and a.input_shape):
        ap.error('give --demo OUT_DIR, --selftest, or MODEL.pt OUT_STEM --input-shape B,T,F')
    try:
        module = torch.load(a.model, map_location='cpu', weights_only=False)
    except TypeError:  # torch < 2.0 has no weights_only argument
        module = torch.load(a.model, map_location='cpu')
    if not isinstance(module, torch.nn.Module):
        ap.error(f'{a.model} holds a {type(module).__name__}, not an nn.Module (a bare state dict '
                 'has no module description; rebuild the module and call export())')
    module.eval()
    shape = tuple(int(s) for s in a.input_shape.split(','))
    if len(shape) != 3:
        ap.error('--input-shape needs three sizes')
    torch.manual_seed(a.seed)
    x = torch.rand(*shape) * 2 - 1
    export(module, a.out_stem, x, rnn=a.rnn, description=f'{a.model} exported with input uniform(-1,1), seed {a.seed}')
    print(f'wrote {a.out_stem}.safetensors and {a.out_stem}.reference.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
