#!/usr/bin/env node
// Golden "fit" cases: what TF.js's own model.fit / model.trainOnBatch do.
//
// Usage:  node generate_fit_cases.js OUTDIR [--no-validate] [--only SUBSTRING]
//
// For every case this builds a small tf.LayersModel (recurrent layers + heads)
// with TF.js 4.22.0 (pure-JS `cpu` backend), sets seeded random weights, saves
// it (model.save(tf.io.withSaveHandler(...))) and writes
//
//   OUTDIR/<name>/model.json    the untrained model, tfjs-node file:// layout,
//                               one shard (JSON.stringify(..., null, 1))
//   OUTDIR/<name>/weights.bin   its weights, little-endian float32
//   OUTDIR/<name>/train.json    data, compile and fit arguments and what TF.js
//                               returned (SCHEMA-train.md section 4)
//   OUTDIR/index.json           the case names
//
// The model that is trained is the one TF.js re-loads from those two files
// (tf.loadLayersModel with an IOHandler over the written bytes), so the
// recorded numbers start from exactly what a runner loads. Training runs on
// it with a fresh optimizer; a batch-end callback records every batch's logs
// (callbacks run after TF.js's own BaseLogger, so they change no number).
//
// `sensitivity`: the case is trained a second time with every initial weight
// multiplied by (1 + 2^-22) (~1-2 float32 ulps); the largest changes of the
// final weights, predictions and history / losses are recorded and must be
// <= 1e-5 (a case that is not well conditioned gets a `reseed`).
//
// Validation (default; --no-validate skips it): every case is generated a
// second time from scratch (model, save, load, training, perturbed training)
// and must give byte-identical files; history[k] (every non-validation key) is
// recomputed from batch_logs with TF.js's BaseLogger float32 arithmetic
// (total = sum_b fround(v_b * size_b) in batch order, epoch value =
// fround(fround(1 / seen) * total)) and must be bit-identical.
//
// Deterministic: weights and data come from a mulberry32 PRNG seeded from the
// case name; every layer and input has an explicit name (TF.js's global name
// counters never matter).
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const {
  tf, TFJS_VERSION, checkTfVersion, dataRng, uniformArray, prod, F32, F32Num, ser, tensorJSON,
  saveArtifacts, modelJSONText, artifactsHandler, runMain,
} = require('./common');

const FIT_TOLERANCE = {abs: 1e-4, rel: 1e-3};
const MAX_SENSITIVITY = 1e-5;
const PERTURBATION = 'every initial weight multiplied by (1 + 2^-22) (~1-2 float32 ulps)';
const N_PRED = 3;   // samples in predictions.x (stateful: the fixed batch size)
const L = tf.layers;

// ---------------------------------------------------------------------------
// Data specs (per sample shape; the batch dimension is added)
// ---------------------------------------------------------------------------
const U = (...shape) => ({kind: 'uniform', shape});                 // U(-1, 1)
const PAD = (T, F) => ({kind: 'padded', shape: [T, F]});            // zero-padded sequences
const IDS = (T, vocab) => ({kind: 'ids', shape: [T], vocab});       // ids 1..vocab-1, 0-padded
const REG = (...shape) => ({kind: 'uniform', shape});               // regression target U(-1, 1)
const ONEHOT = (...shape) => ({kind: 'onehot', shape});             // one-hot over the last axis
const SPARSE = C => ({kind: 'sparse', shape: [1], classes: C});     // class index as float32
const BIN = (...shape) => ({kind: 'bin', shape});                   // 0 / 1
const PM1 = (...shape) => ({kind: 'pm1', shape});                   // -1 / +1 (hinge)
const AWAY0 = (...shape) => ({kind: 'away0', shape});               // +-U(0.5, 1.5) (MAPE)

function genData(rng, spec, n) {
  const shape = [n].concat(spec.shape);
  const per = prod(spec.shape);
  const a = new Float32Array(n * per);
  switch (spec.kind) {
    case 'uniform': return {shape, data: uniformArray(rng, n * per, 1.0)};
    case 'padded': {
      // each sample: length 2..T, padding (all features exactly 0) at the end
      // or at the start
      const [T, F] = spec.shape;
      for (let i = 0; i < n; i++) {
        const len = 2 + Math.floor(rng() * (T - 1));
        const pre = rng() < 0.5;
        const v = uniformArray(rng, len * F, 1.0);
        const t0 = pre ? T - len : 0;
        a.set(v, i * per + t0 * F);
      }
      return {shape, data: a};
    }
    case 'ids': {
      const T = spec.shape[0];
      for (let i = 0; i < n; i++) {
        const len = 2 + Math.floor(rng() * (T - 1));
        for (let t = 0; t < len; t++) a[i * per + t] = 1 + Math.floor(rng() * (spec.vocab - 1));
      }
      return {shape, data: a};
    }
    case 'onehot': {
      const C = spec.shape[spec.shape.length - 1];
      for (let r = 0; r < (n * per) / C; r++) a[r * C + Math.floor(rng() * C)] = 1;
      return {shape, data: a};
    }
    case 'sparse':
      for (let i = 0; i < n; i++) a[i] = Math.floor(rng() * spec.classes);
      return {shape, data: a};
    case 'bin':
      for (let i = 0; i < a.length; i++) a[i] = rng() < 0.5 ? 0 : 1;
      return {shape, data: a};
    case 'pm1':
      for (let i = 0; i < a.length; i++) a[i] = rng() < 0.5 ? -1 : 1;
      return {shape, data: a};
    case 'away0':
      for (let i = 0; i < a.length; i++) a[i] = Math.fround((rng() < 0.5 ? -1 : 1) * (0.5 + rng()));
      return {shape, data: a};
    default: throw new Error(`unknown data kind ${spec.kind}`);
  }
}

// ---------------------------------------------------------------------------
// Optimizers and losses
// ---------------------------------------------------------------------------
// positional parameters of the tf.train factories (tfjs-core optimizers)
const OPT_PARAMS = {
  sgd: ['learningRate'],
  momentum: ['learningRate', 'momentum', 'useNesterov'],
  adam: ['learningRate', 'beta1', 'beta2', 'epsilon'],
  adamax: ['learningRate', 'beta1', 'beta2', 'epsilon', 'decay'],
  adagrad: ['learningRate', 'initialAccumulatorValue'],
  adadelta: ['learningRate', 'rho', 'epsilon'],
  rmsprop: ['learningRate', 'decay', 'momentum', 'epsilon', 'centered'],
};
// tf.train.<factory>(...args); null = not passed (TF.js default)
const OPT = (factory, ...args) => ({factory, args});
// the optimizer passed to compile by its string name
const NAMED = name => ({named: name});

function makeOptimizer(o) {
  if (o.named) return o.named;
  return tf.train[o.factory](...o.args.map(a => (a === null ? undefined : a)));
}
function optimizerRecord(o, opt) {
  if (o.named) return {class_name: opt.getClassName(), name: o.named, config: opt.getConfig()};
  return {class_name: opt.getClassName(), factory: `tf.train.${o.factory}`, args: o.args,
          config: opt.getConfig()};
}
function optimizerText(o) {
  if (o.named) return `optimizer '${o.named}' (compile string)`;
  const cls = {sgd: 'SGD', momentum: 'Momentum', adam: 'Adam', adamax: 'Adamax', adagrad: 'Adagrad',
               adadelta: 'Adadelta', rmsprop: 'RMSProp'}[o.factory];
  const parts = [];
  o.args.forEach((a, i) => {
    if (a === null) return;
    const p = OPT_PARAMS[o.factory][i];
    parts.push(p === 'learningRate' ? `lr ${a}` : `${p} ${a}`);
  });
  return `${cls} ${parts.join(' ')}`;
}

