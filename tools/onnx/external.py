"""external family (called from generate_cases.py): initializers stored as external data
(TensorProto.data_location = EXTERNAL, external_data entries location / offset / length, locations relative
to the model's directory). The models and data files are made with onnx 1.12's own writer
(onnx.save_model(save_as_external_data=True, ...) / external_data_helper) in a scratch directory, then
edited where a case needs it; the data files are written beside the model in the output directory
(`external_files` in the JSON). onnxruntime loads these models from their path (run_ort.js `from_path`),
with the same files laid out around it in a temporary directory.

Refusal cases record onnxruntime's error; where onnxruntime accepts something the importer refuses, the case
says so (`expect_error.onnxruntime_accepts: true`, `onnxruntime_outputs` holds what it computed)."""
import io
import os
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, external_data_helper

from common import feed_json, sha256, tensor_json

SUBDIRS = ('external_002_data',)  # subdirectories of the output directory this family owns


def _save_external(model, model_name, **kw):
    """onnx.save_model with external data into a fresh scratch directory (the onnx 1.12 writer appends to
    existing files, so a scratch directory keeps offsets reproducible). Returns (model bytes,
    {relative path: bytes} of every data file written)."""
    with tempfile.TemporaryDirectory(prefix='onnx_ext_') as td:
        for sub in kw.pop('subdirs', ()):
            os.makedirs(os.path.join(td, sub))
        mp = os.path.join(td, model_name)
        onnx.save_model(model, mp, **kw)
        with open(mp, 'rb') as fh:
            mb = fh.read()
        files = {}
        for root, _, names in os.walk(td):
            for n in sorted(names):
                p = os.path.join(root, n)
                rel = os.path.relpath(p, td)
                if rel != model_name:
                    with open(p, 'rb') as fh:
                        files[rel] = fh.read()
    return mb, dict(sorted(files.items()))


def _entries(m):
    """external_data of every initializer: {name: {location, offset?, length?}} in file order."""
    out = {}
    for t in m.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            e = {}
            for kv in t.external_data:
                e[kv.key] = kv.value if kv.key == 'location' else int(kv.value)
            out[t.name] = e
    return out


def _set_entries(t, entries):
    """Replace a tensor's external_data with entries [(key, value)] (data_location EXTERNAL, no raw_data)."""
    t.ClearField('raw_data')
    del t.external_data[:]
    t.data_location = TensorProto.EXTERNAL
    for k, v in entries:
        kv = t.external_data.add()
        kv.key, kv.value = k, str(v)


def _write_files(out_dir, files):
    for rel, data in files.items():
        p = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as fh:
            fh.write(data)


def _register(CASES, g, name, mb, files, feeds, outs, make_json, expect_error=None, ort_files=None, extra_jobs=()):
    """files: data files written beside the model in the output directory; ort_files: what onnxruntime gets
    around the model (default: files). expect_error: None (valid case) or {'message': why recurrent refuses}."""
    model_name = name + '.onnx'
    jobs = [{'id': name, 'model': mb, 'feeds': feeds, 'outputs': outs, 'model_name': model_name,
             'files': files if ort_files is None else ort_files}]
    jobs += [dict(j, model_name=model_name) for j in extra_jobs]

    def finalize(results, out_dir):
        r = results[name]
        j = make_json()
        j['external_files'] = sorted(files)
        if expect_error is None:
            if 'error' in r:
                g.warn('%s: onnxruntime refused a valid external-data case: %s' % (name, r['error']))
                return None
            got = {o: np.asarray(r['outputs'][o]['data'], np.float32).reshape(r['outputs'][o]['shape']) for o in outs}
            j['outputs'] = {o: tensor_json(got[o]) for o in outs}
            j['outputs_source'] = 'onnxruntime'
            j['tolerance'] = g.TOL
            j.update(expect_error_check(got))
        else:
            if 'error' in r:
                j['expect_error'] = r['error']
            else:
                g.warn('%s: onnxruntime ACCEPTS it; recurrent refuses (%s)' % (name, expect_error['message']))
                g.STATE['external_ort_accepts'].append(name)
                j['expect_error'] = {'stage': 'session_create', 'message': expect_error['message'],
                                     'onnxruntime_accepts': True}
                j['onnxruntime_outputs'] = {o: tensor_json(np.asarray(r['outputs'][o]['data'], np.float32)
                                                           .reshape(r['outputs'][o]['shape'])) for o in outs}
            j['recurrent_refuses'] = expect_error['message']
            for ej in extra_jobs:
                rr = results[ej['id']]
                j[ej['json_key']] = rr['error'] if 'error' in rr else 'accepted'
        _write_files(out_dir, files)
        for rel in files:
            g.STATE['written_files'].add(rel)
        return mb, j

    expect_error_check = make_json.check if hasattr(make_json, 'check') else (lambda got: {})
    CASES.append({'name': name, 'family': 'external', 'case': None, 'finalize': finalize, 'jobs': jobs})


