#!/bin/bash
# In-process A/B of two *built* routing-core libraries (librouter_core.a), for what run.sh cannot
# compare because it compiles sources itself: a profile-guided core (ROUTER_PGO) against a plain one,
# two compilers, two sets of flags. Both archives are copied with their namespace renamed in place
# ("6router4core" -> "6routeb4core" / "6routeh4core" in every mangled name: same length, so the
# archives stay valid), linked into one program with main.cpp and side.cpp, and timed as run.sh does.
#
#   bench/ab/libs.sh BASE.a HEAD.a [RUNS]     e.g. build/bench-plain/core/librouter_core.a build/bench/core/librouter_core.a
#
# Both libraries must come from sources whose public headers match this tree's (side.cpp is
# compiled against them). Run it with the same library on both sides first to see the noise.
# Needs g++, python3 and libjemalloc-dev; nothing here is built by CMake or CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${1:?usage: libs.sh BASE.a HEAD.a [RUNS]}
head=${2:?usage: libs.sh BASE.a HEAD.a [RUNS]}
runs=${3:-4}
work=$(mktemp -d /tmp/router-ab-libs.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$base" "$work/libbase.a" b "$head" "$work/libhead.a" h <<'PY'
import sys
args = sys.argv[1:]
for source, target, tag in zip(args[0::3], args[1::3], args[2::3]):
    data = open(source, 'rb').read()
    if b'6router4core' not in data:
        sys.exit(f'{source}: no router::core symbols')
    open(target, 'wb').write(data.replace(b'6router4core', b'6route' + tag.encode() + b'4core'))
PY
for side in base head; do
  letter=b
  [ "$side" = head ] && letter=h
  g++ -std=c++20 -O3 -DNDEBUG -Drouter=route$letter -DSIDE_make=${side}_make -DSIDE_block=${side}_block \
    -I"$repo/core/include" -I"$repo/bench" -c "$here/side.cpp" -o "$work/side_$side.o"
done
g++ -std=c++20 -O3 "$here/main.cpp" "$work/side_base.o" "$work/side_head.o" "$work/libbase.a" "$work/libhead.a" -ljemalloc -o "$work/ab"
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 0 ]; then "$work/ab" 40 swap; else "$work/ab" 40; fi
done
