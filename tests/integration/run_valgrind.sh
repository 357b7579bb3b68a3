#!/bin/sh
# qscale run under valgrind against qscale emulate (spike scenario, 10x):
# the daemon must scale out, start draining, exit 0 on SIGTERM, and valgrind
# must report no error and no definite or indirect leak. TAP output.
set -u
qscale=${QSCALE_BINARY:?QSCALE_BINARY is not set}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
emulate_pid=""
trap 'kill $emulate_pid 2>/dev/null; rm -rf "$work"' EXIT

echo "1..4"
if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok 1 - valgrind is installed"
	exit 1
fi

"$qscale" emulate --scenario "$top/config/scenarios/spike.yaml" --listen 127.0.0.1:0 \
	--speed 10 >"$work/emulate.out" 2>"$work/emulate.log" &
emulate_pid=$!
url=""
for _ in $(seq 1 50); do
	url=$(sed -n 's/^listening on //p' "$work/emulate.out")
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { echo "not ok 1 - emulator started"; exit 1; }

env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ENDPOINT_URL="$url" \
	AWS_ACCESS_KEY_ID=AKIAQSCALEEXAMPLE AWS_SECRET_ACCESS_KEY=qscale-emulator-example-secret \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--log-file="$work/valgrind.log" \
	"$qscale" run -c "$top/config/demo/qscale.yaml" >"$work/run.log" 2>&1 &
run_pid=$!

# World time 1m is where the spike starts; at 10x that is 6 s of wall time.
# Wait (bounded) until qscale has scaled out and begun to drain burst.
for _ in $(seq 1 120); do
	grep -q 'burst=[0-9]*->[0-9]' "$work/run.log" &&
		grep -q 'burst=30->2[0-9]' "$work/run.log" && break
	kill -0 "$run_pid" 2>/dev/null || break
	sleep 1
done
kill -TERM "$run_pid" 2>/dev/null
wait "$run_pid"
rc=$?

# A slow first cycle may see the spike's start and get there in two steps.
if grep -Eq 'local=[0-9]+->12 ' "$work/run.log"; then
	echo "ok 1 - scaled local out to the on-prem capacity under valgrind"
else
	echo "not ok 1 - scaled local out to the on-prem capacity under valgrind"
	sed 's/^/# /' "$work/run.log" | tail -20
fi
if grep -q 'burst=30->2[0-9]' "$work/run.log"; then
	echo "ok 2 - began draining burst first"
else
	echo "not ok 2 - began draining burst first"
fi
if [ "$rc" -eq 0 ]; then
	echo "ok 3 - exit status 0 after SIGTERM"
else
	echo "not ok 3 - exit status 0 after SIGTERM (got $rc)"
fi
if [ "$rc" -ne 99 ] && ! grep -q 'definitely lost: [1-9]\|indirectly lost: [1-9]\|Invalid \|uninitialised' "$work/valgrind.log"; then
	echo "ok 4 - valgrind: no errors, no leaks"
else
	echo "not ok 4 - valgrind: no errors, no leaks"
	sed 's/^/# /' "$work/valgrind.log" | head -40
fi
