#!/usr/bin/env node
// onnxruntime's side of the side-by-side benchmark (run by side_by_side; needs Node.js and
// onnxruntime-node from this directory's package.json: `npm ci --ignore-scripts`, which
// scripts/bench.sh runs when node_modules/ is missing).
//
//   node ort_bench.js --dir DIR --threads N
//
// Reads the cases that side_by_side wrote into DIR (manifest.json, raw little-endian float32 .bin
// files in TF.js layout), builds for each a one-node ONNX model (opset 14; weights as
// initializers), written as DIR/<case>.onnx:
//   LSTM      -> LSTM (gates i,o,f,c; activations sigmoid, tanh, tanh: ONNX's defaults)
//   GRU       -> GRU linear_before_reset=0 (TF.js's reset-before GRU: r ⊙ h before the recurrent
//                product; TF.js's single bias goes into Wb, Rb = 0)
//   GRU-ra    -> GRU linear_before_reset=1 (reset after; Wb = input bias, Rb = recurrent bias)
//   SimpleRNN -> RNN (tanh)
// and runs it on the CPU execution provider with intraOpNumThreads = N, interOpNumThreads = 1,
// sequential execution mode and the default graph optimizations. ONNX's recurrent operators are
// time-major (layout 0; onnxruntime's CPU kernels reject layout 1): X [T, B, I] is transposed
// from the [B, T, I] file once, before timing, and Y [T, 1, B, H] back to [B, T, H] after.
// Writes:
//   - DIR/<case>.ort-t<N>.bin: the full output sequence [B, T, H] (side_by_side compares it),
//   - on stdout, tab-separated lines: `info <key> <value>` and
//     `time ort <case> <threads> <median_us> <min_us> <runs> <cpu_per_wall>`.
// Timing: only `await session.run(feeds)` (the public API: argument checks, output tensors and
// the setImmediate turn onnxruntime-node's run goes through; info ort_async_floor_us is the time
// of a bare setImmediate turn here), wall clock per call, warm-up (>= 2 calls and >= 0.1 s), then
// N calls with N = clamp(budget / time of one call, min_runs, max_runs) from the manifest; median.
// Threads: the threads of a session's intra-op pool (N - 1 workers; the calling thread is the
// N-th) are counted in /proc/self/task, as the threads that go when the session is released (the
// first session also starts one thread of onnxruntime's own that stays); info ort_threads is that
// count + 1 (side_by_side checks it is N).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

// --- a minimal protobuf encoder for the ONNX messages used here ----------------------------------

function varint(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint: ${n}`);
  const out = [];
  while (n > 127) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const tag = (field, wire) => varint(field * 8 + wire);
const vField = (field, v) => Buffer.concat([tag(field, 0), varint(v)]);
const bField = (field, bytes) => Buffer.concat([tag(field, 2), varint(bytes.length), bytes]);
const sField = (field, s) => bField(field, Buffer.from(s, 'utf8'));
const message = (...parts) => Buffer.concat(parts.flat());

const FLOAT = 1;  // TensorProto.DataType
const ATTR_INT = 2, ATTR_STRING = 3;  // AttributeProto.AttributeType

// TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian).
function tensorProto(name, dims, values) {
  if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name}: size`);
  const raw = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return message(dims.map((d) => vField(1, d)), vField(2, FLOAT), sField(8, name), bField(9, raw));
}

// ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2:
// TensorShapeProto { dim 1: { dim_value 1 } } } } }.
function valueInfo(name, dims) {
  const shape = message(dims.map((d) => bField(1, vField(1, d))));
  const tensorType = message(vField(1, FLOAT), bField(2, shape));
  return message(sField(1, name), bField(2, bField(1, tensorType)));
}

// AttributeProto: name 1, i 3, s 4, type 20.
const intAttr = (name, v) => message(sField(1, name), vField(3, v), vField(20, ATTR_INT));
const stringAttr = (name, s) =>
  message(sField(1, name), bField(4, Buffer.from(s, 'utf8')), vField(20, ATTR_STRING));

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
function nodeProto(opType, inputs, outputs, attributes) {
  return message(inputs.map((s) => sField(1, s)), outputs.map((s) => sField(2, s)),
                 sField(3, opType.toLowerCase()), sField(4, opType),
                 attributes.map((a) => bField(5, a)));
}

// ModelProto { ir_version 1, producer_name 2, graph 7: GraphProto { node 1, name 2,
// initializer 5, input 11, output 12 }, opset_import 8: { version 2 } } (default domain).
function modelProto(node, initializers, inputs, outputs) {
  const graph = message(bField(1, node), sField(2, 'side_by_side'),
                        initializers.map((t) => bField(5, t)), inputs.map((v) => bField(11, v)),
                        outputs.map((v) => bField(12, v)));
  return message(vField(1, 8), sField(2, 'recurrent side_by_side ort_bench.js'), bField(7, graph),
                 bField(8, vField(2, 14)));
}

