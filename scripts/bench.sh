#!/usr/bin/env bash
# The performance numbers in one command: installs what is missing, builds the benchmarks in
# Release, runs the side-by-side runner (this library, oneDNN, PyTorch, onnxruntime and a
# plain-Eigen baseline on the same inputs, 1 and 2 threads: the inference table, then the
# training-step table — forward + backward against oneDNN, PyTorch autograd and Eigen —, then
# the fit table — an epoch of model.fit against PyTorch and TF.js's cpu backend) and the
# streaming runner (this library's per-sample step() against RTNeural, built into the same
# process), prints the tables and regenerates the README's performance section (between
# <!-- perf-table:begin --> and <!-- perf-table:end -->, the training table between
# <!-- perf-train:begin --> and <!-- perf-train:end -->, the fit table between
# <!-- perf-fit:begin --> and <!-- perf-fit:end -->).
#
#   scripts/bench.sh                      # everything (about 30 minutes on 2 cores)
#   scripts/bench.sh --no-readme          # measure and print, leave README.md alone
#   scripts/bench.sh --no-stream          # without the streaming runner (README left alone)
#   scripts/bench.sh -- --workloads W1,W2 --quick   # arguments after -- go to side_by_side
#   scripts/bench.sh -- --no-train        # without the training-step table (--train-only: it alone)
#   scripts/bench.sh --no-stream -- --fit-only   # the fit table alone (README: see below)
#
# RTNeural is looked for in $RTNEURAL_DIR, else ../shared/third_party/RTNeural beside the
# checkout (headers only, never copied here); without it the streaming table has no RTNeural
# columns.
#
# Build: build/bench, GCC by default (CXX=clang++ to change), CMAKE_BUILD_TYPE=Release with
# CMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -march=native" (the benchmark targets add -O3), for this
# library, the Eigen baseline and the runner alike. BENCH_JOBS (default 1) sets the build jobs.
# The results JSON are build/bench/side_by_side.json and build/bench/streaming.json. README.md is
# rewritten only when the run passed its checks (outputs agree within 1e-4, training-step tensors
# within a relative 1e-3, fit epoch losses within a relative 1e-3, thread counts as asked, PyTorch
# and onnxruntime ran). onnxruntime is onnxruntime-node and TF.js is @tensorflow/tfjs 4.22.0 (the
# fit table's pure-JS cpu backend), both from npm (benchmarks/side_by_side/package.json and its
# lock file), installed into benchmarks/side_by_side/node_modules with `npm ci --ignore-scripts`
# when missing (onnxruntime-node's install script only fetches GPU providers; the CPU library is in
# the package); Node.js and npm come from Debian's nodejs and npm when there is no `node`/`npm`
# command. --no-stream with a --fit-only (or --train-only) run still regenerates the README: only
# the blocks the run measured are rewritten. The fit table's TF.js rows take most of its time
# (about 1 minute per seed-classifier epoch and several per W3 epoch on 2 cores): --no-tfjs after
# -- leaves them out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

update_readme=1
stream=1
runner_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-readme) update_readme=0 ;;
    --no-stream) stream=0 ;;
    --) shift; runner_args=("$@"); break ;;
    *) echo "bench.sh: unknown argument $1 (runner arguments go after --)" >&2; exit 2 ;;
  esac
  shift
done

# --- dependencies ----------------------------------------------------------------------------
bash scripts/install-deps.sh
# ocl-icd-opencl-dev and opencl-c-headers: Debian's dnnl CMake config finds OpenCL (GPU runtime) and
# fails without it, though the runner uses the CPU engine only.
bench_packages=(libbenchmark-dev libdnnl-dev ocl-icd-opencl-dev opencl-c-headers python3-torch
  libopenblas0-openmp)
missing=()
for pkg in "${bench_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "bench.sh: installing ${missing[*]}"
  sudo_cmd=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd=(sudo)
    else
      echo "bench.sh: not root and no sudo; install these yourself: ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi

# onnxruntime and TF.js: Node.js + onnxruntime-node / @tensorflow/tfjs (skipped with the runner's
# --no-ort and --no-tfjs; neither runs with --train-only; --fit-only runs no onnxruntime, --no-fit
# no TF.js).
want_ort=1
want_tfjs=1
partial=0
for arg in "${runner_args[@]:-}"; do
  case "$arg" in
    --no-ort) want_ort=0 ;;
    --no-tfjs | --no-fit) want_tfjs=0 ;;
    --train-only) want_ort=0; want_tfjs=0; partial=1 ;;
    --fit-only) want_ort=0; partial=1 ;;
  esac
