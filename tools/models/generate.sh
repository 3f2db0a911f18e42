#!/bin/sh
# Regenerates tests/models/tfjs (TF.js saved-model golden cases) and re-checks
# every case with TF.js. Needs Node >= 18; installs @tensorflow/tfjs 4.22.0
# from package-lock.json into tools/models/node_modules if it is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -d node_modules/@tensorflow/tfjs ]; then
  npm ci --no-audit --no-fund
fi
out=../../tests/models/tfjs
mkdir -p "$out"
# Drop old case directories (cases may have been renamed); README.md stays.
find "$out" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
node generate_tfjs_models.js "$out"
node check_tfjs_models.js "$out"
