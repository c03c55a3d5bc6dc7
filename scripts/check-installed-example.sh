#!/usr/bin/env bash
# Installs a built yolocpp into a temporary folder and builds two projects against that installed package,
# as applications would; ctest runs it as installed_package, CI may call it directly.
#   examples/cmake_project  compiles every installed header on its own and links one program against the
#                           shared and the static library; runs both
#   examples/custom_module  registers its own block and trains one epoch on tests/data/fdet
#   scripts/check-installed-example.sh [build-dir=build]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/yolocpp_installed.XXXXXX")"
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

# DESTDIR keeps every installed file (absolute destinations too, such as the Python module's) in $work.
DESTDIR="$work/stage" cmake --install "$build" --prefix /opt/yolocpp > "$work/install.log"
prefix="$work/stage/opt/yolocpp"
echo "installed: $(find "$prefix/include" -name '*.h' | wc -l) headers, $(cd "$prefix/lib" && echo libyolo*)"

# Every symbol of the library is in the inline namespace yolo::v<MAJOR>_<MINOR> (yolo/version.h): one in plain
# yolo:: would clash with another version of the library in the same process.
version_define() { sed -n "s/^#define $1 //p" "$prefix/include/yolo/version.h"; }
abi="v$(version_define YOLO_VERSION_MAJOR)_$(version_define YOLO_VERSION_MINOR)"
[ "$(version_define YOLO_ABI_NAMESPACE)" = "$abi" ] || { echo "yolo/version.h: YOLO_ABI_NAMESPACE is not $abi" >&2; exit 1; }
unversioned=$(nm -DC --defined-only "$prefix/lib/libyolo.so" | grep -P "(?<![\w:])yolo::(?!$abi::)" || true)
if [ -n "$unversioned" ]; then
  echo "libyolo.so exports symbols outside yolo::$abi:" >&2
  echo "$unversioned" | head -20 >&2
  exit 1
fi

# Each project's own build: Ninja when present, the package found only through the prefix, and the
# compiler launcher (ccache) of the main build if it had one.
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
launcher=$(sed -n 's/^CMAKE_CXX_COMPILER_LAUNCHER:[A-Z]*=//p' "$build/CMakeCache.txt")
# The prefixes the library was built with (the LibTorch 2.x leg's venv, whose torch folder must come before
# Debian's LibTorch), so that the projects find the same LibTorch.
build_prefixes=$(sed -n 's/^CMAKE_PREFIX_PATH:[A-Z]*=//p' "$build/CMakeCache.txt")
build_project() {
  cmake -S "$root/examples/$1" -B "$work/$1" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$prefix${build_prefixes:+;$build_prefixes}" \
        ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} \
        > "$work/$1.configure.log" 2>&1 || { cat "$work/$1.configure.log"; exit 1; }
  cmake --build "$work/$1" -j 2 > "$work/$1.build.log" 2>&1 || { cat "$work/$1.build.log"; exit 1; }
}

build_project cmake_project
"$work/cmake_project/consumer_shared"
"$work/cmake_project/consumer_static"
ldd "$work/cmake_project/consumer_shared" | grep -q 'libyolo\.so' || { echo "consumer_shared does not load libyolo.so" >&2; exit 1; }
if ldd "$work/cmake_project/consumer_static" | grep -q 'libyolo\.so'; then
  echo "consumer_static loads libyolo.so" >&2
  exit 1
fi

build_project custom_module
"$work/custom_module/custom_module" "$root/tests/data/fdet/data.yaml" 1 128 "$work/runs"
echo "installed package: both projects built and ran"
