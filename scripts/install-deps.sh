#!/usr/bin/env bash
# Installs what recurrent needs to build and test on Debian/Ubuntu, and nothing that is already
# there: each package is checked with dpkg (or its command with `command -v`), and apt-get runs
# (with one `apt-get update` first) only when something is missing. Safe to run repeatedly.
# Then the same for clang's libFuzzer/sanitizer runtime (the `fuzz` preset), whose package name
# depends on the clang version (see below).
#
#   scripts/install-deps.sh            # install what is missing
#   scripts/install-deps.sh --check    # only report, exit 1 if something is missing
set -euo pipefail

check_only=0
if [[ "${1:-}" == "--check" ]]; then
  check_only=1
fi

# package:command pairs; the command (if given) also counts as "installed" (e.g. a newer CMake
# from another source).
required=(
  "cmake:cmake"
  "ninja-build:ninja"
  "g++:g++"
  "clang:clang++"
  "libeigen3-dev:"
  "catch2:"
  "nlohmann-json3-dev:"
  "libcli11-dev:"
  "pkg-config:pkg-config"
)

is_installed() {
  local pkg="$1" cmd="$2"
  if [[ -n "$cmd" ]] && command -v "$cmd" >/dev/null 2>&1; then
    return 0
  fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"
}

apt_updated=0
sudo_cmd=()
# apt_run <command...>: as root, or through sudo.
apt_run() {
  if [[ "$(id -u)" -ne 0 && ${#sudo_cmd[@]} -eq 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd=(sudo)
    else
      echo "install-deps: not root and no sudo; run yourself: $*" >&2
      exit 1
    fi
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive "$@"
}
# apt_install <package...>: one `apt-get update` per run, then install without recommends.
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    apt_run apt-get update -q
    apt_updated=1
  fi
  apt_run apt-get install -y -q --no-install-recommends "$@"
}

missing=()
for entry in "${required[@]}"; do
  pkg="${entry%%:*}"
  cmd="${entry#*:}"
  if ! is_installed "$pkg" "$cmd"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all dependencies present"
else
  echo "install-deps: missing: ${missing[*]}"
  if [[ $check_only -eq 1 ]]; then
    exit 1
  fi
  apt_install "${missing[@]}"
fi

# clang's libFuzzer + ASan/UBSan runtime (compiler-rt), for the fuzz preset. Debian 12 ships it in
# libclang-rt-14-dev, only *recommended* by clang-14 (so --no-install-recommends leaves it out);
# newer Debian/Ubuntu name it libclang-rt-<major>-dev, the llvm-defaults metapackage
# libclang-rt-dev follows the default clang, and older releases (Ubuntu 22.04) put it in
# libclang-common-<major>-dev. Checked by linking a tiny fuzz target; the first of those
# packages that apt knows is installed when that fails.
fuzzer_links() {
  local dir rc
  dir="$(mktemp -d)"
  printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' \
    >"$dir/probe.cpp"
  rc=0
  clang++ -fsanitize=fuzzer,address,undefined "$dir/probe.cpp" -o "$dir/probe" \
    >/dev/null 2>&1 || rc=1
  rm -rf "$dir"
  return $rc
}

if command -v clang++ >/dev/null 2>&1 && ! fuzzer_links; then
  clang_major="$(clang++ --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n1)"
  candidates=()
  if [[ -n "$clang_major" ]]; then
    candidates+=("libclang-rt-${clang_major}-dev")
  fi
  candidates+=("libclang-rt-dev")
  if [[ -n "$clang_major" ]]; then
    candidates+=("libclang-common-${clang_major}-dev")
  fi
  if [[ $check_only -eq 1 ]]; then
    echo "install-deps: clang++ (version ${clang_major:-?}) cannot link -fsanitize=fuzzer;" \
      "missing one of: ${candidates[*]}"
    exit 1
  fi
  if [[ $apt_updated -eq 0 ]]; then
    apt_run apt-get update -q
    apt_updated=1
  fi
  runtime_pkg=""
  for pkg in "${candidates[@]}"; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then
      runtime_pkg="$pkg"
      break
    fi
  done
  # Only the fuzz preset needs it: warn, and let the other presets run.
  if [[ -z "$runtime_pkg" ]]; then
    echo "install-deps: WARNING: clang++ cannot link -fsanitize=fuzzer and apt knows none of:" \
      "${candidates[*]}; the fuzz preset will fail" >&2
  else
    echo "install-deps: libFuzzer runtime missing for clang ${clang_major:-?}: installing" \
      "$runtime_pkg"
    apt_install "$runtime_pkg"
    if ! fuzzer_links; then
      echo "install-deps: WARNING: clang++ still cannot link -fsanitize=fuzzer after installing" \
        "$runtime_pkg; the fuzz preset will fail" >&2
    fi
  fi
fi

# The presets need CMake >= 3.25 (presets v6, workflow presets).
cmake_version="$(cmake --version | head -n1 | awk '{print $3}')"
if ! printf '%s\n%s\n' "3.25.0" "$cmake_version" | sort -V -C; then
  echo "install-deps: CMake $cmake_version is too old for CMakePresets.json (needs 3.25+)" >&2
  exit 1
fi
