#!/usr/bin/env bash
# Builds and runs the examples a new user looks at first (quickstart, seed_examples) in an
# optimised build, without tests or benchmarks. Build directory: build/demo.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bash scripts/install-deps.sh

build_dir=build/demo
demos=(quickstart seed_examples)

cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DRECURRENT_BUILD_EXAMPLES=ON \
  -DRECURRENT_BUILD_TESTS=OFF \
  -DRECURRENT_BUILD_BENCHMARKS=OFF \
  -DRECURRENT_INSTALL=OFF

for demo in "${demos[@]}"; do
  if [[ ! -f "examples/$demo.cpp" ]]; then
    echo "demo: examples/$demo.cpp does not exist (yet)" >&2
    exit 1
  fi
done

cmake --build "$build_dir" --parallel 2 --target "${demos[@]}"

for demo in "${demos[@]}"; do
  echo
  echo "=== $demo ==="
  "$build_dir/examples/$demo"
done
