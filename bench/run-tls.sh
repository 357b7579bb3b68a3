#!/bin/sh
# qscale run against a Python + botocore loop (Debian's python3-botocore) on
# the same emulator, over TLS and plain HTTP: peak RSS, CPU, requests and TLS
# handshakes per cycle, missed cycles, and the ratios.
# usage: bench/run-tls.sh [POLICIES [INTERVAL_S [DURATION_S]]]   e.g. 1,100,1000 5 60
set -eu
cd "$(dirname "$0")/.."
dir=${QSCALE_BUILDDIR:-build}/bench
[ -f "$dir/build.ninja" ] || meson setup "$dir" -Dbuildtype=debugoptimized -Dtests=false >/dev/null
meson compile -C "$dir" qscale >/dev/null
exec python3 bench/tls_bench.py "$dir/qscale" --policies "${1:-1,100,1000}" \
	--interval "${2:-5}" --duration "${3:-60}"
