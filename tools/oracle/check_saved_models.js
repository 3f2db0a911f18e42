#!/usr/bin/env node
// Round-trip check of saved models against TF.js itself.
//
// Usage:  node check_saved_models.js [--write-expected] DIR...
//
// For every DIR, and every subdirectory of DIR, that holds model.json:
//   * TF.js 4.22.0 (cpu backend) loads it with tf.loadLayersModel through an
//     IOHandler that reads model.json and every weight shard its
//     weightsManifest lists, from disk (what tfjs-node's file:// handler does);
//   * the inputs of expected.json ({"inputs": [tensor records], "outputs":
//     [tensor records]}, records {name?, shape, data}) go through
//     model.predict, and every output must equal expected.outputs within
//     |got - exp| <= 1e-5 + 1e-4 * |exp| (same shape, same count).
// One line per model; exit status 1 if any model fails, fails to load, or
// has no expected.json.
//
// --write-expected: instead of comparing, write TF.js's own predictions of
// expected.json's inputs to tfjs_predictions.json next to the model
// ({"inputs": [...], "outputs": [...]}, float32 JSON as the golden cases), so
// that the evidence can be committed with the model.
'use strict';

const fs = require('fs');
const path = require('path');

const {tf, checkTfVersion, dirHandler, tensorJSON, ser, runMain} = require('./common');

const TOL = {abs: 1e-5, rel: 1e-4};

function modelDirs(root) {
  const dirs = [];
  if (fs.existsSync(path.join(root, 'model.json'))) dirs.push(root);
  for (const e of fs.readdirSync(root, {withFileTypes: true})) {
    if (e.isDirectory() && fs.existsSync(path.join(root, e.name, 'model.json'))) {
      dirs.push(path.join(root, e.name));
    }
  }
  return dirs;
}

async function predict(dir, inputs) {
  const model = await tf.loadLayersModel(dirHandler(dir));
  if (model instanceof tf.Sequential && model.model == null) model.build();
  if (inputs.length !== model.inputs.length) {
    throw new Error(`expected.json has ${inputs.length} inputs, the model ${model.inputs.length}`);
  }
  const xs = inputs.map(r => tf.tensor(Float32Array.from(r.data), r.shape, 'float32'));
  let ys = model.predict(xs.length === 1 ? xs[0] : xs);
  if (!Array.isArray(ys)) ys = [ys];
  const outs = ys.map((y, i) => ({name: model.outputNames[i], shape: y.shape.slice(), data: y.dataSync().slice()}));
  tf.dispose(xs.concat(ys));
  model.dispose();
  return outs;
}

// worst |got - exp| / (abs + rel |exp|) over all outputs (> 1 fails)
function compare(got, exp) {
  if (got.length !== exp.length) throw new Error(`${got.length} outputs, expected ${exp.length}`);
  let worst = 0;
  got.forEach((g, k) => {
    const e = exp[k];
    if (g.shape.join() !== e.shape.join()) throw new Error(`output ${k}: shape [${g.shape}], expected [${e.shape}]`);
    if (g.data.length !== e.data.length) throw new Error(`output ${k}: ${g.data.length} values, expected ${e.data.length}`);
    for (let i = 0; i < e.data.length; i++) {
      const r = Math.abs(g.data[i] - e.data[i]) / (TOL.abs + TOL.rel * Math.abs(e.data[i]));
      if (Number.isNaN(r)) worst = Infinity;
      else if (r > worst) worst = r;
    }
  });
  return worst;
}

async function main() {
  const args = process.argv.slice(2);
  const write = args.includes('--write-expected');
  const roots = args.filter(a => !a.startsWith('--'));
  if (!roots.length) {
    console.error('usage: node check_saved_models.js [--write-expected] DIR...');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  checkTfVersion(tf);
  let failed = 0, total = 0;
  for (const root of roots) {
    const dirs = modelDirs(root);
    if (!dirs.length) {
      console.log(`FAIL ${root}: no model.json in it or in its subdirectories`);
      failed++;
    }
    for (const dir of dirs) {
      total++;
      try {
        const expFile = path.join(dir, 'expected.json');
        if (!fs.existsSync(expFile)) throw new Error('no expected.json');
        const expected = JSON.parse(fs.readFileSync(expFile, 'utf8'));
        const got = await predict(dir, expected.inputs);
        if (write) {
          const rec = {
            inputs: expected.inputs.map(r => tensorJSON(r.name, r.shape, r.data)),
            outputs: got.map(o => tensorJSON(o.name, o.shape, o.data)),
          };
          fs.writeFileSync(path.join(dir, 'tfjs_predictions.json'), ser(rec, 0) + '\n');
          console.log(`WROTE ${dir}/tfjs_predictions.json (${got.length} output(s))`);
          continue;
        }
        const worst = compare(got, expected.outputs);
        const n = got.reduce((a, o) => a + o.data.length, 0);
        if (worst > 1) {
          failed++;
          console.log(`FAIL ${dir}: ${n} values, worst error ${worst.toFixed(2)}x the tolerance (abs ${TOL.abs} + rel ${TOL.rel})`);
        } else {
          console.log(`ok   ${dir}: ${n} values, worst error ${worst.toFixed(3)}x the tolerance`);
        }
      } catch (e) {
        failed++;
        console.log(`FAIL ${dir}: ${e.message.split('\n')[0]}`);
      }
    }
  }
  if (failed) {
    console.log(`${failed} of ${total} model(s) failed`);
    process.exit(1);
  }
}

runMain(main);