done
# Without the streaming runner only a partial run (--train-only / --fit-only) rewrites the README:
# its blocks are rewritten, the others left alone.
if [[ $stream -eq 0 && $partial -eq 0 ]]; then update_readme=0; fi
ort_dir=benchmarks/side_by_side
node_args=()
if [[ $want_ort -eq 1 || $want_tfjs -eq 1 ]]; then
  node_missing=()
  command -v node >/dev/null 2>&1 || node_missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || node_missing+=(npm)
  if [[ ${#node_missing[@]} -gt 0 ]]; then
    echo "bench.sh: installing ${node_missing[*]}"
    if [[ "$(id -u)" -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
      echo "bench.sh: not root and no sudo; install these yourself: ${node_missing[*]}" >&2
      exit 1
    fi
    sudo_cmd=()
    if [[ "$(id -u)" -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${node_missing[@]}"
  fi
  npm_missing=()
  for pkg in onnxruntime-node @tensorflow/tfjs; do
    wanted="$(node -p "require('./$ort_dir/package.json').dependencies['$pkg']")"
    installed="$(node -p "try { require('./$ort_dir/node_modules/$pkg/package.json')
      .version } catch (e) { '' }")"
    if [[ "$installed" != "$wanted" ]]; then npm_missing+=("$pkg@$wanted"); fi
  done
  if [[ ${#npm_missing[@]} -gt 0 ]]; then
    echo "bench.sh: installing ${npm_missing[*]} into $ort_dir/node_modules"
    (cd "$ort_dir" && npm ci --ignore-scripts --no-audit --no-fund)
  fi
  node_args=(--node "$(command -v node)")
fi

# PyTorch is Debian's python3-torch: the system interpreter, not whatever python3 is first on
# PATH. Its BLAS must be OpenBLAS: preload the OpenMP OpenBLAS libblas.so.3 whatever the
# libblas.so.3 alternative points to (torch_bench.py checks what is mapped and says so).
torch_python=/usr/bin/python3
openblas_lib="$(dpkg -L libopenblas0-openmp | grep -E '/openblas-openmp/libblas\.so\.3$' | head -n1 || true)"
if [[ -z "$openblas_lib" ]]; then
  echo "bench.sh: libopenblas0-openmp has no libblas.so.3" >&2
  exit 1
fi

# PyTorch's BLAS kernels. OpenBLAS 0.3.21 (bookworm) does not know newer Xeon models (Sapphire
# Rapids) and falls back to its Prescott (SSE3) kernels there: sgemm at ~28 instead of ~115
# GFLOP/s, PyTorch looking 4-5x slower than it is. On an AVX-512 CPU the runner's PyTorch gets
# OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels) unless BENCH_KEEP_OPENBLAS_ENV=1, which keeps
# whatever the environment says. torch_bench.py reports the core OpenBLAS used (README notes);
# the runner checks PyTorch's outputs against ours.
if [[ "${BENCH_KEEP_OPENBLAS_ENV:-0}" != 1 ]]; then
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
  if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
  fi
fi

# --- build -------------------------------------------------------------------------------------
cxx="${CXX:-g++}"
extra_flags=""
if [[ "$("$cxx" -dumpversion 2>/dev/null | cut -d. -f1)" == "12" ]] && "$cxx" --version | grep -q GCC; then
  # GCC 12 bug 105593: false (maybe-)uninitialized warnings inside its own AVX-512 intrinsic
  # headers (Eigen's packet maths with -march=native on AVX-512 machines). Fixed in GCC 13.
  extra_flags="-Wno-maybe-uninitialized -Wno-uninitialized"
fi
build_dir=build/bench
# A build directory configured with another compiler is started afresh (changing
# CMAKE_CXX_COMPILER in an existing cache makes CMake drop every other cache entry).
if [[ -f "$build_dir/CMakeCache.txt" ]]; then
  cached="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"
  if [[ "$(readlink -f "$cached")" != "$(readlink -f "$(command -v "$cxx")")" ]]; then
    rm -rf "$build_dir"
  fi
fi
CXX="$cxx" nice -n 10 cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$extra_flags" \
  -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -march=native" \
  -DRECURRENT_BUILD_BENCHMARKS=ON \
  -DRECURRENT_BUILD_TESTS=OFF \
  -DRECURRENT_BUILD_EXAMPLES=OFF \
  -DRECURRENT_INSTALL=OFF \
  ${RTNEURAL_DIR:+-DRECURRENT_RTNEURAL_DIR="$RTNEURAL_DIR"}
nice -n 10 cmake --build "$build_dir" --parallel "${BENCH_JOBS:-1}" \
  --target bench_layers side_by_side streaming

# --- run ---------------------------------------------------------------------------------------
results="$build_dir/side_by_side.json"
rm -f "$results"
status=0
"$build_dir/benchmarks/side_by_side/side_by_side" \
  --python "$torch_python" --openblas "$openblas_lib" --json "$results" \
  "${node_args[@]}" "${runner_args[@]}" || status=$?
if [[ $status -ne 0 ]]; then
  echo "bench.sh: side_by_side reported problems (exit $status); README.md left as it is" >&2
  exit "$status"
fi
streaming_results="$build_dir/streaming.json"
if [[ $stream -eq 1 ]]; then
  rm -f "$streaming_results"
  "$build_dir/benchmarks/streaming/streaming" --json "$streaming_results" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "bench.sh: streaming reported problems (exit $status); README.md left as it is" >&2
    exit "$status"
  fi
fi
if [[ $update_readme -eq 1 ]]; then
  streaming_arg=()
  if [[ $stream -eq 1 ]]; then streaming_arg=(--streaming "$streaming_results"); fi
  python3 tools/bench/update_readme.py --results "$results" "${streaming_arg[@]}" \
    --build-dir "$build_dir" --readme README.md
fi
echo "bench.sh: done (Google Benchmark suite: $build_dir/benchmarks/bench_layers)"