// TF.js 4.22.0's compile accepts a loss name only if it is a key of
// tfjs-layers' lossesMap (no 'mse' / 'mae' aliases, no huber): huberLoss is
// passed as this function, and recorded as "huberLoss".
const huberLoss = (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred);
const lossArg = l => (Array.isArray(l) ? l.map(lossArg) : l === 'huberLoss' ? huberLoss : l);

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------
const CASES = [];
// spec: {model: () => LayersModel, x: [data specs], y: [data specs], n,
//        opt, loss, metrics?, fit?: {epochs, batchSize, ...}, tob?: calls,
//        valData?: n, wRange?: {weight name or layer prefix: range}, reseed?,
//        stateful?: fixed batch size, note?}
function add(name, what, spec) {
  if (CASES.some(c => c.name === name)) throw new Error(`duplicate case ${name}`);
  CASES.push(Object.assign({name, what}, spec));
}
const FIT = (epochs, batchSize, extra = {}) =>
  Object.assign({epochs, batchSize, shuffle: false, verbose: 0, yieldEvery: 'never'}, extra);
const seqModel = (...layers) => tf.sequential({name: 'm', layers});
const input = (name, shape, extra = {}) => tf.input(Object.assign({name, shape}, extra));
const funcModel = (inputs, outputs) => tf.model({name: 'm', inputs, outputs});
const dense = (name, units, activation) =>
  L.dense(activation ? {name, units, activation} : {name, units});

// --- simplernn ------------------------------------------------------------
add('simplernn_sgd_mse', 'SimpleRNN(4) on [5,3] -> Dense(2)', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 4, inputShape: [5, 3]}), dense('dense', 2)),
  x: [U(5, 3)], y: [REG(2)], n: 8, opt: OPT('sgd', 0.1), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('simplernn_relu_momentum_mae', 'SimpleRNN(3, activation relu) on [4,2] -> Dense(1)', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 3, activation: 'relu', inputShape: [4, 2]}),
                        dense('dense', 1)),
  x: [U(4, 2)], y: [REG(1)], n: 10, opt: OPT('momentum', 0.05, 0.9), loss: 'meanAbsoluteError',
  fit: FIT(3, 4)});
add('simplernn_tanh_head_adagrad_mse', 'SimpleRNN(5) on [6,2] -> Dense(2, tanh)', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 5, inputShape: [6, 2]}), dense('dense', 2, 'tanh')),
  x: [U(6, 2)], y: [REG(2)], n: 9, opt: OPT('adagrad', 0.05), loss: 'meanSquaredError', fit: FIT(2, 3)});

// --- gru ------------------------------------------------------------------
add('gru_sigmoid_adagrad_bce', 'GRU(3, recurrentActivation sigmoid) on [4,3] -> Dense(1, sigmoid)', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, recurrentActivation: 'sigmoid', inputShape: [4, 3]}),
                        dense('dense', 1, 'sigmoid')),
  x: [U(4, 3)], y: [BIN(1)], n: 10, opt: OPT('adagrad', 0.1, 0.2), loss: 'binaryCrossentropy',
  fit: FIT(4, 5)});
add('gru_nesterov_hinge', 'GRU(4) on [5,2] -> Dense(1, tanh); targets -1/+1', {
  model: () => seqModel(L.gru({name: 'gru', units: 4, inputShape: [5, 2]}), dense('dense', 1, 'tanh')),
  x: [U(5, 2)], y: [PM1(1)], n: 8, opt: OPT('momentum', 0.1, 0.8, true), loss: 'hinge', fit: FIT(3, 4)});
add('gru_rmsprop_cce', 'GRU(4) on [4,3] -> Dense(3, softmax)', {
  model: () => seqModel(L.gru({name: 'gru', units: 4, inputShape: [4, 3]}), dense('dense', 3, 'softmax')),
  x: [U(4, 3)], y: [ONEHOT(3)], n: 9, opt: OPT('rmsprop', 0.01), loss: 'categoricalCrossentropy',
  fit: FIT(3, 4)});
add('gru_relu_head_adamax_mse', 'GRU(4, activation relu) on [5,3] -> Dense(2, relu)', {
  model: () => seqModel(L.gru({name: 'gru', units: 4, activation: 'relu', inputShape: [5, 3]}),
                        dense('dense', 2, 'relu')),
  x: [U(5, 3)], y: [{kind: 'uniform01', shape: [2]}], n: 8, opt: OPT('adamax', 0.01, 0.9, 0.95, null, 0.05),
  loss: 'meanSquaredError', fit: FIT(3, 3), wRange: {dense: 0.6, gru: 0.6}});

// --- lstm -----------------------------------------------------------------
add('lstm_softmax_adam_cce', 'LSTM(5) on [4,3] -> Dense(3, softmax)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 5, inputShape: [4, 3]}), dense('dense', 3, 'softmax')),
  x: [U(4, 3)], y: [ONEHOT(3)], n: 9, opt: OPT('adam', 0.01, 0.85, 0.99, null),
  loss: 'categoricalCrossentropy', fit: FIT(4, 3)});
add('lstm_back_adamax_decay_mse', 'LSTM(4, goBackwards) on [5,3] -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, goBackwards: true, inputShape: [5, 3]}),
                        dense('dense', 2)),
  x: [U(5, 3)], y: [REG(2)], n: 8, opt: OPT('adamax', 0.02, 0.85, 0.99, null, 0.1),
  loss: 'meanSquaredError', fit: FIT(3, 3)});
add('lstm_nobias_adadelta_mse', 'LSTM(3, useBias false) on [4,2] -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, useBias: false, inputShape: [4, 2]}),
                        dense('dense', 2)),
  x: [U(4, 2)], y: [REG(2)], n: 8, opt: OPT('adadelta', 1.0, 0.9, 1e-6), loss: 'meanSquaredError',
  fit: FIT(3, 4)});
add('lstm_seq_timedistributed_rmsprop_momentum_mse',
    'LSTM(4, returnSequences) on [5,3] -> TimeDistributed(Dense(2)); loss over every step', {
      model: () => seqModel(L.lstm({name: 'lstm', units: 4, returnSequences: true, inputShape: [5, 3]}),
                            L.timeDistributed({name: 'td', layer: dense('dense', 2)})),
      x: [U(5, 3)], y: [REG(5, 2)], n: 8, opt: OPT('rmsprop', 0.01, 0.9, 0.5),
      loss: 'meanSquaredError', fit: FIT(3, 4)});
add('lstm_rmsprop_centered_epsneg_mse', 'LSTM(4) on [4,3] -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 3]}), dense('dense', 2)),
  x: [U(4, 3)], y: [REG(2)], n: 8, opt: OPT('rmsprop', 0.01, 0.9, 0.3, -1e-7, true),
  loss: 'meanSquaredError', fit: FIT(3, 4),
  note: 'centered RMSProp with epsilon -1e-7: TF.js divides by sqrt(ms - (mg^2 + epsilon)), so this is the conventional +1e-7'});
add('lstm_rmsprop_centered_eps0_mae', 'LSTM(3) on [5,2] -> Dense(1)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [5, 2]}), dense('dense', 1)),
  x: [U(5, 2)], y: [REG(1)], n: 8, opt: OPT('rmsprop', 0.005, 0.8, 0, 0, true),
  loss: 'meanAbsoluteError', fit: FIT(3, 4),
  note: 'centered RMSProp with epsilon 0: sqrt(ms - mg^2)'});
add('lstm_sparse_adam_scce', 'LSTM(4) on [4,3] -> Dense(4, softmax); integer labels [N,1]', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 3]}), dense('dense', 4, 'softmax')),
  x: [U(4, 3)], y: [SPARSE(4)], n: 10, opt: OPT('adam', 0.02), loss: 'sparseCategoricalCrossentropy',
  fit: FIT(3, 4)});
add('lstm_mape_adam', 'LSTM(3) on [4,2] -> Dense(2); targets +-U(0.5, 1.5)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 2]}), dense('dense', 2)),
  x: [U(4, 2)], y: [AWAY0(2)], n: 8, opt: OPT('adam', 0.01, 0.9, 0.99, 1e-6),
  loss: 'meanAbsolutePercentageError', fit: FIT(3, 4)});
add('lstm_huber_sgd', 'LSTM(4) on [5,3] -> Dense(2); targets U(-2, 2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [5, 3]}), dense('dense', 2)),
  x: [U(5, 3)], y: [{kind: 'uniform2', shape: [2]}], n: 8, opt: OPT('sgd', 0.2),
  loss: 'huberLoss', fit: FIT(3, 4),
  note: "loss passed to compile as the function (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred) (TF.js has no 'huberLoss' loss string): delta 1, reduction SUM_BY_NONZERO_WEIGHTS without weights = sum over all elements / element count, a scalar per batch"});