// --- the cases ---------------------------------------------------------------------------------

function load(dir, name, what, count) {
  const buf = fs.readFileSync(path.join(dir, `${name}.${what}.bin`));
  if (buf.length !== 4 * count)
    throw new Error(`${name}.${what}.bin: ${buf.length} bytes, expected ${4 * count}`);
  const out = new Float32Array(count);
  for (let k = 0; k < count; ++k) out[k] = buf.readFloatLE(4 * k);
  return out;
}

/// A TF.js kernel [rows, G·H] (gates in TF.js order) as ONNX's [G·H, rows] with the gates in
/// `order` (indices of TF.js gates).
function onnxWeights(kernel, rows, g, h, order) {
  const out = new Float32Array(g * h * rows);
  order.forEach((src, dst) => {
    for (let j = 0; j < h; ++j)
      for (let k = 0; k < rows; ++k)
        out[(dst * h + j) * rows + k] = kernel[k * g * h + src * h + j];
  });
  return out;
}

function onnxBias(row, g, h, order) {
  const out = new Float32Array(g * h);
  order.forEach((src, dst) => out.set(row.subarray(src * h, (src + 1) * h), dst * h));
  return out;
}

/// The ONNX model (bytes) of a manifest case with its TF.js-layout weights.
function buildModel(c, kernel, recurrent, bias) {
  const { input: i, units: h, gates: g, batch: b, time: t } = c;
  let op, order, attrs = [intAttr('hidden_size', h)];
  const rb = new Float32Array(g * h);  // ONNX's recurrent bias: zero unless the cell has one
  let wb;
  switch (c.cell) {
    case 'LSTM':  // TF.js i, f, c, o -> ONNX i, o, f, c
      op = 'LSTM';
      order = [0, 3, 1, 2];
      wb = onnxBias(bias, g, h, order);
      break;
    case 'GRU':  // reset before: z, r, h in both
      op = 'GRU';
      order = [0, 1, 2];
      attrs.push(intAttr('linear_before_reset', 0));
      wb = onnxBias(bias, g, h, order);
      break;
    case 'GRU-ra':  // reset after; bias rows: input, recurrent
      op = 'GRU';
      order = [0, 1, 2];
      attrs.push(intAttr('linear_before_reset', 1));
      wb = onnxBias(bias.subarray(0, g * h), g, h, order);
      rb.set(onnxBias(bias.subarray(g * h), g, h, order));
      break;
    case 'SimpleRNN':
      op = 'RNN';
      order = [0];
      attrs.push(stringAttr('direction', 'forward'));
      wb = onnxBias(bias, g, h, order);
      break;
    default:
      throw new Error(`unknown cell ${c.cell}`);
  }
  const biasAll = new Float32Array(2 * g * h);
  biasAll.set(wb, 0);
  biasAll.set(rb, g * h);
  const node = nodeProto(op, ['X', 'W', 'R', 'B'], ['Y'], attrs);
  return modelProto(node,
                    [tensorProto('W', [1, g * h, i], onnxWeights(kernel, i, g, h, order)),
                     tensorProto('R', [1, g * h, h], onnxWeights(recurrent, h, g, h, order)),
                     tensorProto('B', [1, 2 * g * h], biasAll)],
                    [valueInfo('X', [t, b, i])], [valueInfo('Y', [t, 1, b, h])]);
}

/// [d0, d1, d2] -> [d1, d0, d2] (batch-major <-> time-major).
function swap01(src, d0, d1, d2) {
  const out = new Float32Array(src.length);
  for (let a = 0; a < d0; ++a)
    for (let b = 0; b < d1; ++b)
      out.set(src.subarray((a * d1 + b) * d2, (a * d1 + b + 1) * d2), (b * d0 + a) * d2);
  return out;
}

// --- timing ------------------------------------------------------------------------------------

const now = () => Number(process.hrtime.bigint()) * 1e-9;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e-6;
};

async function measure(fn, budget, minRuns, maxRuns) {
  const start = now();
  let best = Infinity;
  for (let calls = 0; calls < 2 || now() - start < 0.1; ++calls) {
    const t0 = now();
    await fn();
    best = Math.min(best, now() - t0);
  }
  const runs = Math.min(Math.max(Math.ceil(budget / best), minRuns), maxRuns);
  const walls = [];
  let cpu = 0;
  for (let r = 0; r < runs; ++r) {
    const c0 = cpuSeconds(), t0 = now();
    await fn();
    const t1 = now(), c1 = cpuSeconds();
    walls.push(t1 - t0);
    cpu += c1 - c0;
  }
  const total = walls.reduce((a, b) => a + b, 0);
  walls.sort((a, b) => a - b);
  const n = walls.length;
  const med = n % 2 ? walls[(n - 1) / 2] : 0.5 * (walls[n / 2 - 1] + walls[n / 2]);
  return { med, best: walls[0], runs, util: cpu / total };
}

