#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): dependencies, then four workflow presets, each one
# configure + build + ctest:
#   dev      GCC, Debug (-g1 -O1), warnings as errors, every test incl. packaging (hygiene,
#            compile-fail, install + consumers), the examples and recurrent-predict
#   asan     GCC + AddressSanitizer + UBSan (-g1 -O1): unit, golden and saved-model tests (not
#            the examples, packaging, allocation proof or tools: compile time)
#   clang20  Clang, tests compiled as C++20 (-g1 -O1), warnings as errors, every test but the
#            examples and the allocation proof (dev builds them: compile time)
#   fuzz     Clang + libFuzzer + ASan + UBSan (-g1 -O1), only the fuzz targets: each fuzzes
#            60 s from the committed seeds, then the past crashes (fuzz/regressions) and the seeds
#            are replayed once
# (-g1 = line tables only: enough for sanitizer reports and backtraces, ~1/4 less compile time
# than -g; configure your own build with -g to step through locals.)
# All four run even if one fails; the summary at the end says which failed, and the exit status
# is non-zero if any did. Extra arguments are passed to every `cmake --workflow` (e.g. --fresh).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bash scripts/install-deps.sh

workflows=(dev asan clang20 fuzz)
declare -A status=()
declare -A seconds=()
overall=0
t_all=$SECONDS

for wf in "${workflows[@]}"; do
  echo
  echo "=================================================================="
  echo "== workflow preset: $wf"
  echo "=================================================================="
  t0=$SECONDS
  if cmake --workflow --preset "$wf" "$@"; then
    status[$wf]=passed
  else
    status[$wf]=FAILED
    overall=1
  fi
  seconds[$wf]=$((SECONDS - t0))
done

echo
echo "=================================================================="
echo "== summary"
echo "=================================================================="
for wf in "${workflows[@]}"; do
  printf '  %-8s %-7s %4ds\n' "$wf" "${status[$wf]}" "${seconds[$wf]}"
done
printf '  total            %4ds\n' "$((SECONDS - t_all))"
if [[ $overall -eq 0 ]]; then
  echo "All workflows passed."
else
  echo "Some workflows FAILED (logs above; test logs in build/<preset>/Testing/Temporary)."
fi
exit $overall
