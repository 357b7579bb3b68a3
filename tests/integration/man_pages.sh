#!/bin/sh
# The generated man pages: groff renders them without a single warning (the
# check lintian runs, with every warning class on), the NAME line is what
# apropos and lintian parse, and every heading and configuration key of the
# Markdown sources shows in the rendered page, so nothing of docs/ is lost on
# the way. TAP output.
# Usage: man_pages.sh PAGE.8 PAGE.5 -- DOC.md... -- CONFIG.md
set -u

page8=$1
page5=$2
shift 3
docs8=""
while [ "$1" != "--" ]; do
	docs8="$docs8 $1"
	shift
done
config_md=$2

n=0
fails=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $*"
}

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff is not installed"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for page in "$page8" "$page5"; do
	name=$(basename "$page")
	if LC_ALL=C.UTF-8 groff -man -ww -Tutf8 -z "$page" >"$tmp/warn" 2>&1 && [ ! -s "$tmp/warn" ]; then
		ok "$name renders without groff warnings"
	else
		not_ok "$name renders without groff warnings"
		sed 's/^/# /' "$tmp/warn" | head -20
	fi
	if LC_ALL=C tr -d '\11\12\15\40-\176' <"$page" | grep -q .; then
		not_ok "$name is plain ASCII roff"
	else
		ok "$name is plain ASCII roff"
	fi
	# Rendered text, one line per line, without hyphenation or bold overstrikes.
	LC_ALL=C.UTF-8 groff -man -Tutf8 -P-cbou -rLL=400n -rHY=0 "$page" 2>/dev/null |
		sed 's/[[:space:]]\{1,\}/ /g' >"$tmp/$name.txt"
	if sed -n '/^NAME/{n;p;q}' "$tmp/$name.txt" | grep -q "^ ${name%.*} - [a-z]"; then
		ok "$name has a NAME line 'name - summary'"
	else
		not_ok "$name has a NAME line 'name - summary'"
	fi
done

# heading_check PAGE_TXT DOC...: every heading of the docs is in the page
# (but the first doc's title, which is the page itself).
heading_check() {
	txt=$1
	shift
	skip='^# '
	for doc in "$@"; do
		missing=$(grep -v -- "$skip" "$doc" | sed -n 's/^#\{1,6\} \{1,\}//p' | tr -d '`*' | while read -r h; do
			grep -qiF -- "$h" "$txt" || echo "$h"
		done)
		if [ -z "$missing" ]; then
			ok "every heading of $(basename "$doc") is in the page"
		else
			not_ok "every heading of $(basename "$doc") is in the page"
			echo "$missing" | sed 's/^/# missing: /'
		fi
		skip='^$^'
	done
}
# shellcheck disable=SC2086
heading_check "$tmp/qscale.8.txt" $docs8
heading_check "$tmp/qscale.yaml.5.txt" "$config_md"

# Every key of the configuration tables is listed in qscale.yaml(5).
missing=$(sed -n 's/^| `\([a-z_.]*\)` |.*/\1/p' "$config_md" | while read -r key; do
	grep -qF -- "$key" "$tmp/qscale.yaml.5.txt" || echo "$key"
done)
if [ -z "$missing" ] && grep -q '^| `region`' "$config_md"; then
	ok "every configuration key is in qscale.yaml(5)"
else
	not_ok "every configuration key is in qscale.yaml(5)"
	echo "$missing" | sed 's/^/# missing: /'
fi

echo "1..$n"
[ "$fails" -eq 0 ]
