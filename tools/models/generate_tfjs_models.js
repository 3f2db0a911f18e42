#!/usr/bin/env node
// TF.js saved-model golden cases for recurrent's loadLayersModel().
//
// Usage:  node generate_tfjs_models.js OUT_DIR            (all cases)
//         node generate_tfjs_models.js OUT_DIR CASE...    (only these)
//
// For every case this builds a tf.LayersModel with TF.js 4.22.0 (pure-JS cpu
// backend), sets its weights from a seeded PRNG, saves it with
// `model.save(tf.io.withSaveHandler(...))` and writes
//
//   OUT_DIR/<case>/model.json       what TF.js's file/browser handlers write:
//                                   JSON.stringify({modelTopology, format,
//                                   generatedBy, convertedBy, weightsManifest})
//   OUT_DIR/<case>/group*-shard*.bin  the weight data (converter-style names)
//   OUT_DIR/<case>/reference.json   the calls and what TF.js returned
//
// The reference outputs are model.predict() of the model that TF.js itself
// re-loads from the files just written (tf.loadLayersModel with an IOHandler
// that reads model.json and every shard from disk), so they cover TF.js's own
// parsing of the topology, the manifest, shards/groups and quantised weights.
//
// Each case runs in a fresh child process so that TF.js's global layer-name
// counters start at 1 in every case (names such as `lstm_LSTM1` are stable
// when cases are added or removed). Deterministic: weights and inputs come
// from a mulberry32 PRNG seeded from the case name; running twice gives
// byte-identical files.
//
// Variants applied to the saved artifacts (case.variant; see runCase):
//   shards     weight data of a group split into files of N bytes
//              (write_weights.py `shard_size_bytes`; a float may straddle files)
//   groups     one manifest group per layer (group1-..., group2-...)
//   quantize   uint8 / uint16 affine or float16, as the Python tensorflowjs
//              converter writes it (tensorflowjs/quantization.py)
//   keras3     topology rewritten in Keras 3 spelling (TF.js cannot load it;
//              references are TF.js's outputs of the original model)
//   converter  topology wrapped as {keras_version, backend, model_config} and
//              RNN weights named layer/<cell>/weight as the Keras 2 converter
//              writes them (TF.js strips the cell token on load)
'use strict';

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');

// PRNG, float32 JSON writer and console filter: the TF.js-free helpers of the
// golden-case generators (tools/oracle/common.js; it loads no TF.js of its own
// unless asked for `tf`). TF.js comes from this package's node_modules.
const {
  quietConsole, TFJS_VERSION, checkTfVersion, mulberry32, fnv1a, uniformArray, prod, f32str, F32,
  ser,
} = require('../oracle/common');

// TF.js prints a banner about tfjs-node and a known warning; keep the console
// quiet but let anything unexpected through.
quietConsole([
  // `gru.apply(x, {initialState: [h0]})` in a functional model: TF.js saves h0
  // as a second inbound tensor of the node and drops the kwarg.
  /was passed non-serializable keyword arguments/,
]);

const tf = require('@tensorflow/tfjs');

checkTfVersion(tf);
const GENERATED_BY = `TensorFlow.js ${TFJS_VERSION} (@tensorflow/tfjs, cpu backend, Node.js) ` +
    'via tools/models/generate_tfjs_models.js';

// ---------------------------------------------------------------------------
// Loading from disk and replaying calls (shared with check_tfjs_models.js)
// ---------------------------------------------------------------------------
// An IOHandler that reads dir/model.json and every shard of every manifest
// group, in manifest order, concatenated: what tfjs-node's file:// handler and
// the browser http handler hand to tf.loadLayersModel.
function dirHandler(dir) {
  return {
    load: async () => {
      const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(modelJSON, async manifest => {
        const specs = [];
        const bufs = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
        }
        const all = Buffer.concat(bufs);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}
const loadFromDir = dir => tf.loadLayersModel(dirHandler(dir));

// A Sequential is built lazily; build it so inputNames/outputNames exist.
function ensureBuilt(model) {
  if (model instanceof tf.Sequential && model.model == null) model.build();
  return model;
}

// Replays `calls` (each {inputs: [{shape, data}]} or {resetStates: true}) on
// `model`; returns them with input names and outputs filled in.
function runCalls(model, calls) {
  ensureBuilt(model);
  const out = [];
  for (const call of calls) {
    if (call.resetStates) {
      model.resetStates();
      out.push({resetStates: true});
      continue;
    }
    if (call.inputs.length !== model.inputNames.length) {
      throw new Error(`call has ${call.inputs.length} inputs, model has ${model.inputNames.length}`);
    }
    const xs = call.inputs.map(inp => tf.tensor(Float32Array.from(inp.data), inp.shape, 'float32'));
    let ys = model.predict(xs.length === 1 ? xs[0] : xs);
    if (!Array.isArray(ys)) ys = [ys];
    const outputs = ys.map((y, i) => ({
      name: model.outputNames[i],
      // [layer name, node index, tensor index] as in output_layers
      ref: [model.outputLayers[i].name, model.outputLayersNodeIndices[i],
        model.outputLayersTensorIndices[i]],
      shape: y.shape.slice(),
      data: Float32Array.from(y.dataSync()),
    }));
    tf.dispose(xs);
    tf.dispose(ys);
    out.push({
      inputs: call.inputs.map((inp, i) => ({name: model.inputNames[i], shape: inp.shape.slice(),
        data: Float32Array.from(inp.data)})),
      outputs,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Quantisation, as the Python converter does it (tensorflowjs/quantization.py
// quantize_weights + _get_affine_quantization_range, write_weights.py
// _quantize_entry / _get_weights_manifest_for_group):
//   uint8/uint16: min/max of the float32 tensor (as float64);
//     if min == max: all zeros, scale = 1, min = min;
//     else scale = (max - min) / qmax (qmax = 255 or 65535), and if
//     min <= 0 <= max the range is nudged so that 0 is exact:
//       zp = round((0 - min) / scale); min' = -zp * scale;
//       max' = qmax * scale + min'
//     q = round((clip(w, min', max') - min') / scale), round = numpy's
//     round-half-to-even. min/max/scale/min' are float64 (written to JSON as
//     such), but with NumPy 1.x (what TF <= 2.17 installs) the array
//     expression runs in float32: w is float32 and the float64 scalars are
//     cast to float32 (value-based casting). That is what is done here (each
//     float32 op computed in double and rounded with Math.fround, which is
//     exact for + - / of float32 operands). NumPy 2 would compute in float64;
//     the two can differ by 1 in a value that lies near a .5 tie.
//     manifest: {"dtype": "uint8"|"uint16", "min": min', "scale": scale,
//                "original_dtype": "float32"}; the spec's dtype stays float32.
//   float16: IEEE half, round-to-nearest-even (numpy astype(float16));
//     manifest {"dtype": "float16", "original_dtype": "float32"}.
//   Only float32 tensors are quantised (the converter leaves int32 alone;
//   these models have none).
// TF.js dequantises on load (tfjs-core io_utils decodeWeight):
//   values[i] = q * scale + min computed in double, stored to a Float32Array.
// ---------------------------------------------------------------------------
function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
function quantizeAffine(w, dtype) {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of w) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const q = dtype === 'uint8' ? new Uint8Array(w.length) : new Uint16Array(w.length);
  if (mn === mx) return {q, min: mn, scale: 1};
  const scale = (mx - mn) / qmax;
  let nmin = mn;
  let nmax = mx;
  if (mn <= 0 && 0 <= mx) {
    const zp = roundHalfEven((0 - mn) / scale);
    nmin = -zp * scale;
    nmax = qmax * scale + nmin;
  }
  const fmin = Math.fround(nmin);
  const fmax = Math.fround(nmax);
  const fscale = Math.fround(scale);
  for (let i = 0; i < w.length; i++) {
    const c = Math.min(Math.max(w[i], fmin), fmax);
    const r = roundHalfEven(Math.fround(Math.fround(c - fmin) / fscale));
    if (r < 0 || r > qmax) throw new Error('quantised value out of range');
    q[i] = r;
  }
  return {q, min: nmin === 0 ? 0 : nmin, scale};
}
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function float32ToHalfBits(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    let h = (e << 10) | (mant >>> 13);
    const rb = mant & 0x1fff;
    if (rb > 0x1000 || (rb === 0x1000 && (h & 1))) h++;  // may carry into exp / inf: correct
    return sign | h;
  }
  // half subnormal (unit 2^-24): q = m * 2^(exp - 126), m = 24-bit significand
  const s = 126 - exp;
  if (s > 24) return sign;
  const m = mant | 0x800000;
  let q = m >>> s;
  const r = m & ((1 << s) - 1);
  const half = 1 << (s - 1);
  if (r > half || (r === half && (q & 1))) q++;
  return sign | q;
}
function halfBitsToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * Math.pow(2, -24);
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * Math.pow(2, e - 15);
}
function selfTestHalf() {
  const cases = [[0, 0], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
    [Math.pow(2, -24), 1], [Math.pow(2, -25), 0], [1.5 * Math.pow(2, -25), 1],
    [Math.pow(2, -14), 0x400], [1 + Math.pow(2, -11), 0x3c00],
    [1 + 3 * Math.pow(2, -11), 0x3c02], [0.1, 0x2e66]];
  for (const [v, bits] of cases) {
    const got = float32ToHalfBits(Math.fround(v));
    if (got !== bits) throw new Error(`float16 self-test: ${v} -> ${got.toString(16)}, want ${bits.toString(16)}`);
  }
}

// Encodes one float32 weight per `mode` (null | 'uint8' | 'uint16' | 'float16');
// returns {spec, bytes, decoded} where decoded is what TF.js must load.
function encodeWeight(spec, values, mode) {
  if (spec.dtype !== 'float32' || mode == null) {
    return {spec: {...spec}, bytes: Buffer.from(new Float32Array(values).buffer), decoded: Float32Array.from(values)};
  }
  if (mode === 'float16') {
    const bytes = Buffer.alloc(values.length * 2);
    const decoded = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const h = float32ToHalfBits(values[i]);
      bytes.writeUInt16LE(h, 2 * i);
      decoded[i] = halfBitsToFloat(h);
    }
    return {spec: {...spec, quantization: {dtype: 'float16', original_dtype: 'float32'}}, bytes, decoded};
  }
  const {q, min, scale} = quantizeAffine(values, mode);
  const width = mode === 'uint8' ? 1 : 2;
  const bytes = Buffer.alloc(values.length * width);
  const decoded = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (width === 1) bytes.writeUInt8(q[i], i); else bytes.writeUInt16LE(q[i], 2 * i);
    decoded[i] = q[i] * scale + min;
  }
  return {
    spec: {...spec, quantization: {dtype: mode, min, scale, original_dtype: 'float32'}},
    bytes, decoded,
  };
}

// ---------------------------------------------------------------------------
// Artifacts -> files
// ---------------------------------------------------------------------------
async function saveArtifacts(model) {
  let artifacts = null;
  await model.save(tf.io.withSaveHandler(async a => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(0), modelTopologyType: 'JSON'}};
  }));
  return artifacts;
}