def _op_json(g, c, mb, m, storage_note):
    """The single-node JSON of OpCase c (lstm family layout) for model bytes mb / ModelProto m."""
    def make():
        j = c.base_json(mb)
        j['initializer_storage'] = storage_note
        j['external_data'] = _entries(m)
        return j

    def check(got):
        ref = c.ref()
        d = g.max_diff(got, {o: ref[o] for o in c.outs})
        if d > 1e-5:
            g.warn('%s: ref64 differs from onnxruntime by %g' % (c.name, d))
        return {'ref64_max_abs_diff': g.fmt_diff(d)}
    make.check = check
    return make


def external_cases(CASES, STATE, g):
    STATE.setdefault('written_files', set())
    STATE.setdefault('external_ort_accepts', [])

    def opcase(slug, op, desc, **kw):
        name = g.next_name('external', slug)
        return g.OpCase(name, 'external', op, desc, **kw)

    # 1. bidirectional LSTM with B and P, all four initializers in one file
    c = opcase('lstm_one_file', 'LSTM', 'bidirectional LSTM with B and P; W, R, B, P all in one external file '
               '(onnx.save_model save_as_external_data, all_tensors_to_one_file, size_threshold 0): '
               'location / offset / length written', attrs=[('direction', 'bidirectional')], peep=True, h0=True, c0=True)
    bin1 = c.name + '.bin'
    mb, files = _save_external(c.model, c.name + '.onnx', save_as_external_data=True, all_tensors_to_one_file=True,
                               location=bin1, size_threshold=0)
    m = onnx.load_from_string(mb)
    _register(CASES, g, c.name, mb, files, c.feeds(), c.outs,
              _op_json(g, c, mb, m, 'external (one file, offset and length)'))

    # 2. GRU, one file per tensor, in a subdirectory
    c = opcase('gru_file_per_tensor_subdir', 'GRU', 'GRU (bidirectional, linear_before_reset 1) with W, R, B each in its '
               'own external file in the subdirectory external_002_data/ (location "external_002_data/W.bin" ...; '
               'all_tensors_to_one_file False)', attrs=[('direction', 'bidirectional'), ('linear_before_reset', 1)], h0=True)
    sub = 'external_002_data'
    assert c.name.startswith(sub[:12])
    model = onnx.ModelProto()
    model.CopyFrom(c.model)
    external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=False, size_threshold=0)
    for t in model.graph.initializer:
        external_data_helper.set_external_data(t, '%s/%s.bin' % (sub, t.name))
    mb, files = _save_external(model, c.name + '.onnx', subdirs=(sub,))
    m = onnx.load_from_string(mb)
    _register(CASES, g, c.name, mb, files, c.feeds(), c.outs,
              _op_json(g, c, mb, m, 'external (one file per tensor, subdirectory)'))

    # 3. RNN, offset but no length
    c = opcase('rnn_offset_no_length', 'RNN', 'RNN (reverse) with W, R, B in one external file whose entries give '
               'location and offset but no length (the size comes from the dims)', attrs=[('direction', 'reverse')],
               seq=[4, 2], h0=True)
    mb, files = _save_external(c.model, c.name + '.onnx', save_as_external_data=True, all_tensors_to_one_file=True,
                               location=c.name + '.bin', size_threshold=0)
    m = onnx.load_from_string(mb)
    for t in m.graph.initializer:
        e = _entries(m)[t.name]
        _set_entries(t, [('location', e['location']), ('offset', e['offset'])])
    mb = m.SerializeToString()
    _register(CASES, g, c.name, mb, files, c.feeds(), c.outs,
              _op_json(g, c, mb, m, 'external (one file, offset without length)'))

    # 4. torch.onnx.export'ed 2-layer LSTM, re-saved with external data
    _torch_case(CASES, STATE, g)

    # 5. refusals. A small forward LSTM whose W is external; the other initializers stay raw_data.
    def refusal(slug, desc, why, entries_of, data, ort_extra=None, op='LSTM', tensor='W', extra_jobs_of=None, **kw):
        c = opcase(slug, op, desc, **kw)
        m = onnx.ModelProto()
        m.CopyFrom(c.model)
        t = [t for t in m.graph.initializer if t.name == tensor][0]
        nbytes = len(t.raw_data)
        raw = t.raw_data
        _set_entries(t, entries_of(c.name, nbytes))
        mb = m.SerializeToString()
        files = data(c.name, raw)
        ort_files = dict(files, **(ort_extra(c.name, raw) if ort_extra else {}))
        extra = extra_jobs_of(c.name, mb, raw, c) if extra_jobs_of else ()

        def make():
            j = c.base_json(mb)
            j['initializer_storage'] = 'raw_data; %s external' % tensor
            j['external_data'] = _entries(m)
            return j
        _register(CASES, g, c.name, mb, files, c.feeds(), c.outs, make,
                  expect_error={'message': why}, ort_files=ort_files, extra_jobs=extra)

    refusal('missing_file', 'W external in "<case>.bin", which does not exist (no data file written)',
            'recurrent refuses: the external data file does not exist',
            lambda n, nb: [('location', n + '.bin'), ('offset', 0), ('length', nb)],
            lambda n, raw: {})
    refusal('length_too_large', 'W external with length = its byte size + 4 (the file holds that many bytes)',
            'recurrent refuses: external data length differs from the tensor byte size',
            lambda n, nb: [('location', n + '.bin'), ('offset', 0), ('length', nb + 4)],
            lambda n, raw: {n + '.bin': raw + b'\0' * 4})
    refusal('offset_past_end', 'W external with offset 64 in a file of exactly its byte size (offset past the end)',
            'recurrent refuses: offset + size is past the end of the external data file',
            lambda n, nb: [('location', n + '.bin'), ('offset', 64), ('length', nb)],
            lambda n, raw: {n + '.bin': raw}, H=1, I=1)
    refusal('dotdot_location', 'W external at location "../outside.bin" (a ".." component; no such file is shipped. '
            'For the onnxruntime run the file is created one level above the model directory, so its refusal is '
            'about the path, not a missing file: `onnxruntime_without_outside_file` is the run without it)',
            'recurrent refuses: external data location contains a ".." component',
            lambda n, nb: [('location', '../outside.bin'), ('offset', 0), ('length', nb)],
            lambda n, raw: {}, ort_extra=lambda n, raw: {'../outside.bin': raw},
            extra_jobs_of=lambda n, mb, raw, c: [{'id': n + '#nofile', 'model': mb, 'feeds': c.feeds(), 'outputs': c.outs,
                                                  'files': {}, 'json_key': 'onnxruntime_without_outside_file'}])
    refusal('absolute_location', 'RNN (I=H=1) whose 4-byte W is external at the absolute location "/etc/hostname"',
            'recurrent refuses: external data location is an absolute path',
            lambda n, nb: [('location', '/etc/hostname'), ('offset', 0), ('length', nb)],
            lambda n, raw: {}, op='RNN', H=1, I=1)


