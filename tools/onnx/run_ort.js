'use strict';
// Runs onnxruntime-node (CPU EP, 1 intra-op / 1 inter-op thread) on a list of jobs.
// Usage: node run_ort.js JOBS.json RESULTS.json
// JOBS.json: [{"id": str, "model": path, "from_path": bool, "feeds": {name: {"dtype","shape","data"}}, "outputs": [names] | null}]
// RESULTS.json: [{"id", "outputs": {name: {"dtype","shape","data"}}} | {"id", "error": {"stage","message"}}]
// Floats are written as JSON numbers holding the exact float32 value (as a double).
const fs = require('fs');
const ort = require('onnxruntime-node');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array,
  int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array,
};

function makeTensor(t) {
  const Ctor = ARRAYS[t.dtype];
  if (!Ctor) throw new Error('unsupported feed dtype ' + t.dtype);
  const data = t.dtype === 'int64' ? BigInt64Array.from(t.data.map((v) => BigInt(v))) : Ctor.from(t.data);
  return new ort.Tensor(t.dtype, data, t.shape);
}

function fromTensor(t) {
  let data = Array.from(t.data);
  if (t.type === 'int64') data = data.map((v) => Number(v));
  return { dtype: t.type, shape: Array.from(t.dims), data };
}

async function runJob(job) {
  let session;
  try {
    // from_path: external-data models are loaded from their file so locations resolve against its directory
    session = await ort.InferenceSession.create(job.from_path ? job.model : fs.readFileSync(job.model), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 4,
    });
  } catch (e) {
    return { id: job.id, error: { stage: 'session_create', message: String(e && e.message ? e.message : e) } };
  }
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(job.feeds || {})) feeds[name] = makeTensor(t);
    const outNames = job.outputs && job.outputs.length ? job.outputs : session.outputNames;
    const res = await session.run(feeds, outNames);
    const outputs = {};
    for (const n of outNames) outputs[n] = fromTensor(res[n]);
    return { id: job.id, outputs, input_names: session.inputNames, output_names: session.outputNames };
  } catch (e) {
    return { id: job.id, error: { stage: 'run', message: String(e && e.message ? e.message : e) } };
  } finally {
    try { await session.release(); } catch (e) { /* ignore */ }
  }
}

async function main() {
  const [jobsPath, outPath] = process.argv.slice(2);
  if (!jobsPath || !outPath) {
    console.error('usage: node run_ort.js JOBS.json RESULTS.json');
    process.exit(2);
  }
  const jobs = JSON.parse(fs.readFileSync(jobsPath, 'utf8'));
  const results = [];
  for (const job of jobs) results.push(await runJob(job));
  fs.writeFileSync(outPath, JSON.stringify({ onnxruntime_version: ort.env.versions.common, results }));
}

main().catch((e) => { console.error(e); process.exit(1); });