// Splits the float32 weight data of `artifacts` into named values.
function splitWeights(artifacts) {
  const buf = Buffer.from(artifacts.weightData);
  let off = 0;
  return artifacts.weightSpecs.map(spec => {
    if (spec.dtype !== 'float32' || spec.quantization) throw new Error(`unexpected weight spec ${JSON.stringify(spec)}`);
    const n = prod(spec.shape);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = buf.readFloatLE(off + 4 * i);
    off += 4 * n;
    return {spec: {...spec}, values};
  });
}

// Builds the manifest and shard files.
//   groupBy: 'single' (one group) | 'layer' (one group per top-level layer)
//   shardBytes: null (one file per group) | N (files of at most N bytes)
function packWeights(encoded, {groupBy = 'single', shardBytes = null} = {}) {
  const groups = [];
  for (const e of encoded) {
    const key = groupBy === 'layer' ? e.spec.name.split('/')[0] : '';
    let g = groups.find(x => x.key === key);
    if (!g) groups.push(g = {key, items: []});
    g.items.push(e);
  }
  const manifest = [];
  const files = [];
  groups.forEach((g, gi) => {
    const all = Buffer.concat(g.items.map(e => e.bytes));
    const size = shardBytes == null ? all.length : shardBytes;
    const n = Math.max(1, Math.ceil(all.length / size));
    const paths = [];
    for (let i = 0; i < n; i++) {
      const name = `group${gi + 1}-shard${i + 1}of${n}.bin`;
      paths.push(name);
      files.push({name, bytes: all.subarray(i * size, Math.min(all.length, (i + 1) * size))});
    }
    manifest.push({paths, weights: g.items.map(e => e.spec)});
  });
  return {manifest, files};
}

// model.json exactly as tfjs-core's getModelJSONForModelArtifacts +
// JSON.stringify (what the tfjs-node file handler and browser handlers write).
function modelJSONString(artifacts, manifest) {
  const result = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: manifest,
  };
  return JSON.stringify(result);
}

// ---------------------------------------------------------------------------
// Topology rewrites
// ---------------------------------------------------------------------------
const clone = o => JSON.parse(JSON.stringify(o));
const dtypePolicy = () => ({module: 'keras', class_name: 'DTypePolicy', config: {name: 'float32'}, registered_name: null});

// Keras 3 spelling of one serialized layer / cell ({class_name, config}).
// `shapes` maps layer name -> list of node input shapes (for build_config and
// __keras_tensor__ entries).
function keras3Layer(entry, shapes) {
  const cls = entry.class_name;
  const cfg = entry.config;
  let out;
  if (cls === 'InputLayer') {
    out = {batch_shape: cfg.batch_input_shape, dtype: cfg.dtype, sparse: cfg.sparse, name: cfg.name};
  } else {
    out = {name: cfg.name, trainable: cfg.trainable, dtype: dtypePolicy()};
    for (const [k, v] of Object.entries(cfg)) {
      if (k === 'name' || k === 'trainable' || k === 'dtype' || k === 'batch_input_shape') continue;
      if (k.endsWith('_initializer') && v && v.class_name) {
        out[k] = {module: 'keras.initializers', class_name: v.class_name, config: v.config, registered_name: null};
      } else if (k === 'layer' && cls === 'Bidirectional') {
        const fwd = clone(v);
        fwd.config.name = 'forward_' + v.config.name;
        const bwd = clone(v);
        bwd.config.name = 'backward_' + v.config.name;
        bwd.config.go_backwards = !v.config.go_backwards;
        out.layer = keras3Layer(fwd, {});
        out.backward_layer = keras3Layer(bwd, {});
      } else if (k === 'layer') {
        out.layer = keras3Layer(v, {});
      } else if (k === 'cell' && v && v.class_name) {
        out.cell = keras3Layer(v, {});
      } else if (k === 'cells') {
        out.cells = v.map(c => keras3Layer(c, {}));
      } else {
        out[k] = v;
      }
    }
  }
  const res = {module: 'keras.layers', class_name: cls, config: out, registered_name: null};
  const s = shapes[cfg.name];
  if (cls !== 'InputLayer' && s && s.length) res.build_config = {input_shape: s[0].length === 1 ? s[0][0] : s[0]};
  return res;
}