const taskCount = () => fs.readdirSync('/proc/self/task').length;
const info = (key, value) => process.stdout.write(`info\t${key}\t${value}\n`);

function parseArgs(argv) {
  const args = { dir: null, threads: 1 };
  for (let k = 0; k < argv.length; ++k) {
    if (argv[k] === '--dir') args.dir = argv[++k];
    else if (argv[k] === '--threads') args.threads = Number(argv[++k]);
    else throw new Error(`unknown argument ${argv[k]}`);
  }
  if (!args.dir || !Number.isInteger(args.threads) || args.threads < 1)
    throw new Error('usage: ort_bench.js --dir DIR --threads N');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (os.endianness() !== 'LE') throw new Error('little-endian machine expected');
  const ort = require('onnxruntime-node');
  info('ort_version', require('onnxruntime-node/package.json').version);
  info('node_version', process.version);
  info('ort_provider', 'cpu');  // the only one asked for (executionProviders below)
  info('ort_backends_built', ort.listSupportedBackends().map((x) => x.name).join(' '));
  info('ort_intra_op_threads', args.threads);
  {
    // The floor under any `await session.run`: one setImmediate turn (median of 20000, after
    // 2000 untimed).
    const walls = [];
    for (let k = 0; k < 22000; ++k) {
      const t0 = now();
      await new Promise((resolve) => setImmediate(resolve));
      if (k >= 2000) walls.push(now() - t0);
    }
    walls.sort((a, b) => a - b);
    info('ort_async_floor_us', (walls[walls.length / 2] * 1e6).toFixed(2));
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(args.dir, 'manifest.json'), 'utf8'));
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  const threadsSeen = new Set();
  {
    // The threads a session gets, also when no case runs with this thread count: a one-unit RNN.
    const c = { cell: 'SimpleRNN', batch: 1, time: 1, input: 1, units: 1, gates: 1 };
    const one = new Float32Array([0.5]);
    const session = await ort.InferenceSession.create(buildModel(c, one, one, one), options);
    await session.run({ X: new ort.Tensor('float32', one, [1, 1, 1]) });
    const tasksWithSession = taskCount();
    await session.release();
    threadsSeen.add(tasksWithSession - taskCount() + 1);
  }
  for (const c of manifest.cases) {
    if (args.threads !== 1 && !c.multi_threaded) continue;
    const { name, batch: b, time: t, input: i, units: h, gates: g } = c;
    const model = buildModel(c, load(args.dir, name, 'kernel', i * g * h),
                             load(args.dir, name, 'recurrent_kernel', h * g * h),
                             load(args.dir, name, 'bias', c.bias_rows * g * h));
    fs.writeFileSync(path.join(args.dir, `${name}.onnx`), model);
    const session = await ort.InferenceSession.create(model, options);
    const x = swap01(load(args.dir, name, 'x', b * t * i), b, t, i);
    const feeds = { X: new ort.Tensor('float32', x, [t, b, i]) };
    const y = (await session.run(feeds)).Y;
    const tasksWithSession = taskCount();
    if (y.dims.join(',') !== [t, 1, b, h].join(','))
      throw new Error(`${name}: output dims ${y.dims}, expected ${[t, 1, b, h]}`);
    const out = swap01(y.data, t, b, h);  // [T, 1, B, H] -> [B, T, H]
    fs.writeFileSync(path.join(args.dir, `${name}.ort-t${args.threads}.bin`),
                     Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    const m = await measure(() => session.run(feeds), manifest.budget_seconds, manifest.min_runs,
                            manifest.max_runs);
    await session.release();  // joins the session's intra-op pool threads
    threadsSeen.add(tasksWithSession - taskCount() + 1);
    process.stdout.write(`time\tort\t${name}\t${args.threads}\t${(m.med * 1e6).toFixed(3)}\t` +
                         `${(m.best * 1e6).toFixed(3)}\t${m.runs}\t${m.util.toFixed(2)}\n`);
    process.stderr.write(`  [${args.threads} thread${args.threads === 1 ? '' : 's'}] ${name} ` +
                         'done (onnxruntime)\n');
  }
  // One value when every session had the same number of threads, else all of them.
  info('ort_threads', [...threadsSeen].sort().join(' '));
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
