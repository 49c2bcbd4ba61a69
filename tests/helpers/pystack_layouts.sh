#!/bin/sh
# pystack_layouts.sh BUILD - checks lib/pystack_layout.c against offsetof()
# over each installed CPython's own internal headers (Debian's 3.11 from
# libpython3.11-dev, and every ~/.pyenv/versions/3.8-3.13), and checks the
# layout the reader derives from a live interpreter of each (for 3.13: from
# its _Py_DebugOffsets) against the same.  A version that is absent is
# skipped with the reason.  Exits 1 on any difference.
set -u
build=${1:?usage: pystack_layouts.sh BUILD}
dump=$build/pystack-dump
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pyenv=${PYENV_ROOT:-$HOME/.pyenv}/versions
CC=${CC:-cc}
fail=0

# check NAME MINOR PYTHON CFLAGS...
check() {
	name=$1 minor=$2 py=$3
	shift 3
	if ! $CC -o "$tmp/off" "$here/pystack_offsets.c" "$@" 2>"$tmp/cc.log"; then
		echo "pystack-layouts: $name: cannot compile against its headers:"
		head -5 "$tmp/cc.log"
		fail=1
		return
	fi
	"$tmp/off" >"$tmp/want"
	"$dump" --table "3.$minor" >"$tmp/table"
	if ! diff -u "$tmp/want" "$tmp/table" >"$tmp/diff"; then
		echo "pystack-layouts: $name: the 3.$minor table differs from offsetof():"
		cat "$tmp/diff"
		fail=1
		return
	fi
	# A live interpreter: the layout the reader picks for it.
	"$py" -c 'import sys, time; print("ready", flush=True); time.sleep(30)' >"$tmp/ready" &
	pid=$!
	i=0
	while ! grep -q ready "$tmp/ready" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	"$dump" --layout $pid >"$tmp/live" 2>&1
	kill $pid
	wait $pid 2>/dev/null
	if ! diff -u "$tmp/want" "$tmp/live" >"$tmp/diff"; then
		echo "pystack-layouts: $name: the layout read from a live $py differs from offsetof():"
		cat "$tmp/diff"
		fail=1
		return
	fi
	echo "pystack-layouts: $name: table and live layout match offsetof()"
}

if [ -f /usr/include/python3.11/internal/pycore_frame.h ] && [ -x /usr/bin/python3.11 ]; then
	check "Debian python3.11" 11 /usr/bin/python3.11 \
		-I/usr/include/python3.11 -I/usr/include/$(gcc -print-multiarch)/python3.11
else
	echo "pystack-layouts: Debian python3.11: skipped (no libpython3.11-dev internal headers or /usr/bin/python3.11)"
fi
for minor in 8 9 10 11 12 13; do
	dir=$(ls -d "$pyenv"/3.$minor.* 2>/dev/null | tail -1)
	if [ -z "$dir" ]; then
		echo "pystack-layouts: 3.$minor: skipped (not installed under $pyenv)"
		continue
	fi
	inc=$dir/include/python3.$minor
	if [ ! -d "$inc/internal" ]; then
		echo "pystack-layouts: $(basename "$dir"): skipped (no $inc/internal)"
		continue
	fi
	check "pyenv $(basename "$dir")" $minor "$dir/bin/python3.$minor" -I"$inc"
done
exit $fail
