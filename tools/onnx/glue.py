"""glue family (called from generate_cases.py): the non-recurrent ops the importer supports, pinned to
onnxruntime. Each case is a small hand-built graph; its graph inputs are fed, so the ops run at run time,
except the `*_folded_*` cases where everything but X is an initializer / Constant (folded at load) and
feeds an LSTM / GRU's weights or initial state. Every output is also checked against a NumPy reference
written here (exact for integers, 1e-5 for floats); a disagreement is a warning and is reported in the
case's `numpy_agrees`."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from common import Raw, feed_json, sha256, tensor_json

import ref64

ELEM = {'float32': TensorProto.FLOAT, 'int32': TensorProto.INT32, 'int64': TensorProto.INT64}
I64MAX = np.iinfo(np.int64).max
I64MIN = np.iinfo(np.int64).min


def f32(*a):
    return np.asarray(a[0] if len(a) == 1 else a, np.float32)


def i64(*a):
    return np.asarray(a[0] if len(a) == 1 else a, np.int64)


def i32(*a):
    return np.asarray(a[0] if len(a) == 1 else a, np.int32)


def N(op, ins, outs, **attrs):
    return (op, ins, outs, attrs)


def const_tensor(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def gi_dims(n, a, dyn):
    """Declared dims of a graph input: concrete, or (dyn) one dim_param per axis so that onnxruntime's
    shape inference at load cannot see a mismatch and the error surfaces at run time."""
    return ['%s_%d' % (n, k) for k in range(a.ndim)] if dyn else list(a.shape)


def build(name, opset, nodes, feeds, outputs, inits, dyn=False):
    made = []
    for k, (op, ins, outs, attrs) in enumerate(nodes):
        made.append(helper.make_node(op, ins, outs, name='n%d_%s' % (k, op), **attrs))
    gin = [helper.make_tensor_value_info(n, ELEM[str(a.dtype)], gi_dims(n, a, dyn)) for n, a in feeds]
    gout = [helper.make_tensor_value_info(n, ELEM[dt], None) for n, dt in outputs]
    ini = [const_tensor(n, a) for n, a in inits]
    graph = helper.make_graph(made, 'g', gin, gout, ini)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)],
                              producer_name='recurrent tools/onnx')
    model.ir_version = 8
    return model.SerializeToString()


def add_glue(CASES, g, slug, desc, opset, nodes, feeds, outputs, inits=(), ref=None, error=False, dyn=False):
    """feeds: [(name, array)]; outputs: [(name, dtype)]; inits: [(name, array)];
    ref(dict name -> array) -> dict output -> array (NumPy reference)."""
    name = g.next_name('glue', slug)
    feeds = [(n, np.asarray(a)) for n, a in feeds]
    mb = build(name, opset, nodes, feeds, outputs, inits, dyn)
    op_types = sorted(set(n[0] for n in nodes))
    outs = [n for n, _ in outputs]

    def finalize(results, out_dir):
        r = results[name]
        j = {'schema_version': 1, 'name': name, 'family': 'glue', 'description': desc, 'op': 'graph',
             'opset': opset, 'ir_version': 8, 'onnxruntime_version': None,
             'model_file': name + '.onnx', 'model_sha256': sha256(mb), 'op_types': op_types,
             'graph_inputs': [{'name': n, 'dtype': str(a.dtype), 'dims': gi_dims(n, a, dyn)} for n, a in feeds],
             'graph_outputs': [{'name': n, 'dtype': dt} for n, dt in outputs],
             'initializers': [n for n, _ in inits],
             'inputs': {n: tensor_json(a) for n, a in feeds}}
        if error:
            if 'error' not in r:
                g.STATE['skipped'].append('%s (%s): onnxruntime accepted it' % (name, desc))
                g.warn('%s: onnxruntime did NOT refuse (%s); case not written' % (name, desc))
                return None
            j['expect_error'] = r['error']
            return mb, j
        if 'error' in r:
            g.warn('%s: onnxruntime refused a valid glue case: %s' % (name, r['error']))
            return None
        got = {}
        for n, dt in outputs:
            o = r['outputs'][n]
            if o['dtype'] != dt:
                g.warn('%s: output %s is %s, declared %s' % (name, n, o['dtype'], dt))
            got[n] = np.asarray(o['data'], np.float32 if dt == 'float32' else np.dtype(dt)).reshape(o['shape'])
        agrees = None
        if ref is not None:
            want = ref({n: a for n, a in feeds})
            agrees = True
            for n, dt in outputs:
                w = np.asarray(want[n])
                if w.shape != got[n].shape:
                    agrees = False
                elif dt == 'float32':
                    if w.size and np.max(np.abs(w.astype(np.float64) - got[n].astype(np.float64))) > 1e-5:
                        agrees = False
                elif not np.array_equal(w.astype(np.int64), got[n].astype(np.int64)):
                    agrees = False
                if not agrees:
                    g.warn('%s: NumPy reference differs on %s: onnxruntime %s %s, numpy %s %s'
                           % (name, n, got[n].shape, got[n].reshape(-1)[:12], w.shape, w.reshape(-1)[:12]))
                    break
        j['outputs'] = {n: tensor_json(got[n], dt) for n, dt in outputs}
        j['outputs_source'] = 'onnxruntime'
        j['integer_outputs'] = [n for n, dt in outputs if dt != 'float32']
        j['tolerance'] = g.TOL
        j['numpy_agrees'] = agrees
        return mb, j
    CASES.append({'name': name, 'family': 'glue', 'case': None, 'finalize': finalize,
                  'jobs': [{'id': name, 'model': mb, 'feeds': {n: feed_json(a) for n, a in feeds}, 'outputs': outs}]})


def _topk(x, k, axis, largest):
    xm = np.moveaxis(x, axis, -1)
    # ties: lower index first (stable sort of -x for largest, x for smallest)
    idx = np.argsort(-xm if largest else xm, axis=-1, kind='stable')[..., :k]
    val = np.take_along_axis(xm, idx, -1)
    return np.moveaxis(val, -1, axis), np.moveaxis(idx, -1, axis).astype(np.int64)


def glue_cases(CASES, STATE, g):
    rng = np.random.RandomState(20240501)

    def U(*shape, s=1.0):
        return rng.uniform(-s, s, size=shape).astype(np.float32)

    A = lambda *a, **k: add_glue(CASES, g, *a, **k)  # noqa: E731
    F, I64 = 'float32', 'int64'

    # ---- Transpose
    x = U(2, 3, 4)
    A('transpose_perm', 'Transpose perm [2,0,1] of [2,3,4]', 13,
      [N('Transpose', ['x'], ['y'], perm=[2, 0, 1])], [('x', x)], [('y', F)],
      ref=lambda v: {'y': v['x'].transpose(2, 0, 1)})
    A('transpose_default_opset7', 'Transpose without perm (reverses the axes), opset 7', 7,
      [N('Transpose', ['x'], ['y'])], [('x', U(2, 3, 4))], [('y', F)],
      ref=lambda v: {'y': v['x'].transpose()})

    # ---- Squeeze / Unsqueeze
    A('squeeze_attr_neg_opset11', 'Squeeze axes attribute [0,-2] (negative axes from opset 11) of [1,3,1,2]', 11,
      [N('Squeeze', ['x'], ['y'], axes=[0, -2])], [('x', U(1, 3, 1, 2))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(3, 2)})
    A('squeeze_attr_opset7', 'Squeeze-1 axes attribute [2] of [2,3,1]', 7,
      [N('Squeeze', ['x'], ['y'], axes=[2])], [('x', U(2, 3, 1))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, :, 0]})
    A('squeeze_input_opset13', 'Squeeze-13 with axes as a fed int64 input [-1] of [2,3,1]', 13,
      [N('Squeeze', ['x', 'axes'], ['y'])], [('x', U(2, 3, 1)), ('axes', i64([-1]))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, :, 0]})
    A('squeeze_no_axes', 'Squeeze-13 without axes: drops every 1 of [1,2,1,3,1]', 13,
      [N('Squeeze', ['x'], ['y'])], [('x', U(1, 2, 1, 3, 1))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(2, 3)})
    A('unsqueeze_attr_opset9', 'Unsqueeze-1 axes attribute [0,3] of [2,3] -> [1,2,3,1]', 9,
      [N('Unsqueeze', ['x'], ['y'], axes=[0, 3])], [('x', U(2, 3))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(1, 2, 3, 1)})
    A('unsqueeze_input_neg_opset13', 'Unsqueeze-13 axes input [-1,1] (of the output rank 4) of [2,3] -> [2,1,3,1]', 13,
      [N('Unsqueeze', ['x', 'axes'], ['y'])], [('x', U(2, 3)), ('axes', i64([-1, 1]))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(2, 1, 3, 1)})

    # ---- Concat
    A('concat_neg_axis', 'Concat axis -1 of [2,3], [2,1], [2,2]', 13,
      [N('Concat', ['a', 'b', 'c'], ['y'], axis=-1)], [('a', U(2, 3)), ('b', U(2, 1)), ('c', U(2, 2))], [('y', F)],
      ref=lambda v: {'y': np.concatenate([v['a'], v['b'], v['c']], -1)})
    A('concat_int64', 'Concat axis 0 of int64 [2] and [3] (opset 7), plus Cast to float', 7,
      [N('Concat', ['a', 'b'], ['y'], axis=0), N('Cast', ['y'], ['yf'], to=TensorProto.FLOAT)],
      [('a', i64([3, -1])), ('b', i64([0, 7, -9]))], [('y', I64), ('yf', F)],
      ref=lambda v: {'y': np.concatenate([v['a'], v['b']]), 'yf': np.concatenate([v['a'], v['b']]).astype(np.float32)})

    # ---- Slice
    A('slice_attrs_opset7', 'Slice-1 attributes starts [1,0] ends [3,-1] axes [0,1] of [4,5]', 7,
      [N('Slice', ['x'], ['y'], starts=[1, 0], ends=[3, -1], axes=[0, 1])], [('x', U(4, 5))], [('y', F)],
      ref=lambda v: {'y': v['x'][1:3, 0:-1]})
    A('slice_attrs_no_axes_big_end_opset9', 'Slice-1 without axes: starts [-2,1] ends [1000,2147483647] of [4,5]', 9,
      [N('Slice', ['x'], ['y'], starts=[-2, 1], ends=[1000, 2147483647])], [('x', U(4, 5))], [('y', F)],
      ref=lambda v: {'y': v['x'][-2:, 1:]})
    A('slice_inputs_neg_opset10', 'Slice-10 fed int64 starts [-3] ends [-1] axes [1], no steps, of [3,5]', 10,
      [N('Slice', ['x', 's', 'e', 'a'], ['y'])], [('x', U(3, 5)), ('s', i64([-3])), ('e', i64([-1])), ('a', i64([1]))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, -3:-1]})
    A('slice_int32_inputs', 'Slice-13 fed int32 starts [0,1] ends [2,4] axes [-1,0] steps [1,2] of [5,3]', 13,
      [N('Slice', ['x', 's', 'e', 'a', 'st'], ['y'])],
      [('x', U(5, 3)), ('s', i32([0, 1])), ('e', i32([2, 4])), ('a', i32([-1, 0])), ('st', i32([1, 2]))], [('y', F)],
      ref=lambda v: {'y': v['x'][1:4:2, 0:2]})
    A('slice_int64_max_end_no_axes', 'Slice-13 starts [1] ends [INT64_MAX] (initializers), axes omitted -> axis 0, of [4,3]', 13,
      [N('Slice', ['x', 's', 'e'], ['y'])], [('x', U(4, 3))], [('y', F)],
      inits=[('s', i64([1])), ('e', i64([I64MAX]))], ref=lambda v: {'y': v['x'][1:]})
    A('slice_negative_steps', 'Slice-13 starts [-1,-1] ends [INT64_MIN,0] axes [0,1] steps [-1,-2] of [3,5]: full reverse of axis 0, every 2nd of axis 1 down to (excl.) 0', 13,
      [N('Slice', ['x', 's', 'e', 'a', 'st'], ['y'])], [('x', U(3, 5))], [('y', F)],
      inits=[('s', i64([-1, -1])), ('e', i64([I64MIN, 0])), ('a', i64([0, 1])), ('st', i64([-1, -2]))],
      ref=lambda v: {'y': v['x'][::-1, -1:0:-2]})
    A('slice_clamp', 'Slice-11 fed starts [-100,1] ends [100,1000] axes [0,-1] steps [1,2]: out-of-range values clamp', 11,
      [N('Slice', ['x', 's', 'e', 'a', 'st'], ['y'])],
      [('x', U(3, 6)), ('s', i64([-100, 1])), ('e', i64([100, 1000])), ('a', i64([0, -1])), ('st', i64([1, 2]))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, 1::2]})
    A('slice_neg_step_clamp', 'Slice-13 fed starts [10] ends [-10] steps [-2] on a dim of 5: start clamps to 4, end to -1 (before 0)', 13,
      [N('Slice', ['x', 's', 'e', 'a', 'st'], ['y'])],
      [('x', U(2, 5)), ('s', i64([10])), ('e', i64([-10])), ('a', i64([1])), ('st', i64([-2]))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, ::-2]})
    A('slice_empty', 'Slice-13 fed starts [3] ends [1] (step 1): empty result [0,4]', 13,
      [N('Slice', ['x', 's', 'e'], ['y'])], [('x', U(4, 4)), ('s', i64([3])), ('e', i64([1]))], [('y', F)],
      ref=lambda v: {'y': v['x'][3:1]})

    # ---- Gather
    A('gather_axis0_neg_indices', 'Gather axis 0 of [4,3] with int64 indices [[-1,0],[2,-4]] -> [2,2,3]', 13,
      [N('Gather', ['x', 'i'], ['y'], axis=0)], [('x', U(4, 3)), ('i', i64([[-1, 0], [2, -4]]))], [('y', F)],
      ref=lambda v: {'y': v['x'][v['i'] % 4]})
    A('gather_scalar_index_axis1', 'Gather axis 1 of [2,4,3] with a scalar int64 index 2 -> [2,3]', 11,
      [N('Gather', ['x', 'i'], ['y'], axis=1)], [('x', U(2, 4, 3)), ('i', np.int64(2).reshape(()))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, 2]})
    A('gather_neg_axis_int32_indices', 'Gather axis -1 of [2,3] with int32 indices [[2,0,-1]] -> [2,1,3]', 13,
      [N('Gather', ['x', 'i'], ['y'], axis=-1)], [('x', U(2, 3)), ('i', i32([[2, 0, -1]]))], [('y', F)],
      ref=lambda v: {'y': v['x'][:, v['i'] % 3]})
    A('gather_int64_data_opset7', 'Gather-1 of int64 data [5] (Shape-like) with indices [4,0,-2], plus Cast to float', 7,
      [N('Gather', ['x', 'i'], ['y'], axis=0), N('Cast', ['y'], ['yf'], to=TensorProto.FLOAT)],
      [('x', i64([10, -20, 30, -40, 50])), ('i', i64([4, 0, 3]))], [('y', I64), ('yf', F)],
      ref=lambda v: {'y': v['x'][v['i']], 'yf': v['x'][v['i']].astype(np.float32)})

    # ---- Reshape
    A('reshape_zero_minus1', 'Reshape [2,3,4] with fed shape [0,-1] (0 copies, -1 infers) -> [2,12]', 13,
      [N('Reshape', ['x', 's'], ['y'])], [('x', U(2, 3, 4)), ('s', i64([0, -1]))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(2, 12)})
    A('reshape_opset7_minus1_first', 'Reshape-5 [2,3,4] with shape [-1,0,2] (0 copies dim 1) -> [4,3,2]', 7,
      [N('Reshape', ['x', 's'], ['y'])], [('x', U(2, 3, 4)), ('s', i64([-1, 0, 2]))], [('y', F)],
      ref=lambda v: {'y': v['x'].reshape(4, 3, 2)})
    A('reshape_allowzero', 'Reshape-14 of an empty [2,0,3]: allowzero=1 shape [0,6] -> [0,6]; allowzero=0 shape [0,-1] -> [2,0]', 14,
      [N('Reshape', ['x', 's1'], ['y1'], allowzero=1), N('Reshape', ['x', 's0'], ['y0'])],
      [('x', np.zeros((2, 0, 3), np.float32)), ('s1', i64([0, 6])), ('s0', i64([0, -1]))], [('y1', F), ('y0', F)],
      ref=lambda v: {'y1': np.zeros((0, 6), np.float32), 'y0': np.zeros((2, 0), np.float32)})
    A('reshape_allowzero_nonzero', 'Reshape-14 allowzero=1 with shape [3,-1] (no zero) and allowzero=0 with [0,0,-1] of [3,4]', 14,
      [N('Reshape', ['x', 's1'], ['y1'], allowzero=1), N('Reshape', ['x', 's0'], ['y0'])],
      [('x', U(3, 4)), ('s1', i64([3, -1])), ('s0', i64([0, 0, -1]))], [('y1', F), ('y0', F)],
      ref=lambda v: {'y1': v['x'], 'y0': v['x'].reshape(3, 4, 1)})

    # ---- Cast
    xc = f32([-2.7, -0.5, -0.0, 0.5, 2.9, 7.99, -7.99, 123456.7, -1.0])
    A('cast_float_to_ints', 'Cast float -> int32 and -> int64 (truncation toward zero, also of negatives), back to float', 13,
      [N('Cast', ['x'], ['i32'], to=TensorProto.INT32), N('Cast', ['x'], ['i64'], to=TensorProto.INT64),
       N('Cast', ['i32'], ['f'], to=TensorProto.FLOAT)],
      [('x', xc)], [('i32', 'int32'), ('i64', I64), ('f', F)],
      ref=lambda v: {'i32': np.trunc(v['x']).astype(np.int32), 'i64': np.trunc(v['x']).astype(np.int64),
                     'f': np.trunc(v['x']).astype(np.float32)})
    A('cast_ints_opset7', 'Cast-6: int64 -> int32 -> float, int32 -> int64, int64 -> float', 7,
      [N('Cast', ['a'], ['a32'], to=TensorProto.INT32), N('Cast', ['a32'], ['af'], to=TensorProto.FLOAT),
       N('Cast', ['b'], ['b64'], to=TensorProto.INT64), N('Cast', ['a'], ['af2'], to=TensorProto.FLOAT)],
      [('a', i64([-5, 0, 7, 1000000])), ('b', i32([-3, 4]))], [('af', F), ('b64', I64), ('af2', F)],
      ref=lambda v: {'af': v['a'].astype(np.float32), 'b64': v['b'].astype(np.int64), 'af2': v['a'].astype(np.float32)})

    # ---- Identity / Constant
    A('constant_forms', 'Constant value (tensor), value_float, value_floats, value_int, value_ints (opset 13), Identity; added to / concatenated with fed inputs', 13,
      [N('Constant', [], ['c_t'], value=const_tensor('c_t', f32([[1.5, -2.0, 0.25]]))),
       N('Constant', [], ['c_f'], value_float=0.5),
       N('Constant', [], ['c_fs'], value_floats=[1.0, 2.0, 3.0]),
       N('Constant', [], ['c_i'], value_int=7),
       N('Constant', [], ['c_is'], value_ints=[-1, 2]),
       N('Identity', ['x'], ['xi']),
       N('Add', ['xi', 'c_t'], ['s1']), N('Mul', ['s1', 'c_f'], ['s2']), N('Sub', ['s2', 'c_fs'], ['yf']),
       N('Add', ['n', 'c_i'], ['t1']), N('Concat', ['t1', 'c_is'], ['yi'], axis=0),
       N('Cast', ['yi'], ['yif'], to=TensorProto.FLOAT)],
      [('x', U(2, 3)), ('n', i64([3, -10]))], [('yf', F), ('yi', I64), ('yif', F)],
      ref=lambda v: {'yf': (v['x'] + f32([[1.5, -2.0, 0.25]])) * np.float32(0.5) - f32([1, 2, 3]),
                     'yi': np.concatenate([v['n'] + 7, [-1, 2]]),
                     'yif': np.concatenate([v['n'] + 7, [-1, 2]]).astype(np.float32)})
    A('constant_value_opset7_identity', 'Constant-1 value tensor (int64) and Identity-1 at opset 7, Reshape of a fed input by it', 7,
      [N('Constant', [], ['shp'], value=const_tensor('shp', i64([3, 2]))), N('Identity', ['shp'], ['shp2']),
       N('Reshape', ['x', 'shp2'], ['y']), N('Identity', ['y'], ['z'])],
      [('x', U(2, 3))], [('z', F)], ref=lambda v: {'z': v['x'].reshape(3, 2)})

    # ---- Shape
    A('shape_start_end', 'Shape-15 of [2,3,4,5]: no attributes, start 1 end -1, start -2, start -10 end 100 (clamped), start 3 end 1 (empty); each also Cast to float', 15,
      [N('Shape', ['x'], ['s_all']), N('Shape', ['x'], ['s_mid'], start=1, end=-1), N('Shape', ['x'], ['s_tail'], start=-2),
       N('Shape', ['x'], ['s_clamp'], start=-10, end=100), N('Shape', ['x'], ['s_empty'], start=3, end=1),
       N('Cast', ['s_mid'], ['f_mid'], to=TensorProto.FLOAT), N('Cast', ['s_tail'], ['f_tail'], to=TensorProto.FLOAT),
       N('Cast', ['s_all'], ['f_all'], to=TensorProto.FLOAT)],
      [('x', U(2, 3, 4, 5))],
      [('s_all', I64), ('s_mid', I64), ('s_tail', I64), ('s_clamp', I64), ('s_empty', I64), ('f_mid', F), ('f_tail', F), ('f_all', F)],
      ref=lambda v: {'s_all': i64([2, 3, 4, 5]), 's_mid': i64([3, 4]), 's_tail': i64([4, 5]), 's_clamp': i64([2, 3, 4, 5]),
                     's_empty': np.zeros(0, np.int64), 'f_mid': f32([3, 4]), 'f_tail': f32([4, 5]), 'f_all': f32([2, 3, 4, 5])})
    A('shape_opset7_to_float', 'Shape-1 at opset 7, Cast to float, Mul with a fed input', 7,
      [N('Shape', ['x'], ['s']), N('Cast', ['s'], ['sf'], to=TensorProto.FLOAT), N('Mul', ['sf', 'w'], ['y'])],
      [('x', U(3, 1, 4)), ('w', f32([0.5, -1.0, 0.25]))], [('y', F)],
      ref=lambda v: {'y': f32([3, 1, 4]) * v['w']})

    # ---- ConstantOfShape
    A('constantofshape', 'ConstantOfShape of a fed shape [2,3]: value float 1.5, value int64 7, no value (float 0)', 9,
      [N('ConstantOfShape', ['s'], ['cf'], value=const_tensor('v', f32([1.5]))),
       N('ConstantOfShape', ['s'], ['ci'], value=const_tensor('v', i64([7]))),
       N('ConstantOfShape', ['s'], ['cd']), N('Cast', ['ci'], ['cif'], to=TensorProto.FLOAT)],
      [('s', i64([2, 3]))], [('cf', F), ('ci', I64), ('cd', F), ('cif', F)],
      ref=lambda v: {'cf': np.full((2, 3), 1.5, np.float32), 'ci': np.full((2, 3), 7, np.int64),
                     'cd': np.zeros((2, 3), np.float32), 'cif': np.full((2, 3), 7, np.float32)})

    # ---- Expand
    A('expand_both_ways', 'Expand [3,1] to fed shape [2,1,4] -> [2,3,4]; Expand [1,4] to [3,1] -> [3,4]; Expand int64 [2] to [2,2]', 8,
      [N('Expand', ['a', 'sa'], ['ya']), N('Expand', ['b', 'sb'], ['yb']), N('Expand', ['c', 'sc'], ['yc'])],
      [('a', U(3, 1)), ('sa', i64([2, 1, 4])), ('b', U(1, 4)), ('sb', i64([3, 1])), ('c', i64([5, -6])), ('sc', i64([2, 2]))],
      [('ya', F), ('yb', F), ('yc', I64)],
      ref=lambda v: {'ya': np.broadcast_to(v['a'], (2, 3, 4)), 'yb': np.broadcast_to(v['b'], (3, 4)),
                     'yc': np.broadcast_to(v['c'], (2, 2))})

    # ---- Add / Sub / Mul / Div
    A('arith_broadcast_float', 'Add [2,3]+[3], Sub [2,1]-[2,3], Mul [2,3]*scalar, Div [2,3]/[2,1] (float broadcasting)', 14,
      [N('Add', ['a', 'b'], ['add']), N('Sub', ['c', 'a'], ['sub']), N('Mul', ['a', 's'], ['mul']), N('Div', ['a', 'c'], ['div'])],
      [('a', U(2, 3)), ('b', U(3)), ('c', f32([[0.5], [-2.0]])), ('s', np.float32(-1.25).reshape(()))],
      [('add', F), ('sub', F), ('mul', F), ('div', F)],
      ref=lambda v: {'add': v['a'] + v['b'], 'sub': v['c'] - v['a'], 'mul': v['a'] * v['s'], 'div': v['a'] / v['c']})
    A('arith_int64_div_negative', 'int64 Div of negatives ([-7,7,-7,7,-1,1,-6,0] / [2,-2,-2,2,3,-3,3,5]), Sub, Mul, Add with broadcasting; int32 Div too; Cast to float', 13,
      [N('Div', ['a', 'b'], ['div']), N('Sub', ['a', 'b'], ['sub']), N('Mul', ['a', 'k'], ['mul']), N('Add', ['a', 'k'], ['add']),
       N('Div', ['c', 'd'], ['div32']), N('Cast', ['div'], ['divf'], to=TensorProto.FLOAT)],
      [('a', i64([-7, 7, -7, 7, -1, 1, -6, 0])), ('b', i64([2, -2, -2, 2, 3, -3, 3, 5])), ('k', i64([-3])),
       ('c', i32([-9, 9, -1])), ('d', i32([4, -4, 2]))],
      [('div', I64), ('sub', I64), ('mul', I64), ('add', I64), ('div32', 'int32'), ('divf', F)],
      ref=lambda v: {'div': (np.trunc(v['a'] / v['b'])).astype(np.int64), 'sub': v['a'] - v['b'], 'mul': v['a'] * -3,
                     'add': v['a'] - 3, 'div32': np.trunc(v['c'] / v['d']).astype(np.int32),
                     'divf': np.trunc(v['a'] / v['b']).astype(np.float32)})
    A('arith_opset7_broadcast', 'Add-7 / Mul-7 / Div-7 / Sub-7 multidirectional broadcasting [2,1,3] with [4,1]', 7,
      [N('Add', ['a', 'b'], ['add']), N('Mul', ['a', 'b'], ['mul']), N('Sub', ['b', 'a'], ['sub']), N('Div', ['a', 'b'], ['div'])],
      [('a', U(2, 1, 3)), ('b', f32([[1.0], [-0.5], [2.0], [4.0]]))], [('add', F), ('mul', F), ('sub', F), ('div', F)],
      ref=lambda v: {'add': v['a'] + v['b'], 'mul': v['a'] * v['b'], 'sub': v['b'] - v['a'], 'div': v['a'] / v['b']})

    # ---- MatMul / Gemm
    A('matmul_rank3_rank2', 'MatMul [2,3,4] x [4,5] (B fed)', 13,
      [N('MatMul', ['a', 'b'], ['y'])], [('a', U(2, 3, 4)), ('b', U(4, 5))], [('y', F)],
      ref=lambda v: {'y': v['a'] @ v['b']})
    A('matmul_initializer_add', 'MatMul [4,2,3] x W [3,2] (initializer) + bias (Add): nn.Linear', 9,
      [N('MatMul', ['a', 'w'], ['m']), N('Add', ['m', 'bias'], ['y'])], [('a', U(4, 2, 3))], [('y', F)],
      inits=[('w', f32([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.125]])), ('bias', f32([0.1, -0.2]))],
      ref=lambda v: {'y': v['a'] @ f32([[0.5, -1.0], [0.25, 2.0], [-0.75, 0.125]]) + f32([0.1, -0.2])})
    A('gemm_trans_alpha_beta', 'Gemm transA=1 transB=1 alpha=0.5 beta=-2: A [3,2], B [4,3], C [4] (broadcast from [N])', 13,
      [N('Gemm', ['a', 'b', 'c'], ['y'], transA=1, transB=1, alpha=0.5, beta=-2.0)],
      [('a', U(3, 2)), ('b', U(4, 3)), ('c', U(4))], [('y', F)],
      ref=lambda v: {'y': 0.5 * (v['a'].T @ v['b'].T) - 2.0 * v['c']})
    A('gemm_scalar_c_opset7', 'Gemm-7 A [2,3] B [3,4] C scalar [] (broadcast), beta 1.5', 7,
      [N('Gemm', ['a', 'b', 'c'], ['y'], beta=1.5)],
      [('a', U(2, 3)), ('b', U(3, 4)), ('c', np.float32(0.75).reshape(()))], [('y', F)],
      ref=lambda v: {'y': v['a'] @ v['b'] + 1.5 * v['c']})
    A('gemm_no_c_col_c', 'Gemm-13 without C (transB=1) and with C [2,1] (column broadcast, transA=0)', 13,
      [N('Gemm', ['a', 'b'], ['y0'], transB=1), N('Gemm', ['a', 'bt', 'c'], ['y1'], alpha=-1.0)],
      [('a', U(2, 3)), ('b', U(4, 3)), ('bt', U(3, 4)), ('c', f32([[1.0], [-1.0]]))], [('y0', F), ('y1', F)],
      ref=lambda v: {'y0': v['a'] @ v['b'].T, 'y1': -(v['a'] @ v['bt']) + v['c']})

    # ---- Range
    A('range_float_int', 'Range-11 float (0.5, 3.1, 0.7) -> 4 values; int64 (10, -3, -4) -> [10,6,2,-2]; int64 empty (0, 5, -1)', 11,
      [N('Range', ['s', 'l', 'd'], ['rf']), N('Range', ['si', 'li', 'di'], ['ri']), N('Range', ['z', 'five', 'm1'], ['re']),
       N('Cast', ['ri'], ['rif'], to=TensorProto.FLOAT)],
      [('s', np.float32(0.5).reshape(())), ('l', np.float32(3.1).reshape(())), ('d', np.float32(0.7).reshape(())),
       ('si', np.int64(10).reshape(())), ('li', np.int64(-3).reshape(())), ('di', np.int64(-4).reshape(())),
       ('z', np.int64(0).reshape(())), ('five', np.int64(5).reshape(())), ('m1', np.int64(-1).reshape(()))],
      [('rf', F), ('ri', I64), ('re', I64), ('rif', F)],
      ref=lambda v: {'rf': np.float32(0.5) + np.arange(4, dtype=np.float32) * np.float32(0.7), 'ri': i64([10, 6, 2, -2]),
                     're': np.zeros(0, np.int64), 'rif': f32([10, 6, 2, -2])})

    # ---- ReduceProd
    xr = f32([[[1, 2, -1, 0.5], [3, 0.5, 2, -2], [1.5, -1, 1, 4]], [[2, 2, 2, 2], [-1, 1, -1, 1], [0.25, 4, 3, 1]]])
    A('reduceprod_attr_opset13', 'ReduceProd-13 axes attribute: [1] keepdims 0; [-1] keepdims 1; no axes (all, keepdims 1)', 13,
      [N('ReduceProd', ['x'], ['p1'], axes=[1], keepdims=0), N('ReduceProd', ['x'], ['p2'], axes=[-1]),
       N('ReduceProd', ['x'], ['p3'])],
      [('x', xr)], [('p1', F), ('p2', F), ('p3', F)],
      ref=lambda v: {'p1': np.prod(v['x'], 1), 'p2': np.prod(v['x'], -1, keepdims=True), 'p3': np.prod(v['x'], keepdims=True)})
    A('reduceprod_input_opset18', 'ReduceProd-18 axes input [0,2] keepdims 1; empty axes + noop_with_empty_axes=1 (identity); no axes keepdims 0 (scalar); int64 data axes [1]', 18,
      [N('ReduceProd', ['x', 'ax'], ['p1']), N('ReduceProd', ['x', 'empty'], ['p2'], noop_with_empty_axes=1),
       N('ReduceProd', ['x'], ['p3'], keepdims=0), N('ReduceProd', ['n', 'ax1'], ['p4'], keepdims=0)],
      [('x', xr), ('ax', i64([0, 2])), ('empty', np.zeros(0, np.int64)), ('n', i64([[2, -3, 4], [5, 1, -1]])), ('ax1', i64([1]))],
      [('p1', F), ('p2', F), ('p3', F), ('p4', I64)],
      ref=lambda v: {'p1': np.prod(v['x'], (0, 2), keepdims=True), 'p2': v['x'], 'p3': np.prod(v['x']).reshape(()),
                     'p4': i64([-24, -5])})

    # ---- ScatterElements
    def scatter_ref(v):
        out = v['x'].copy()
        for r in range(3):
            for c in range(2):
                out[r, v['i'][r, c] % 4] = v['u'][r, c]
        return {'y': out}
    A('scatterelements_axis1_neg', 'ScatterElements-13 axis 1 of [3,4], indices [[-1,0],[1,-3],[2,3]] (negative), updates [3,2]', 13,
      [N('ScatterElements', ['x', 'i', 'u'], ['y'], axis=1)],
      [('x', U(3, 4)), ('i', i64([[-1, 0], [1, -3], [2, 3]])), ('u', U(3, 2, s=5.0))], [('y', F)], ref=scatter_ref)
    A('scatterelements_axis0_int64', 'ScatterElements-11 axis -2 (=0) of int64 [3,2] with int32 indices [[2,0]] and updates [[7,-8]] (torch unsort pattern), Cast to float', 11,
      [N('ScatterElements', ['x', 'i', 'u'], ['y'], axis=-2), N('Cast', ['y'], ['yf'], to=TensorProto.FLOAT)],
      [('x', i64([[1, 2], [3, 4], [5, 6]])), ('i', i32([[2, 0]])), ('u', i64([[7, -8]]))], [('y', I64), ('yf', F)],
      ref=lambda v: {'y': i64([[1, -8], [3, 4], [7, 6]]), 'yf': f32([[1, -8], [3, 4], [7, 6]])})

    # ---- TopK
    xt = f32([[3, 1, 3, 2, 1, 3], [0, -1, 0, 5, -1, 5]])
    A('topk_largest_ties', 'TopK-11 K=4 (fed) axis -1 largest=1 with ties: equal values in ascending index order; indices Cast to float', 11,
      [N('TopK', ['x', 'k'], ['v', 'i'], axis=-1), N('Cast', ['i'], ['if'], to=TensorProto.FLOAT)],
      [('x', xt), ('k', i64([4]))], [('v', F), ('i', I64), ('if', F)],
      ref=lambda v: dict(zip(('v', 'i'), _topk(v['x'], 4, -1, True)), **{'if': _topk(v['x'], 4, -1, True)[1].astype(np.float32)}))
    A('topk_smallest_axis0_ties', 'TopK-11 K=2 axis 0 largest=0 of [4,3] with ties', 11,
      [N('TopK', ['x', 'k'], ['v', 'i'], axis=0, largest=0), N('Cast', ['i'], ['if'], to=TensorProto.FLOAT)],
      [('x', f32([[2, 1, 0], [1, 1, 0], [2, 0, 0], [1, 3, -1]])), ('k', i64([2]))], [('v', F), ('i', I64), ('if', F)],
      ref=lambda v: dict(zip(('v', 'i'), _topk(v['x'], 2, 0, False)), **{'if': _topk(v['x'], 2, 0, False)[1].astype(np.float32)}))
    A('topk_opset10_k_input', 'TopK-10 (K input, no largest attribute) K=3 axis 1 of [2,5]', 10,
      [N('TopK', ['x', 'k'], ['v', 'i'], axis=1)], [('x', U(2, 5)), ('k', i64([3]))], [('v', F), ('i', I64)],
      ref=lambda v: dict(zip(('v', 'i'), _topk(v['x'], 3, 1, True))))
    A('topk_opset7_k_attr', 'TopK-1 (k attribute 2, default axis -1) of [3,4]', 7,
      [N('TopK', ['x'], ['v', 'i'], k=2), N('Cast', ['i'], ['if'], to=TensorProto.FLOAT)],
      [('x', U(3, 4))], [('v', F), ('if', F)],
      ref=lambda v: {'v': _topk(v['x'], 2, -1, True)[0], 'if': _topk(v['x'], 2, -1, True)[1].astype(np.float32)})

    # ---- torch-like runtime shape pattern feeding an LSTM state
    H, I, T, Bn = 3, 2, 4, 3
    r = np.random.RandomState(7)
    W = r.uniform(-0.6, 0.6, (1, 4 * H, I)).astype(np.float32)
    R = r.uniform(-0.6, 0.6, (1, 4 * H, H)).astype(np.float32)
    Bb = r.uniform(-0.4, 0.4, (1, 8 * H)).astype(np.float32)

    def lstm_ref(X, W_, R_, B_, h0=None, c0=None, op='LSTM', H_=H):
        out = ref64.run(op, {'hidden_size': H_}, X.astype(np.float64), W_.astype(np.float64), R_.astype(np.float64),
                        B_.astype(np.float64), None, None if h0 is None else h0.astype(np.float64),
                        None if c0 is None else c0.astype(np.float64))
        return out
    A('runtime_shape_to_lstm_state', 'torch pattern at run time: Shape(X) -> Gather 1 -> Unsqueeze -> Concat [1, batch, H] -> ConstantOfShape / Expand -> LSTM initial_h / initial_c; Y squeezed, Y_h Transposed', 13,
      [N('Shape', ['X'], ['sx']), N('Constant', [], ['one'], value=const_tensor('one', np.int64(1).reshape(()))),
       N('Gather', ['sx', 'one'], ['batch'], axis=0), N('Constant', [], ['ax0'], value=const_tensor('ax0', i64([0]))),
       N('Unsqueeze', ['batch', 'ax0'], ['batch1']), N('Concat', ['nd', 'batch1', 'hs'], ['shp'], axis=0),
       N('ConstantOfShape', ['shp'], ['h0'], value=const_tensor('v', f32([0.25]))),
       N('Expand', ['c0v', 'shp'], ['c0']),
       N('LSTM', ['X', 'W', 'R', 'B', '', 'h0', 'c0'], ['Y', 'Y_h'], hidden_size=H),
       N('Squeeze', ['Y', 'ax1'], ['Ys']), N('Transpose', ['Y_h'], ['Yh_t'], perm=[1, 0, 2])],
      [('X', U(T, Bn, I))], [('Ys', F), ('Yh_t', F)],
      inits=[('W', W), ('R', R), ('B', Bb), ('nd', i64([1])), ('hs', i64([H])), ('c0v', f32([-0.5, 0.0, 0.5])), ('ax1', i64([1]))],
      ref=lambda v: (lambda o: {'Ys': o['Y'][:, 0], 'Yh_t': o['Y_h'].transpose(1, 0, 2)})(
          lstm_ref(v['X'], W, R, Bb, np.full((1, Bn, H), 0.25, np.float32), np.broadcast_to(f32([-0.5, 0.0, 0.5]), (1, Bn, H)))))

    # ---- folded at load: everything but X is an initializer / Constant
    # W built from a [I, 4H] initializer: Transpose -> Unsqueeze; R from Reshape of a flat Constant; B from Concat.
    Wt = W[0].T.copy()
    A('folded_lstm_weights', 'folded at load: LSTM W = Unsqueeze(Transpose(Wt)), R = Reshape(Constant flat, [1,-1,3]), B = Concat(Wb, Mul(Rb, 1)) from initializers / Constants; only X fed', 13,
      [N('Transpose', ['Wt'], ['W2']), N('Unsqueeze', ['W2', 'ax0'], ['W']),
       N('Constant', [], ['Rflat'], value=const_tensor('Rflat', R.reshape(-1))),
       N('Reshape', ['Rflat', 'rshape'], ['R']),
       N('Mul', ['Rb', 'onef'], ['Rb1']), N('Concat', ['Wb', 'Rb1'], ['B'], axis=1),
       N('LSTM', ['X', 'W', 'R', 'B'], ['Y', 'Y_h', 'Y_c'], hidden_size=H)],
      [('X', U(T, Bn, I))], [('Y', F), ('Y_h', F), ('Y_c', F)],
      inits=[('Wt', Wt), ('ax0', i64([0])), ('rshape', i64([1, -1, H])), ('Wb', Bb[:, :4 * H].copy()),
             ('Rb', Bb[:, 4 * H:].copy()), ('onef', np.float32(1.0).reshape(()))],
      ref=lambda v: (lambda o: {'Y': o['Y'], 'Y_h': o['Y_h'], 'Y_c': o['Y_c']})(lstm_ref(v['X'], W, R, Bb)))
    # initial_h from Slice + Gather + Cast + Div of constants; W from Gather of a stacked [2, 4H, I] initializer
    Wstack = np.stack([W[0], W[0][::-1].copy()])
    hsrc = r.uniform(-1, 1, (5, Bn, H)).astype(np.float32)
    h0 = (hsrc[1:2] / np.float32(2.0)).astype(np.float32)
    A('folded_lstm_state_slice_gather', 'folded at load: LSTM W = Gather(stack, [0]) (axis 0), initial_h = Div(Slice(src, [1],[2]), Cast(int64 2 -> float)), initial_c = Expand(Constant value_floats, [1,B,H]) (opset 13 Constant value_floats); only X fed', 13,
      [N('Gather', ['Wstack', 'idx0'], ['W'], axis=0),
       N('Slice', ['hsrc', 's1', 'e2'], ['hs']), N('Cast', ['two'], ['twof'], to=TensorProto.FLOAT),
       N('Div', ['hs', 'twof'], ['h0']),
       N('Constant', [], ['cv'], value_floats=[0.3, -0.3, 0.1]),
       N('Expand', ['cv', 'cshape'], ['c0']),
       N('LSTM', ['X', 'W', 'R', 'B', '', 'h0', 'c0'], ['Y', 'Y_h', 'Y_c'], hidden_size=H)],
      [('X', U(T, Bn, I))], [('Y', F), ('Y_h', F), ('Y_c', F)],
      inits=[('Wstack', Wstack), ('idx0', i64([0])), ('hsrc', hsrc), ('s1', i64([1])), ('e2', i64([2])),
             ('two', np.int64(2).reshape(())), ('cshape', i64([1, Bn, H])), ('R', R), ('B', Bb)],
      ref=lambda v: lstm_ref(v['X'], W, R, Bb, h0, np.broadcast_to(f32([0.3, -0.3, 0.1]), (1, Bn, H))))
    Wg = r.uniform(-0.6, 0.6, (1, 3 * H, I)).astype(np.float32)
    Rg = r.uniform(-0.6, 0.6, (1, 3 * H, H)).astype(np.float32)
    Wgt = Wg[0].T.copy()
    A('folded_gru_gemm_weights_opset9', 'folded at load (opset 9): GRU W = Unsqueeze(Gemm(Wt, I, transA=1)) with attribute axes, R = Squeeze(Unsqueeze) round trip, initial_h = Mul(ConstantOfShape(Shape(Constant)), 0.5); only X fed', 9,
      [N('Gemm', ['Wgt', 'eye', 'zc'], ['Wg2'], transA=1), N('Unsqueeze', ['Wg2'], ['W'], axes=[0]),
       N('Unsqueeze', ['Rg'], ['Rg4'], axes=[3]), N('Squeeze', ['Rg4'], ['R'], axes=[3]),
       N('Constant', [], ['proto'], value=const_tensor('proto', np.zeros((1, Bn, H), np.float32))),
       N('Shape', ['proto'], ['hshape']), N('ConstantOfShape', ['hshape'], ['ones'], value=const_tensor('v', f32([1.0]))),
       N('Mul', ['ones', 'half'], ['h0']),
       N('GRU', ['X', 'W', 'R', '', '', 'h0'], ['Y', 'Y_h'], hidden_size=H)],
      [('X', U(T, Bn, I))], [('Y', F), ('Y_h', F)],
      inits=[('Wgt', Wgt), ('eye', np.eye(I, dtype=np.float32)), ('zc', np.float32(0).reshape(())), ('Rg', Rg),
             ('half', np.float32(0.5).reshape(()))],
      ref=lambda v: (lambda o: {'Y': o['Y'], 'Y_h': o['Y_h']})(
          ref64.run('GRU', {'hidden_size': H}, v['X'].astype(np.float64), Wg.astype(np.float64), Rg.astype(np.float64),
                    None, None, np.full((1, Bn, H), 0.5))))

    # ---- errors
    E = lambda *a, **k: add_glue(CASES, g, *a, error=True, **k)  # noqa: E731
    E('error_reshape_impossible', 'Reshape [2,3] to fed shape [4,-1] (6 elements not divisible by 4)', 13,
      [N('Reshape', ['x', 's'], ['y'])], [('x', U(2, 3)), ('s', i64([4, -1]))], [('y', F)])
    E('error_reshape_count', 'Reshape [2,3] to fed shape [4,2] (8 elements, not 6)', 13,
      [N('Reshape', ['x', 's'], ['y'])], [('x', U(2, 3)), ('s', i64([4, 2]))], [('y', F)])
    E('error_gather_out_of_range', 'Gather axis 0 of [3,2] with fed index 3', 13,
      [N('Gather', ['x', 'i'], ['y'], axis=0)], [('x', U(3, 2)), ('i', i64([0, 3]))], [('y', F)])
    E('error_gather_negative_out_of_range', 'Gather axis 1 of [2,3] with fed index -4', 13,
      [N('Gather', ['x', 'i'], ['y'], axis=1)], [('x', U(2, 3)), ('i', i64([-4]))], [('y', F)])
    E('error_concat_mismatch', 'Concat axis 1 of [2,3] and [3,3] (non-axis dims differ)', 13,
      [N('Concat', ['a', 'b'], ['y'], axis=1)], [('a', U(2, 3)), ('b', U(3, 3))], [('y', F)])
    E('error_concat_mismatch_dynamic', 'Concat axis 1 of [2,3] and [3,3], inputs declared with dim_param dims (refused at run)', 13,
      [N('Concat', ['a', 'b'], ['y'], axis=1)], [('a', U(2, 3)), ('b', U(3, 3))], [('y', F)], dyn=True)
    E('error_squeeze_non1_axis', 'Squeeze-13 axes [0] (fed) of [2,3]: dim 2 is not 1', 13,
      [N('Squeeze', ['x', 'a'], ['y'])], [('x', U(2, 3)), ('a', i64([0]))], [('y', F)])
    E('error_squeeze_non1_axis_attr', 'Squeeze-11 axes attribute [1] of [2,3]: dim 3 is not 1', 11,
      [N('Squeeze', ['x'], ['y'], axes=[1])], [('x', U(2, 3))], [('y', F)])
    E('error_expand_incompatible', 'Expand [3] to fed shape [2,4] (3 vs 4)', 13,
      [N('Expand', ['x', 's'], ['y'])], [('x', U(3)), ('s', i64([2, 4]))], [('y', F)])
    E('error_slice_step_zero', 'Slice-13 fed steps [0]', 13,
      [N('Slice', ['x', 's', 'e', 'a', 'st'], ['y'])],
      [('x', U(4)), ('s', i64([0])), ('e', i64([4])), ('a', i64([0])), ('st', i64([0]))], [('y', F)])
    E('error_topk_k_too_large', 'TopK-11 K=5 (fed) on an axis of 4', 11,
      [N('TopK', ['x', 'k'], ['v', 'i'])], [('x', U(2, 4)), ('k', i64([5]))], [('v', F), ('i', I64)])
    E('error_matmul_mismatch', 'MatMul [2,3] x [4,2] (inner dims differ)', 13,
      [N('MatMul', ['a', 'b'], ['y'])], [('a', U(2, 3)), ('b', U(4, 2))], [('y', F)])
    E('error_squeeze_non1_axis_attr_dynamic', 'Squeeze-11 axes attribute [1] of [2,3] declared with dim_param dims (refused at run)', 11,
      [N('Squeeze', ['x'], ['y'], axes=[1])], [('x', U(2, 3))], [('y', F)], dyn=True)
    E('error_int_div_by_zero', 'int64 Div by a fed 0 (onnxruntime checks: "Integer division by zero")', 13,
      [N('Div', ['a', 'b'], ['y'])], [('a', i64([5, 6])), ('b', i64([1, 0]))], [('y', I64)])
