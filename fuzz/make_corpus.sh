#!/usr/bin/env bash
# Regenerates the committed seed corpora of the fuzz targets from the golden test data:
#
#   fuzz/corpus/model_loader/<source>_<case>   tests/models/{tfjs,keras}/<case>: model.json, one
#                                              NUL byte, then its weight shards concatenated in
#                                              manifest order (the input layout documented in
#                                              fuzz_model_loader.cpp)
#   fuzz/corpus/safetensors/<name>             tests/models/pytorch/*.safetensors and
#                                              tests/models/pytorch/bad/*.safetensors as they are
#   fuzz/corpus/predict_inputs/<name>          recurrent-predict INPUT files: tests/cli/*.npy and
#                                              *.json as they are, and {"inputs": ...} of the first
#                                              call of a few golden cases (json_<source>_<case>)
#   fuzz/model_loader.dict                     libFuzzer dictionary: every object key and every
#                                              short string value of those model.json files
#                                              (fuzz/safetensors.dict is written by hand)
#
# Needs python3 (reads the weights manifests). Deterministic; run from anywhere:
#   bash fuzz/make_corpus.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$root/tests/models"
out="$root/fuzz/corpus"

rm -rf "$out/model_loader" "$out/safetensors" "$out/predict_inputs"
mkdir -p "$out/model_loader" "$out/safetensors" "$out/predict_inputs"

for source in tfjs keras; do
  for dir in "$models/$source"/*/; do
    dir="${dir%/}"
    [[ -f "$dir/model.json" ]] || continue
    name="${source}_$(basename "$dir")"
    python3 - "$dir" "$out/model_loader/$name" <<'PY'
import json, os, sys
case_dir, target = sys.argv[1], sys.argv[2]
with open(os.path.join(case_dir, "model.json"), "rb") as f:
    text = f.read()
blob = bytearray(text)
blob += b"\0"
for group in json.loads(text).get("weightsManifest", []):
    for path in group["paths"]:
        with open(os.path.join(case_dir, path), "rb") as f:
            blob += f.read()
with open(target, "wb") as f:
    f.write(blob)
PY
  done
done

for f in "$models"/pytorch/*.safetensors "$models"/pytorch/bad/*.safetensors; do
  [[ -f "$f" ]] || continue
  case "$f" in
    */bad/*) cp "$f" "$out/safetensors/bad_$(basename "$f")" ;;
    *) cp "$f" "$out/safetensors/$(basename "$f")" ;;
  esac
done

python3 - "$models" "$root/fuzz/model_loader.dict" <<'PY'
import glob, json, os, sys
models, target = sys.argv[1], sys.argv[2]
words = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            words.add(k)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
    elif isinstance(v, str) and len(v) <= 40 and "/" not in v:
        words.add(v)
for path in sorted(glob.glob(os.path.join(models, "*", "*", "model.json"))):
    with open(path) as f:
        walk(json.load(f))
with open(target, "w") as f:
    f.write("# libFuzzer dictionary of fuzz_model_loader, written by fuzz/make_corpus.sh.\n")
    for w in sorted(words):
        if all(32 <= ord(c) < 127 for c in w):
            f.write('"\\"%s\\""\n' % w.replace("\\", "\\\\").replace('"', '\\"'))
    for token in ["null", "true", "false", "[]", "{}", "-1", "0", "1e309", "4294967296"]:
        f.write('"%s"\n' % token)
PY

for f in "$root"/tests/cli/*.npy "$root"/tests/cli/*.json; do
  [[ -f "$f" ]] || continue
  cp "$f" "$out/predict_inputs/$(basename "$f")"
done
for case in tfjs/functional_gru_initial_state tfjs/embedding_maskzero_gru_dense \
            tfjs/masking0_bidi_lstm_gru_dense keras/lstm_from_torch; do
  python3 - "$models/$case/reference.json" "$out/predict_inputs/json_${case/\//_}" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    call = next(c for c in json.load(f)["calls"] if "inputs" in c)
with open(sys.argv[2], "w") as f:
    json.dump({"inputs": call["inputs"]}, f, separators=(",", ":"))
PY
done

echo "model_loader: $(ls "$out/model_loader" | wc -l) files, $(du -sb "$out/model_loader" | cut -f1) bytes"
echo "safetensors:  $(ls "$out/safetensors" | wc -l) files, $(du -sb "$out/safetensors" | cut -f1) bytes"
echo "predict_inputs: $(ls "$out/predict_inputs" | wc -l) files, $(du -sb "$out/predict_inputs" | cut -f1) bytes"