// topology: TF.js modelTopology; model: the TF.js model (for shapes).
// Sequential -> flat form with keras_version/backend next to class_name;
// functional -> converter form {keras_version, backend, model_config}.
function keras3Spelling(topology, model) {
  // layer name -> per inbound node, the list of input shapes
  const shapes = {};
  const shapeList = s => (Array.isArray(s[0]) ? s : [s]);
  for (const layer of model.layers) shapes[layer.name] = layer.inboundNodes.map(n => shapeList(n.inputShapes));
  const cfg = topology.config;
  if (topology.class_name === 'Sequential') {
    const layers = cfg.layers.map(l => keras3Layer(l, shapes));
    if (layers[0].class_name !== 'InputLayer') throw new Error('keras3 Sequential rewrite needs an explicit InputLayer');
    return {
      module: 'keras',
      class_name: 'Sequential',
      config: {name: cfg.name, trainable: true, dtype: dtypePolicy(), layers,
        build_input_shape: layers[0].config.batch_shape},
      registered_name: null,
      build_config: {input_shape: layers[0].config.batch_shape},
      keras_version: '3.6.0',
      backend: 'tensorflow',
    };
  }
  // Functional: Keras 3 inbound_nodes are [{"args": [...], "kwargs": {...}}]
  // with __keras_tensor__ references; single input/output is not nested.
  const layerShapes = {};
  for (const layer of model.layers) {
    layerShapes[layer.name] = layer.inboundNodes.map(n => shapeList(n.outputShapes));
  }
  const kt = ([name, node, idx]) => ({
    class_name: '__keras_tensor__',
    config: {shape: layerShapes[name][node][idx], dtype: 'float32', keras_history: [name, node, idx]},
  });
  const layers = cfg.layers.map(l => {
    const e = keras3Layer(l, shapes);
    e.name = l.name;
    e.inbound_nodes = l.inbound_nodes.map(node => {
      if (node.length !== 1) throw new Error('keras3 functional rewrite: one inbound tensor per node only');
      return {args: [kt(node[0])], kwargs: {}};
    });
    return e;
  });
  const unnest = list => (list.length === 1 ? list[0] : list);
  return {
    keras_version: '3.6.0',
    backend: 'tensorflow',
    model_config: {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {name: cfg.name, trainable: true, layers,
        input_layers: unnest(cfg.input_layers), output_layers: unnest(cfg.output_layers)},
      registered_name: 'Functional',
      build_config: {input_shape: null},
    },
  };
}

// Keras-2 converter spelling: {keras_version, backend, model_config} wrapper
// and RNN weights named <layer>/<cell>/<weight> (Keras >= TF 2.2 adds the cell
// scope; TF.js drops the second-to-last path token when the full name does
// not match).
const CELL_SCOPE = {LSTM: 'lstm_cell', GRU: 'gru_cell', SimpleRNN: 'simple_rnn_cell'};
function converterSpelling(topology, specs) {
  const rnnClass = {};
  const visit = (cfgList) => {
    for (const l of cfgList) {
      if (CELL_SCOPE[l.class_name]) rnnClass[l.config.name] = l.class_name;
      if (l.class_name === 'Bidirectional') rnnClass[l.config.name] = l.config.layer.class_name;
    }
  };
  visit(topology.config.layers);
  const renamed = specs.map(s => {
    const parts = s.name.split('/');
    const cls = rnnClass[parts[0]];
    if (!cls) return s;
    parts.splice(parts.length - 1, 0, CELL_SCOPE[cls]);
    return {...s, name: parts.join('/')};
  });
  const inner = clone(topology);
  delete inner.keras_version;
  delete inner.backend;
  return {
    topology: {keras_version: '2.15.0', backend: 'tensorflow', model_config: inner},
    specs: renamed,
  };
}

// ---------------------------------------------------------------------------
// Weights and inputs
// ---------------------------------------------------------------------------
// Every weight U(-r, r) (float32), in model.weights order.
function setSeededWeights(model, rng, r) {
  const vals = model.weights.map(w => {
    const range = typeof r === 'function' ? r(w) : r;
    return tf.tensor(uniformArray(rng, prod(w.shape), range), w.shape, 'float32');
  });
  model.setWeights(vals);
  tf.dispose(vals);
}
function uniformInput(rng, shape, r = 1) {
  return {shape, data: uniformArray(rng, prod(shape), r)};
}
// [B, T, F] input with whole timesteps set to maskValue: masked = [[b, t], ...];
// a sample listed in fullyMasked has every timestep masked.
function maskedInput(rng, shape, maskValue, masked, fullyMasked = []) {
  const x = uniformInput(rng, shape);
  const [B, T, F] = shape;
  const set = (b, t) => { for (let f = 0; f < F; f++) x.data[(b * T + t) * F + f] = maskValue; };
  for (const [b, t] of masked) set(b, t);
  for (const b of fullyMasked) for (let t = 0; t < T; t++) set(b, t);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const isMasked = masked.some(([bb, tt]) => bb === b && tt === t) || fullyMasked.includes(b);
      if (!isMasked) {
        for (let f = 0; f < F; f++) {
          if (x.data[(b * T + t) * F + f] === maskValue) x.data[(b * T + t) * F + f] = Math.fround(0.25);
        }
      }
    }
  }
  return x;
}
// [B, T] integer ids in [1, vocab); `zeros` = [[b, t], ...] set to 0.
function idInput(rng, shape, vocab, zeros, zeroSamples = []) {
  const [B, T] = shape;
  const data = new Float32Array(B * T);
  for (let i = 0; i < data.length; i++) data[i] = 1 + Math.floor(rng() * (vocab - 1));
  for (const [b, t] of zeros) data[b * T + t] = 0;
  for (const b of zeroSamples) for (let t = 0; t < T; t++) data[b * T + t] = 0;
  return {shape, data};
}
const call = (...inputs) => ({inputs});
const RESET = {resetStates: true};

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------
const L = tf.layers;
function sequential(layers) {
  const m = tf.sequential();
  for (const l of layers) m.add(l);
  return m;
}

// Shared builders (reused by the shard / quantisation / spelling variants).
const BUILD = {
  bidiLstmDense: () => sequential([
    L.inputLayer({inputShape: [4, 3]}),
    L.bidirectional({layer: L.lstm({units: 4, returnSequences: true, recurrentActivation: 'sigmoid',
      unitForgetBias: true}), mergeMode: 'concat'}),
    L.timeDistributed({layer: L.dense({units: 3, activation: 'softmax'})}),
  ]),
  bidiLstmDenseInputs: rng => [call(uniformInput(rng, [2, 4, 3])), call(uniformInput(rng, [3, 4, 3]))],
  embGruDense: () => sequential([
    L.embedding({inputDim: 7, outputDim: 4, maskZero: true, inputLength: 5}),
    L.gru({units: 5, recurrentActivation: 'sigmoid'}),
    L.dense({units: 3, activation: 'softmax'}),
  ]),
  embGruDenseInputs: rng => [call(idInput(rng, [3, 5], 7, [[0, 3], [0, 4], [1, 1]]))],
  lstmDense: () => sequential([
    L.inputLayer({inputShape: [4, 3]}),
    L.lstm({units: 4, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true}),
    L.lstm({units: 3, recurrentActivation: 'sigmoid', unitForgetBias: false, goBackwards: true}),
    L.dense({units: 2, activation: 'tanh'}),
  ]),
  lstmDenseInputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  bidiGruFunctional: () => {
    const x = tf.input({shape: [4, 3], name: 'features'});
    const h = L.bidirectional({layer: L.gru({units: 3, returnSequences: true, recurrentActivation: 'sigmoid'}),
      mergeMode: 'sum'}).apply(x);
    const y = L.gru({units: 4, recurrentActivation: 'sigmoid'}).apply(h);
    const out = L.dense({units: 2, activation: 'softmax'}).apply(y);
    return tf.model({inputs: x, outputs: out});
  },
  bidiGruFunctionalInputs: rng => [call(uniformInput(rng, [3, 4, 3]))],
};

