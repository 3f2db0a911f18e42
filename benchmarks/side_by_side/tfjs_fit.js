#!/usr/bin/env node
// TF.js's side of the side-by-side runner's fit table (run by side_by_side; needs Node.js and
// @tensorflow/tfjs from this directory's package.json: `npm ci --ignore-scripts`).
//
//   node tfjs_fit.js --dir DIR
//
// Reads DIR/fit.json and each case's files (raw little-endian float32, TF.js layout) that
// side_by_side wrote: x [N, T, I], y [N, O], the recurrent layer's kernel [I, G·H], recurrent
// kernel [H, G·H] and bias [G·H], the Dense layer's kernel [H, O] and bias [O]. For each case the
// manifest gives to "tfjs" it builds the model with tf.sequential (LSTM: recurrentActivation
// sigmoid, as PyTorch's; GRU: TF.js's own, reset gate before the recurrent product, sigmoid; then
// Dense with the case's activation), sets those weights, compiles it with tf.train.adam(lr)
// (TF.js's defaults: beta1 0.9, beta2 0.999, epsilon 1e-7) and the case's loss, and runs
// model.fit(x, y, {epochs: 1, batchSize, shuffle: false, verbose: 0}) once untimed (the warm-up
// epoch) and then timed_epochs times. Backend: 'cpu' (the pure-JS kernels; one thread: JavaScript
// runs the kernels on the calling thread).
// Writes on stdout, tab-separated:
//   `info <key> <value>` (versions, backend, each epoch's loss),
//   `time tfjs.fit <case> 1 <median_us> <min_us> <epochs> <cpu_per_wall>` (wall time per epoch).
// Epochs are the case's first tfjs_samples samples (all of them, but for the W3 cases, where the
// cpu backend takes minutes per full epoch).
// Exit status 5 when @tensorflow/tfjs is not installed (side_by_side then leaves TF.js out).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const now = () => Number(process.hrtime.bigint()) * 1e-9;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e-6;
};
const info = (key, value) => process.stdout.write(`info\t${key}\t${value}\n`);

/// The file's `count` floats (prefix: its first `count`).
function load(dir, name, what, count, prefix = false) {
  const buf = fs.readFileSync(path.join(dir, `${name}.fit.${what}.bin`));
  if (prefix ? buf.length < 4 * count : buf.length !== 4 * count)
    throw new Error(`${name}.fit.${what}.bin: ${buf.length} bytes, expected ${4 * count}`);
  const out = new Float32Array(count);
  for (let k = 0; k < count; ++k) out[k] = buf.readFloatLE(4 * k);
  return out;
}

function parseArgs(argv) {
  const args = { dir: null };
  for (let k = 0; k < argv.length; ++k) {
    if (argv[k] === '--dir') args.dir = argv[++k];
    else throw new Error(`unknown argument ${argv[k]}`);
  }
  if (!args.dir) throw new Error('usage: tfjs_fit.js --dir DIR');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (os.endianness() !== 'LE') throw new Error('little-endian machine expected');
  let tf;
  try {
    tf = require('@tensorflow/tfjs');
  } catch (e) {
    process.stderr.write(`tfjs_fit: @tensorflow/tfjs is not installed (${e.message.split('\n')[0]})\n`);
    process.exit(5);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  info('tfjs_version', require('@tensorflow/tfjs/package.json').version);
  info('tfjs_node_version', process.version);
  info('tfjs_backend', tf.getBackend());
  const manifest = JSON.parse(fs.readFileSync(path.join(args.dir, 'fit.json'), 'utf8'));
  for (const c of manifest.cases) {
    if (!c.peers.includes('tfjs')) continue;
    const { name, time: t, input: i, units: h, outputs: o, gates: g } = c;
    const n = c.tfjs_samples;  // the first n samples (all but for the W3 cases: see fit_cases.hpp)
    const rnnArgs = { units: h, inputShape: [t, i], recurrentActivation: 'sigmoid' };
    let rnn;
    if (c.cell === 'LSTM') rnn = tf.layers.lstm(rnnArgs);
    else if (c.cell === 'GRU') rnn = tf.layers.gru(rnnArgs);  // reset before (TF.js has no other)
    else throw new Error(`${name}: TF.js has no ${c.cell}`);
    const model = tf.sequential({
      layers: [rnn, tf.layers.dense({ units: o, activation: c.activation })],
    });
    model.setWeights([
      tf.tensor2d(load(args.dir, name, 'kernel', i * g * h), [i, g * h]),
      tf.tensor2d(load(args.dir, name, 'recurrent_kernel', h * g * h), [h, g * h]),
      tf.tensor1d(load(args.dir, name, 'bias', g * h)),
      tf.tensor2d(load(args.dir, name, 'dense_kernel', h * o), [h, o]),
      tf.tensor1d(load(args.dir, name, 'dense_bias', o)),
    ]);
    model.compile({ optimizer: tf.train.adam(c.lr), loss: c.loss });
    const x = tf.tensor3d(load(args.dir, name, 'x', n * t * i, true), [n, t, i]);
    const y = tf.tensor2d(load(args.dir, name, 'y', n * o, true), [n, o]);
    const fitArgs = { epochs: 1, batchSize: c.batch, shuffle: false, verbose: 0 };
    const losses = [];
    const walls = [];
    let cpu = 0;
    for (let e = 0; e <= manifest.timed_epochs; ++e) {
      const c0 = cpuSeconds(), t0 = now();
      const history = await model.fit(x, y, fitArgs);
      const t1 = now(), c1 = cpuSeconds();
      losses.push(history.history.loss[0]);
      if (e > 0) {  // epoch 0: the warm-up
        walls.push(t1 - t0);
        cpu += c1 - c0;
      }
      process.stderr.write(`  [1 thread] ${name} epoch ${e} (TF.js): ${(t1 - t0).toFixed(2)} s\n`);
    }
    const total = walls.reduce((a, b) => a + b, 0);
    walls.sort((a, b) => a - b);
    const m = walls.length;
    const med = m % 2 ? walls[(m - 1) / 2] : 0.5 * (walls[m / 2 - 1] + walls[m / 2]);
    info(`fit_losses.tfjs.${name}`, losses.map((v) => v.toPrecision(7)).join(' '));
    process.stdout.write(`time\ttfjs.fit\t${name}\t1\t${(med * 1e6).toFixed(3)}\t` +
                         `${(walls[0] * 1e6).toFixed(3)}\t${m}\t${(cpu / total).toFixed(2)}\n`);
    tf.dispose([x, y]);
    model.dispose();
  }
}

main().catch((e) => {
  process.stderr.write(`tfjs_fit: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