add('lstm_flatten_dense_adam_mse', 'LSTM(3, returnSequences) on [4,2] -> Flatten -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, returnSequences: true, inputShape: [4, 2]}),
                        L.flatten({name: 'flatten'}), dense('dense', 2)),
  x: [U(4, 2)], y: [REG(2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('lstm_reshape_input_sgd_mse', 'input [12] -> Reshape([4,3]) -> LSTM(3) -> Dense(1)', {
  model: () => seqModel(L.reshape({name: 'reshape', targetShape: [4, 3], inputShape: [12]}),
                        L.lstm({name: 'lstm', units: 3}), dense('dense', 1)),
  x: [U(12)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.3), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('lstm_dense_reshape_seq_mse',
    'LSTM(4) on [4,2] -> Dense(6) -> Reshape([3,2]) -> SimpleRNN(2, returnSequences); target [3,2]', {
      model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 2]}), dense('dense', 6),
                            L.reshape({name: 'reshape', targetShape: [3, 2]}),
                            L.simpleRNN({name: 'rnn', units: 2, returnSequences: true})),
      x: [U(4, 2)], y: [REG(3, 2)], n: 8, opt: OPT('momentum', 0.1, 0.5), loss: 'meanSquaredError',
      fit: FIT(3, 4)});
add('lstm_activation_layer_cce', 'LSTM(4) on [4,3] -> Dense(3) -> Activation(softmax)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 3]}), dense('dense', 3),
                        L.activation({name: 'act', activation: 'softmax'})),
  x: [U(4, 3)], y: [ONEHOT(3)], n: 8, opt: OPT('adam', 0.02), loss: 'categoricalCrossentropy',
  fit: FIT(3, 4)});
add('lstm_dropout0_sigmoid_bce', 'LSTM(4) on [4,3] -> Dropout(rate 0) -> Dense(2, sigmoid); multi-label 0/1 targets', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 3]}), L.dropout({name: 'drop', rate: 0}),
                        dense('dense', 2, 'sigmoid')),
  x: [U(4, 3)], y: [BIN(2)], n: 8, opt: OPT('adagrad', 0.1), loss: 'binaryCrossentropy', fit: FIT(3, 4)});
add('lstm_tanh_head_adadelta_hinge', 'LSTM(3) on [5,2] -> Dense(2, tanh); targets -1/+1', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [5, 2]}), dense('dense', 2, 'tanh')),
  x: [U(5, 2)], y: [PM1(2)], n: 8, opt: OPT('adadelta', 2.0, 0.95), loss: 'hinge', fit: FIT(3, 4)});
add('lstm_partial_batch_sgd_mse', 'LSTM(3) on [3,2] -> Dense(1); N=11 with batchSize 4 (last batch of 3)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [3, 2]}), dense('dense', 1)),
  x: [U(3, 2)], y: [REG(1)], n: 11, opt: OPT('sgd', 0.2), loss: 'meanSquaredError', fit: FIT(3, 4)});

// --- stacked --------------------------------------------------------------
add('stacked_lstm_gru_adam_mse', 'LSTM(4, returnSequences) -> GRU(3) on [5,3] -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, returnSequences: true, inputShape: [5, 3]}),
                        L.gru({name: 'gru', units: 3}), dense('dense', 2)),
  x: [U(5, 3)], y: [REG(2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('stacked_lstm_lstm_sgd_mae', 'LSTM(3, returnSequences) -> LSTM(3) on [4,2] -> Dense(1)', {
  model: () => seqModel(L.lstm({name: 'lstm1', units: 3, returnSequences: true, inputShape: [4, 2]}),
                        L.lstm({name: 'lstm2', units: 3}), dense('dense', 1)),
  x: [U(4, 2)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.1), loss: 'meanAbsoluteError', fit: FIT(3, 4)});
add('stacked_rnn_cell_array_rmsprop_mse',
    'tf.layers.rnn({cell: [LSTMCell(3), GRUCell(2)]}) on [4,3] -> Dense(2)', {
      model: () => seqModel(L.rnn({name: 'rnn', inputShape: [4, 3],
                                   cell: [L.lstmCell({name: 'cell0', units: 3}), L.gruCell({name: 'cell1', units: 2})]}),
                            dense('dense', 2)),
      x: [U(4, 3)], y: [REG(2)], n: 8, opt: OPT('rmsprop', 0.01, 0.9, 0.2), loss: 'meanSquaredError',
      fit: FIT(3, 4)});
add('stacked_rnn_stackedcells_adam_cce',
    'tf.layers.rnn({cell: stackedRNNCells([GRUCell(3), SimpleRNNCell(3)])}) on [4,2] -> Dense(3, softmax)', {
      model: () => seqModel(L.rnn({name: 'rnn', inputShape: [4, 2],
                                   cell: L.stackedRNNCells({name: 'stack', cells: [L.gruCell({name: 'cell0', units: 3}),
                                                                                    L.simpleRNNCell({name: 'cell1', units: 3})]})}),
                            dense('dense', 3, 'softmax')),
      x: [U(4, 2)], y: [ONEHOT(3)], n: 9, opt: OPT('adam', 0.02), loss: 'categoricalCrossentropy',
      fit: FIT(3, 3)});
add('stacked_rnn_single_cell_momentum_mse', 'tf.layers.rnn({cell: LSTMCell(3)}) on [5,2] -> Dense(2)', {
  model: () => seqModel(L.rnn({name: 'rnn', inputShape: [5, 2], cell: L.lstmCell({name: 'cell0', units: 3})}),
                        dense('dense', 2)),
  x: [U(5, 2)], y: [REG(2)], n: 8, opt: OPT('momentum', 0.1, 0.7), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('stacked_rnn_seq_gru_back_adagrad_mse',
    'tf.layers.rnn({cell: [SimpleRNNCell(3), LSTMCell(2)], returnSequences, goBackwards}) on [4,3] -> GRU(2) -> Dense(1)', {
      model: () => seqModel(L.rnn({name: 'rnn', inputShape: [4, 3], returnSequences: true, goBackwards: true,
                                   cell: [L.simpleRNNCell({name: 'cell0', units: 3}), L.lstmCell({name: 'cell1', units: 2})]}),
                            L.gru({name: 'gru', units: 2}), dense('dense', 1)),
      x: [U(4, 3)], y: [REG(1)], n: 8, opt: OPT('adagrad', 0.1), loss: 'meanSquaredError', fit: FIT(3, 4)});

// --- bidi -----------------------------------------------------------------
add('bidi_lstm_concat_adam_mse', 'Bidirectional(LSTM(3), concat) on [4,3] -> Dense(2)', {
  model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'concat', inputShape: [4, 3],
                                         layer: L.lstm({name: 'lstm', units: 3})}), dense('dense', 2)),
  x: [U(4, 3)], y: [REG(2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('bidi_gru_sum_rmsprop_cce', 'Bidirectional(GRU(3), sum) on [4,2] -> Dense(3, softmax)', {
  model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'sum', inputShape: [4, 2],
                                         layer: L.gru({name: 'gru', units: 3})}), dense('dense', 3, 'softmax')),
  x: [U(4, 2)], y: [ONEHOT(3)], n: 9, opt: OPT('rmsprop', 0.01), loss: 'categoricalCrossentropy',
  fit: FIT(3, 3)});
add('bidi_simplernn_ave_sgd_mae', 'Bidirectional(SimpleRNN(3), ave) on [5,2] -> Dense(1)', {
  model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'ave', inputShape: [5, 2],
                                         layer: L.simpleRNN({name: 'rnn', units: 3})}), dense('dense', 1)),
  x: [U(5, 2)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.1), loss: 'meanAbsoluteError', fit: FIT(3, 4)});
