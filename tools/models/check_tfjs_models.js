#!/usr/bin/env node
// Re-verifies the TF.js saved-model golden cases written by
// generate_tfjs_models.js.
//
// Usage:  node check_tfjs_models.js DIR        (e.g. ../../tests/models/tfjs)
//
// For every DIR/<case>/:
//   * model.json has the keys TF.js's handlers write, in their order; every
//     shard listed in the manifest exists and the shard bytes add up to what
//     the weight specs (dtype or quantization dtype) need;
//   * TF.js 4.22.0 loads the model from disk (same reader as the generator:
//     model.json + all shards of all groups, concatenated) and replays the
//     calls of reference.json; every output's name, ref, shape and float32
//     value must match exactly;
//   * a case with "sameOutputsAs" must have the same outputs as that case.
// The Keras-3-spelling rewrites cannot be loaded by TF.js 4.22 (its
// InputLayer does not know `batch_shape`, its deserializer does not know the
// Keras 3 inbound_nodes format): they are reported as SKIP for the replay,
// and are still checked structurally and against sameOutputsAs.
'use strict';

const fs = require('fs');
const path = require('path');
const {tf, loadFromDir, runCalls} = require('./generate_tfjs_models.js');

const BYTES = {float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1};
const prod = s => s.reduce((a, b) => a * b, 1);

function checkStructure(dir, problems) {
  const text = fs.readFileSync(path.join(dir, 'model.json'), 'utf8');
  const mj = JSON.parse(text);
  const keys = Object.keys(mj).join(',');
  if (keys !== 'modelTopology,format,generatedBy,convertedBy,weightsManifest') {
    problems.push(`model.json keys ${keys}`);
  }
  if (mj.format !== 'layers-model') problems.push(`format ${mj.format}`);
  if (text !== JSON.stringify(mj)) problems.push('model.json is not compact JSON.stringify output');
  let need = 0;
  let have = 0;
  const names = new Set();
  for (const g of mj.weightsManifest) {
    for (const w of g.weights) {
      if (names.has(w.name)) problems.push(`duplicate weight ${w.name}`);
      names.add(w.name);
      const dt = w.quantization ? w.quantization.dtype : w.dtype;
      if (!(dt in BYTES)) problems.push(`weight ${w.name}: dtype ${dt}`);
      need += prod(w.shape) * BYTES[dt];
    }
    for (const p of g.paths) {
      const f = path.join(dir, p);
      if (!fs.existsSync(f)) {
        problems.push(`missing shard ${p}`);
        continue;
      }
      have += fs.statSync(f).size;
    }
  }
  if (need !== have) problems.push(`weight specs need ${need} bytes, shards hold ${have}`);
}

function sameOutputs(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!!a[i].resetStates !== !!b[i].resetStates) return false;
    if (a[i].resetStates) continue;
    if (JSON.stringify(a[i].inputs.map(x => x.data)) !== JSON.stringify(b[i].inputs.map(x => x.data))) return false;
    if (JSON.stringify(a[i].outputs.map(o => [o.shape, o.data])) !==
        JSON.stringify(b[i].outputs.map(o => [o.shape, o.data]))) return false;
  }
  return true;
}

async function checkCase(root, name) {
  const dir = path.join(root, name);
  const problems = [];
  checkStructure(dir, problems);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  for (const k of ['description', 'generatedBy', 'calls']) if (!(k in ref)) problems.push(`reference.json lacks ${k}`);
  if (ref.sameOutputsAs) {
    const other = JSON.parse(fs.readFileSync(path.join(root, ref.sameOutputsAs, 'reference.json'), 'utf8'));
    if (!sameOutputs(ref.calls, other.calls)) problems.push(`outputs differ from ${ref.sameOutputsAs}`);
  }
  let model;
  let skipped = null;
  try {
    model = await loadFromDir(dir);
  } catch (e) {
    if (name.startsWith('keras3_spelling_')) {
      skipped = `TF.js cannot load it: ${e.message}`;
    } else {
      problems.push(`TF.js failed to load: ${e.message}`);
    }
  }
  if (model) {
    const calls = ref.calls.map(c => (c.resetStates ? {resetStates: true} :
      {inputs: c.inputs.map(i => ({shape: i.shape, data: Float32Array.from(i.data, Math.fround)}))}));
    const got = runCalls(model, calls);
    got.forEach((g, ci) => {
      const want = ref.calls[ci];
      if (want.resetStates) return;
      g.inputs.forEach((inp, k) => {
        if (inp.name !== want.inputs[k].name) problems.push(`call ${ci} input ${k}: name ${inp.name} != ${want.inputs[k].name}`);
      });
      if (g.outputs.length !== want.outputs.length) {
        problems.push(`call ${ci}: ${g.outputs.length} outputs, reference has ${want.outputs.length}`);
        return;
      }
      g.outputs.forEach((o, k) => {
        const w = want.outputs[k];
        if (o.name !== w.name) problems.push(`call ${ci} output ${k}: name ${o.name} != ${w.name}`);
        if (JSON.stringify(o.ref) !== JSON.stringify(w.ref)) problems.push(`call ${ci} output ${k}: ref ${o.ref} != ${w.ref}`);
        if (JSON.stringify(o.shape) !== JSON.stringify(w.shape)) {
          problems.push(`call ${ci} output ${k}: shape ${o.shape} != ${w.shape}`);
          return;
        }
        let bad = 0;
        let maxd = 0;
        for (let i = 0; i < o.data.length; i++) {
          const e = Math.fround(w.data[i]);
          if (o.data[i] !== e) {
            bad++;
            maxd = Math.max(maxd, Math.abs(o.data[i] - e));
          }
        }
        if (bad) problems.push(`call ${ci} output ${k} (${o.name}): ${bad} values differ, max |d| ${maxd}`);
      });
    });
    model.dispose();
  }
  return {problems, skipped};
}

async function main() {
  const root = process.argv[2];
  if (!root) {
    process.stderr.write('usage: node check_tfjs_models.js DIR\n');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const names = fs.readdirSync(root).filter(n => fs.existsSync(path.join(root, n, 'model.json'))).sort();
  let failed = 0;
  let skipped = 0;
  for (const name of names) {
    const r = await checkCase(root, name);
    if (r.problems.length) {
      failed++;
      process.stdout.write(`FAIL ${name}\n${r.problems.map(p => `     ${p}\n`).join('')}`);
    } else if (r.skipped) {
      skipped++;
      process.stdout.write(`SKIP ${name}: replay skipped (${r.skipped}); structure and sameOutputsAs OK\n`);
    } else {
      process.stdout.write(`ok   ${name}\n`);
    }
  }
  process.stdout.write(`${names.length} cases: ${names.length - failed - skipped} ok, ${skipped} replay-skipped, ${failed} failed\n`);
  process.exit(failed ? 1 : 0);
}

main().catch(e => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
