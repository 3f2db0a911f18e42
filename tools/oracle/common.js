// Shared helpers of the TF.js golden-case generators (generate_cases.js,
// generate_grad_cases.js, generate_fit_cases.js) and check_saved_models.js:
// the quiet TF.js import, the seeded PRNG, the float32 JSON serialisation,
// layer construction from a spec, the `resolved` read-back, the case list and
// step helpers, random case data, weight setting and read-back, the
// generators' main loop, and saving / loading models as model.json + weight
// shards.
//
// tools/models/generate_tfjs_models.js uses the TF.js-free part (quietConsole,
// PRNG, float32 JSON writer) from its own package directory: TF.js is loaded
// from here (tools/oracle/node_modules) only when `tf` is first asked for.
'use strict';

const fs = require('fs');
const path = require('path');

// TF.js prints a banner about tfjs-node (and known warnings); keep the console
// quiet but fail loudly on anything unexpected.
const BANNER = /looks like you are running TensorFlow\.js in Node\.js/;
function quietConsole(expectedWarnings) {
  const expected = [BANNER].concat(expectedWarnings);
  const origWarn = console.warn;
  console.warn = (...args) => {
    const msg = args.join(' ');
    if (expected.some(re => re.test(msg))) return;
    origWarn(...args);
  };
  const origLog = console.log;
  console.log = (...args) => {
    const msg = args.join(' ').trim();
    if (BANNER.test(msg) || /^=+$/.test(msg)) return;
    origLog(...args);
  };
}