add('bidi_lstm_mul_adagrad_bce', 'Bidirectional(LSTM(3), mul) on [4,3] -> Dense(1, sigmoid)', {
  model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'mul', inputShape: [4, 3],
                                         layer: L.lstm({name: 'lstm', units: 3})}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 3)], y: [BIN(1)], n: 10, opt: OPT('adagrad', 0.2), loss: 'binaryCrossentropy', fit: FIT(3, 5)});
add('bidi_gru_seq_timedistributed_adam_mse',
    'Bidirectional(GRU(2, returnSequences), concat) on [4,3] -> TimeDistributed(Dense(1))', {
      model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'concat', inputShape: [4, 3],
                                             layer: L.gru({name: 'gru', units: 2, returnSequences: true})}),
                            L.timeDistributed({name: 'td', layer: dense('dense', 1)})),
      x: [U(4, 3)], y: [REG(4, 1)], n: 8, opt: OPT('adam', 0.02), loss: 'meanSquaredError', fit: FIT(3, 4)});

// --- masking / embedding --------------------------------------------------
add('masking_lstm_adam_mse', 'Masking(0) on zero-padded [6,3] -> LSTM(4) -> Dense(2)', {
  model: () => seqModel(L.masking({name: 'mask', maskValue: 0, inputShape: [6, 3]}),
                        L.lstm({name: 'lstm', units: 4}), dense('dense', 2)),
  x: [PAD(6, 3)], y: [REG(2)], n: 10, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('masking_gru_back_sgd_cce', 'Masking(0) on zero-padded [5,2] -> GRU(3, goBackwards) -> Dense(3, softmax)', {
  model: () => seqModel(L.masking({name: 'mask', maskValue: 0, inputShape: [5, 2]}),
                        L.gru({name: 'gru', units: 3, goBackwards: true}), dense('dense', 3, 'softmax')),
  x: [PAD(5, 2)], y: [ONEHOT(3)], n: 9, opt: OPT('sgd', 0.3), loss: 'categoricalCrossentropy',
  fit: FIT(3, 3)});
add('masking_lstm_seq_timedistributed_mse',
    'Masking(0) on zero-padded [5,3] -> LSTM(3, returnSequences) -> TimeDistributed(Dense(2)); TF.js does not mask the loss: padded steps count', {
      model: () => seqModel(L.masking({name: 'mask', maskValue: 0, inputShape: [5, 3]}),
                            L.lstm({name: 'lstm', units: 3, returnSequences: true}),
                            L.timeDistributed({name: 'td', layer: dense('dense', 2)})),
      x: [PAD(5, 3)], y: [REG(5, 2)], n: 8, opt: OPT('rmsprop', 0.005), loss: 'meanSquaredError',
      fit: FIT(3, 4)});
add('masking_bidi_lstm_concat_adam_mse',
    'Masking(0) on zero-padded [5,2] -> Bidirectional(LSTM(2), concat) -> Dense(1)', {
      model: () => seqModel(L.masking({name: 'mask', maskValue: 0, inputShape: [5, 2]}),
                            L.bidirectional({name: 'bidi', mergeMode: 'concat', layer: L.lstm({name: 'lstm', units: 2})}),
                            dense('dense', 1)),
      x: [PAD(5, 2)], y: [REG(1)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('embedding_maskzero_lstm_scce',
    'Embedding(vocab 7, dim 3, maskZero) on ids [6] (0-padded at the end) -> LSTM(4) -> Dense(3, softmax)', {
      model: () => seqModel(L.embedding({name: 'emb', inputDim: 7, outputDim: 3, maskZero: true, inputLength: 6,
                                         inputShape: [6]}),
                            L.lstm({name: 'lstm', units: 4}), dense('dense', 3, 'softmax')),
      x: [IDS(6, 7)], y: [SPARSE(3)], n: 10, opt: OPT('adam', 0.02), loss: 'sparseCategoricalCrossentropy',
      fit: FIT(3, 4)});
add('embedding_maskzero_gru_mse', 'Embedding(vocab 6, dim 2, maskZero) on ids [5] -> GRU(3) -> Dense(2)', {
  model: () => seqModel(L.embedding({name: 'emb', inputDim: 6, outputDim: 2, maskZero: true, inputShape: [5]}),
                        L.gru({name: 'gru', units: 3}), dense('dense', 2)),
  x: [IDS(5, 6)], y: [REG(2)], n: 8, opt: OPT('sgd', 0.2), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('embedding_simplernn_nomask_adagrad_bce',
    'Embedding(vocab 5, dim 3, no maskZero: id 0 is an ordinary row) on ids [4] -> SimpleRNN(3) -> Dense(1, sigmoid)', {
      model: () => seqModel(L.embedding({name: 'emb', inputDim: 5, outputDim: 3, inputShape: [4]}),
                            L.simpleRNN({name: 'rnn', units: 3}), dense('dense', 1, 'sigmoid')),
      x: [IDS(4, 5)], y: [BIN(1)], n: 8, opt: OPT('adagrad', 0.1), loss: 'binaryCrossentropy', fit: FIT(3, 4)});

// --- stateful -------------------------------------------------------------
add('stateful_lstm_sgd_mse',
    'stateful LSTM(3), batchInputShape [4,3,2] -> Dense(1); states carry over batches and epochs (never reset during fit)', {
      model: () => seqModel(L.lstm({name: 'lstm', units: 3, stateful: true, batchInputShape: [4, 3, 2]}),
                            dense('dense', 1)),
      x: [U(3, 2)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.1), loss: 'meanSquaredError', fit: FIT(3, 4),
      stateful: 4});
add('stateful_gru_adam_mse',
    'stateful GRU(3), batchInputShape [3,4,2] -> Dense(2); states carry over batches and epochs (never reset during fit)', {
      model: () => seqModel(L.gru({name: 'gru', units: 3, stateful: true, batchInputShape: [3, 4, 2]}),
                            dense('dense', 2)),
      x: [U(4, 2)], y: [REG(2)], n: 9, opt: OPT('adam', 0.01), loss: 'meanSquaredError', fit: FIT(2, 3),
      stateful: 3});

// --- functional -----------------------------------------------------------
add('functional_two_inputs_concat_adam_mse',
    'tf.model: input a [4,3] -> LSTM(3), input b [5,2] -> GRU(2), concatenate -> Dense(2)', {
      model: () => {
        const a = input('a', [4, 3]), b = input('b', [5, 2]);
        const h = L.concatenate({name: 'concat'}).apply([L.lstm({name: 'lstm', units: 3}).apply(a),
                                                         L.gru({name: 'gru', units: 2}).apply(b)]);
        return funcModel([a, b], dense('dense', 2).apply(h));
      },
      x: [U(4, 3), U(5, 2)], y: [REG(2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError',
      fit: FIT(3, 4)});
add('functional_concat_seq_inputs_sgd_mse',
    'tf.model: inputs a [4,2] and b [4,1] concatenated on the feature axis -> LSTM(3) -> Dense(1)', {
      model: () => {
        const a = input('a', [4, 2]), b = input('b', [4, 1]);
        const h = L.lstm({name: 'lstm', units: 3}).apply(L.concatenate({name: 'concat', axis: -1}).apply([a, b]));
        return funcModel([a, b], dense('dense', 1).apply(h));
      },
      x: [U(4, 2), U(4, 1)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.2), loss: 'meanSquaredError', fit: FIT(3, 4)});
add('functional_two_outputs_mse_cce',
    'tf.model: input [4,3] -> LSTM(4) -> Dense(2) "reg" (meanSquaredError) and Dense(3, softmax) "cls" (categoricalCrossentropy)', {
      model: () => {
        const x = input('x', [4, 3]);
        const h = L.lstm({name: 'lstm', units: 4}).apply(x);
        return funcModel(x, [dense('reg', 2).apply(h), dense('cls', 3, 'softmax').apply(h)]);
      },
      x: [U(4, 3)], y: [REG(2), ONEHOT(3)], n: 8, opt: OPT('adam', 0.01),
      loss: ['meanSquaredError', 'categoricalCrossentropy'], fit: FIT(3, 4)});
add('functional_add_branches_rmsprop_mse',
    'tf.model: input [5,2] -> LSTM(3) and GRU(3) branches -> add -> Dense(2)', {
      model: () => {
        const x = input('x', [5, 2]);
        const h = L.add({name: 'add'}).apply([L.lstm({name: 'lstm', units: 3}).apply(x),
                                               L.gru({name: 'gru', units: 3}).apply(x)]);
        return funcModel(x, dense('dense', 2).apply(h));
      },
      x: [U(5, 2)], y: [REG(2)], n: 8, opt: OPT('rmsprop', 0.01, 0.9, 0.1), loss: 'meanSquaredError',
      fit: FIT(3, 4)});
add('functional_bidi_timedistributed_adam_mae',
    'tf.model: input [4,3] -> Bidirectional(LSTM(2, returnSequences), concat) -> TimeDistributed(Dense(2))', {
      model: () => {
        const x = input('x', [4, 3]);
        const h = L.bidirectional({name: 'bidi', mergeMode: 'concat',
                                   layer: L.lstm({name: 'lstm', units: 2, returnSequences: true})}).apply(x);
        return funcModel(x, L.timeDistributed({name: 'td', layer: dense('dense', 2)}).apply(h));
      },
      x: [U(4, 3)], y: [REG(4, 2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanAbsoluteError', fit: FIT(3, 4)});
add('functional_two_outputs_bce_mae',
    'tf.model: input [4,2] -> GRU(3) -> Dense(1, sigmoid) "p" (binaryCrossentropy) and Dense(1) "v" (meanAbsoluteError)', {
      model: () => {
        const x = input('x', [4, 2]);
        const h = L.gru({name: 'gru', units: 3}).apply(x);
        return funcModel(x, [dense('p', 1, 'sigmoid').apply(h), dense('v', 1).apply(h)]);
      },
      x: [U(4, 2)], y: [BIN(1), REG(1)], n: 8, opt: OPT('sgd', 0.2),
      loss: ['binaryCrossentropy', 'meanAbsoluteError'], fit: FIT(3, 4)});

// --- validation -----------------------------------------------------------
add('valsplit_lstm_025_adam_mse', 'LSTM(3) on [4,3] -> Dense(2)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 3]}), dense('dense', 2)),
  x: [U(4, 3)], y: [REG(2)], n: 12, opt: OPT('adam', 0.01), loss: 'meanSquaredError',
  fit: FIT(3, 4, {validationSplit: 0.25})});
add('valsplit_gru_02_sgd_cce', 'GRU(3) on [4,2] -> Dense(3, softmax)', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, inputShape: [4, 2]}), dense('dense', 3, 'softmax')),
  x: [U(4, 2)], y: [ONEHOT(3)], n: 10, opt: OPT('sgd', 0.3), loss: 'categoricalCrossentropy',
  fit: FIT(3, 3, {validationSplit: 0.2})});
add('valsplit_simplernn_03_rmsprop_mae', 'SimpleRNN(4) on [5,2] -> Dense(1); validation batches of 3 and 1', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 4, inputShape: [5, 2]}), dense('dense', 1)),
  x: [U(5, 2)], y: [REG(1)], n: 13, opt: OPT('rmsprop', 0.01), loss: 'meanAbsoluteError',
  fit: FIT(3, 3, {validationSplit: 0.3})});
add('valsplit_two_outputs_mse_cce',
    'tf.model: input [4,3] -> LSTM(3) -> Dense(2) "reg" (meanSquaredError) and Dense(3, softmax) "cls" (categoricalCrossentropy); pins TF.js 4.22 testLoop labels: val_loss = reg loss only, val_reg_loss = reg + cls, val_cls_loss = reg loss', {
      model: () => {
        const x = input('x', [4, 3]);
        const h = L.lstm({name: 'lstm', units: 3}).apply(x);
        return funcModel(x, [dense('reg', 2).apply(h), dense('cls', 3, 'softmax').apply(h)]);
      },
      x: [U(4, 3)], y: [REG(2), ONEHOT(3)], n: 12, opt: OPT('adam', 0.01),
      loss: ['meanSquaredError', 'categoricalCrossentropy'], fit: FIT(3, 4, {validationSplit: 0.25})});
add('valdata_lstm_adam_mse', 'LSTM(3) on [4,3] -> Dense(2); validationData of 5 samples (batches 4 + 1)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 3]}), dense('dense', 2)),
  x: [U(4, 3)], y: [REG(2)], n: 8, valData: 5, opt: OPT('adam', 0.01), loss: 'meanSquaredError',
  fit: FIT(3, 4)});
add('valdata_gru_acc_bce', 'GRU(3) on [4,2] -> Dense(1, sigmoid); validationData of 6 samples; metrics accuracy', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, inputShape: [4, 2]}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 2)], y: [BIN(1)], n: 10, valData: 6, opt: OPT('adagrad', 0.1), loss: 'binaryCrossentropy',
  metrics: ['accuracy'], fit: FIT(3, 4)});