// Each case: name, description, build(rng) -> model, inputs(rng) -> calls,
// optional: seedFrom (PRNG seed name, to share weights and inputs with
// another case), sameAs (a case whose outputs this one must reproduce
// exactly; written to reference.json as sameOutputsAs), wRange (weights are
// U(-wRange, wRange), default 0.6), variant {groupBy, shardBytes, quantize,
// rewrite}.
const CASES = [
  // --- Sequential entry styles, each RNN type, heads ----------------------
  {
    name: 'seq_inputlayer_simplernn_dense_softmax',
    description: 'Sequential: explicit tf.layers.inputLayer -> SimpleRNN(relu, returnSequences false) -> Dense(softmax).',
    build: () => sequential([
      L.inputLayer({inputShape: [5, 3]}),
      L.simpleRNN({units: 4, activation: 'relu'}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 3])), call(uniformInput(rng, [3, 5, 3]))],
  },
  {
    name: 'seq_inputshape_gru_dense',
    description: 'Sequential whose first layer carries inputShape: GRU(default hard_sigmoid, returnSequences false) -> Dense(tanh).',
    build: () => sequential([
      L.gru({units: 4, inputShape: [5, 3]}),
      L.dense({units: 2, activation: 'tanh'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 5, 3]))],
  },
  {
    name: 'seq_batchinputshape_lstm_dense',
    description: 'Sequential whose first layer carries batchInputShape [3, 4, 2] (fixed batch, not stateful): LSTM(sigmoid, unitForgetBias) -> Dense(linear, useBias false).',
    build: () => sequential([
      L.lstm({units: 5, batchInputShape: [3, 4, 2], recurrentActivation: 'sigmoid', unitForgetBias: true}),
      L.dense({units: 3, useBias: false}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 4, 2])), call(uniformInput(rng, [3, 4, 2]))],
  },
  {
    name: 'seq_inputshape_null_time_lstm',
    description: 'Sequential, first layer inputShape [null, 3] (variable time): LSTM(returnSequences false) -> Dense(sigmoid); calls with T=2 and T=6.',
    build: () => sequential([
      L.lstm({units: 3, inputShape: [null, 3]}),
      L.dense({units: 2, activation: 'sigmoid'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 2, 3])), call(uniformInput(rng, [2, 6, 3]))],
  },
  {
    name: 'simplernn_seq_timedistributed_dense_activation',
    description: 'SimpleRNN(tanh, returnSequences) -> TimeDistributed(Dense(4)) -> Activation(softmax).',
    build: () => sequential([
      L.simpleRNN({units: 5, returnSequences: true, inputShape: [4, 3]}),
      L.timeDistributed({layer: L.dense({units: 4})}),
      L.activation({activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'simplernn_seq_dense3d',
    description: 'SimpleRNN(useBias false, goBackwards, returnSequences) -> Dense(relu) applied directly to the 3-D sequence (no TimeDistributed).',
    build: () => sequential([
      L.simpleRNN({units: 4, returnSequences: true, useBias: false, goBackwards: true, inputShape: [5, 2]}),
      L.dense({units: 3, activation: 'relu'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 2]))],
  },
  {
    name: 'gru_seq_timedistributed_dense_softmax',
    description: 'GRU(useBias false, goBackwards, returnSequences) -> TimeDistributed(Dense(3, softmax)).',
    build: () => sequential([
      L.gru({units: 4, returnSequences: true, useBias: false, goBackwards: true, inputShape: [5, 3]}),
      L.timeDistributed({layer: L.dense({units: 3, activation: 'softmax'})}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 3]))],
  },
  {
    name: 'gru_last_dense_activation',
    description: 'GRU(activation relu, recurrentActivation sigmoid, returnSequences false) -> Dense(4) -> Activation(sigmoid).',
    build: () => sequential([
      L.gru({units: 5, activation: 'relu', recurrentActivation: 'sigmoid', inputShape: [4, 3]}),
      L.dense({units: 4}),
      L.activation({activation: 'sigmoid'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 4, 3]))],
  },
  {
    name: 'lstm_seq_timedistributed_dense',
    description: 'LSTM(sigmoid, unitForgetBias, returnSequences) -> TimeDistributed(Dense(2, softmax)).',
    build: () => sequential([
      L.lstm({units: 4, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true, inputShape: [5, 3]}),
      L.timeDistributed({layer: L.dense({units: 2, activation: 'softmax'})}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 3]))],
  },
  {
    name: 'lstm_last_gobackwards_dense_activation',
    description: 'LSTM(goBackwards, useBias false, returnSequences false) -> Dense(3, linear) -> Activation(tanh).',
    build: () => sequential([
      L.lstm({units: 4, goBackwards: true, useBias: false, inputShape: [6, 2]}),
      L.dense({units: 3}),
      L.activation({activation: 'tanh'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 6, 2]))],
  },
  {
    name: 'lstm_stack_relu_dense_softmax',
    description: 'LSTM(activation relu, returnSequences) -> LSTM(returnSequences false) -> Dense(3, softmax).',
    build: () => sequential([
      L.lstm({units: 4, activation: 'relu', returnSequences: true, inputShape: [5, 3]}),
      L.lstm({units: 3}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 5, 3]))],
  },
  // --- tf.layers.rnn --------------------------------------------------------
  {
    name: 'rnn_single_lstmcell',
    description: 'tf.layers.rnn({cell: lstmCell}) (returnSequences) -> TimeDistributed(Dense). Single-cell RNN config merges the cell config into the RNN config; weights are rnn_RNN1/kernel etc.',
    build: () => sequential([
      L.rnn({cell: L.lstmCell({units: 3, recurrentActivation: 'sigmoid'}), returnSequences: true, inputShape: [4, 2]}),
      L.timeDistributed({layer: L.dense({units: 2})}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 2]))],
  },
  {
    name: 'rnn_single_grucell_gobackwards',
    description: 'tf.layers.rnn({cell: gruCell(relu)}, goBackwards, returnSequences false) -> Dense(softmax).',
    build: () => sequential([
      L.rnn({cell: L.gruCell({units: 4, activation: 'relu'}), goBackwards: true, inputShape: [5, 3]}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 3]))],
  },
  {
    name: 'rnn_cell_array',
    description: 'tf.layers.rnn({cell: [simpleRNNCell(3), gruCell(4), lstmCell(2)]}) (TF.js wraps the array in StackedRNNCells; config has both "cells" and "cell"; weights rnn_RNN1/RNNCell_k/...) -> Dense.',
    build: () => sequential([
      L.rnn({cell: [L.simpleRNNCell({units: 3}), L.gruCell({units: 4, recurrentActivation: 'sigmoid'}),
        L.lstmCell({units: 2, useBias: false})], returnSequences: true, inputShape: [4, 3]}),
      L.dense({units: 2, activation: 'tanh'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'rnn_stackedrnncells',
    description: 'tf.layers.rnn({cell: tf.layers.stackedRNNCells({cells: [lstmCell(4), lstmCell(3)]})}), returnSequences false -> Dense(softmax).',
    build: () => sequential([
      L.rnn({cell: L.stackedRNNCells({cells: [L.lstmCell({units: 4, unitForgetBias: true}), L.lstmCell({units: 3})]}),
        inputShape: [5, 2]}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 5, 2]))],
  },
  // --- Bidirectional ---------------------------------------------------------
  {
    name: 'bidi_lstm_concat_seq',
    description: 'Bidirectional(LSTM(sigmoid, unitForgetBias, returnSequences), mergeMode concat) -> TimeDistributed(Dense(softmax)).',
    build: BUILD.bidiLstmDense,
    inputs: BUILD.bidiLstmDenseInputs,
  },
  {
    name: 'bidi_lstm_ave_last',
    description: 'Bidirectional(LSTM(goBackwards true inside, returnSequences false), mergeMode ave) -> Dense(2).',
    build: () => sequential([
      L.bidirectional({layer: L.lstm({units: 3, goBackwards: true}), mergeMode: 'ave', inputShape: [5, 2]}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 2]))],
  },
  {
    name: 'bidi_gru_sum_seq',
    description: 'Bidirectional(GRU(returnSequences), mergeMode sum) -> GRU(returnSequences false) -> Dense(softmax).',
    build: () => sequential([
      L.bidirectional({layer: L.gru({units: 4, returnSequences: true}), mergeMode: 'sum', inputShape: [4, 3]}),
      L.gru({units: 3}),
      L.dense({units: 2, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 4, 3]))],
  },
  {
    name: 'bidi_gru_concat_last',
    description: 'Bidirectional(GRU(relu, useBias false, returnSequences false)) with default mergeMode (concat) -> Dense(sigmoid).',
    build: () => sequential([
      L.bidirectional({layer: L.gru({units: 3, activation: 'relu', useBias: false}), inputShape: [4, 2]}),
      L.dense({units: 2, activation: 'sigmoid'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 2]))],
  },
  {
    name: 'bidi_simplernn_mul_seq',
    description: 'Bidirectional(SimpleRNN(returnSequences), mergeMode mul) -> TimeDistributed(Dense) -> Activation(relu).',
    build: () => sequential([
      L.bidirectional({layer: L.simpleRNN({units: 4, returnSequences: true}), mergeMode: 'mul', inputShape: [5, 3]}),
      L.timeDistributed({layer: L.dense({units: 3})}),
      L.activation({activation: 'relu'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 5, 3]))],
  },
  {
    name: 'bidi_simplernn_ave_last',
    description: 'Bidirectional(SimpleRNN(relu, returnSequences false), mergeMode ave) -> Dense(softmax).',
    build: () => sequential([
      L.bidirectional({layer: L.simpleRNN({units: 3, activation: 'relu'}), mergeMode: 'ave', inputShape: [4, 3]}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 4, 3]))],
  },
  {
    name: 'bidi_lstm_mul_last',
    description: 'Bidirectional(LSTM(returnSequences false), mergeMode mul) -> Dense(tanh).',
    build: () => sequential([
      L.bidirectional({layer: L.lstm({units: 4}), mergeMode: 'mul', inputShape: [4, 3]}),
      L.dense({units: 2, activation: 'tanh'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'bidi_gru_null_functional',
    description: 'Functional: Bidirectional(GRU(returnSequences false), mergeMode null) -> two outputs [forward, backward], plus a Dense on the forward output as a third output.',
    build: () => {
      const x = tf.input({shape: [5, 3], name: 'x'});
      const [f, b] = L.bidirectional({layer: L.gru({units: 3}), mergeMode: null}).apply(x);
      const d = L.dense({units: 2, activation: 'softmax'}).apply(f);
      return tf.model({inputs: x, outputs: [f, b, d]});
    },
    inputs: rng => [call(uniformInput(rng, [2, 5, 3]))],
  },
  {
    name: 'bidi_lstm_null_seq_functional',
    description: 'Functional: Bidirectional(LSTM(returnSequences), mergeMode null) -> outputs [forward sequence, backward sequence]; TF.js reverses the backward sequence back to input time order (as for the merged modes).',
    build: () => {
      const x = tf.input({shape: [4, 2], name: 'x'});
      const outs = L.bidirectional({layer: L.lstm({units: 3, returnSequences: true}), mergeMode: null}).apply(x);
      return tf.model({inputs: x, outputs: outs});
    },
    inputs: rng => [call(uniformInput(rng, [2, 4, 2]))],
  },
  // --- Masking / Embedding ----------------------------------------------------
  {
    name: 'masking0_bidi_lstm_gru_dense',
    description: 'Masking(maskValue 0) -> Bidirectional(LSTM, returnSequences, concat) -> GRU -> Dense(softmax). Sample 0: right padding (t=4,5); sample 1: masked steps in the middle (t=1,3); sample 2: fully masked.',
    build: () => sequential([
      L.masking({maskValue: 0, inputShape: [6, 3]}),
      L.bidirectional({layer: L.lstm({units: 3, returnSequences: true}), mergeMode: 'concat'}),
      L.gru({units: 4}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(maskedInput(rng, [3, 6, 3], 0, [[0, 4], [0, 5], [1, 1], [1, 3]], [2]))],
  },
  {
    name: 'masking_nonzero_bidi_lstm_gru_dense',
    description: 'Masking(maskValue -1) -> Bidirectional(LSTM(sigmoid), returnSequences, sum) -> GRU(returnSequences) -> TimeDistributed(Dense). Masked steps at the right, in the middle and at the start; sample 2 fully masked; a 0-valued step is NOT masked.',
    build: () => sequential([
      L.masking({maskValue: -1, inputShape: [5, 2]}),
      L.bidirectional({layer: L.lstm({units: 3, returnSequences: true, recurrentActivation: 'sigmoid'}), mergeMode: 'sum'}),
      L.gru({units: 3, returnSequences: true}),
      L.timeDistributed({layer: L.dense({units: 2})}),
    ]),
    inputs: rng => {
      const x = maskedInput(rng, [3, 5, 2], -1, [[0, 3], [0, 4], [1, 0], [1, 2]], [2]);
      x.data[(0 * 5 + 1) * 2 + 0] = 0;  // zeros are ordinary values here
      x.data[(0 * 5 + 1) * 2 + 1] = 0;
      return [call(x)];
    },
  },
  {
    name: 'embedding_maskzero_bidi_gru_dense',
    description: 'Embedding(inputDim 8, maskZero true, inputLength 6) -> Bidirectional(GRU, returnSequences false, concat) -> Dense(softmax). Ids 0 = padding: right padding, middle zeros, one all-zero sample.',
    build: () => sequential([
      L.embedding({inputDim: 8, outputDim: 3, maskZero: true, inputLength: 6}),
      L.bidirectional({layer: L.gru({units: 3})}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    wRange: 0.8,
    inputs: rng => [call(idInput(rng, [3, 6], 8, [[0, 4], [0, 5], [1, 2]], [2]))],
  },
  {
    name: 'embedding_maskzero_gru_seq_timedistributed',
    description: 'Embedding(maskZero true, no inputLength: inputShape [null]) -> GRU(returnSequences) -> TimeDistributed(Dense(softmax)); calls with T=4 and T=6.',
    build: () => sequential([
      L.embedding({inputDim: 6, outputDim: 4, maskZero: true, inputShape: [null]}),
      L.gru({units: 3, returnSequences: true}),
      L.timeDistributed({layer: L.dense({units: 2, activation: 'softmax'})}),
    ]),
    inputs: rng => [call(idInput(rng, [2, 4], 6, [[0, 3], [1, 0]])), call(idInput(rng, [3, 6], 6, [[0, 5], [2, 2]], [1]))],
  },
  {
    name: 'embedding_nomask_lstm_dense',
    description: 'Embedding(maskZero false) -> LSTM -> Dense(softmax): id 0 is an ordinary embedding row (no masking).',
    build: () => sequential([
      L.embedding({inputDim: 6, outputDim: 3, inputLength: 5}),
      L.lstm({units: 4}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(idInput(rng, [3, 5], 6, [[0, 3], [0, 4], [1, 0]], [2]))],
  },
  // --- Does the mask propagate? (whatever TF.js does is the reference) -------
  {
    name: 'masking_dense_lstm',
    description: 'Masking(0) -> Dense(4, tanh) (3-D) -> LSTM -> Dense. Dense supports masking in TF.js, so the LSTM skips the masked steps.',
    build: () => sequential([
      L.masking({maskValue: 0, inputShape: [5, 3]}),
      L.dense({units: 4, activation: 'tanh'}),
      L.lstm({units: 3}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(maskedInput(rng, [3, 5, 3], 0, [[0, 3], [0, 4], [1, 1]], [2]))],
  },
  {
    name: 'masking_timedistributed_dense_lstm',
    description: 'Masking(0) -> TimeDistributed(Dense(4, relu)) -> LSTM(returnSequences) -> TimeDistributed(Dense). TimeDistributed passes the mask on in TF.js.',
    build: () => sequential([
      L.masking({maskValue: 0, inputShape: [5, 3]}),
      L.timeDistributed({layer: L.dense({units: 4, activation: 'relu'})}),
      L.lstm({units: 3, returnSequences: true}),
      L.timeDistributed({layer: L.dense({units: 2})}),
    ]),
    inputs: rng => [call(maskedInput(rng, [3, 5, 3], 0, [[0, 4], [1, 2]], [2]))],
  },
  {
    name: 'masking_dropout_lstm',
    description: 'Masking(0) -> Dropout(0.3) (inference no-op) -> LSTM -> Dense(softmax). Dropout passes the mask on.',
    build: () => sequential([
      L.masking({maskValue: 0, inputShape: [5, 2]}),
      L.dropout({rate: 0.3}),
      L.lstm({units: 3}),
      L.dense({units: 2, activation: 'softmax'}),
    ]),
    inputs: rng => [call(maskedInput(rng, [3, 5, 2], 0, [[0, 3], [0, 4], [1, 0]], [2]))],
  },
  {
    name: 'masking_activation_spatialdropout_gru',
    description: 'Masking(0.5) -> Activation(tanh) -> SpatialDropout1D(0.2) -> GRU -> Dense. Activation and SpatialDropout1D (a Dropout subclass) pass the mask on.',
    build: () => sequential([
      L.masking({maskValue: 0.5, inputShape: [4, 3]}),
      L.activation({activation: 'tanh'}),
      L.spatialDropout1d({rate: 0.2}),
      L.gru({units: 3}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(maskedInput(rng, [2, 4, 3], 0.5, [[0, 3], [1, 1]]))],
  },
  {
    name: 'masking_lstm_flatten_reshape_gru',
    description: 'Masking(0) -> LSTM(returnSequences) -> Flatten -> Reshape([5, 3]) -> GRU -> Dense. Flatten/Reshape do not support masking and compute no mask, but TF.js\'s executor keeps the last mask it saw in a kwargs object reused for later layers, so the GRU still receives the Masking mask (TF.js quirk; the reference records it).',
    build: () => sequential([
      L.masking({maskValue: 0, inputShape: [5, 2]}),
      L.lstm({units: 3, returnSequences: true}),
      L.flatten(),
      L.reshape({targetShape: [5, 3]}),
      L.gru({units: 3}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(maskedInput(rng, [3, 5, 2], 0, [[0, 3], [0, 4], [1, 1]], [2]))],
  },
  // --- Dropout / SpatialDropout1D / Flatten / Reshape -------------------------
  {
    name: 'dropout_spatialdropout_between_rnns',
    description: 'GRU(returnSequences) -> SpatialDropout1D(0.5) -> LSTM(returnSequences false) -> Dropout(0.5) -> Dense(softmax); both dropouts are inference no-ops.',
    build: () => sequential([
      L.gru({units: 4, returnSequences: true, inputShape: [5, 3]}),
      L.spatialDropout1d({rate: 0.5}),
      L.lstm({units: 3}),
      L.dropout({rate: 0.5}),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 5, 3]))],
  },
  {
    name: 'lstm_seq_flatten_dense',
    description: 'LSTM(returnSequences) -> Flatten -> Dense(softmax).',
    build: () => sequential([
      L.lstm({units: 3, returnSequences: true, inputShape: [4, 2]}),
      L.flatten(),
      L.dense({units: 3, activation: 'softmax'}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 2]))],
  },
  {
    name: 'gru_seq_reshape_dense',
    description: 'GRU(returnSequences) -> Reshape([12]) -> Dense(relu) -> Dense.',
    build: () => sequential([
      L.gru({units: 3, returnSequences: true, inputShape: [4, 3]}),
      L.reshape({targetShape: [12]}),
      L.dense({units: 4, activation: 'relu'}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(uniformInput(rng, [3, 4, 3]))],
  },
  {
    name: 'simplernn_seq_reshape_simplernn',
    description: 'SimpleRNN(returnSequences, 4 units over 6 steps) -> Reshape([8, 3]) -> SimpleRNN -> Dense: a reshape that re-slices time.',
    build: () => sequential([
      L.simpleRNN({units: 4, returnSequences: true, inputShape: [6, 2]}),
      L.reshape({targetShape: [8, 3]}),
      L.simpleRNN({units: 3}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 6, 2]))],
  },
  // --- Functional models -------------------------------------------------------
  {
    name: 'functional_lstm_return_state',
    description: 'Functional: LSTM(returnSequences, returnState) -> outputs [sequence, h, c] and Dense(softmax) on h as a 4th output.',
    build: () => {
      const x = tf.input({shape: [4, 3], name: 'x'});
      const [seq, h, c] = L.lstm({units: 3, returnSequences: true, returnState: true}).apply(x);
      const d = L.dense({units: 2, activation: 'softmax'}).apply(h);
      return tf.model({inputs: x, outputs: [seq, h, c, d]});
    },
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'functional_gru_initial_state',
    description: 'Functional, two inputs: x and h0; gru.apply(x, {initialState: [h0]}) -> Dense. TF.js drops the initialState kwarg when saving and lists h0 as a second inbound tensor of the GRU node; on load RNN.apply treats inputs[1:] as initial states.',
    build: () => {
      const x = tf.input({shape: [4, 3], name: 'x'});
      const h0 = tf.input({shape: [4], name: 'h0'});
      const y = L.gru({units: 4, returnSequences: true}).apply(x, {initialState: [h0]});
      const out = L.timeDistributed({layer: L.dense({units: 2})}).apply(y);
      return tf.model({inputs: [x, h0], outputs: out});
    },
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]), uniformInput(rng, [2, 4])),
      call(uniformInput(rng, [3, 4, 3]), {shape: [3, 4], data: new Float32Array(12)})],
  },
  {
    name: 'functional_lstm_initial_state_two',
    description: 'Functional, three inputs: x, h0, c0; lstm.apply(x, {initialState: [h0, c0]}) -> output.',
    build: () => {
      const x = tf.input({shape: [3, 2], name: 'x'});
      const h0 = tf.input({shape: [3], name: 'h0'});
      const c0 = tf.input({shape: [3], name: 'c0'});
      const y = L.lstm({units: 3}).apply(x, {initialState: [h0, c0]});
      return tf.model({inputs: [x, h0, c0], outputs: y});
    },
    inputs: rng => [call(uniformInput(rng, [2, 3, 2]), uniformInput(rng, [2, 3]), uniformInput(rng, [2, 3]))],
  },
  {
    name: 'functional_shared_gru_dense',
    description: 'Functional, two inputs; one GRU and one Dense each applied to both (two inbound nodes each). Outputs [dense node 0, dense node 1, gru node 1].',
    build: () => {
      const a = tf.input({shape: [4, 3], name: 'a'});
      const b = tf.input({shape: [4, 3], name: 'b'});
      const gru = L.gru({units: 3});
      const dense = L.dense({units: 2, activation: 'softmax'});
      const ga = gru.apply(a);
      const gb = gru.apply(b);
      return tf.model({inputs: [a, b], outputs: [dense.apply(ga), dense.apply(gb), gb]});
    },
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]), uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'functional_bidi_lstm_return_state',
    description: 'Functional: Bidirectional(LSTM(returnSequences, returnState), concat) -> outputs [merged sequence, forward h, forward c, backward h, backward c].',
    build: () => {
      const x = tf.input({shape: [4, 3], name: 'x'});
      const outs = L.bidirectional({layer: L.lstm({units: 3, returnSequences: true, returnState: true}),
        mergeMode: 'concat'}).apply(x);
      return tf.model({inputs: x, outputs: outs});
    },
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
  },
  {
    name: 'functional_bidi_gru_null_return_state',
    description: 'Functional: Bidirectional(GRU(returnState), mergeMode null) -> outputs [forward out, backward out, forward h, backward h].',
    build: () => {
      const x = tf.input({shape: [5, 2], name: 'x'});
      const outs = L.bidirectional({layer: L.gru({units: 3, returnState: true}), mergeMode: null}).apply(x);
      return tf.model({inputs: x, outputs: outs});
    },
    inputs: rng => [call(uniformInput(rng, [2, 5, 2]))],
  },
  // --- Execution order: TF.js's executor walks the graph depth-first from each output in
  // turn, and the sticky call mask (see masking_lstm_flatten_reshape_gru) depends on that order.
  {
    name: 'functional_order_fetch_first',
    description: 'Functional, inputs a and c [3, 2]: Masking(0)(a) -> SimpleRNN -> Dense = d; SimpleRNN(returnSequences)(c) = rc. Outputs [rc, d]. TF.js evaluates the graph from the first output: rc runs before the masked branch and gets no mask, although the layer list (by depth) puts the Masking branch first.',
    build: () => {
      const a = tf.input({shape: [3, 2], name: 'a'});
      const c = tf.input({shape: [3, 2], name: 'c'});
      const ra = L.simpleRNN({units: 3, name: 'ra'}).apply(L.masking({maskValue: 0, name: 'mask_a'}).apply(a));
      const d = L.dense({units: 2, name: 'd'}).apply(ra);
      const rc = L.simpleRNN({units: 3, returnSequences: true, name: 'rc'}).apply(c);
      return tf.model({inputs: [a, c], outputs: [rc, d]});
    },
    inputs: rng => [call(maskedInput(rng, [2, 3, 2], 0, [[0, 1], [1, 2]]), uniformInput(rng, [2, 3, 2]))],
  },
  {
    name: 'functional_order_reapplied_layer',
    description: 'Functional, inputs a, b, c [3, 2]: LSTM(returnState)(Masking(0)(a)) = [o, h, s]; SimpleRNN(Masking(0)(b)) = rb; SimpleRNN(returnSequences)(c) = rc. Outputs [o, rb, h, rc]. TF.js applies the LSTM once per output it reaches (o, then h after rb); that re-application renews the sticky mask, so rc gets a\'s mask, not b\'s.',
    build: () => {
      const a = tf.input({shape: [3, 2], name: 'a'});
      const b = tf.input({shape: [3, 2], name: 'b'});
      const c = tf.input({shape: [3, 2], name: 'c'});
      const [o, h] = L.lstm({units: 3, returnState: true, name: 'la'}).apply(L.masking({maskValue: 0, name: 'mask_a'}).apply(a));
      const rb = L.simpleRNN({units: 3, name: 'rb'}).apply(L.masking({maskValue: 0, name: 'mask_b'}).apply(b));
      const rc = L.simpleRNN({units: 3, returnSequences: true, name: 'rc'}).apply(c);
      return tf.model({inputs: [a, b, c], outputs: [o, rb, h, rc]});
    },
    inputs: rng => [call(maskedInput(rng, [2, 3, 2], 0, [[0, 1], [1, 2]]),
      maskedInput(rng, [2, 3, 2], 0, [[0, 0], [1, 1]]), uniformInput(rng, [2, 3, 2]))],
  },
  // --- Stateful ----------------------------------------------------------------
  {
    name: 'stateful_lstm_dense',
    description: 'Stateful LSTM (batchInputShape [2, 3, 3]) -> Dense. Calls: predict(x1), predict(x2), resetStates, predict(x1): the 3rd output equals the 1st.',
    build: () => sequential([
      L.lstm({units: 4, stateful: true, batchInputShape: [2, 3, 3]}),
      L.dense({units: 2}),
    ]),
    inputs: rng => { const x1 = uniformInput(rng, [2, 3, 3]); const x2 = uniformInput(rng, [2, 3, 3]); return [call(x1), call(x2), RESET, call(x1)]; },
  },
  {
    name: 'stateful_gru_seq_timedistributed',
    description: 'InputLayer(batchInputShape [2, 4, 2]) -> stateful GRU(returnSequences, sigmoid) -> TimeDistributed(Dense). Calls x1, x2, reset, x1.',
    build: () => sequential([
      L.inputLayer({batchInputShape: [2, 4, 2]}),
      L.gru({units: 3, stateful: true, returnSequences: true, recurrentActivation: 'sigmoid'}),
      L.timeDistributed({layer: L.dense({units: 2})}),
    ]),
    inputs: rng => { const x1 = uniformInput(rng, [2, 4, 2]); const x2 = uniformInput(rng, [2, 4, 2]); return [call(x1), call(x2), RESET, call(x1)]; },
  },
  {
    name: 'stateful_lstm_gru_stack',
    description: 'Stateful LSTM(returnSequences) -> stateful GRU -> Dense(softmax), batchInputShape [3, 3, 2]. Calls x1, x2, x1, reset, x1.',
    build: () => sequential([
      L.lstm({units: 3, stateful: true, returnSequences: true, batchInputShape: [3, 3, 2]}),
      L.gru({units: 3, stateful: true}),
      L.dense({units: 2, activation: 'softmax'}),
    ]),
    inputs: rng => { const x1 = uniformInput(rng, [3, 3, 2]); const x2 = uniformInput(rng, [3, 3, 2]); return [call(x1), call(x2), call(x1), RESET, call(x1)]; },
  },
  {
    name: 'stateful_bidi_lstm',
    description: 'Stateful Bidirectional(LSTM(stateful), concat), batchInputShape [2, 3, 2] -> Dense. TF.js carries both directions\' states across predicts. Calls x1, x2, reset, x1.',
    build: () => sequential([
      L.bidirectional({layer: L.lstm({units: 3, stateful: true}), batchInputShape: [2, 3, 2]}),
      L.dense({units: 2}),
    ]),
    inputs: rng => { const x1 = uniformInput(rng, [2, 3, 2]); const x2 = uniformInput(rng, [2, 3, 2]); return [call(x1), call(x2), RESET, call(x1)]; },
  },
  // --- Sharding / manifest groups ------------------------------------------------
  {
    name: 'shards256_bidi_lstm_concat_seq',
    seedFrom: 'bidi_lstm_concat_seq',
    sameAs: 'bidi_lstm_concat_seq',
    description: 'Same model and weights as bidi_lstm_concat_seq, weight data split into 256-byte shard files (group1-shard1of5.bin ...; shard boundaries fall inside tensors).',
    build: BUILD.bidiLstmDense,
    inputs: BUILD.bidiLstmDenseInputs,
    variant: {shardBytes: 256},
  },
  {
    name: 'groups2_bidi_lstm_concat_seq',
    seedFrom: 'bidi_lstm_concat_seq',
    sameAs: 'bidi_lstm_concat_seq',
    description: 'Same model and weights as bidi_lstm_concat_seq, weights in two manifest groups (one per layer): group1-shard1of1.bin, group2-shard1of1.bin.',
    build: BUILD.bidiLstmDense,
    inputs: BUILD.bidiLstmDenseInputs,
    variant: {groupBy: 'layer'},
  },
  {
    name: 'groups2_shards200_bidi_lstm_concat_seq',
    seedFrom: 'bidi_lstm_concat_seq',
    sameAs: 'bidi_lstm_concat_seq',
    description: 'Same model and weights as bidi_lstm_concat_seq, two manifest groups (one per layer) each split into 200-byte shards.',
    build: BUILD.bidiLstmDense,
    inputs: BUILD.bidiLstmDenseInputs,
    variant: {groupBy: 'layer', shardBytes: 200},
  },
  // --- Quantised weights -----------------------------------------------------------
  ...['uint8', 'uint16', 'float16'].map(q => ({
    name: `quant_${q}_bidi_lstm_concat_seq`,
    seedFrom: 'bidi_lstm_concat_seq',
    description: `Same model and weights as bidi_lstm_concat_seq, every weight stored ${q === 'float16' ? 'as IEEE float16' : `${q} affine-quantised (converter-style nudged min/scale)`}; outputs are TF.js's predictions after it dequantised the weights on load.`,
    build: BUILD.bidiLstmDense,
    inputs: BUILD.bidiLstmDenseInputs,
    variant: {quantize: q},
  })),
  {
    name: 'embedding_maskzero_gru_dense',
    description: 'Embedding(inputDim 7, maskZero) -> GRU(sigmoid) -> Dense(softmax) (float32 base of the quant_*_embedding_gru_dense cases).',
    build: BUILD.embGruDense,
    inputs: BUILD.embGruDenseInputs,
    wRange: 0.8,
  },
  ...['uint8', 'uint16', 'float16'].map(q => ({
    name: `quant_${q}_embedding_gru_dense`,
    seedFrom: 'embedding_maskzero_gru_dense',
    description: `Same model and weights as embedding_maskzero_gru_dense, every weight stored ${q === 'float16' ? 'as IEEE float16' : `${q} affine-quantised (converter-style nudged min/scale)`}; outputs are TF.js's predictions after it dequantised the weights on load.`,
    build: BUILD.embGruDense,
    inputs: BUILD.embGruDenseInputs,
    wRange: 0.8,
    variant: {quantize: q, shardBytes: q === 'uint8' ? 100 : null},
  })),
  // --- Other spellings -------------------------------------------------------------
  {
    name: 'lstm_stack_dense',
    description: 'InputLayer -> LSTM(sigmoid, unitForgetBias, returnSequences) -> LSTM(sigmoid, goBackwards) -> Dense(tanh) (float32 base of keras3_spelling_lstm_stack_dense).',
    build: BUILD.lstmDense,
    inputs: BUILD.lstmDenseInputs,
  },
  {
    name: 'keras3_spelling_lstm_stack_dense',
    seedFrom: 'lstm_stack_dense',
    sameAs: 'lstm_stack_dense',
    description: 'REWRITTEN SPELLING of lstm_stack_dense (not written by Keras): the topology is re-spelled the way a Keras 3 export looks (module/registered_name keys, build_config, InputLayer batch_shape, dtype as a DTypePolicy object, initializers with module keys, keras_version "3.6.0", backend "tensorflow"); recurrent_activation is "sigmoid" so the semantics are unchanged. Weights and names as TF.js saved them. TF.js 4.22 cannot load this file; the outputs are TF.js\'s outputs of the original model.',
    build: BUILD.lstmDense,
    inputs: BUILD.lstmDenseInputs,
    variant: {rewrite: 'keras3'},
  },
  {
    name: 'bidi_gru_functional',
    description: 'Functional: Bidirectional(GRU(sigmoid, returnSequences), sum) -> GRU(sigmoid) -> Dense(softmax) (float32 base of keras3_spelling_bidi_gru_functional).',
    build: BUILD.bidiGruFunctional,
    inputs: BUILD.bidiGruFunctionalInputs,
  },
  {
    name: 'keras3_spelling_bidi_gru_functional',
    seedFrom: 'bidi_gru_functional',
    sameAs: 'bidi_gru_functional',
    description: 'REWRITTEN SPELLING of bidi_gru_functional (not written by Keras): converter-style {keras_version "3.6.0", backend, model_config} wrapper, class_name "Functional", Keras 3 inbound_nodes ({"args": [{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}], "kwargs": {}}), un-nested single input_layers/output_layers, Bidirectional with "layer" = forward_<name> and "backward_layer" = backward_<name> (go_backwards true), dtype policies, module/registered_name keys; recurrent_activation "sigmoid". Weights and names as TF.js saved them. TF.js 4.22 cannot load this file; the outputs are TF.js\'s outputs of the original model.',
    build: BUILD.bidiGruFunctional,
    inputs: BUILD.bidiGruFunctionalInputs,
    variant: {rewrite: 'keras3'},
  },
  {
    name: 'converter_spelling_bidi_gru_lstm',
    description: 'REWRITTEN SPELLING (not written by the converter): TF.js topology wrapped as the Python converter writes Keras models, {"keras_version": "2.15.0", "backend": "tensorflow", "model_config": {...}}, and RNN weight names with the Keras cell scope (bidirectional_Bidirectional1/forward_gru_GRU1/gru_cell/kernel, lstm_LSTM1/lstm_cell/kernel). TF.js loads it (it drops the second-to-last name token when the full name does not match); outputs are from that load.',
    build: () => sequential([
      L.inputLayer({inputShape: [4, 3]}),
      L.bidirectional({layer: L.gru({units: 3, returnSequences: true}), mergeMode: 'concat'}),
      L.lstm({units: 3}),
      L.dense({units: 2}),
    ]),
    inputs: rng => [call(uniformInput(rng, [2, 4, 3]))],
    variant: {rewrite: 'converter'},
  },
];

// ---------------------------------------------------------------------------
// Running one case
// ---------------------------------------------------------------------------
function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
function sameOutputs(ra, rb) {
  let diff = 0;
  for (let i = 0; i < ra.length; i++) {
    if (ra[i].resetStates) continue;
    for (let j = 0; j < ra[i].outputs.length; j++) {
      const x = ra[i].outputs[j];
      const y = rb[i].outputs[j];
      if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) throw new Error('output shape mismatch');
      diff = Math.max(diff, maxAbsDiff(x.data, y.data));
    }
  }
  return diff;
}

async function runCase(c, outDir) {
  await tf.setBackend('cpu');
  const rng = mulberry32(fnv1a(c.seedFrom || c.name));
  const model = c.build();
  ensureBuilt(model);
  setSeededWeights(model, rng, c.wRange || 0.6);
  const calls = c.inputs(rng);
  const variant = c.variant || {};

  const artifacts = await saveArtifacts(model);
  const weights = splitWeights(artifacts);
  const encoded = weights.map(w => encodeWeight(w.spec, w.values, variant.quantize));

  let topology = artifacts.modelTopology;
  let meta = {format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy};
  if (variant.rewrite === 'keras3') {
    topology = keras3Spelling(topology, model);
    meta = {format: 'layers-model', generatedBy: 'keras v3.6.0', convertedBy: 'TensorFlow.js Converter v4.22.0'};
  } else if (variant.rewrite === 'converter') {
    const r = converterSpelling(topology, encoded.map(e => e.spec));
    topology = r.topology;
    r.specs.forEach((s, i) => { encoded[i].spec = s; });
    meta = {format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0'};
  }
  const {manifest, files} = packWeights(encoded, variant);

  const dir = path.join(outDir, c.name);
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, 'model.json'), modelJSONString({modelTopology: topology, ...meta}, manifest));
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), f.bytes);

  // Reference: TF.js re-loads what was written (keras3 rewrites: TF.js cannot,
  // so the original artifacts are loaded from memory instead).
  const original = runCalls(model, calls);
  if (model.stateful) model.resetStates();
  let loaded;
  if (variant.rewrite === 'keras3') {
    let loadable = true;
    try { await loadFromDir(dir); } catch (e) { loadable = false; }
    if (loadable) throw new Error(`${c.name}: TF.js unexpectedly loads the Keras 3 spelling; use its outputs`);
    loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } else {
    loaded = await loadFromDir(dir);
  }
  // The loaded weights must be exactly what the files encode.
  const lw = loaded.weights;
  if (lw.length !== encoded.length) throw new Error(`${c.name}: ${lw.length} loaded weights, ${encoded.length} written`);
  {
    // loaded.weights is in model.weights order, like the written specs
    lw.forEach((w, i) => {
      const got = w.read().dataSync();
      const want = encoded[i].decoded;
      if (got.length !== want.length || maxAbsDiff(got, want) !== 0) {
        throw new Error(`${c.name}: loaded weight ${w.originalName} differs from the written data`);
      }
    });
  }
  const result = runCalls(loaded, calls);
  const diff = sameOutputs(original, result);
  if (variant.quantize) {
    if (!(diff > 0)) throw new Error(`${c.name}: quantised outputs identical to float32 ones`);
    if (diff > 0.05) throw new Error(`${c.name}: quantised outputs too far off (${diff})`);
  } else if (diff !== 0) {
    throw new Error(`${c.name}: re-loaded model differs from the original (${diff})`);
  }

  const reference = {
    description: c.description,
    generatedBy: GENERATED_BY,
    // same model, weights and inputs as another case: identical outputs
    sameOutputsAs: c.sameAs,
    calls: result.map(r => (r.resetStates ? {resetStates: true} : {
      inputs: r.inputs.map(i => ({name: i.name, shape: i.shape, data: new F32(i.data)})),
      outputs: r.outputs.map(o => ({name: o.name, ref: o.ref, shape: o.shape, data: new F32(o.data)})),
    })),
  };
  fs.writeFileSync(path.join(dir, 'reference.json'), ser(reference) + '\n');
  const bytes = files.reduce((s, f) => s + f.bytes.length, 0);
  const extra = variant.quantize ? ` max|quantised - float32| = ${diff.toPrecision(3)}` : '';
  process.stdout.write(`${c.name}: ${files.length} shard(s), ${bytes} B${extra}\n`);
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------
async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    const c = CASES.find(x => x.name === args[2]);
    if (!c) throw new Error(`unknown case ${args[2]}`);
    await runCase(c, args[1]);
    return;
  }
  if (args.length < 1 || args[0].startsWith('-')) {
    process.stderr.write('usage: node generate_tfjs_models.js OUT_DIR [CASE...]\n');
    process.exit(2);
  }
  selfTestHalf();
  const names = new Set();
  for (const c of CASES) {
    if (names.has(c.name)) throw new Error(`duplicate case ${c.name}`);
    names.add(c.name);
  }
  const outDir = args[0];
  const only = args.slice(1);
  for (const n of only) if (!names.has(n)) throw new Error(`unknown case ${n}`);
  fs.mkdirSync(outDir, {recursive: true});
  for (const c of CASES) {
    if (only.length && !only.includes(c.name)) continue;
    const r = childProcess.spawnSync(process.execPath, [__filename, '--one', outDir, c.name],
        {stdio: 'inherit', env: process.env});
    if (r.status !== 0) throw new Error(`case ${c.name} failed`);
  }
}

module.exports = {tf, TFJS_VERSION, f32str, ser, F32, dirHandler, loadFromDir, ensureBuilt, runCalls, CASES};

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  });
}
