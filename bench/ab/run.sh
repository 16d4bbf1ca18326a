#!/bin/bash
# In-process A/B of the routing core between two versions of the source, for changes of a few
# percent that single benchmark runs cannot show on a VM whose speed moves by a third with its
# phase (BENCHMARKS.md). Both cores are compiled as Release (-O3) with their namespace renamed and
# linked into one program (main.cpp); their steady states run in alternating blocks.
#
#   bench/ab/run.sh BASE [HEAD] [RUNS]
#     BASE: a commit (checked out into a temporary worktree) or a source directory
#     HEAD: a source directory (default: this tree, as it is on disk)
#     RUNS: runs of 40 block pairs, alternating which state is built first (default 4)
#
# Run the same tree on both sides first (A/A): its ratios show the noise floor (here 0.96-1.03 per
# run, mean 1.00 over nine runs): average many runs, and trust only differences well above it.
# Both sides are compiled without the profile a Release build trains (ROUTER_PGO): this compares
# sources, and the profile's gain (BENCHMARKS.md, Core) comes on top of either.
# Needs g++ and libjemalloc-dev; nothing here is built by CMake or CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${1:?usage: run.sh BASE [HEAD] [RUNS]}
head=${2:-$repo}
runs=${3:-4}
work=$(mktemp -d /tmp/router-ab.XXXXXX)
if [ ! -d "$base" ]; then
  git -C "$repo" worktree add -q --detach "$work/base" "$base"
  trap 'git -C "$repo" worktree remove --force "$work/base"; rm -rf "$work"' EXIT
  base="$work/base"
else
  trap 'rm -rf "$work"' EXIT
fi
for side in base head; do
  src=$base
  [ "$side" = head ] && src=$head
  mkdir -p "$work/$side"
  for f in "$src"/core/src/*.cpp; do
    g++ -std=c++20 -O3 -DNDEBUG -Drouter=router_$side -I"$src/core/include" -I"$src/core/src" \
      -c "$f" -o "$work/$side/$(basename "$f" .cpp).o" &
    while [ "$(jobs -r | wc -l)" -ge "$(nproc)" ]; do wait -n; done
  done
  wait
  g++ -std=c++20 -O3 -DNDEBUG -Drouter=router_$side -DSIDE_make=${side}_make -DSIDE_block=${side}_block \
    -I"$src/core/include" -I"$src/bench" -c "$here/side.cpp" -o "$work/$side/side.o"
done
g++ -std=c++20 -O3 "$here/main.cpp" "$work"/base/*.o "$work"/head/*.o -ljemalloc -o "$work/ab"
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 0 ]; then "$work/ab" 40 swap; else "$work/ab" 40; fi
done