add('initialepoch_lstm_sgd_mse', 'LSTM(3) on [4,2] -> Dense(1); initialEpoch 1, epochs 4: epochs 1, 2, 3 run', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 2]}), dense('dense', 1)),
  x: [U(4, 2)], y: [REG(1)], n: 8, opt: OPT('sgd', 0.2), loss: 'meanSquaredError',
  fit: FIT(4, 4, {initialEpoch: 1})});

// --- metrics --------------------------------------------------------------
add('metrics_gru_bce_acc', 'GRU(3) on [4,3] -> Dense(1, sigmoid); metrics accuracy (binaryAccuracy, key acc)', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, inputShape: [4, 3]}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 3)], y: [BIN(1)], n: 12, opt: OPT('adam', 0.02), loss: 'binaryCrossentropy',
  metrics: ['accuracy'], fit: FIT(3, 4)});
add('metrics_lstm_cce_acc', 'LSTM(4) on [4,2] -> Dense(3, softmax); metrics accuracy (categoricalAccuracy, key acc)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [4, 2]}), dense('dense', 3, 'softmax')),
  x: [U(4, 2)], y: [ONEHOT(3)], n: 12, opt: OPT('adam', 0.02), loss: 'categoricalCrossentropy',
  metrics: ['accuracy'], fit: FIT(3, 4)});
add('metrics_lstm_scce_acc', 'LSTM(3) on [5,2] -> Dense(3, softmax); metrics accuracy (sparseCategoricalAccuracy, key acc)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [5, 2]}), dense('dense', 3, 'softmax')),
  x: [U(5, 2)], y: [SPARSE(3)], n: 12, opt: OPT('rmsprop', 0.01), loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'], fit: FIT(3, 4)});
add('metrics_simplernn_mse_acc', 'SimpleRNN(4) on [4,3] -> Dense(3, softmax); loss meanSquaredError on one-hot targets, metrics accuracy (categoricalAccuracy, key acc)', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 4, inputShape: [4, 3]}), dense('dense', 3, 'softmax')),
  x: [U(4, 3)], y: [ONEHOT(3)], n: 12, opt: OPT('sgd', 0.5), loss: 'meanSquaredError',
  metrics: ['accuracy'], fit: FIT(3, 4)});
add('metrics_gru_mse_metric_mae', 'GRU(3) on [4,2] -> Dense(2); metrics mae (key mae)', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, inputShape: [4, 2]}), dense('dense', 2)),
  x: [U(4, 2)], y: [REG(2)], n: 8, opt: OPT('adam', 0.01), loss: 'meanSquaredError', metrics: ['mae'],
  fit: FIT(3, 4)});
add('metrics_lstm_mae_metric_mse_acc', 'LSTM(3) on [4,2] -> Dense(1, sigmoid); loss meanAbsoluteError, metrics [mse, accuracy] (keys mse, acc = binaryAccuracy)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 2]}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 2)], y: [BIN(1)], n: 8, opt: OPT('sgd', 0.5), loss: 'meanAbsoluteError', metrics: ['mse', 'accuracy'],
  fit: FIT(3, 4)});
