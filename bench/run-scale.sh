#!/bin/sh
# Resident memory, CPU time per cycle per policy and AWS calls per cycle of
# `qscale run` with 1, 100 and 1,000 policies against `qscale emulate`.
# usage: bench/run-scale.sh [POLICIES [INTERVAL_S [CYCLES]]]   e.g. 1,100,1000 10 3
set -eu
cd "$(dirname "$0")/.."
dir=${QSCALE_BUILDDIR:-build}/bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized -Dtests=false >/dev/null
meson compile -C "$dir" qscale >/dev/null
exec python3 bench/ops_bench.py scale "$dir/qscale" --policies "${1:-1,100,1000}" \
	--interval "${2:-10}" --cycles "${3:-3}"
