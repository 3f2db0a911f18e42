"""Shared helpers: float formatting, the case-JSON writer, onnxruntime driver, protobuf wire codec."""
import ctypes
import hashlib
import json
import os
import re
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
_libc = ctypes.CDLL(None)
_libc.strtof.restype = ctypes.c_float
_libc.strtof.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]


def f32_str(v):
    """Shortest decimal that strtof() maps back to the same float32 (verified)."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError('non-finite value %r' % v)
    if f == 0:
        s = '-0' if np.signbit(f) else '0'
    else:
        a = abs(float(f))
        if 1e-5 <= a < 1e16:
            s = np.format_float_positional(f, unique=True, trim='-')
        else:
            s = np.format_float_scientific(f, unique=True, trim='-')
    back = _libc.strtof(s.encode(), None)
    if np.float32(back).tobytes() != f.tobytes():
        raise AssertionError('float32 round-trip failed for %r -> %s' % (f, s))
    return s


def f64_str(v):
    return repr(float(v))


class Raw:
    """A pre-formatted JSON literal."""

    def __init__(self, s):
        self.s = s


def tensor_json(arr, dtype=None):
    arr = np.asarray(arr)
    dtype = dtype or {np.dtype('float32'): 'float32', np.dtype('float64'): 'float32',
                      np.dtype('int32'): 'int32', np.dtype('int64'): 'int64'}[arr.dtype]
    flat = arr.reshape(-1)
    if dtype == 'float32':
        data = Raw('[' + ','.join(f32_str(x) for x in flat) + ']')
    else:
        data = Raw('[' + ','.join(str(int(x)) for x in flat) + ']')
    return {'dtype': dtype, 'shape': Raw(json.dumps(list(arr.shape)).replace(' ', '')), 'data': data}


def _scalar_list(v):
    return isinstance(v, list) and all(isinstance(x, (int, float, str)) and not isinstance(x, bool) for x in v)


def dump(obj, indent=0):
    pad = ' ' * (indent + 1)
    if isinstance(obj, Raw):
        return obj.s
    if isinstance(obj, dict):
        if not obj:
            return '{}'
        items = [pad + json.dumps(k) + ': ' + dump(v, indent + 1) for k, v in obj.items()]
        return '{\n' + ',\n'.join(items) + '\n' + ' ' * indent + '}'
    if isinstance(obj, list):
        if _scalar_list(obj):
            return '[' + ','.join(dump(x) for x in obj) + ']'
        items = [pad + dump(v, indent + 1) for v in obj]
        return '[\n' + ',\n'.join(items) + '\n' + ' ' * indent + ']'
    if isinstance(obj, bool) or obj is None:
        return json.dumps(obj)
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, float):
        return repr(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    raise TypeError(type(obj))


def write_json(path, obj):
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write(dump(obj) + '\n')


def sha256(b):
    return hashlib.sha256(b).hexdigest()


_PATH_RE = re.compile(r'(?:[A-Za-z]:)?(?:[\\/][^\s:\\/]+)+\.(?:h|hpp|cc|cpp|c|cu|inc)(?::\d+)?\s*')


_FILE_RE = re.compile(r'\b[\w.-]+\.(?:h|hpp|cc|cpp|c|cu|inc):\d+\s+')


def strip_paths(msg):
    return _FILE_RE.sub('', _PATH_RE.sub('', msg)).strip()


def run_ort(jobs):
    """jobs: list of dicts {id, model (bytes), feeds, outputs[, files, model_name]}. Returns {id: result}.
    With files ({relative path: bytes}) the model is written as model_name in its own directory with the files
    around it and onnxruntime loads it from that path (external data)."""
    with tempfile.TemporaryDirectory(prefix='onnx_golden_') as td:
        js = []
        dirs = {}
        for k, j in enumerate(jobs):
            if 'files' in j:
                # external data: the model is loaded from its path (so onnxruntime resolves locations
                # against its directory), with j['files'] {relative path: bytes} written around it
                jd = os.path.join(td, 'j%05d' % k, 'model')
                os.makedirs(jd)
                dirs[j['id']] = jd
                mp = os.path.join(jd, j.get('model_name', 'model.onnx'))
                for rel, data in j['files'].items():
                    fp = os.path.normpath(os.path.join(jd, rel))
                    os.makedirs(os.path.dirname(fp), exist_ok=True)
                    with open(fp, 'wb') as fh:
                        fh.write(data)
            else:
                mp = os.path.join(td, 'm%05d.onnx' % k)
            with open(mp, 'wb') as fh:
                fh.write(j['model'])
            js.append({'id': j['id'], 'model': mp, 'feeds': j['feeds'], 'outputs': j.get('outputs'),
                       'from_path': 'files' in j})
        jp = os.path.join(td, 'jobs.json')
        rp = os.path.join(td, 'results.json')
        with open(jp, 'w') as fh:
            json.dump(js, fh)
        subprocess.run(['node', os.path.join(HERE, 'run_ort.js'), jp, rp], check=True, cwd=HERE)
        with open(rp) as fh:
            res = json.load(fh)
    out = {}
    for r in res['results']:
        if 'error' in r:
            msg = r['error']['message']
            if r['id'] in dirs:  # the temporary model directory -> <model_dir>
                msg = msg.replace(os.path.dirname(dirs[r['id']]), '<tmp>').replace('<tmp>/model', '<model_dir>')
            r['error']['message'] = strip_paths(msg)
        out[r['id']] = r
    return res['onnxruntime_version'], out


def feed_json(arr):
    arr = np.asarray(arr)
    dt = str(arr.dtype)
    data = arr.reshape(-1).tolist()
    return {'dtype': dt, 'shape': list(arr.shape), 'data': data}


# ---------------------------------------------------------------- protobuf wire codec
# A message is a list of [field_number, wire_type, value]; value is int (varint / fixed
# as unsigned int), bytes (length-delimited) or a nested list (length-delimited message).

def enc_varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def dec_varint(buf, pos):
    shift = 0
    val = 0
    while True:
        b = buf[pos]
        pos += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return val, pos


# which (message type, field) are nested messages
SUB = {
    'Model': {7: 'Graph', 8: 'OpsetId', 14: 'StrStr', 20: 'Function'},
    'Graph': {1: 'Node', 5: 'Tensor', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo', 14: 'TensorAnnot'},
    'Node': {5: 'Attribute'},
    'Attribute': {5: 'Tensor', 6: 'Graph', 10: 'Tensor', 11: 'Graph'},
    'Tensor': {},
    'ValueInfo': {2: 'Type'},
    'Type': {1: 'TensorType'},
    'TensorType': {2: 'Shape'},
    'Shape': {1: 'Dim'},
    'Dim': {},
    'OpsetId': {},
    'StrStr': {},
}


def decode(buf, mtype='Model'):
    msg = []
    pos = 0
    n = len(buf)
    while pos < n:
        key, pos = dec_varint(buf, pos)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = dec_varint(buf, pos)
        elif wt == 1:
            v = int.from_bytes(buf[pos:pos + 8], 'little')
            pos += 8
        elif wt == 5:
            v = int.from_bytes(buf[pos:pos + 4], 'little')
            pos += 4
        elif wt == 2:
            ln, pos = dec_varint(buf, pos)
            v = bytes(buf[pos:pos + ln])
            pos += ln
            sub = SUB.get(mtype, {}).get(fn)
            if sub:
                v = decode(v, sub)
        else:
            raise ValueError('wire type %d' % wt)
        msg.append([fn, wt, v])
    return msg


def encode(msg):
    out = bytearray()
    for fn, wt, v in msg:
        out += enc_varint((fn << 3) | wt)
        if wt == 0:
            out += enc_varint(v)
        elif wt == 1:
            out += int(v).to_bytes(8, 'little')
        elif wt == 5:
            out += int(v).to_bytes(4, 'little')
        else:
            b = encode(v) if isinstance(v, list) else v
            out += enc_varint(len(b)) + b
    return bytes(out)