add('metrics_two_outputs_acc',
    'tf.model: input [4,3] -> GRU(4) -> Dense(1, sigmoid) "p" (binaryCrossentropy) and Dense(3, softmax) "cls" (categoricalCrossentropy); metrics accuracy on both (keys p_acc, cls_acc)', {
      model: () => {
        const x = input('x', [4, 3]);
        const h = L.gru({name: 'gru', units: 4}).apply(x);
        return funcModel(x, [dense('p', 1, 'sigmoid').apply(h), dense('cls', 3, 'softmax').apply(h)]);
      },
      x: [U(4, 3)], y: [BIN(1), ONEHOT(3)], n: 12, opt: OPT('adam', 0.01),
      loss: ['binaryCrossentropy', 'categoricalCrossentropy'], metrics: ['accuracy'], fit: FIT(3, 4)});
add('metrics_valsplit_lstm_cce_acc', 'LSTM(3) on [4,3] -> Dense(3, softmax); metrics accuracy, validationSplit 0.25 (keys acc, val_loss, val_acc)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 3]}), dense('dense', 3, 'softmax')),
  x: [U(4, 3)], y: [ONEHOT(3)], n: 16, opt: OPT('adam', 0.02), loss: 'categoricalCrossentropy',
  metrics: ['accuracy'], fit: FIT(3, 4, {validationSplit: 0.25})});

// --- optimizers passed by their compile string ----------------------------
const NAMED_CASES = [
  ['sgd', 'SimpleRNN', 'meanSquaredError'], ['adam', 'LSTM', 'meanSquaredError'],
  ['rmsprop', 'GRU', 'meanAbsoluteError'], ['adagrad', 'LSTM', 'meanSquaredError'],
  ['adadelta', 'GRU', 'meanSquaredError'], ['adamax', 'SimpleRNN', 'meanSquaredError'],
];
for (const [opt, cls, loss] of NAMED_CASES) {
  const make = {SimpleRNN: L.simpleRNN, GRU: L.gru, LSTM: L.lstm}[cls];
  add(`optname_${opt}_${cls.toLowerCase()}`, `${cls}(4) on [4,3] -> Dense(2)`, {
    model: () => seqModel(make({name: 'rnn', units: 4, inputShape: [4, 3]}), dense('dense', 2)),
    x: [U(4, 3)], y: [REG(2)], n: 8, opt: NAMED(opt), loss, fit: FIT(3, 4)});
}

// --- trainOnBatch ---------------------------------------------------------
add('tob_bidi_simplernn_rmsprop_mae', 'Bidirectional(SimpleRNN(3), concat) on [4,3] -> Dense(1)', {
  model: () => seqModel(L.bidirectional({name: 'bidi', mergeMode: 'concat', inputShape: [4, 3],
                                         layer: L.simpleRNN({name: 'rnn', units: 3})}), dense('dense', 1)),
  x: [U(4, 3)], y: [REG(1)], n: 4, opt: OPT('rmsprop', 0.02, 0.9, 0.2, null, false),
  loss: 'meanAbsoluteError', tob: 3});
add('tob_lstm_adam_cce', 'LSTM(4) on [5,2] -> Dense(3, softmax)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 4, inputShape: [5, 2]}), dense('dense', 3, 'softmax')),
  x: [U(5, 2)], y: [ONEHOT(3)], n: 6, opt: OPT('adam', 0.02, 0.8, 0.95, null), loss: 'categoricalCrossentropy',
  tob: 4});
add('tob_gru_momentum_nesterov_mse', 'GRU(3) on [4,3] -> Dense(2)', {
  model: () => seqModel(L.gru({name: 'gru', units: 3, inputShape: [4, 3]}), dense('dense', 2)),
  x: [U(4, 3)], y: [REG(2)], n: 5, opt: OPT('momentum', 0.1, 0.9, true), loss: 'meanSquaredError', tob: 3});
add('tob_stacked_adagrad_bce', 'LSTM(3, returnSequences) -> SimpleRNN(2) on [4,2] -> Dense(1, sigmoid)', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, returnSequences: true, inputShape: [4, 2]}),
                        L.simpleRNN({name: 'rnn', units: 2}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 2)], y: [BIN(1)], n: 6, opt: OPT('adagrad', 0.1, 0.05), loss: 'binaryCrossentropy', tob: 3});
add('tob_embedding_adadelta_scce', 'Embedding(vocab 6, dim 2, maskZero) on ids [5] -> GRU(3) -> Dense(3, softmax)', {
  model: () => seqModel(L.embedding({name: 'emb', inputDim: 6, outputDim: 2, maskZero: true, inputShape: [5]}),
                        L.gru({name: 'gru', units: 3}), dense('dense', 3, 'softmax')),
  x: [IDS(5, 6)], y: [SPARSE(3)], n: 6, opt: OPT('adadelta', 1.0), loss: 'sparseCategoricalCrossentropy',
  tob: 3});
add('tob_two_outputs_adamax_mse_cce',
    'tf.model: input [4,3] -> LSTM(3) -> Dense(2) "reg" (meanSquaredError) and Dense(2, softmax) "cls" (categoricalCrossentropy); trainOnBatch returns [loss, reg_loss, cls_loss]', {
      model: () => {
        const x = input('x', [4, 3]);
        const h = L.lstm({name: 'lstm', units: 3}).apply(x);
        return funcModel(x, [dense('reg', 2).apply(h), dense('cls', 2, 'softmax').apply(h)]);
      },
      x: [U(4, 3)], y: [REG(2), ONEHOT(2)], n: 6, opt: OPT('adamax', 0.02, 0.9, 0.99, null, 0.01),
      loss: ['meanSquaredError', 'categoricalCrossentropy'], tob: 3});
add('tob_lstm_acc_bce', 'LSTM(3) on [4,2] -> Dense(1, sigmoid); metrics accuracy: trainOnBatch returns [loss, acc]', {
  model: () => seqModel(L.lstm({name: 'lstm', units: 3, inputShape: [4, 2]}), dense('dense', 1, 'sigmoid')),
  x: [U(4, 2)], y: [BIN(1)], n: 8, opt: OPT('sgd', 0.3), loss: 'binaryCrossentropy', metrics: ['accuracy'],
  tob: 3});
add('tob_simplernn_huber_adam', 'SimpleRNN(3) on [4,2] -> Dense(2); targets U(-2, 2)', {
  model: () => seqModel(L.simpleRNN({name: 'rnn', units: 3, inputShape: [4, 2]}), dense('dense', 2)),
  x: [U(4, 2)], y: [{kind: 'uniform2', shape: [2]}], n: 6, opt: OPT('adam', 0.05), loss: 'huberLoss', tob: 3,
  note: "loss passed to compile as the function (yTrue, yPred) => tf.losses.huberLoss(yTrue, yPred)"});

// ---------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------
function lossText(loss) {
  return Array.isArray(loss) ? `losses [${loss.join(', ')}]` : loss;
}
function describe(spec) {
  const parts = [spec.what, optimizerText(spec.opt), lossText(spec.loss)];
  if (spec.metrics) parts.push(`metrics [${spec.metrics.join(', ')}]`);
  if (spec.tob) {
    parts.push(`trainOnBatch x${spec.tob} on all N=${spec.n} samples`);
  } else {
    const f = spec.fit;
    let t = `fit N=${spec.n} batchSize ${f.batchSize} epochs ${f.epochs}`;
    if (f.initialEpoch) t += ` initialEpoch ${f.initialEpoch}`;
    if (f.validationSplit) t += ` validationSplit ${f.validationSplit}`;
    if (spec.valData) t += ` validationData N=${spec.valData}`;
    parts.push(t + ', shuffle false');
  }
  if (spec.stateful) parts.push('resetStates() after initial_predictions and after training (see reset_states)');
  if (spec.note) parts.push(spec.note);
  return parts.join('; ');
}

// U(-r, r) per weight: r from spec.wRange (key = weight name or its layer
// prefix), 1 for embeddings, else 0.6
function weightRange(spec, wname) {
  const w = spec.wRange || {};
  if (wname in w) return w[wname];
  const layer = wname.split('/')[0];
  if (layer in w) return w[layer];
  return wname.endsWith('/embeddings') ? 1.0 : 0.6;
}
function genSpec(rng, s, n) {
  if (s.kind === 'uniform2') return {shape: [n].concat(s.shape), data: uniformArray(rng, n * prod(s.shape), 2.0)};
  if (s.kind === 'uniform01') {
    const d = uniformArray(rng, n * prod(s.shape), 1.0).map(Math.abs);
    return {shape: [n].concat(s.shape), data: d};
  }
  return genData(rng, s, n);
}

