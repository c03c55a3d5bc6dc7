#!/usr/bin/env bash
# CI: installs the build (default: build/) into a staging folder and builds examples/cmake_project against
# the installed package: every installed header compiled on its own, one program linked against the shared
# and the static library, both run. Needs a configured and built build folder.
#   bash scripts/consumer-test.sh [build-dir] [extra cmake arguments for the consumer, e.g. -DCMAKE_PREFIX_PATH=...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# DESTDIR keeps absolute install paths (the Python module's) inside the staging folder too.
DESTDIR="$work/stage" cmake --install "$build" --prefix /opt/yolocpp > "$work/install.log"
prefix="$work/stage/opt/yolocpp"
echo "installed: $(find "$prefix/include" -name '*.h' | wc -l) headers; $(cd "$prefix/lib" && ls libyolo*)"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S examples/cmake_project -B "$work/consumer" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" "$@" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" -j "$(nproc)"
"$work/consumer/consumer_shared"
"$work/consumer/consumer_static"
ldd "$work/consumer/consumer_shared" | grep -q "libyolo.so" || { echo "consumer_shared does not load libyolo.so" >&2; exit 1; }
if ldd "$work/consumer/consumer_static" | grep -q "libyolo.so"; then
  echo "consumer_static loads libyolo.so" >&2
  exit 1
fi
echo "consumer test passed"
