#!/usr/bin/env bash
# Installs a built yolocpp into a temporary prefix, builds examples/custom_module against that
# installed package (as an application would) and runs it: one epoch with its own registered block
# on tests/data/fdet. Standalone, so CI can call it; ctest runs it as installed_example_custom_module.
#   scripts/check-installed-example.sh [build-dir=build]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/yolocpp_installed_example.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
# The example's own build: Ninja when present, the package found only through the prefix, and the
# compiler launcher (ccache) of the main build if it had one.
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
launcher=$(sed -n 's/^CMAKE_CXX_COMPILER_LAUNCHER:[A-Z]*=//p' "$build/CMakeCache.txt")
cmake -S "$root/examples/custom_module" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} > "$work/configure.log"
cmake --build "$work/build" -j 2 > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/custom_module" "$root/tests/data/fdet/data.yaml" 1 128 "$work/runs"