const toT = r => tf.tensor(r.data, r.shape, 'float32');
const one = a => (a.length === 1 ? a[0] : a);
function predictAll(model, xs) {
  const ts = xs.map(toT);
  let ys = model.predict(one(ts));
  if (!Array.isArray(ys)) ys = [ys];
  const out = ys.map(y => ({shape: y.shape.slice(), data: y.dataSync().slice()}));
  tf.dispose(ts.concat(ys));
  return out;
}
// each float32 of a weights buffer multiplied by (1 + 2^-22), rounded
function perturbed(buf) {
  const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  for (let i = 0; i < f.length; i++) f[i] = Math.fround(f[i] * (1 + Math.pow(2, -22)));
  return Buffer.from(f.buffer);
}

// One training run. Returns the record pieces and the raw numbers.
async function train(spec, perturb) {
  const rng = dataRng(spec.reseed ? `${spec.name}#${spec.reseed}` : spec.name);
  // 1. the model, seeded weights, saved
  const built = spec.model();
  const vars = built.weights;
  const names = vars.map(v => v.originalName);
  const values = vars.map((v, i) => uniformArray(rng, prod(v.shape), weightRange(spec, names[i])));
  built.setWeights(values.map((a, i) => tf.tensor(a, vars[i].shape, 'float32')));
  const artifacts = await saveArtifacts(built);
  built.dispose();
  if (artifacts.weightSpecs.map(s => s.name).join() !== names.join()) {
    throw new Error(`${spec.name}: saved weight order differs from model.weights`);
  }
  if (artifacts.weightSpecs.some(s => s.dtype !== 'float32')) throw new Error(`${spec.name}: non-float32 weight`);
  const modelJSON = modelJSONText(artifacts, 'weights.bin');
  const weightsBin = Buffer.from(artifacts.weightData);
  // 2. data
  const N = spec.n;
  const xs = spec.x.map(s => genSpec(rng, s, N));
  const ys = spec.y.map(s => genSpec(rng, s, N));
  const px = spec.x.map(s => genSpec(rng, s, spec.stateful || N_PRED));
  const vx = spec.valData ? spec.x.map(s => genSpec(rng, s, spec.valData)) : null;
  const vy = spec.valData ? spec.y.map(s => genSpec(rng, s, spec.valData)) : null;

  // 3. the model as TF.js loads it from the files
  const loadBytes = perturb ? perturbed(weightsBin) : weightsBin;
  const model = await tf.loadLayersModel(artifactsHandler(modelJSON, p => {
    if (p !== 'weights.bin') throw new Error(`unexpected shard ${p}`);
    return loadBytes;
  }));
  if (!perturb) {
    model.weights.forEach((v, i) => {
      const d = v.read().dataSync();
      if (v.originalName !== names[i] || d.some((e, j) => !Object.is(e, values[i][j]))) {
        throw new Error(`${spec.name}: loaded weight ${v.originalName} differs from what was saved`);
      }
    });
  }
  const initial = predictAll(model, px);
  if (spec.stateful) model.resetStates();

  // 4. compile and train
  const optimizer = makeOptimizer(spec.opt);
  model.compile({optimizer, loss: lossArg(spec.loss), metrics: spec.metrics});
  const optRec = optimizerRecord(spec.opt, model.optimizer);
  const metricsNames = model.metricsNames.slice();
  const xT = xs.map(toT), yT = ys.map(toT);
  const res = {batchLogs: null, history: null, epoch: null, losses: null, values: null};
  if (spec.tob) {
    res.losses = [];
    res.values = [];
    for (let c = 0; c < spec.tob; c++) {
      const r = await model.trainOnBatch(one(xT), one(yT));
      const arr = Array.isArray(r) ? r : [r];
      if (arr.length !== metricsNames.length) throw new Error(`${spec.name}: trainOnBatch returned ${arr.length} values`);
      res.losses.push(arr[0]);
      res.values.push(arr);
    }
  } else {
    const batchLogs = [];
    const args = Object.assign({}, spec.fit, {
      callbacks: {
        onEpochBegin: async () => { batchLogs.push([]); },
        onBatchEnd: async (batch, logs) => { batchLogs[batchLogs.length - 1].push(Object.assign({}, logs)); },
      },
    });
    let vT = null;
    if (vx) {
      vT = [vx.map(toT), vy.map(toT)];
      args.validationData = [one(vT[0]), one(vT[1])];
    }
    const h = await model.fit(one(xT), one(yT), args);
    tf.dispose(vT ? vT[0].concat(vT[1]) : []);
    const keys = metricsNames.concat(metricsNames.map(k => 'val_' + k)).filter(k => k in h.history);
    if (Object.keys(h.history).length !== keys.length) {
      throw new Error(`${spec.name}: unexpected history keys ${Object.keys(h.history)}`);
    }
    res.history = {};
    for (const k of keys) res.history[k] = h.history[k].slice();
    res.epoch = h.epoch.slice();
    res.batchLogs = batchLogs.map(ep => ep.map(l => {
      const o = {batch: l.batch, size: l.size};
      for (const k of metricsNames) {
        if (!(k in l)) throw new Error(`${spec.name}: batch log lacks ${k}`);
        o[k] = l[k];
      }
      if (Object.keys(l).length !== Object.keys(o).length) {
        throw new Error(`${spec.name}: unexpected batch log keys ${Object.keys(l)}`);
      }
      return o;
    }));
  }
  tf.dispose(xT.concat(yT));
  if (spec.stateful) model.resetStates();
  const final = model.weights.map(v => ({name: v.originalName, shape: v.shape.slice(), data: v.read().dataSync().slice()}));
  if (final.map(w => w.name).join() !== names.join()) throw new Error(`${spec.name}: final weight order`);
  const preds = predictAll(model, px);
  if (!spec.opt.named) optimizer.dispose();
  model.dispose();

  return {
    modelJSON, weightsBin, names, xs, ys, px, vx, vy, initial, optRec, metricsNames, res, final, preds,
  };
}

