#!/bin/sh
# The man pages against lkvm's --help, and README against both (make man-check): every command
# of `lkvm --help` is in lkvm(1) and has its page; every option a command's --help lists is in
# that command's part of its page, and the reverse; every page renders with no man warning (as
# lintian checks them); README's table of `lkvm run` options and its list of commands name
# exactly what --help does (less --help itself).
# Usage: LKVM_RUN='how to run lkvm' tests/check-man.sh MAN1DIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
man1=$(cd "$1" && pwd)
run=${LKVM_RUN:-$top/lkvm}
name=man-pages
. "$top/tests/check-lib.sh"

lkvm() { $run "$@"; }

# The options of a --help (stdin): each long and short option its items' terms name, sorted.
help_options() {
	sed -n 's/^   \([^ ].*\)$/\1/p' | sed 's/  .*//' |
		grep -oE '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^[ ,]//' | sort -u
}

# The options of man page PAGE's part about COMMAND: the .B lines after its .TP, within
# ".SS lkvm COMMAND" if the page has such subsections.
man_options() { # PAGE COMMAND
	awk -v cmd="$2" '
		/^\.SS / { in_cmd = ($0 == ".SS lkvm " cmd); has_ss = 1; next }
		/^\.SH / { in_cmd = 0 }
		prev == ".TP" && /^\.B / && (!has_ss || in_cmd) { sub(/^\.B /, ""); print }
		{ prev = $0 }
	' "$man1/$1.1" | sed 's/\\-/-/g' |
		grep -oE '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^[ ,]//' | sort -u
}

# Set difference, both ways: WHAT A B (files of sorted lines).
same_set() {
	_only_a=$(comm -23 "$2" "$3" | tr '\n' ' ')
	_only_b=$(comm -13 "$2" "$3" | tr '\n' ' ')
	[ -z "$_only_a" ] || fail "$1: in --help, not in the other: $_only_a"
	[ -z "$_only_b" ] || fail "$1: in the other, not in --help: $_only_b"
}

lkvm --help >"$work/lkvm.help" || fail "lkvm --help failed"
commands=$(sed -n 's/^   \([a-z][a-z]*\)  .*/\1/p' "$work/lkvm.help")
[ -n "$commands" ] || fail "lkvm --help lists no commands"
for c in $commands; do
	grep -qx ".B $c" "$man1/lkvm.1" || fail "lkvm(1) does not list the command $c"
	case $c in help | version) continue ;; esac
	page=lkvm-$c
	if [ ! -f "$man1/$page.1" ]; then
		fail "no page for $c ($man1/$page.1)"
		continue
	fi
	# A family page's other commands are `.so man1/lkvm-FAMILY.1`.
	so=$(sed -n 's|^\.so man1/\(.*\)\.1$|\1|p' "$man1/$page.1")
	[ -z "$so" ] || page=$so
	grep -q "^\.B lkvm $c\b" "$man1/$page.1" || fail "$page(1) has no synopsis of lkvm $c"
	lkvm "$c" --help | help_options >"$work/$c.help-opts"
	man_options "$page" "$c" >"$work/$c.man-opts"
	same_set "lkvm $c --help and $page(1)" "$work/$c.help-opts" "$work/$c.man-opts"
done
[ -s "$work/run.help-opts" ] && grep -qx -- --psci "$work/run.help-opts" ||
	fail "lkvm run --help lists no --psci: the option parsing here is broken"

# Rendered as lintian does: no warning of any kind.
for f in "$man1"/*.1; do
	w=$(cd "$man1/.." && LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "man1/${f##*/}" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "${f##*/}: $w"
done

# README: the first cells of its tables (escaped pipes are "\|", a cell ends at " | "): those
# that begin with an option are the lkvm run options, those that begin with `lkvm the commands
# (as `lkvm stop\|pause\|resume ...`); lkvm run has its own section.
cells() { sed -n 's/^| \(`'"$1"'.*\)$/\1/p' "$top/README.md" | sed 's/ | .*//'; }
cells - | grep -oE '(^|[ ,`])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^[ ,`]//' |
	sort -u >"$work/readme-opts"
grep -vxE -- '--help|-h' "$work/run.help-opts" >"$work/run.help-opts-nohelp"
same_set "lkvm run --help and README's option table" "$work/run.help-opts-nohelp" \
	"$work/readme-opts"
{ cells lkvm | sed 's/^`lkvm \([a-z\\|]*\).*/\1/' | tr '|' '\n' | tr -d '\\'
  grep -q '^## Running guests' "$top/README.md" && echo run; } | sort -u >"$work/readme-commands"
echo "$commands" | grep -vxE 'help|version' | sort >"$work/commands"
same_set "lkvm --help's commands and README's" "$work/commands" "$work/readme-commands"

check_end
