"""wire, malformed and torch families (called from generate_cases.py)."""
import io

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from common import Raw, decode, enc_varint, encode, feed_json, sha256, tensor_json

UNKNOWN = [[9001, 0, 12345678901], [9002, 1, 0x0123456789ABCDEF], [9003, 2, b'\x08\x01unknown'], [9004, 5, 0xDEADBEEF]]
# repeated scalar fields: (message, field) -> wire type of one element when unpacked
REPEATED_SCALARS = {
    ('Tensor', 1): 0, ('Tensor', 4): 5, ('Tensor', 5): 0, ('Tensor', 7): 0, ('Tensor', 10): 1, ('Tensor', 11): 0,
    ('Attribute', 7): 5, ('Attribute', 8): 0,
}
SUBTYPES = {
    'Model': {7: 'Graph', 8: 'OpsetId', 14: 'StrStr'},
    'Graph': {1: 'Node', 5: 'Tensor', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo'},
    'Node': {5: 'Attribute'}, 'Attribute': {5: 'Tensor', 6: 'Graph'}, 'ValueInfo': {2: 'Type'},
    'Type': {1: 'TensorType'}, 'TensorType': {2: 'Shape'}, 'Shape': {1: 'Dim'},
}


def _elems(wt, v):
    """Elements of a packed payload v (bytes) of element wire type wt."""
    out = []
    pos = 0
    while pos < len(v):
        if wt == 0:
            from common import dec_varint
            x, pos = dec_varint(v, pos)
        elif wt == 5:
            x = int.from_bytes(v[pos:pos + 4], 'little')
            pos += 4
        else:
            x = int.from_bytes(v[pos:pos + 8], 'little')
            pos += 8
        out.append(x)
    return out


def _pack_payload(wt, xs):
    b = bytearray()
    for x in xs:
        if wt == 0:
            b += enc_varint(x)
        elif wt == 5:
            b += int(x).to_bytes(4, 'little')
        else:
            b += int(x).to_bytes(8, 'little')
    return bytes(b)


def transform(msg, mtype, pack=None, reverse=False, unknown=False):
    """pack=True: pack every repeated scalar; pack=False: unpack every one; None: leave."""
    out = []
    groups = {}
    for fn, wt, v in msg:
        sub = SUBTYPES.get(mtype, {}).get(fn)
        if isinstance(v, list) and sub:
            v = transform(v, sub, pack, reverse, unknown)
        key = (mtype, fn)
        if key in REPEATED_SCALARS and pack is not None:
            ewt = REPEATED_SCALARS[key]
            if wt == 2:
                xs = _elems(ewt, v)
            else:
                xs = [v]
            if pack:
                if key in groups:
                    groups[key][2] = groups[key][2] + _pack_payload(ewt, xs)
                    continue
                ent = [fn, 2, _pack_payload(ewt, xs)]
                groups[key] = ent
                out.append(ent)
            else:
                out.extend([fn, ewt, x] for x in xs)
            continue
        out.append([fn, wt, v])
    if reverse:
        # reverse the order of distinct fields; keep the order within a repeated field
        order = []
        for e in out:
            if e[0] not in order:
                order.append(e[0])
        rank = {fn: i for i, fn in enumerate(reversed(order))}
        out = sorted(out, key=lambda e: rank[e[0]])
    if unknown:
        out = [list(u) for u in UNKNOWN[:2]] + out + [list(u) for u in UNKNOWN[2:]]
    return out


def add_docs(msg, mtype):
    out = []
    for fn, wt, v in msg:
        sub = SUBTYPES.get(mtype, {}).get(fn)
        if isinstance(v, list) and sub:
            v = add_docs(v, sub)
        out.append([fn, wt, v])
    doc_field = {'Model': 6, 'Graph': 10, 'Node': 6, 'Attribute': 13, 'Tensor': 12, 'ValueInfo': 3}.get(mtype)
    if doc_field:
        out.append([doc_field, 2, ('doc_string of a %s: ignore me' % mtype).encode()])
    if mtype == 'Model':
        out.append([3, 2, b'9.9.9'])  # producer_version
        out.append([4, 2, b'org.recurrent.test'])  # domain
        out.append([5, 0, 42])  # model_version
        for k, val in ((b'author', b'recurrent'), (b'note', b'metadata_props are ignored')):
            out.append([14, 2, [[1, 2, k], [2, 2, val]]])
    if mtype == 'Graph':
        vi = helper.make_tensor_value_info('Y_h_info', TensorProto.FLOAT, [1, 2, 3])
        out.append([13, 2, decode(vi.SerializeToString(), 'ValueInfo')])
    return out


def wire_cases(CASES, STATE, g):
    by_slug = {c['name'].split('_', 2)[2]: c for c in CASES if c['family'] in ('lstm', 'gru', 'rnn')
               for _ in [0]} if False else None
    del by_slug

    def find(family, slug):
        for c in CASES:
            if c['family'] == family and c['name'].split('_', 2)[2] == slug:
                return c
        raise KeyError(family + ' ' + slug)

    specs = [
        ('packed', 'lstm', 'dim_param_float_data', dict(pack=True),
         'every repeated scalar packed (TensorProto.dims, AttributeProto.floats/ints; float_data/int32_data already packed)', {'packed': True}),
        ('packed_attrs', 'lstm', 'act_six_per_direction', dict(pack=True),
         'every repeated scalar packed, incl. activation_alpha/activation_beta floats and dims', {'packed': True}),
        ('reverse_unpacked_unknown', 'lstm', 'dim_param_float_data', dict(pack=False, reverse=True, unknown=True),
         'fields of every message in reverse order (order within a repeated field kept), float_data/int32_data unpacked (one tag per element), '
         'unknown fields 9001 varint / 9002 64-bit / 9003 length-delimited / 9004 32-bit in every message',
         {'packed': False, 'reverse_field_order': True, 'unknown_fields': ['varint', 'fixed64', 'length_delimited', 'fixed32']}),
        ('reverse_unknown_raw', 'gru', 'T10_B4', dict(pack=False, reverse=True, unknown=True),
         'reverse field order + unpacked repeated scalars + unknown fields of all four wire types, raw_data initializers',
         {'packed': False, 'reverse_field_order': True, 'unknown_fields': ['varint', 'fixed64', 'length_delimited', 'fixed32']}),
        ('docs_metadata', 'gru', 'T10_B4', 'docs',
         'doc_string on model/graph/node/attribute/tensor/value_info, metadata_props, producer_version, model_version, domain, a value_info entry: all to be ignored',
         {'packed': None, 'docs': True}),
        ('docs_metadata_rnn', 'rnn', 'T10_B4', 'docs', 'doc strings, metadata_props, model_version, domain, value_info',
         {'packed': None, 'docs': True}),
    ]
    for slug, fam, base_slug, how, desc, enc in specs:
        base = find(fam, base_slug)
        bc = base['case']
        msg = decode(bc.bytes, 'Model')
        msg = add_docs(msg, 'Model') if how == 'docs' else transform(msg, 'Model', **how)
        mb = encode(msg)
        name = g.next_name('wire', slug)
        _wire_finalize(CASES, g, name, base, bc, mb, '%s (re-encoding of %s; outputs identical)' % (desc, base['name']), enc)


def _wire_finalize(CASES, g, name, base, bc, mb, desc, enc):
    def finalize(results, out_dir):
        r, r0 = results[name], results[base['name']]
        if 'error' in r:
            g.warn('%s: onnxruntime refused the re-encoding: %s' % (name, r['error']))
            return None
        got = g.ort_outputs(r, bc.outs)
        got0 = g.ort_outputs(r0, bc.outs)
        for o in bc.outs:
            if got[o].tobytes() != got0[o].tobytes():
                g.warn('%s: outputs differ from %s' % (name, base['name']))
        ref = bc.ref()
        d = g.max_diff(got, {o: ref[o] for o in bc.outs})
        j = bc.base_json(mb)
        j['name'] = name
        j['family'] = 'wire'
        j['description'] = desc
        j['model_file'] = name + '.onnx'
        j['outputs'] = {o: tensor_json(got[o]) for o in bc.outs}
        j['outputs_source'] = 'onnxruntime'
        j['tolerance'] = g.TOL
        j['ref64_max_abs_diff'] = g.fmt_diff(d)
        j['variant_of'] = base['name']
        j['wire_encoding'] = enc
        return mb, j
    CASES.append({'name': name, 'family': 'wire', 'case': bc, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': mb, 'feeds': bc.feeds(), 'outputs': bc.outs}]})


# ------------------------------------------------------------------------- malformed

def _field_offsets(buf):
    """Top-level fields: list of (field, wire_type, key_start, value_start, value_end)."""
    from common import dec_varint
    out = []
    pos = 0
    while pos < len(buf):
        ks = pos
        key, pos = dec_varint(buf, pos)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            _, pos2 = dec_varint(buf, pos)
            out.append((fn, wt, ks, pos, pos2))
            pos = pos2
        elif wt == 2:
            ln, vs = dec_varint(buf, pos)
            out.append((fn, wt, ks, pos, vs + ln))
            pos = vs + ln
        elif wt == 1:
            out.append((fn, wt, ks, pos, pos + 8))
            pos += 8
        else:
            out.append((fn, wt, ks, pos, pos + 4))
            pos += 4
    return out


def malformed_cases(CASES, STATE, g):
    def base_case(name, **kw):
        return g.OpCase(name, 'malformed', 'LSTM', '', T=3, B=2, I=3, H=3, h0=True, **kw)

    items = []

    def add(slug, desc, make):
        name = g.next_name('malformed', slug)
        c = base_case(name)
        mb, how = make(c)
        items.append((name, c, mb, desc, how))

    def trunc_raw(c):
        wb = c.vals['W'].tobytes()
        i = c.bytes.find(wb)
        cut = i + len(wb) // 2
        return c.bytes[:cut], 'truncated at byte %d of %d: half of W raw_data' % (cut, len(c.bytes))

    def trunc_varint(c):
        f = [x for x in _field_offsets(c.bytes) if x[0] == 7][0]  # graph: its length varint is multi-byte
        cut = f[3] + 1
        assert c.bytes[f[3]] & 0x80, 'graph length varint is one byte'
        return c.bytes[:cut], 'truncated at byte %d of %d: inside the multi-byte length varint of ModelProto.graph' % (cut, len(c.bytes))

    def trunc_string(c):
        i = c.bytes.find(b'\x22\x04LSTM')
        cut = i + 4
        return c.bytes[:cut], 'truncated at byte %d of %d: inside NodeProto.op_type "LSTM"' % (cut, len(c.bytes))

    def trunc_key(c):
        f = [x for x in _field_offsets(c.bytes) if x[0] == 8][0]  # opset_import
        cut = f[4] - 1
        return c.bytes[:cut], 'truncated at byte %d of %d: last byte of the file (inside opset_import) missing' % (cut, len(c.bytes))

    def length_too_big(c):
        f = [x for x in _field_offsets(c.bytes) if x[0] == 7][0]
        ln = f[4] - (f[3] + len(enc_varint(f[4] - f[3])))
        b = c.bytes
        vs = f[3]
        # re-encode the graph length as len(file) + 1000 (original varint replaced)
        from common import dec_varint
        old_len, after = dec_varint(b, vs)
        assert old_len == ln or True
        newb = b[:vs] + enc_varint(len(b) + 1000) + b[after:]
        return newb, 'ModelProto.graph length prefix = %d, larger than the whole file' % (len(b) + 1000)

    def raw_size(c):
        m = c.model
        t = [t for t in m.graph.initializer if t.name == 'W'][0]
        t.raw_data = t.raw_data[:-4]
        return m.SerializeToString(), 'W raw_data holds %d bytes, dims need %d' % (len(t.raw_data), len(t.raw_data) + 4)

    def double_w(c):
        m = c.model
        t = [t for t in m.graph.initializer if t.name == 'W'][0]
        t.CopyFrom(numpy_helper.from_array(c.vals['W'].astype(np.float64), 'W'))
        return m.SerializeToString(), 'W initializer is DOUBLE (data_type 11)'

    def unknown_op(c):
        m = c.model
        m.graph.node[0].op_type = 'Foo'
        return m.SerializeToString(), 'node op_type "Foo" (not an ONNX operator)'

    def unknown_attr(c):
        m = c.model
        m.graph.node[0].attribute.append(helper.make_attribute('foo', 1))
        return m.SerializeToString(), 'LSTM node with an unknown attribute "foo"'

    def missing_init(c):
        m = c.model
        keep = [t for t in m.graph.initializer if t.name != 'W']
        del m.graph.initializer[:]
        m.graph.initializer.extend(keep)
        return m.SerializeToString(), 'node input W is neither an initializer nor a graph input'

    def never_produced(c):
        m = c.model
        m.graph.node.append(helper.make_node('Identity', ['Y_never'], ['Z']))
        m.graph.output.append(helper.make_tensor_value_info('Z', TensorProto.FLOAT, None))
        return m.SerializeToString(), 'an Identity node consumes "Y_never", which no node produces'

    def output_never_produced(c):
        m = c.model
        m.graph.output.append(helper.make_tensor_value_info('Q', TensorProto.FLOAT, None))
        return m.SerializeToString(), 'graph output "Q" is produced by no node'

    def dims_negative(c):
        m = c.model
        t = [t for t in m.graph.initializer if t.name == 'W'][0]
        t.dims[1] = -12
        return m.SerializeToString(), 'W dims [1,-12,3]'

    def wrong_wire_type(c):
        b = c.bytes
        f = [x for x in _field_offsets(b) if x[0] == 1][0]  # ir_version varint
        newb = b[:f[2]] + bytes([(1 << 3) | 2, 1, 8]) + b[f[4]:]
        return newb, 'ModelProto.ir_version (a varint) encoded as a length-delimited field'

    def empty(c):
        return b'', 'empty file (0 bytes)'

    def garbage(c):
        return b'\xff' * 16, '16 bytes 0xFF (invalid key varint)'

    add('truncated_raw_data', 'file truncated in the middle of W raw_data', trunc_raw)
    add('truncated_mid_varint', 'file truncated inside a length varint', trunc_varint)
    add('truncated_mid_string', 'file truncated inside a length-delimited string', trunc_string)
    add('truncated_last_byte', 'file missing its last byte', trunc_key)
    add('length_past_eof', 'a length prefix larger than the file', length_too_big)
    add('raw_data_size', 'raw_data size != product(dims) * 4', raw_size)
    add('double_W', 'DOUBLE initializer for W', double_w)
    add('unknown_op', 'unknown op type Foo', unknown_op)
    add('unknown_attribute', 'unknown attribute on LSTM', unknown_attr)
    add('missing_initializer', 'W named but absent', missing_init)
    add('input_never_produced', 'a node input that nothing produces', never_produced)
    add('output_never_produced', 'a graph output that nothing produces', output_never_produced)
    add('dims_negative', 'negative dim in an initializer', dims_negative)
    add('wrong_wire_type', 'a known field with the wrong wire type', wrong_wire_type)
    add('empty_file', 'empty file', empty)
    add('garbage', 'not protobuf', garbage)

    for name, c, mb, desc, how in items:
        _malformed_finalize(CASES, STATE, g, name, c, mb, desc, how)


def _malformed_finalize(CASES, STATE, g, name, c, mb, desc, how):
    def finalize(results, out_dir):
        r = results[name]
        if 'error' not in r:
            STATE['skipped'].append('%s (%s): onnxruntime accepted it' % (name, how))
            g.warn('%s: onnxruntime accepted a malformed model (%s)' % (name, how))
            return None
        j = {'schema_version': 1, 'name': name, 'family': 'malformed', 'description': desc + ': ' + how,
             'op': 'LSTM', 'opset': c.opset, 'ir_version': g.IR_VERSION, 'onnxruntime_version': None,
             'model_file': name + '.onnx', 'model_sha256': sha256(mb), 'malformation': how,
             'based_on': 'one-node LSTM, hidden_size 3, inputs X,W,R,B,"",initial_h (W,R,B initializers, raw_data)',
             'inputs': {s: tensor_json(c.vals[s]) for s in c.graph_inputs},
             'expect_error': r['error']}
        return mb, j
    CASES.append({'name': name, 'family': 'malformed', 'case': c, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': mb, 'feeds': c.feeds(), 'outputs': c.outs}]})


# ------------------------------------------------------------------------- torch

def torch_cases(CASES, STATE, g):
    import torch
    from torch import nn
    torch.manual_seed(0)
    STATE['torch_op_types'] = set()
    STATE['torch_notes'] = []

    class Wrap(nn.Module):
        def __init__(self, rnn, with_state, head=None):
            super().__init__()
            self.rnn = rnn
            self.with_state = with_state
            self.head = head
            self.lstm = isinstance(rnn, nn.LSTM)

        def forward(self, x, *state):
            if self.lstm:
                y, (h, c) = self.rnn(x, (state[0], state[1]) if state else None)
                if self.head is not None:
                    return self.head(y), h, c
                return y, h, c
            y, h = self.rnn(x, state[0] if state else None)
            return y, h

    class Packed(nn.Module):
        def __init__(self, rnn, enforce_sorted=False):
            super().__init__()
            self.rnn = rnn
            self.enforce_sorted = enforce_sorted

        def forward(self, x, lengths):
            p = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=self.enforce_sorted)
            y, (h, c) = self.rnn(p)
            y, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=x.shape[0])
            return y, h, c

    specs = [
        ('lstm_2layer', 'nn.LSTM(3, 4, num_layers=2), seq-first, no h0/c0', lambda: nn.LSTM(3, 4, num_layers=2), False, False, 14, False, None),
        ('lstm_bidir_batch_first_h0c0', 'nn.LSTM(3, 4, bidirectional, batch_first) with h0, c0 inputs', lambda: nn.LSTM(3, 4, bidirectional=True, batch_first=True), True, True, 14, False, None),
        ('lstm_dynamic_opset17', 'nn.LSTM(2, 3) dynamic batch/time axes, opset 17', lambda: nn.LSTM(2, 3), False, False, 17, True, None),
        ('lstm_bias_false_bidir_opset9', 'nn.LSTM(3, 3, bias=False, bidirectional), opset 9', lambda: nn.LSTM(3, 3, bias=False, bidirectional=True), False, False, 9, False, None),
        ('lstm_2layer_bidir_h0c0_dynamic', 'nn.LSTM(3, 2, num_layers=2, bidirectional) with h0/c0, dynamic axes', lambda: nn.LSTM(3, 2, num_layers=2, bidirectional=True), False, True, 14, True, None),
        ('gru_bias_false', 'nn.GRU(3, 4, bias=False)', lambda: nn.GRU(3, 4, bias=False), False, False, 14, False, None),
        ('gru_2layer_bidir_batch_first_dynamic', 'nn.GRU(3, 3, num_layers=2, bidirectional, batch_first), dynamic axes, opset 17', lambda: nn.GRU(3, 3, num_layers=2, bidirectional=True, batch_first=True), True, False, 17, True, None),
        ('gru_h0_opset9', 'nn.GRU(2, 3) with h0, opset 9', lambda: nn.GRU(2, 3), False, True, 9, False, None),
        ('rnn_tanh_h0', 'nn.RNN(3, 4) tanh with h0', lambda: nn.RNN(3, 4), False, True, 14, False, None),
        ('rnn_relu_2layer_bidir', 'nn.RNN(3, 3, relu, num_layers=2, bidirectional), batch_first, opset 9', lambda: nn.RNN(3, 3, nonlinearity='relu', num_layers=2, bidirectional=True, batch_first=True), True, False, 9, False, None),
        ('rnn_relu_dynamic', 'nn.RNN(2, 4, relu) dynamic axes, bias False', lambda: nn.RNN(2, 4, nonlinearity='relu', bias=False), False, False, 17, True, None),
        ('lstm_linear_head', 'nn.LSTM(3, 4) then nn.Linear(4, 2) on every step', lambda: nn.LSTM(3, 4), False, False, 14, False, 'head'),
        ('lstm_packed', 'pack_padded_sequence(enforce_sorted=False) -> nn.LSTM(3, 4) -> pad_packed_sequence, lengths input (int64)', lambda: nn.LSTM(3, 4), False, False, 14, True, 'packed'),
        ('lstm_packed_sorted', 'pack_padded_sequence(enforce_sorted=True) -> nn.LSTM(3, 4, bidirectional) -> pad_packed_sequence, lengths input (int64, descending)', lambda: nn.LSTM(3, 4, bidirectional=True), False, False, 14, True, 'packed_sorted'),
        ('gru_seqlens_by_hand', 'nn.GRU(3, 4) export with a graph input "lengths" (int32) wired by hand into the GRU node\'s sequence_lens', lambda: nn.GRU(3, 4), False, False, 14, True, 'seqlens_hand'),
        ('lstm_seqlens_by_hand', 'nn.LSTM(3, 4, bidirectional) export with a graph input "lengths" (int32) wired by hand into the LSTM node\'s sequence_lens', lambda: nn.LSTM(3, 4, bidirectional=True), False, False, 14, True, 'seqlens_hand'),
    ]
    LISTED = {'LSTM', 'GRU', 'RNN', 'Transpose', 'Squeeze', 'Unsqueeze', 'Concat', 'Slice', 'Gather', 'Reshape', 'Cast',
              'Identity', 'Constant', 'Shape', 'Expand', 'ConstantOfShape'}
    STATE['torch_listed_ops'] = LISTED
    T, Bn, I = 5, 3, 3
    for slug, desc, mk, batch_first, with_state, opset, dynamic, kind in specs:
        name = g.next_name('torch', slug)
        torch.manual_seed(zlib_seed(name))
        rnn = mk()
        rnn.eval()
        In = rnn.input_size
        Hs = rnn.hidden_size
        nd = 2 if rnn.bidirectional else 1
        L = rnn.num_layers
        x = torch.rand(T, Bn, In) * 2 - 1
        if batch_first:
            x = x.transpose(0, 1).contiguous()
        args = [x]
        in_names = ['x']
        if with_state:
            args.append(torch.rand(L * nd, Bn, Hs) - 0.5)
            in_names.append('h0')
            if isinstance(rnn, nn.LSTM):
                args.append(torch.rand(L * nd, Bn, Hs) - 0.5)
                in_names.append('c0')
        if kind in ('packed', 'packed_sorted'):
            module = Packed(rnn, kind == 'packed_sorted')
            lengths = torch.tensor([5, 4, 2] if kind == 'packed_sorted' else [5, 2, 4], dtype=torch.int64)
            args = [x, lengths]
            in_names = ['x', 'lengths']
        else:
            module = Wrap(rnn, with_state, nn.Linear(Hs * nd, 2) if kind == 'head' else None)
        module.eval()
        out_names = ['y', 'h_n', 'c_n'] if isinstance(rnn, nn.LSTM) else ['y', 'h_n']
        dyn = None
        if dynamic:
            tax, bax = (1, 0) if batch_first else (0, 1)
            dyn = {'x': {tax: 'time', bax: 'batch'}, 'y': {tax: 'time', bax: 'batch'}}
            for s in in_names[1:]:
                dyn[s] = {0: 'batch'} if s == 'lengths' else {1: 'batch'}
            for s in out_names[1:]:
                dyn[s] = {1: 'batch'}
        buf = io.BytesIO()
        try:
            with torch.no_grad():
                torch.onnx.export(module, tuple(args), buf, opset_version=opset, input_names=in_names,
                                  output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
        except Exception as e:  # noqa: BLE001
            msg = '%s: torch.onnx.export refused: %s: %s' % (name, type(e).__name__, str(e).splitlines()[0] if str(e) else '')
            STATE['torch_notes'].append(msg)
            g.warn(msg)
            continue
        mb = buf.getvalue()
        with torch.no_grad():
            ref = module(*args)
        ref = [r.numpy() for r in ref]
        if kind == 'seqlens_hand':
            mb, args, ref = _insert_seqlens(mb, rnn, x, args)
        _torch_finalize(CASES, STATE, g, name, desc, mb, args, in_names, out_names, ref, opset, torch.__version__)


def _insert_seqlens(mb, rnn, x, args):
    """Adds graph input 'lengths' (int32 [batch]) as the RNN node's sequence_lens; the torch reference
    runs each batch entry on its own prefix (what sequence_lens means), outputs zero past the length."""
    import onnx
    import torch
    m = onnx.load_from_string(mb)
    node = [n for n in m.graph.node if n.op_type in ('LSTM', 'GRU', 'RNN')][0]
    ins = list(node.input)
    while len(ins) < 5:
        ins.append('')
    ins[4] = 'lengths'
    del node.input[:]
    node.input.extend(ins)
    vi = onnx.helper.make_tensor_value_info('lengths', onnx.TensorProto.INT32, ['batch'])
    m.graph.input.insert(1, vi)
    lengths = np.array([5, 2, 4], np.int32)
    T, Bn = x.shape[0], x.shape[1]
    nd = 2 if rnn.bidirectional else 1
    Hs = rnn.hidden_size
    y = np.zeros((T, Bn, nd * Hs), np.float32)
    hs = np.zeros((nd, Bn, Hs), np.float32)
    cs = np.zeros((nd, Bn, Hs), np.float32)
    with torch.no_grad():
        for b in range(Bn):
            L = int(lengths[b])
            out = rnn(x[:L, b:b + 1])
            yb, st = out
            y[:L, b] = yb[:, 0].numpy()
            if isinstance(st, tuple):
                hs[:, b] = st[0][:, 0].numpy()
                cs[:, b] = st[1][:, 0].numpy()
            else:
                hs[:, b] = st[:, 0].numpy()
    ref = [y, hs, cs] if isinstance(rnn, torch.nn.LSTM) else [y, hs]
    return m.SerializeToString(), [args[0], torch.from_numpy(lengths)], ref


def zlib_seed(name):
    import zlib
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _torch_finalize(CASES, STATE, g, name, desc, mb, args, in_names, out_names, ref, opset, tv):
    import onnx
    m = onnx.load_from_string(mb)
    op_types = sorted(set(n.op_type for n in m.graph.node))
    STATE['torch_op_types'].update(op_types)
    init_names = set(t.name for t in m.graph.initializer)
    gin = [vi for vi in m.graph.input if vi.name not in init_names]
    feeds = {}
    inputs = {}
    for vi, a in zip(gin, args):
        arr = a.numpy()
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        feeds[vi.name] = feed_json(arr)
        inputs[vi.name] = tensor_json(arr)

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    outs = [vi.name for vi in m.graph.output]

    def finalize(results, out_dir):
        r = results[name]
        if 'error' in r:
            g.warn('%s: onnxruntime refused the torch export: %s' % (name, r['error']))
            return None
        got = {o: np.asarray(r['outputs'][o]['data'], np.float32).reshape(r['outputs'][o]['shape']) for o in outs}
        d = max(float(np.max(np.abs(got[o].astype(np.float64) - rr.astype(np.float64)))) for o, rr in zip(outs, ref))
        if d > 1e-5:
            g.warn('%s: onnxruntime vs torch %g' % (name, d))
        j = {'schema_version': 1, 'name': name, 'family': 'torch', 'description': desc, 'op': 'graph',
             'opset': opset, 'ir_version': m.ir_version, 'onnxruntime_version': None,
             'exporter': 'torch %s' % tv, 'model_file': name + '.onnx', 'model_sha256': sha256(mb),
             'op_types': op_types,
             'op_types_outside_list': [o for o in op_types if o not in STATE['torch_listed_ops']],
             'graph_inputs': [{'name': vi.name, 'dims': dims(vi)} for vi in gin],
             'graph_outputs': [{'name': vi.name, 'dims': dims(vi)} for vi in m.graph.output],
             'initializer_storage': 'raw_data',
             'inputs': inputs,
             'outputs': {o: tensor_json(got[o]) for o in outs},
             'outputs_source': 'onnxruntime',
             'tolerance': g.TOL,
             'torch_max_abs_diff': g.fmt_diff(d)}
        return mb, j
    CASES.append({'name': name, 'family': 'torch', 'case': None, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': mb, 'feeds': feeds, 'outputs': outs}]})
