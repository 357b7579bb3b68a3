#!/bin/sh
# qscale check as operators run it: the shipped example is valid (exit 0) and
# printed with its defaults; every file of tests/data/policy/bad, as a main
# file or as a policy in policies_dir, exits 2 with exactly one line on stderr
# that starts with file:line:column: as the file's '# expect:' line says.
set -u
qscale=${QSCALE_BINARY:?}
data=${QSCALE_TEST_DATA:?}
top=$(cd "$data/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qscale-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
count=0

fail() {
	echo "not ok: $*"
	failures=$((failures + 1))
}

# expect_status WANT DESCRIPTION -- command...: run, keep stdout/stderr in $tmp.
expect_status() {
	want=$1
	what=$2
	shift 3
	count=$((count + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$what: exit $got, want $want"
		sed 's/^/  | /' "$tmp/err"
		return 1
	fi
	return 0
}

# The shipped example: valid, every default filled in.
if expect_status 0 "example" -- "$qscale" check -c "$top/config/qscale.yaml"; then
	grep -q '^  - name: "orders"$' "$tmp/out" || fail "example: policy block missing"
	grep -q '^      tolerance: 0.1$' "$tmp/out" || fail "example: default tolerance missing"
	grep -q '^# valid: 1 policy$' "$tmp/out" || fail "example: summary missing"
	[ -s "$tmp/err" ] && fail "example: wrote to stderr"
fi

# The same through QSCALE_CONFIG.
QSCALE_CONFIG="$top/config/qscale.yaml" expect_status 0 "QSCALE_CONFIG" -- "$qscale" check

expect_status 0 "--config=" -- "$qscale" check --config="$top/config/qscale.yaml"
expect_status 2 "-c without a file" -- "$qscale" check -c
expect_status 0 "--help" -- "$qscale" check --help
grep -q 'usage: qscale check' "$tmp/out" || fail "--help: no usage"
expect_status 2 "unknown option" -- "$qscale" check --bogus
expect_status 2 "stray argument" -- "$qscale" check extra
# Every command with the shared opening answers its options the same way.
for cmd in run plan doctor iam-policy; do
	expect_status 0 "$cmd --help" -- "$qscale" "$cmd" --help
	grep -q "usage: qscale $cmd \[-c FILE\]" "$tmp/out" || fail "$cmd --help: no usage"
	expect_status 2 "$cmd: unknown option" -- "$qscale" "$cmd" --bogus
	expect_status 2 "$cmd: stray argument" -- "$qscale" "$cmd" extra
	expect_status 2 "$cmd: missing file" -- "$qscale" "$cmd" -c "$tmp/none.yaml"
done
expect_status 2 "iam-policy --account-id without an ID" -- "$qscale" iam-policy --account-id
expect_status 2 "missing file" -- "$qscale" check -c "$tmp/none.yaml"
grep -q "^$tmp/none.yaml: cannot open: No such file or directory\$" "$tmp/err" ||
	fail "missing file: unexpected message: $(cat "$tmp/err")"

# Every bad file. Policies go into a folder of their own; main files get an
# empty policies_dir appended, which leaves their earlier lines untouched.
mkdir "$tmp/empty.d" "$tmp/p.d"
printf 'policies_dir: p.d\n' >"$tmp/main.yaml"
for file in "$data"/policy/bad/*.yaml; do
	base=${file##*/}
	pos=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$file")
	[ -n "$pos" ] || { fail "$base: no expect line"; continue; }
	case $base in
	config-*)
		target="$tmp/$base"
		cp "$file" "$target"
		printf '\npolicies_dir: empty.d\n' >>"$target"
		main=$target
		;;
	*)
		rm -f "$tmp"/p.d/*
		target="$tmp/p.d/$base"
		cp "$file" "$target"
		main="$tmp/main.yaml"
		;;
	esac
	expect_status 2 "$base" -- "$qscale" check -c "$main" || continue
	lines=$(wc -l <"$tmp/err")
	first=$(head -n 1 "$tmp/err")
	[ "$lines" -eq 1 ] || fail "$base: $lines lines on stderr"
	case $first in
	"$target:$pos: "*) ;;
	*) fail "$base: stderr '$first' does not start with '$target:$pos: '" ;;
	esac
	[ -s "$tmp/out" ] && fail "$base: wrote to stdout"
done

echo "$count checks, $failures failed"
[ "$failures" -eq 0 ]
