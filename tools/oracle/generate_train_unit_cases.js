#!/usr/bin/env node
// Golden data for the training building blocks of the `recurrent` library: TF.js 4.22.0's
// losses (value and gradient), metrics and optimizers, computed by TF.js itself (pure-JS `cpu`
// backend).
//
// Usage:  node generate_train_unit_cases.js OUTDIR
//
// Writes OUTDIR/losses.json, metrics.json, optimizers.json:
//
// * losses.json `cases`: {name, loss, y_true, y_pred, d_out, value, grad}. `loss` is the
//   `model.compile({loss})` name; the function is the one compile resolved
//   (`model.lossFunctions[0]`), except `huberLoss`, which compile refuses: there the loss is
//   `(y, p) => tf.losses.huberLoss(y, p)` (a scalar). `value` = lossFn(y_true, y_pred); `grad` =
//   tf.grad of sum(lossFn(y_true, y_pred) * d_out) w.r.t. y_pred. Ranks 2 and 3, with the edge
//   values each loss has (clip bounds and beyond, abs kinks, hinge ties, max ties, sparse labels
//   [N,1] / [N] / fractional).
// * metrics.json `cases`: {name, metric, loss, output_last_dim, suffix, resolved, y_true, y_pred,
//   value}: a model whose output's last dimension is output_last_dim is compiled with
//   {loss, metrics: [metric]}; `suffix` = model.metricsNames[1], `resolved` = the name of the
//   function compile picked, `value` = that function applied to (y_true, y_pred).
// * optimizers.json `cases`: {name, factory, args, class_name, config, initial, steps}: two
//   variables ([3, 4] and [5]); each step records the gradients passed to one
//   `optimizer.applyGradients` and the variables' values after it. `factory` is "tf.train.<fn>"
//   (args = positional arguments) or "compile" (args = [the compile string]; the optimizer is
//   `model.optimizer` after compile).
// * each file's `unknown_names`: {name, message} = what TF.js throws for a name it refuses.
//
// Deterministic: every random value comes from mulberry32 seeded from the case name.
'use strict';

const fs = require('fs');
const path = require('path');

const {tf, checkTfVersion, dataRng, prod, F32, ser, runMain} = require('./common');

const TFJS_EPS = Math.fround(1e-7);
const ONE_MINUS_EPS = Math.fround(1 - 1e-7);

const tensorRec = t => ({shape: t.shape.slice(), data: new F32(t.dataSync())});
const rec = (shape, data) => ({shape: shape.slice(), data: new F32(data)});

function uniform(rng, n, lo, hi) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.fround(lo + (hi - lo) * rng());
  return a;
}
// overwrite a[idx % n] with the listed values (edge values placed into random data)
function place(a, values, start = 0, stride = 1) {
  values.forEach((v, k) => { a[(start + k * stride) % a.length] = Math.fround(v); });
  return a;
}
function oneHotRows(rng, rows, c, soft = []) {
  const a = new Float32Array(rows * c);
  for (let r = 0; r < rows; r++) {
    if (soft.includes(r)) {
      let s = 0;
      const v = [];
      for (let j = 0; j < c; j++) { v.push(rng() + 0.05); s += v[j]; }
      for (let j = 0; j < c; j++) a[r * c + j] = Math.fround(v[j] / s);
    } else {
      a[r * c + Math.floor(rng() * c)] = 1;
    }
  }
  return a;
}
function choice(rng, n, values) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = values[Math.floor(rng() * values.length)];
  return a;
}

function makeModel(lastDim) {
  const m = tf.sequential();
  m.add(tf.layers.dense({units: lastDim, inputShape: [2]}));
  return m;
}
function compiledLoss(name) {
  const m = makeModel(3);
  m.compile({optimizer: 'sgd', loss: name});
  return m.model.lossFunctions[0];  // Sequential compiles its inner LayersModel
}
function errorMessage(f) {
  try {
    f();
  } catch (e) {
    return e.message;
  }
  throw new Error('expected an error');
}

