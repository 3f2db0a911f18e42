// Shared helpers of the TF.js golden-case generators (generate_cases.js,
// generate_grad_cases.js): the quiet TF.js import, the seeded PRNG, the float32
// JSON serialisation, layer construction from a spec and the `resolved` read-back.
'use strict';

// TF.js prints a banner about tfjs-node and warns about `unroll`; keep the
// console quiet but fail loudly on anything unexpected.
const EXPECTED_WARNINGS = [
  /looks like you are running TensorFlow\.js in Node\.js/,
  /Ignoring unroll = true/,
  /Orthogonal initializer is being called on a matrix with more than 2000/,
  /the unroll = true option is not applicable/,
];
const origWarn = console.warn;
console.warn = (...args) => {
  const msg = args.join(' ');
  if (EXPECTED_WARNINGS.some(re => re.test(msg))) return;
  origWarn(...args);
};
const origLog = console.log;
console.log = (...args) => {
  const msg = args.join(' ');
  if (/looks like you are running TensorFlow\.js in Node\.js|^=+$/.test(msg.trim())) return;
  origLog(...args);
};

const tf = require('@tensorflow/tfjs');

const TFJS_VERSION = '4.22.0';

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return function() {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function fnv1a(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
function uniformArray(rng, n, r) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.fround((2 * rng() - 1) * r);
  return a;
}
const prod = shape => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------
// JSON output (1-space indent, arrays of scalars on one line, float32 data as
// the shortest decimal that round-trips to the same float32, -0 as 0)
// ---------------------------------------------------------------------------
class F32 {
  constructor(arr) { this.a = Float32Array.from(arr); }
}
// one float32 number, written like a tensor element (shortest round-trip)
class F32Num {
  constructor(v) { this.v = Math.fround(v); }
}
function f32str(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite value ${v}`);
  if (v === 0) return '0';
  for (let p = 1; p <= 9; p++) {
    const n = Number(v.toPrecision(p));
    if (Math.fround(n) === v) return String(n);
  }
  throw new Error(`cannot format ${v}`);
}
function ser(v, ind) {
  const pad = ' '.repeat(ind);
  if (v instanceof F32) return '[' + Array.from(v.a, f32str).join(',') + ']';
  if (v instanceof F32Num) return f32str(v.v);
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
    return String(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every(e => e === null || typeof e !== 'object')) {
      return '[' + v.map(e => ser(e, 0)).join(',') + ']';
    }
    return '[\n' + v.map(e => pad + ' ' + ser(e, ind + 1)).join(',\n') + '\n' + pad + ']';
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v).filter(k => v[k] !== undefined);
    if (keys.length === 0) return '{}';
    return '{\n' +
        keys.map(k => pad + ' ' + JSON.stringify(k) + ': ' + ser(v[k], ind + 1)).join(',\n') +
        '\n' + pad + '}';
  }
  throw new Error(`cannot serialize ${typeof v}`);
}

// ---------------------------------------------------------------------------
// Layer construction from a spec (config passed verbatim)
// ---------------------------------------------------------------------------
const clone = o => JSON.parse(JSON.stringify(o));

function buildCell(spec) {
  const cfg = clone(spec.config);
  switch (spec.class_name) {
    case 'SimpleRNNCell': return tf.layers.simpleRNNCell(cfg);
    case 'GRUCell': return tf.layers.gruCell(cfg);
    case 'LSTMCell': return tf.layers.lstmCell(cfg);
    case 'StackedRNNCells':
      cfg.cells = spec.config.cells.map(buildCell);
      return tf.layers.stackedRNNCells(cfg);
    default: throw new Error(`unknown cell class ${spec.class_name}`);
  }
}
function buildLayer(spec) {
  const cfg = clone(spec.config);
  switch (spec.class_name) {
    case 'SimpleRNN': return tf.layers.simpleRNN(cfg);
    case 'GRU': return tf.layers.gru(cfg);
    case 'LSTM': return tf.layers.lstm(cfg);
    case 'RNN':
      if (spec.config.cell !== undefined) {
        cfg.cell = Array.isArray(spec.config.cell) ? spec.config.cell.map(buildCell) :
                                                     buildCell(spec.config.cell);
      }
      return tf.layers.rnn(cfg);
    case 'Bidirectional':
      cfg.layer = buildLayer(spec.config.layer);
      return tf.layers.bidirectional(cfg);
    default: throw new Error(`unknown layer class ${spec.class_name}`);
  }
}

// ---------------------------------------------------------------------------
// `resolved`: what TF.js actually built, read back from the layer objects
// ---------------------------------------------------------------------------
const asArray = s => (Array.isArray(s) ? s.slice() : [s]);
function cellList(layer) {
  return layer.cell.getClassName() === 'StackedRNNCells' ? layer.cell.cells : [layer.cell];
}
function cellStateNames(cell) {
  const n = asArray(cell.stateSize).length;
  if (n === 1) return ['h'];
  if (n === 2) return ['h', 'c'];
  throw new Error('unexpected state count');
}
function rnnStateNames(layer) {
  if (layer.cell.getClassName() === 'StackedRNNCells') {
    const names = [];
    const cells = layer.cell.cells;
    for (let k = cells.length - 1; k >= 0; k--) {
      for (const s of cellStateNames(cells[k])) names.push(`cell${k}.${s}`);
    }
    return names;
  }
  return cellStateNames(layer.cell);
}
function cellInfo(cell) {
  return {
    class_name: cell.getClassName(),
    units: cell.units,
    activation: cell.activation.getClassName(),
    recurrent_activation: cell.recurrentActivation == null ? null :
                                                             cell.recurrentActivation.getClassName(),
    use_bias: cell.useBias,
    dropout: cell.dropout,
    recurrent_dropout: cell.recurrentDropout,
    state_size: asArray(cell.stateSize),
  };
}
function rnnInfo(layer, withOutputs) {
  const stateNames = rnnStateNames(layer);
  const info = {
    class_name: layer.getClassName(),
    return_sequences: layer.returnSequences,
    return_state: layer.returnState,
    go_backwards: layer.goBackwards,
    stateful: layer.stateful,
    cells: cellList(layer).map(cellInfo),
    state_size: asArray(layer.cell.stateSize),
    state_names: stateNames,
  };
  if (withOutputs) {
    info.output_names = ['output'].concat(layer.returnState ? stateNames : []);
  }
  return info;
}
function resolve(layer) {
  if (layer.getClassName() === 'Bidirectional') {
    const fw = rnnInfo(layer.forwardLayer, false);
    const bw = rnnInfo(layer.backwardLayer, false);
    const stateNames = fw.state_names.map(s => 'forward.' + s)
                           .concat(bw.state_names.map(s => 'backward.' + s));
    const outs = layer.mergeMode == null ? ['output_forward', 'output_backward'] : ['output'];
    return {
      class_name: 'Bidirectional',
      merge_mode: layer.mergeMode == null ? null : layer.mergeMode,
      return_sequences: layer.returnSequences,
      return_state: layer.returnState,
      stateful: layer.stateful,
      forward: fw,
      backward: bw,
      state_names: stateNames,
      output_names: outs.concat(layer.returnState ? stateNames : []),
    };
  }
  return rnnInfo(layer, true);
}

// ---------------------------------------------------------------------------
// Layer specs
// ---------------------------------------------------------------------------
const CELL_OF = {SimpleRNN: 'SimpleRNNCell', GRU: 'GRUCell', LSTM: 'LSTMCell'};
const TAG_OF = {SimpleRNN: 'simplernn', GRU: 'gru', LSTM: 'lstm'};
const LAYERS = ['SimpleRNN', 'GRU', 'LSTM'];
function L(cls, config) {
  return {class_name: cls, config: Object.assign({name: 'rnn'}, config)};
}
function C(cls, name, config) {
  return {class_name: cls, config: Object.assign({name}, config)};
}
function RNN(config) {
  return {class_name: 'RNN', config: Object.assign({name: 'rnn'}, config)};
}
function Bidi(config, inner) {
  return {class_name: 'Bidirectional', config: Object.assign({name: 'bidi'}, config, {layer: inner})};
}

// Every activation name TF.js 4.22.0 registers (tfjs-layers dist/activations.js)
const ACTIVATIONS = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'relu6', 'linear', 'elu', 'selu',
                     'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new', 'softmax',
                     'logSoftmax'];

// ---------------------------------------------------------------------------
// Case inputs and records
// ---------------------------------------------------------------------------
function rangeFor(wRange, wname) {
  if (typeof wRange === 'number') return wRange;
  const kind = wname.endsWith('/recurrent_kernel') ? 'recurrent_kernel' :
               wname.endsWith('/kernel') ? 'kernel' : wname.endsWith('/bias') ? 'bias' : null;
  if (kind == null || wRange[kind] == null) throw new Error(`no range for ${wname}`);
  return wRange[kind];
}

// state sizes in TF.js state order (Bidirectional: forward then backward)
function stateSizes(resolved) {
  if (resolved.class_name === 'Bidirectional') {
    return resolved.forward.state_size.concat(resolved.backward.state_size);
  }
  return resolved.state_size;
}

function tensorJSON(name, shape, data) {
  const o = {};
  if (name != null) o.name = name;
  o.shape = shape.slice();
  o.data = new F32(data);
  return o;
}

function maskRows(rng, B, T, spec) {
  if (spec === 'random') {
    const rows = [];
    for (let b = 0; b < B; b++) {
      const r = [];
      for (let t = 0; t < T; t++) r.push(rng() < 0.65 ? 1 : 0);
      rows.push(r);
    }
    return rows;
  }
  if (spec.length !== B || spec.some(r => r.length !== T)) throw new Error('mask shape mismatch');
  return spec;
}

module.exports = {
  tf, TFJS_VERSION,
  mulberry32, fnv1a, uniformArray, prod,
  F32, F32Num, f32str, ser,
  clone, buildCell, buildLayer,
  asArray, cellList, cellStateNames, rnnStateNames, cellInfo, rnnInfo, resolve,
  CELL_OF, TAG_OF, LAYERS, L, C, RNN, Bidi, ACTIVATIONS,
  rangeFor, stateSizes, tensorJSON, maskRows,
};
