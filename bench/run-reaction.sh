#!/bin/sh
# Reaction time of `qscale run`: from a backlog jump in `qscale emulate` to the
# UpdateService call it causes (target: within one interval plus one second).
# usage: bench/run-reaction.sh [TRIALS [INTERVAL_S]]
set -eu
cd "$(dirname "$0")/.."
dir=${QSCALE_BUILDDIR:-build}/bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized -Dtests=false >/dev/null
meson compile -C "$dir" qscale >/dev/null
exec python3 bench/ops_bench.py reaction "$dir/qscale" --trials "${1:-10}" --interval "${2:-5}"