def _torch_case(CASES, STATE, g):
    import torch
    from torch import nn
    name = g.next_name('external', 'torch_lstm_2layer')
    import zlib
    torch.manual_seed(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    rnn = nn.LSTM(3, 4, num_layers=2)
    rnn.eval()

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            y, (h, c) = self.rnn(x)
            return y, h, c
    module = Wrap().eval()
    x = torch.rand(5, 2, 3) * 2 - 1
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, (x,), buf, opset_version=14, input_names=['x'], output_names=['y', 'h_n', 'c_n'],
                          do_constant_folding=True)
        ref = [r.numpy() for r in module(x)]
    exported = onnx.load_from_string(buf.getvalue())
    mb, files = _save_external(exported, name + '.onnx', save_as_external_data=True, all_tensors_to_one_file=True,
                               location=name + '.bin', size_threshold=0)
    m = onnx.load_from_string(mb)
    op_types = sorted(set(n.op_type for n in m.graph.node))
    init_names = set(t.name for t in m.graph.initializer)
    gin = [vi for vi in m.graph.input if vi.name not in init_names]
    xa = x.numpy().astype(np.float32)
    outs = [vi.name for vi in m.graph.output]

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    def make():
        return {'schema_version': 1, 'name': name, 'family': 'external',
                'description': 'torch.onnx.export of nn.LSTM(3, 4, num_layers=2) (opset 14, no h0/c0), re-saved with '
                               'every initializer in one external file (save_as_external_data, size_threshold 0)',
                'op': 'graph', 'opset': 14, 'ir_version': m.ir_version, 'onnxruntime_version': None,
                'exporter': 'torch %s' % torch.__version__, 'model_file': name + '.onnx', 'model_sha256': sha256(mb),
                'op_types': op_types,
                'graph_inputs': [{'name': vi.name, 'dims': dims(vi)} for vi in gin],
                'graph_outputs': [{'name': vi.name, 'dims': dims(vi)} for vi in m.graph.output],
                'initializer_storage': 'external (one file, offset and length)',
                'external_data': _entries(m),
                'inputs': {'x': tensor_json(xa)}}

    def check(got):
        d = max(float(np.max(np.abs(got[o].astype(np.float64) - rr.astype(np.float64)))) for o, rr in zip(outs, ref))
        if d > 1e-5:
            g.warn('%s: onnxruntime vs torch %g' % (name, d))
        return {'torch_max_abs_diff': g.fmt_diff(d)}
    make.check = check
    _register(CASES, g, name, mb, files, {'x': feed_json(xa)}, outs, make)