// ---------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------
const SHAPES = [[4, 5], [2, 3, 4]];
const shapeTag = s => 'r' + s.length;

// Each entry: loss name -> (rng, shape) => [{tag, yTrue: {shape, data}, yPred: {shape, data}}]
const LOSS_DATA = {
  meanSquaredError: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -2, 2), p = uniform(rng, n, -2, 2);
    p[0] = t[0];
    return [{tag: '', t, p}];
  },
  meanAbsoluteError: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -2, 2), p = uniform(rng, n, -2, 2);
    p[0] = t[0];  // abs kink: abs'(0) = -1
    p[7] = t[7];
    p[n - 1] = t[n - 1];
    return [{tag: '', t, p}];
  },
  meanAbsolutePercentageError: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -2, 2), p = uniform(rng, n, -2, 2);
    place(t, [0, 5e-8, TFJS_EPS, -TFJS_EPS, 0], 1, 3);  // |y| clipped to eps (or exactly at it)
    p[1] = 0;                                         // y = p = 0: kink of abs at 0
    p[10] = t[10];                                    // diff exactly 0
    return [{tag: '', t, p}];
  },
  meanSquaredLogarithmicError: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -0.5, 3), p = uniform(rng, n, -0.5, 3);
    place(p, [0, TFJS_EPS, 5e-8, -0.3, 2e-7], 0, 2);
    place(t, [0, TFJS_EPS, -1], 1, 4);
    return [{tag: '', t, p}];
  },
  binaryCrossentropy: (rng, s) => {
    const n = prod(s);
    const hard = choice(rng, n, [0, 1]);
    const soft = uniform(rng, n, 0, 1);
    const p = uniform(rng, n, 0.01, 0.99);
    place(p, [0, TFJS_EPS, 5e-8, 1, ONE_MINUS_EPS, 0.99999994, 1.3, -0.2, 0.5, 2e-7, 0.9999998],
          0, 1);
    return [{tag: 'hard', t: hard, p}, {tag: 'soft', t: soft, p}];
  },
  categoricalCrossentropy: (rng, s) => {
    const c = s[s.length - 1], rows = prod(s) / c;
    const t = oneHotRows(rng, rows, c, [1]);
    const p = uniform(rng, rows * c, 0.01, 1);
    // row 0: a one-hot prediction (normalised values exactly 0 and 1: both clip bounds)
    for (let j = 0; j < c; j++) p[j] = j === 2 ? 1 : 0;
    // row 2: one zero entry; row 3: scaled up (unnormalised)
    p[2 * c + 1] = 0;
    for (let j = 0; j < c; j++) p[3 * c + j] = Math.fround(p[3 * c + j] * 7);
    return [{tag: '', t, p}];
  },
  sparseCategoricalCrossentropy: (rng, s) => {
    const c = s[s.length - 1], lead = s.slice(0, -1), rows = prod(lead);
    const labels = new Float32Array(rows);
    for (let r = 0; r < rows; r++) labels[r] = Math.floor(rng() * c);
    const fractional = Float32Array.from(labels);
    fractional[0] = 2.7;  // floors to 2
    fractional[1] = 0.3;  // floors to 0
    const p = uniform(rng, rows * c, 0.01, 1);
    for (let j = 0; j < c; j++) p[j] = j === 1 ? 1 : 0;  // row 0 one-hot
    place(p, [1.2, -0.1, 0, TFJS_EPS, ONE_MINUS_EPS], c, 1);  // row 1: beyond the clip bounds
    return [
      {tag: 'n1', t: labels, tShape: lead.concat([1]), p},
      {tag: 'n', t: labels, tShape: lead, p},
      {tag: 'fractional', t: fractional, tShape: lead.concat([1]), p},
    ];
  },
  hinge: (rng, s) => {
    const n = prod(s);
    const t = choice(rng, n, [-1, 1]), p = uniform(rng, n, -2, 2);
    for (let i = 0; i < n; i += 4) p[i] = t[i];  // 1 - y·p = 0 exactly: maximum's tie
    const t01 = choice(rng, n, [0, 1]);
    return [{tag: 'pm1', t, p}, {tag: '01', t: t01, p}];
  },
  squaredHinge: (rng, s) => {
    const n = prod(s);
    const t = choice(rng, n, [-1, 1]), p = uniform(rng, n, -2, 2);
    for (let i = 1; i < n; i += 4) p[i] = t[i];
    return [{tag: '', t, p}];
  },
  categoricalHinge: (rng, s) => {
    const c = s[s.length - 1], rows = prod(s) / c;
    const t = oneHotRows(rng, rows, c);
    const p = uniform(rng, rows * c, -1, 2);
    // row 0: label 1, two tied maxima of (1 - y)·p and 1 + neg - pos = 0 exactly
    for (let j = 0; j < c; j++) t[j] = j === 1 ? 1 : 0;
    place(p, [0.5, 1.5, 0.5, 0.25], 0, 1);
    if (c > 4) p[4] = 0.125;
    // row 1: label 0, two tied maxima, loss > 0
    for (let j = 0; j < c; j++) t[c + j] = j === 0 ? 1 : 0;
    place(p, [0.25, 0.75, 0.75, 0.5], c, 1);
    return [{tag: '', t, p}];
  },
  logcosh: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -3, 3), p = uniform(rng, n, -3, 3);
    p[0] = Math.fround(t[0] + 20);  // softplus(-40): the exp branch
    p[1] = Math.fround(t[1] - 10);  // softplus(20): the identity branch
    p[2] = t[2];
    return [{tag: '', t, p}];
  },
  kullbackLeiblerDivergence: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, 0, 1), p = uniform(rng, n, 0, 1);
    place(t, [0, TFJS_EPS, 1, 1.3], 0, 5);
    place(p, [0, 5e-8, TFJS_EPS, 1, 1.4, -0.2], 1, 3);
    return [{tag: '', t, p}];
  },
  poisson: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, 0, 3), p = uniform(rng, n, 0, 3);
    place(p, [0, TFJS_EPS], 0, 5);
    return [{tag: '', t, p}];
  },
  cosineProximity: (rng, s) => {
    const c = s[s.length - 1], n = prod(s);
    const t = uniform(rng, n, -1, 1), p = uniform(rng, n, -1, 1);
    for (let j = 0; j < c; j++) p[c + j] = 0;  // row 1: zero prediction (sum of squares < eps)
    for (let j = 0; j < c; j++) p[2 * c + j] = Math.fround(1e-5 * (j + 1));  // tiny row
    return [{tag: '', t, p}];
  },
  huberLoss: (rng, s) => {
    const n = prod(s);
    const t = uniform(rng, n, -3, 3), p = uniform(rng, n, -3, 3);
    t[0] = 0.5; p[0] = 1.5;    // |p - y| = delta exactly
    t[1] = -0.25; p[1] = 0.75;
    p[2] = t[2];               // abs kink
    return [{tag: '', t, p}];
  },
};

