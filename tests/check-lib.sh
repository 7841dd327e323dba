# shellcheck shell=sh
# What the build machine's checks (tests/check-*.sh) share; sourced after setting $name:
# $work, a temporary directory removed at exit, and one line per finding, "FAIL NAME: why", then
# "PASS NAME" at the end if there was none.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# fail WHY: a finding; the check goes on, to report every one.
fail() {
	echo "FAIL $name: $*"
	failed=1
}

# die WHY: a finding after which there is nothing more to check.
die() {
	fail "$@"
	exit 1
}

# check_end [DETAIL]: exit 1 after findings, else print "PASS NAME (DETAIL)".
check_end() {
	[ "$failed" = 0 ] || exit 1
	echo "PASS $name${1:+ ($1)}"
}
