#!/usr/bin/env bash
# Installs what recurrent needs to build and test on Debian/Ubuntu, and nothing that is already
# there: each package is checked with dpkg (or its command with `command -v`), and apt-get runs
# (with one `apt-get update` first) only when something is missing. Safe to run repeatedly.
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
  "pkg-config:pkg-config"
)

is_installed() {
  local pkg="$1" cmd="$2"
  if [[ -n "$cmd" ]] && command -v "$cmd" >/dev/null 2>&1; then
    return 0
  fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"
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
  sudo_cmd=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd=(sudo)
    else
      echo "install-deps: not root and no sudo; install these yourself: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi

# The presets need CMake >= 3.25 (presets v6, workflow presets).
cmake_version="$(cmake --version | head -n1 | awk '{print $3}')"
if ! printf '%s\n%s\n' "3.25.0" "$cmake_version" | sort -V -C; then
  echo "install-deps: CMake $cmake_version is too old for CMakePresets.json (needs 3.25+)" >&2
  exit 1
fi