// ---------------------------------------------------------------------------
// The record
// ---------------------------------------------------------------------------
const tensors = (list, names) => list.map((r, i) => tensorJSON(names ? names[i] : null, r.shape, r.data));
const roundTo = (v, p) => (v === 0 ? 0 : Number(v.toPrecision(p)));
function maxAbsDiff(a, b) {
  let m = 0;
  if (a.length !== b.length) throw new Error('length mismatch');
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function makeCase(spec) {
  const run = await train(spec, false);
  const pert = await train(spec, true);
  // the model record: names and shapes of the loaded model
  const probe = await tf.loadLayersModel(artifactsHandler(run.modelJSON, () => run.weightsBin));
  // (a loaded Sequential is built lazily; build it so inputNames/outputNames exist)
  if (probe instanceof tf.Sequential && probe.model == null) probe.build();
  const inputNames = probe.inputNames.slice(), outputNames = probe.outputNames.slice();
  const modelRec = {
    file: 'model.json',
    weights_file: 'weights.bin',
    class_name: probe.getClassName(),
    inputs: probe.inputs.map((t, i) => ({name: inputNames[i], shape: t.shape.slice()})),
    outputs: probe.outputs.map((t, i) => ({name: outputNames[i], shape: t.shape.slice()})),
    initial_weights_order: run.names,
  };
  probe.dispose();
  const out = {
    schema_version: 1,
    name: spec.name,
    kind: spec.tob ? 'train_on_batch' : 'fit',
    description: describe(spec),
    tfjs_version: TFJS_VERSION,
    backend: tf.getBackend(),
    model: modelRec,
    compile: Object.assign({optimizer: run.optRec, loss: spec.loss},
                           spec.metrics ? {metrics: spec.metrics} : {}),
    data: {x: tensors(run.xs, inputNames), y: tensors(run.ys, outputNames)},
  };
  if (spec.tob) {
    out.train_on_batch = {calls: spec.tob, losses: run.res.losses.map(v => new F32Num(v))};
    if (run.metricsNames.length > 1) {
      out.train_on_batch.values = run.res.values.map(a => new F32(a));
    }
  } else {
    out.fit = spec.fit;
    if (run.vx) out.fit_validation_data = {x: tensors(run.vx, inputNames), y: tensors(run.vy, outputNames)};
  }
  if (spec.stateful) out.reset_states = ['after initial_predictions', 'after training'];
  out.predictions = {x: tensors(run.px, inputNames), outputs: tensors(run.preds)};
  if (!spec.tob) {
    out.history = {};
    for (const [k, v] of Object.entries(run.res.history)) out.history[k] = new F32(v);
    out.epoch = run.res.epoch;
    out.batch_logs = run.res.batchLogs.map(ep => ep.map(l => {
      const o = {batch: l.batch, size: l.size};
      for (const k of run.metricsNames) o[k] = new F32Num(l[k]);
      return o;
    }));
  }
  out.metrics_names = run.metricsNames;
  out.initial_predictions = {outputs: tensors(run.initial)};
  out.final_weights = run.final.map(w => tensorJSON(w.name, w.shape, w.data));
  out.tolerance = FIT_TOLERANCE;

  // sensitivity
  const flat = ws => [].concat(...ws.map(w => Array.from(w.data)));
  const fw = maxAbsDiff(flat(run.final), flat(pert.final));
  const fwMax = Math.max(...flat(run.final).map(Math.abs));
  const pr = maxAbsDiff(flat(run.preds), flat(pert.preds));
  const sens = {perturbation: PERTURBATION, final_weights_max_abs_change: roundTo(fw, 2),
                final_weights_max_abs: roundTo(fwMax, 3), predictions_max_abs_change: roundTo(pr, 2)};
  let hist, logsChange = 0;
  if (spec.tob) {
    hist = maxAbsDiff([].concat(...run.res.values), [].concat(...pert.res.values));
    sens.losses_max_abs_change = roundTo(hist, 2);
  } else {
    const hv = r => [].concat(...Object.values(r.res.history));
    hist = maxAbsDiff(hv(run), hv(pert));
    const lv = r => [].concat(...r.res.batchLogs.map(ep => [].concat(...ep.map(l => run.metricsNames.map(k => l[k])))));
    logsChange = maxAbsDiff(lv(run), lv(pert));
    sens.history_max_abs_change = roundTo(hist, 2);
  }
  out.sensitivity = sens;
  const worst = Math.max(fw, pr, hist, logsChange);
  const files = {
    'model.json': run.modelJSON,
    'weights.bin': run.weightsBin,
    'train.json': ser(out, 0) + '\n',
  };
  return {files, out, run, worst, logsChange};
}

// history[k] recomputed from batch_logs with BaseLogger's float32 arithmetic
function checkBaseLogger(name, run) {
  const f = Math.fround;
  for (const [k, vals] of Object.entries(run.res.history)) {
    if (k.startsWith('val_')) continue;
    run.res.batchLogs.forEach((ep, e) => {
      let total = 0, seen = 0;
      for (const l of ep) {
        total = f(total + f(l[k] * l.size));
        seen += l.size;
      }
      const v = f(f(1 / seen) * total);
      if (!Object.is(v, f(vals[e]))) {
        throw new Error(`${name}: history.${k}[${e}] = ${vals[e]} but BaseLogger arithmetic gives ${v}`);
      }
    });
  }
}

// ---------------------------------------------------------------------------
// main: every case runs in its own child process (`--case NAME --out DIR`),
// so that TF.js's global name counters start afresh (a cell array passed to
// tf.layers.rnn becomes an auto-named StackedRNNCells, `..._StackedRNNCells1`,
// and that name is saved in model.json)
// ---------------------------------------------------------------------------
async function childMain(name, outDir) {
  const spec = CASES.find(c => c.name === name);
  if (!spec) throw new Error(`unknown case ${name}`);
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error('cpu backend not active');
  checkTfVersion(tf);
  const c = await makeCase(spec);
  if (c.worst > MAX_SENSITIVITY) {
    throw new Error(`${name}: sensitivity ${c.worst.toExponential(2)} above ${MAX_SENSITIVITY} (reseed or change the case)`);
  }
  if (!spec.tob) checkBaseLogger(name, c.run);
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, {recursive: true});
  let bytes = 0;
  for (const [f, content] of Object.entries(c.files)) {
    fs.writeFileSync(path.join(dir, f), content);
    bytes += Buffer.byteLength(content);
  }
  process.stdout.write(JSON.stringify({name, bytes, worst: c.worst, logger: !spec.tob}) + '\n');
}

function runChild(name, outDir) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(process.execPath, [__filename, '--case', name, '--out', outDir],
                                     {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '', err = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { err += d; });
    child.on('close', code => {
      if (code !== 0) reject(new Error(`case ${name} failed:\n${err.trim()}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}
const readCase = (dir, name) => CASE_FILES.map(f => fs.readFileSync(path.join(dir, name, f)));
const CASE_FILES = ['model.json', 'weights.bin', 'train.json'];

async function main() {
  const args = process.argv.slice(2);
  const caseAt = args.indexOf('--case');
  if (caseAt >= 0) return childMain(args[caseAt + 1], args[args.indexOf('--out') + 1]);
  const validate = !args.includes('--no-validate');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : null;
  const outDir = args.find((a, i) => !a.startsWith('--') && !(onlyAt >= 0 && i === onlyAt + 1));
  if (!outDir) {
    console.error('usage: node generate_fit_cases.js OUTDIR [--no-validate] [--only SUBSTRING]');
    process.exit(2);
  }
  checkTfVersion(tf);
  fs.mkdirSync(outDir, {recursive: true});
  const again = validate ? fs.mkdtempSync(path.join(os.tmpdir(), 'fit-again-')) : null;
  const t0 = Date.now();
  const todo = CASES.filter(c => !only || c.name.includes(only));
  const results = new Map();
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const spec = todo[next++];
      try {
        const r = await runChild(spec.name, outDir);
        if (validate) {
          await runChild(spec.name, again);
          const a = readCase(outDir, spec.name), b = readCase(again, spec.name);
          CASE_FILES.forEach((f, i) => {
            if (Buffer.compare(a[i], b[i]) !== 0) {
              throw new Error(`${spec.name}: ${f} differs when the case is generated again`);
            }
          });
        }
        results.set(spec.name, r);
      } catch (e) {
        failures.push(e.message);
      }
    }
  };
  await Promise.all(Array.from({length: Math.max(1, Math.min(4, os.cpus().length))}, worker));
  if (again) fs.rmSync(again, {recursive: true, force: true});
  if (failures.length) throw new Error(failures.join('\n'));

  const names = todo.map(c => c.name);
  if (!only) fs.writeFileSync(path.join(outDir, 'index.json'), ser(names, 0) + '\n');
  const perFamily = {};
  let bytes = 0, worst = 0, worstName = '', logger = 0;
  for (const n of names) {
    const r = results.get(n);
    const fam = n.split('_')[0];
    perFamily[fam] = (perFamily[fam] || 0) + 1;
    bytes += r.bytes;
    if (r.worst >= worst) {
      worst = r.worst;
      worstName = n;
    }
    if (r.logger) logger++;
  }
  const summary = Object.entries(perFamily).map(([f, n]) => `${f} ${n}`).join(', ');
  process.stdout.write(`wrote ${names.length} cases to ${outDir} (${(bytes / 1024).toFixed(0)} KiB): ${summary}\n`);
  process.stdout.write(`largest sensitivity ${worst.toExponential(2)} (${worstName}); ` +
                       `BaseLogger arithmetic re-checked in ${logger} fit cases\n`);
  if (validate) process.stdout.write(`validated: ${names.length} cases generated twice from scratch, byte-identical\n`);
  const stale = fs.readdirSync(outDir).filter(f => fs.statSync(path.join(outDir, f)).isDirectory() &&
                                                   !names.includes(f));
  if (stale.length && !only) {
    process.stdout.write(`warning: ${stale.length} stale case folder(s) in ${outDir}: ${stale.join(', ')}\n`);
  }
  process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

runMain(main);