const TFJS_VERSION = '4.22.0';
let tfjs = null;
// @tensorflow/tfjs, required on first use with the console quietened first
function loadTf() {
  if (tfjs === null) {
    quietConsole([
      /Ignoring unroll = true/,
      /Orthogonal initializer is being called on a matrix with more than 2000/,
      /the unroll = true option is not applicable/,
    ]);
    tfjs = require('@tensorflow/tfjs');
  }
  return tfjs;
}
function checkTfVersion(tf) {
  if (tf.version.tfjs !== TFJS_VERSION) {
    throw new Error(`expected @tensorflow/tfjs ${TFJS_VERSION}, found ${tf.version.tfjs}`);
  }
}

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
// mulberry32 seeded from the case name (the generators' data stream)
const DATA_SALT = 0x5eed1234;
const dataRng = name => mulberry32(fnv1a(name) ^ DATA_SALT);
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
function ser(v, ind = 0) {
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
  const tf = loadTf();
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
  const tf = loadTf();
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
// {shape, data} drawn U(-r, r)
const randomTensor = (rng, shape, r) => ({shape, data: uniformArray(rng, prod(shape), r)});
// one [B, n] state per state size, U(-1, 1)
const randomStates = (rng, resolved, B) =>
    stateSizes(resolved).map(n => randomTensor(rng, [B, n], 1.0));
function randomMask(rng, B, T, spec) {
  return {shape: [B, T], data: Float32Array.from([].concat(...maskRows(rng, B, T, spec)))};
}
// weight values: the twin's, or U(-range, range) per weight kind
function weightValues(name, rng, twin, vars, names, wRange) {
  if (!twin) return vars.map((v, i) => uniformArray(rng, prod(v.shape), rangeFor(wRange, names[i])));
  if (twin.values.length !== vars.length) throw new Error(`${name}: twin weight count`);
  if (names.some((n, i) => n !== twin.names[i])) throw new Error(`${name}: twin weight names`);
  return twin.values;
}

// the state name of state k of n (null where n is not the layer's state count)
function stateName(resolved, k, n) {
  return resolved && n === resolved.state_names.length ? resolved.state_names[k] : null;
}
function statesJSON(resolved, states, named = true) {
  return states.map((s, k) => tensorJSON(named ? stateName(resolved, k, states.length) : null,
                                         s.shape, s.data));
}
// `inputs` of a call/grad step record
function inputsJSON(resolved, inp, namedStates = true) {
  const o = {x: tensorJSON(null, inp.x.shape, inp.x.data)};
  if (inp.mask) o.mask = tensorJSON(null, inp.mask.shape, inp.mask.data);
  if (inp.initial_state) o.initial_state = statesJSON(resolved, inp.initial_state, namedStates);
  return o;
}

// equal data, -0 == 0
function sameData(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(a[i] === 0 && b[i] === 0)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Running layers
// ---------------------------------------------------------------------------
const toTensor = r => loadTf().tensor(r.data, r.shape, 'float32');
// layer.apply, the outputs always as an array
function applyLayer(layer, x, kwargs) {
  const y = layer.apply(x, kwargs);
  return Array.isArray(y) ? y : [y];
}
// builds the layer with a throw-away inference call on zeros
function buildWithZeros(layer, xShape) {
  const tf = loadTf();
  const x0 = tf.zeros(xShape);
  const y0 = layer.apply(x0);
  tf.dispose([x0, y0]);
}
// sets the weights, resets a stateful layer and returns the `weights` record
// (what getWeights() reads back, required to equal the values set)
function setWeights(name, layer, vars, names, values) {
  const tf = loadTf();
  layer.setWeights(values.map((a, i) => tf.tensor(a, vars[i].shape, 'float32')));
  if (layer.stateful) layer.resetStates();
  // (getWeights() returns the variables' own tensors: do not dispose them)
  return layer.getWeights().map((t, i) => {
    const d = t.dataSync();
    if (!sameData(d, values[i])) throw new Error(`${name}: weight read-back mismatch`);
    return {name: names[i], shape: t.shape.slice(), data: new F32(d)};
  });
}

// ---------------------------------------------------------------------------
// Case list, steps, records
// ---------------------------------------------------------------------------
const TOLERANCE = {abs: 1e-5, rel: 1e-4};
const DEFAULT_W_RANGE = 0.6;
const DEFAULT_X_RANGE = 1.0;
// Recurrent activations that are not bounded to [0, 1] make GRU/LSTM gates
// amplify (e.g. GRU h = z*h + (1-z)*hh with z < 0 grows geometrically); these
// use smaller weights/inputs so that float32 rounding stays far inside the
// tolerance band.
const UNBOUNDED_GATE = new Set(['relu', 'relu6', 'linear', 'elu', 'selu', 'softplus', 'swish',
                                'mish', 'gelu', 'gelu_new', 'logSoftmax']);
// weight ranges of the big cases (kernel and recurrent kernel scaled by fan-in)
function bigRange(F, units) {
  return {kernel: 0.6 * Math.sqrt(3 / F), recurrent_kernel: 0.6 * Math.sqrt(3 / units), bias: 0.6};
}

// The case list: names `<family>_<NNN>_<tag>`, numbered per family.
// dropoutTwins(family, sameText) gives pair(tag, desc, layer, twinLayer, steps,
// twinDesc), which adds a case and its twin without dropout arguments.
function caseList() {
  const cases = [];
  const counters = {};
  function addCase(family, tag, description, layer, steps, opts = {}) {
    counters[family] = (counters[family] || 0) + 1;
    const name = `${family}_${String(counters[family]).padStart(3, '0')}_${tag}`;
    cases.push(Object.assign({family, name, description, layer, steps}, opts));
    return name;
  }
  const dropoutTwins = (family, sameText) => (tag, desc, layer, twinLayer, steps, twinDesc) => {
    const main = addCase(family, tag, desc, layer, steps);
    addCase(family, tag + '_twin',
            `Twin of ${main} without dropout arguments${twinDesc ? ' ' + twinDesc : ''}: ${sameText}`,
            twinLayer, steps, {twinOf: main});
  };
  return {CASES: cases, addCase, dropoutTwins};
}
// steps
function call(B, T, F, opts = {}) {
  return Object.assign({op: 'call', xShape: [B, T, F]}, opts);
}
function reset(states) {
  return states === undefined ? {op: 'reset_states'} : {op: 'reset_states', states};
}

// A case's ranges, its twin's data, and the head of its record
function startCase(spec, twinData) {
  const twin = spec.twinOf ? twinData.get(spec.twinOf) : null;
  if (spec.twinOf && !twin) throw new Error(`${spec.name}: twin ${spec.twinOf} not generated yet`);
  return {
    xRange: spec.xRange || DEFAULT_X_RANGE,
    wRange: spec.wRange || DEFAULT_W_RANGE,
    twin,
    out: {
      schema_version: 1,
      name: spec.name,
      family: spec.family,
      description: spec.description,
      tfjs_version: TFJS_VERSION,
      backend: loadTf().getBackend(),
      layer: spec.layer,
    },
  };
}

// ---------------------------------------------------------------------------
// main: cpu backend, then OUTDIR/<name>.json for every case whose `text(spec)`
// is not null (names must be unique); prints the cases per family.
// ---------------------------------------------------------------------------
async function writeCases(cases, outDir, text) {
  const tf = loadTf();
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('cpu backend not active');
  checkTfVersion(tf);
  fs.mkdirSync(outDir, {recursive: true});
  const names = new Set();
  const perFamily = {};
  for (const spec of cases) {
    if (names.has(spec.name)) throw new Error(`duplicate case ${spec.name}`);
    names.add(spec.name);
    const t = text(spec);
    if (t === null) continue;
    fs.writeFileSync(path.join(outDir, spec.name + '.json'), t);
    perFamily[spec.family] = (perFamily[spec.family] || 0) + 1;
  }
  const total = Object.values(perFamily).reduce((a, b) => a + b, 0);
  const summary = Object.entries(perFamily).map(([f, n]) => `${f} ${n}`).join(', ');
  process.stdout.write(`wrote ${total} cases to ${outDir}: ${summary}\n`);
  return names;
}
function runMain(main) {
  main().catch(e => {
    console.error(e);
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------
// Saved models (model.json + weight shards), as tfjs-node's file:// handler
// writes and reads them
// ---------------------------------------------------------------------------
// the artifacts `model.save` hands to a save handler
async function saveArtifacts(model) {
  let artifacts = null;
  await model.save(loadTf().io.withSaveHandler(async a => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(0), modelTopologyType: 'JSON'}};
  }));
  return artifacts;
}
// model.json for `artifacts` with all weights in one shard `shard`, in the
// key order of tfjs-core's getModelJSONForModelArtifacts (1-space indent)
function modelJSONText(artifacts, shard) {
  return JSON.stringify({
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{paths: [shard], weights: artifacts.weightSpecs}],
  }, null, 1) + '\n';
}
// An IOHandler for tf.loadLayersModel: the model.json text and a function
// returning the bytes of a shard path; every shard of every manifest group is
// read in manifest order and concatenated (what tfjs-node's file:// handler
// and the browser http handler do).
function artifactsHandler(modelJSON, readShard) {
  return {
    load: async () => loadTf().io.getModelArtifactsForJSON(JSON.parse(modelJSON), async manifest => {
      const specs = [];
      const bufs = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) bufs.push(Buffer.from(readShard(p)));
      }
      const all = Buffer.concat(bufs);
      return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
    }),
  };
}
// the same, reading DIR/model.json and the shards beside it
const dirHandler = dir => artifactsHandler(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'),
                                           p => fs.readFileSync(path.join(dir, p)));

const exported = {
  quietConsole, TFJS_VERSION, checkTfVersion,
  mulberry32, fnv1a, dataRng, uniformArray, prod,
  F32, F32Num, f32str, ser,
  clone, buildCell, buildLayer,
  asArray, cellList, cellStateNames, rnnStateNames, cellInfo, rnnInfo, resolve,
  CELL_OF, TAG_OF, LAYERS, L, C, RNN, Bidi, ACTIVATIONS,
  rangeFor, stateSizes, tensorJSON, maskRows, randomTensor, randomStates, randomMask, weightValues,
  stateName, statesJSON, inputsJSON, sameData,
  toTensor, applyLayer, buildWithZeros, setWeights,
  TOLERANCE, DEFAULT_W_RANGE, DEFAULT_X_RANGE, UNBOUNDED_GATE, bigRange,
  caseList, call, reset, startCase, writeCases, runMain,
  saveArtifacts, modelJSONText, artifactsHandler, dirHandler,
};
// `tf` loads TF.js (see loadTf)
Object.defineProperty(exported, 'tf', {enumerable: true, get: loadTf});
module.exports = exported;
