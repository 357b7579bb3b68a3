#!/bin/sh
# Write every output `qscale simulate` gives on the shipped scenarios and
# traces, and on variants of the spike scenario, into one directory, so
# that a change meant to make the simulator faster can be shown exact:
#
#   bench/simulate-outputs.sh OLD/qscale /tmp/before
#   bench/simulate-outputs.sh NEW/qscale /tmp/after
#   diff -r /tmp/before /tmp/after && echo identical
#
# The first line of the text output carries the run's own time and is
# dropped; everything else must be byte-identical.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 QSCALE OUTDIR" >&2
	exit 2
fi
qscale=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
config=$root/config/qscale.yaml
mkdir -p "$out"

# run NAME ARGS...: the text output without its timing line, and the JSON.
run() {
	name=$1
	shift
	"$qscale" simulate -c "$config" "$@" | sed 1d >"$out/$name.txt"
	"$qscale" simulate -c "$config" "$@" --json --updates >"$out/$name.json"
	"$qscale" simulate -c "$config" "$@" --compare | sed 1d >"$out/$name.compare.txt"
}

for sc in "$root"/config/scenarios/*.yaml; do
	run "$(basename "$sc" .yaml)" --scenario "$sc"
done
for tr in "$root"/config/traces/*.csv; do
	run "trace-$(basename "$tr" .csv)" --scenario "$root/config/scenarios/spike.yaml" \
		--trace "$tr"
done

# Variants of the spike: processing times, per-task rates and a delay queue,
# which the shipped scenarios barely vary.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spike=$root/config/scenarios/spike.yaml
for pt in 50ms 950ms 1500ms 3s; do
	for rate in 1 5 40; do
		for delay in 0s 3s; do
			v=$tmp/spike-$pt-$rate-$delay.yaml
			sed -e "s/^    reporting_lag: .*/&\n    delay: $delay/" \
				-e "s/^    messages_per_task: .*/    messages_per_task: $rate\/s\n    processing_time: $pt/" \
				"$spike" >"$v"
			run "$(basename "$v" .yaml)" --scenario "$v"
		done
	done
done