function lossCases() {
  const cases = [];
  for (const name of Object.keys(LOSS_DATA)) {
    const lossFn = name === 'huberLoss' ? ((y, p) => tf.losses.huberLoss(y, p)) : compiledLoss(name);
    for (const s of SHAPES) {
      const caseBase = `${name}_${shapeTag(s)}`;
      const rng = dataRng(caseBase);
      for (const d of LOSS_DATA[name](rng, s)) {
        const caseName = d.tag ? `${caseBase}_${d.tag}` : caseBase;
        const tShape = d.tShape || s;
        const yTrue = tf.tensor(d.t, tShape, 'float32');
        const yPred = tf.tensor(d.p, s, 'float32');
        const value = lossFn(yTrue, yPred);
        const dOutData = uniform(dataRng(caseName + '/dout'), Math.max(1, prod(value.shape)), -1, 1);
        const dOut = tf.tensor(dOutData, value.shape, 'float32');
        const grad = tf.grad(p => tf.sum(tf.mul(lossFn(yTrue, p), dOut)))(yPred);
        for (const v of [value, grad]) {
          if (!Array.from(v.dataSync()).every(Number.isFinite)) {
            throw new Error(`${caseName}: non-finite TF.js result`);
          }
        }
        cases.push({
          name: caseName,
          loss: name,
          y_true: tensorRec(yTrue),
          y_pred: tensorRec(yPred),
          d_out: tensorRec(dOut),
          value: tensorRec(value),
          grad: tensorRec(grad),
        });
      }
    }
  }
  const unknown = ['mse', 'MSE', 'mae', 'kld', 'cosine', 'huberLoss', 'categorical_crossentropy',
                   'softmaxCrossEntropy', 'foo'].map(n => ({
    name: n,
    message: errorMessage(() => makeModel(3).compile({optimizer: 'sgd', loss: n})),
  }));
  return {cases, unknown};
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------
// [metric, loss, lastDim, data kind]
const METRIC_SPECS = [
  ['acc', 'binaryCrossentropy', 3, 'binary'],
  ['accuracy', 'meanSquaredError', 1, 'binary'],
  ['acc', 'sparseCategoricalCrossentropy', 1, 'binary'],
  ['acc', 'sparseCategoricalCrossentropy', 4, 'sparse'],
  ['accuracy', 'sparseCategoricalCrossentropy', 4, 'sparse_n'],
  ['acc', 'categoricalCrossentropy', 4, 'categorical'],
  ['acc', 'meanSquaredError', 4, 'categorical'],
  ['ce', 'binaryCrossentropy', 3, 'binary'],
  ['crossentropy', 'meanSquaredError', 1, 'binary'],
  ['ce', 'sparseCategoricalCrossentropy', 4, 'sparse'],
  ['crossentropy', 'categoricalCrossentropy', 4, 'categorical'],
  ['mse', 'meanAbsoluteError', 4, 'regression'],
  ['MSE', 'meanAbsoluteError', 4, 'regression'],
  ['mae', 'meanSquaredError', 4, 'regression'],
  ['MAE', 'meanSquaredError', 4, 'regression'],
  ['mape', 'meanSquaredError', 4, 'regression'],
  ['MAPE', 'meanSquaredError', 4, 'regression'],
  ['cosine', 'meanSquaredError', 4, 'regression'],
  ['binaryAccuracy', 'meanSquaredError', 4, 'binary'],
  ['categoricalAccuracy', 'meanSquaredError', 4, 'categorical'],
  ['categoricalCrossentropy', 'meanSquaredError', 4, 'categorical'],
  ['sparseCategoricalCrossentropy', 'meanSquaredError', 4, 'sparse'],
  ['precision', 'meanSquaredError', 4, 'precision'],
];

function metricData(kind, rng, s) {
  const c = s[s.length - 1], lead = s.slice(0, -1), rows = prod(lead), n = prod(s);
  switch (kind) {
    case 'binary': {
      const t = choice(rng, n, [0, 1]);
      place(t, [0.7], 3);  // a soft label never equals a thresholded prediction
      const p = uniform(rng, n, 0, 1);
      place(p, [0.5, 0.50000006, 0, 1], 0, 2);  // exactly 0.5 is not > 0.5
      return {t, tShape: s, p};
    }
    case 'sparse':
    case 'sparse_n': {
      const t = new Float32Array(rows);
      for (let r = 0; r < rows; r++) t[r] = Math.floor(rng() * c);
      t[1] = 2.7;  // never equal to an argMax (no floor in sparseCategoricalAccuracy)
      const p = uniform(rng, n, 0, 1);
      for (let j = 0; j < c; j++) p[j] = j === 1 || j === 3 ? 0.9 : 0.1;  // tie: the first wins
      t[0] = 1;
      return {t, tShape: kind === 'sparse' ? lead.concat([1]) : lead, p};
    }
    case 'categorical': {
      const t = oneHotRows(rng, rows, c, [2]);
      const p = uniform(rng, n, 0.05, 1);
      for (let j = 0; j < c; j++) p[j] = j === 0 || j === 2 ? 0.75 : 0.25;  // tie in p
      for (let j = 0; j < c; j++) t[j] = j === 2 ? 1 : 0;  // ...and the label is the second
      for (let j = 0; j < c; j++) t[c + j] = j === 1 || j === 3 ? 0.5 : 0;  // tie in y
      return {t, tShape: s, p};
    }
    case 'precision': {
      const t = choice(rng, n, [0, 1]);
      const p = choice(rng, n, [0, 1, 0.5, 1]);
      return {t, tShape: s, p};
    }
    default: {
      const t = uniform(rng, n, -2, 2), p = uniform(rng, n, -2, 2);
      t[0] = 0;
      return {t, tShape: s, p};
    }
  }
}

function metricCases() {
  const cases = [];
  METRIC_SPECS.forEach(([metric, loss, lastDim, kind], idx) => {
    const m = makeModel(lastDim);
    m.compile({optimizer: 'sgd', loss, metrics: [metric]});
    const fn = m.metricsTensors[0][0];
    const suffix = m.metricsNames[1];
    const resolved = fn.name.replace(/\$\d+$/, '');
    for (const s0 of [[5, lastDim], [2, 3, lastDim]]) {
      const name = `${String(idx).padStart(2, '0')}_${metric}_${loss}_${kind}_${shapeTag(s0)}`;
      const d = metricData(kind, dataRng(name), s0);
      const yTrue = tf.tensor(d.t, d.tShape, 'float32');
      const yPred = tf.tensor(d.p, s0, 'float32');
      const value = fn(yTrue, yPred);
      cases.push({
        name, metric, loss, output_last_dim: lastDim, suffix, resolved,
        y_true: tensorRec(yTrue), y_pred: tensorRec(yPred), value: tensorRec(value),
      });
    }
  });
  const unknown = ['sparseCategoricalAccuracy', 'meanSquaredError', 'binaryCrossentropy', 'recall',
                   'hinge', 'foo'].map(n => ({
    name: n,
    message: errorMessage(
        () => makeModel(3).compile({optimizer: 'sgd', loss: 'meanSquaredError', metrics: [n]})),
  }));
  return {cases, unknown};
}

// ---------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------
// [name, factory, args, gradient range, zeros in the gradients]
const OPT_SPECS = [
  ['sgd', 'sgd', [0.1], 1, true],
  ['momentum', 'momentum', [0.05, 0.8], 1, true],
  ['momentum_nesterov', 'momentum', [0.05, 0.8, true], 1, true],
  ['adam', 'adam', [0.01, 0.8, 0.95, 1e-4], 1, true],
  ['adam_defaults', 'adam', [], 1, true],
  ['adam_small_gradients', 'adam', [0.02], 1e-5, true],
  ['adamax_decay', 'adamax', [0.01, 0.85, 0.99, 1e-6, 0.1], 1, true],
  ['adamax_defaults', 'adamax', [], 1, true],
  ['adagrad', 'adagrad', [0.2, 0.05], 1, true],
  ['adagrad_small_gradients', 'adagrad', [0.1, 0], 1e-3, false],
  ['adadelta', 'adadelta', [0.5, 0.9, 1e-6], 1, true],
  ['adadelta_defaults', 'adadelta', [], 1, true],
  ['rmsprop', 'rmsprop', [0.01], 1, true],
  ['rmsprop_momentum', 'rmsprop', [0.01, 0.8, 0.5, 1e-6], 1, true],
  ['rmsprop_centered_neg_eps', 'rmsprop', [0.01, 0.9, 0.3, -1e-7, true], 1, true],
  ['rmsprop_centered_eps0', 'rmsprop', [0.01, 0.9, 0, 0, true], 1, false],
  ['compile_sgd', 'compile', ['sgd'], 1, true],
  ['compile_adam', 'compile', ['adam'], 1, true],
  ['compile_adagrad', 'compile', ['adagrad'], 1, true],
  ['compile_adadelta', 'compile', ['adadelta'], 1, true],
  ['compile_adamax', 'compile', ['Adamax'], 1, true],
  ['compile_rmsprop', 'compile', ['RMSProp'], 1, true],
];
const VAR_SHAPES = [[3, 4], [5]];
const STEPS = 6;

function optimizerCases() {
  const cases = [];
  for (const [name, factory, args, gRange, zeros] of OPT_SPECS) {
    let opt;
    if (factory === 'compile') {
      const m = makeModel(3);
      m.compile({optimizer: args[0], loss: 'meanSquaredError'});
      opt = m.optimizer;
    } else {
      opt = tf.train[factory](...args);
    }
    const rng = dataRng('optimizer/' + name);
    const vars = VAR_SHAPES.map(
        (s, k) => tf.variable(tf.tensor(uniform(rng, prod(s), -1, 1), s), true, `${name}_v${k}`));
    const initial = vars.map(tensorRec);
    const steps = [];
    for (let step = 0; step < STEPS; step++) {
      const grads = VAR_SHAPES.map(s => {
        const g = uniform(rng, prod(s), -gRange, gRange);
        if (zeros) g[(step * 3) % g.length] = 0;
        return tf.tensor(g, s);
      });
      opt.applyGradients(vars.map((v, k) => ({name: v.name, tensor: grads[k]})));
      const values = vars.map(tensorRec);
      for (const v of values) {
        if (!Array.from(v.data.a).every(Number.isFinite)) throw new Error(`${name}: non-finite`);
      }
      steps.push({gradients: grads.map(tensorRec), values});
    }
    const config = {};
    for (const [k, v] of Object.entries(opt.getConfig())) config[k] = v;
    cases.push({
      name,
      factory: factory === 'compile' ? 'compile' : `tf.train.${factory}`,
      args,
      class_name: opt.getClassName(),
      config,
      iterations: opt.iterations,
      initial,
      steps,
    });
  }
  const unknown = ['momentum', 'Momentum', 'RMSprop', 'Sgd', 'foo'].map(n => ({
    name: n,
    message: errorMessage(() => makeModel(3).compile({optimizer: n, loss: 'meanSquaredError'})),
  }));
  return {cases, unknown};
}

async function main() {
  const outDir = process.argv[2];
  if (!outDir) throw new Error('usage: node generate_train_unit_cases.js OUTDIR');
  await tf.setBackend('cpu');
  await tf.ready();
  checkTfVersion(tf);
  fs.mkdirSync(outDir, {recursive: true});
  const header = description => ({
    schema_version: 1,
    tfjs_version: tf.version.tfjs,
    backend: tf.getBackend(),
    generator: 'tools/oracle/generate_train_unit_cases.js',
    description,
  });
  const files = {
    'losses.json': [lossCases(), 'lossFn(y_true, y_pred) and tf.grad of sum(lossFn * d_out) w.r.t. y_pred'],
    'metrics.json': [metricCases(), 'compile({loss, metrics: [metric]}) resolution and the metric values'],
    'optimizers.json': [optimizerCases(), 'six applyGradients steps on two variables'],
  };
  for (const [file, [{cases, unknown}, description]] of Object.entries(files)) {
    const doc = Object.assign(header(description), {cases, unknown_names: unknown});
    fs.writeFileSync(path.join(outDir, file), ser(doc) + '\n');
    process.stdout.write(`wrote ${cases.length} cases to ${path.join(outDir, file)}\n`);
  }
}

runMain(main);
