#!/bin/sh
# Writes lkvm's man pages into OUTDIR from the one source of what its commands do: their --help,
# in include/lkvm/help.h's layout. Documentation/man/PAGE.roff, if there is one, adds what --help
# does not say (roff, placed before SEE ALSO); lkvm(1)'s EXIT STATUS is exit-codes.md's table.
# Usage: scripts/gen-man.sh OUTDIR LKVM...   (LKVM: how to run lkvm, e.g. `qemu-aarch64-static
# -L /usr/aarch64-linux-gnu ./lkvm` on a machine that is not arm64). OUTDIR is a man1 directory:
# lkvm-stop(1) and the like are `.so man1/lkvm-list.1`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
shift
[ $# -gt 0 ] || { echo "usage: scripts/gen-man.sh OUTDIR LKVM..." >&2; exit 2; }
mkdir -p "$out"

# The pages, as PAGE:COMMAND...: a family of commands shares one page; the others get a .so.
pages="run:run list:list,stop,pause,resume cpu:cpu events:events timeline:timeline"
pages="$pages balloon:balloon sdei:sdei,nmi"

version=$("$@" --version | sed 's/^lkvm version //')
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -d "@$epoch" +%Y-%m-%d)
"$@" --help >"$out/.lkvm.help"

# roff_help SECTION: a --help (stdin) as roff: its synopsis under SYNOPSIS when SECTION is
# "synopsis", else its paragraphs and items (.TP) as the body of a section.
roff_help() {
	awk -v what="$1" '
	function esc(s) {
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		if (s ~ /^[.\047]/) s = "\\&" s
		return s
	}
	function flush() {
		if (para != "") print ".PP\n" esc(para)
		if (term != "") print ".TP\n.B " esc(term) "\n" esc(text)
		para = term = text = ""
	}
	/^ usage: lkvm / {
		if (what == "synopsis") { sub(/^ usage: /, ""); print ".B " esc($0) "\n.br" }
		next
	}
	what == "synopsis" { next }
	/^$/ { flush(); next }
	/^    / { sub(/^ +/, ""); text = text " " $0; next }
	/^   [^ ]/ {
		flush()
		sub(/^   /, "")
		n = index($0, "  ")
		if (n) { term = substr($0, 1, n - 1); text = substr($0, n); sub(/^ +/, "", text) }
		else { term = $0; text = "" }
		sub(/^ /, "", text)
		next
	}
	/^ [^ ]/ { sub(/^ /, ""); para = para (para == "" ? "" : " ") $0; next }
	{ print "gen-man: a line not in help.h layout: " $0 > "/dev/stderr"; bad = 1; exit 1 }
	END { if (!bad) flush() }
	'
}

# The summary of COMMAND in lkvm --help (its item, continuation lines too), a small first letter.
summary() {
	awk -v cmd="$1" '
		on && /^    / { sub(/^ +/, ""); s = s " " $0; next }
		on { exit }
		$1 == cmd && /^   [^ ]/ { on = 1; sub(/^   [^ ]+ +/, ""); s = $0 }
		END { print s }' "$out/.lkvm.help" | sed 's/^./\L&/'
}

header() { # PAGE NAME-LINE
	upper=$(echo "$1" | tr a-z A-Z)
	printf '.TH %s 1 "%s" "lkvm %s" "lkvm manual"\n.SH NAME\n%s\n' "$upper" "$date" \
		"$version" "$2"
}

prose() { # PAGE
	[ ! -f "$top/Documentation/man/$1.roff" ] || cat "$top/Documentation/man/$1.roff"
}

# lkvm's exit codes: the first table of exit-codes.md, as .TP items.
exit_status() {
	awk '
	/^\| code \|/ { on = 1; next }
	on && /^\|---/ { next }
	on && !/^\|/ { exit }
	on {
		split($0, f, /[ ]*\|[ ]*/)
		code = f[2]; what = f[3]
		gsub(/`/, "", what)
		gsub(/\[[^]]*\]\([^)]*\)/, "", what)
		gsub(/\\/, "\\e", what); gsub(/-/, "\\-", what)
		gsub(/-/, "\\-", code)
		print ".TP\n.B " code "\n" what
	}' "$top/Documentation/exit-codes.md"
}

see_also() { # PAGE
	printf '.SH SEE ALSO\n'
	first=1
	for p in lkvm $(for e in $pages; do echo "lkvm-${e%%:*}"; done); do
		[ "$p" != "$1" ] || continue
		[ $first = 1 ] || printf ',\n'
		printf '.BR %s (1)' "$(echo "$p" | sed 's/-/\\-/g')"
		first=0
	done
	printf '\n'
}

# lkvm(1): the commands and where their pages are, the exit codes.
{
	header lkvm "lkvm \\- a KVM launcher for arm64 that answers the guest's firmware calls"
	printf '.SH SYNOPSIS\n'
	roff_help synopsis <"$out/.lkvm.help"
	prose lkvm
	printf '.SH COMMANDS\n'
	roff_help body <"$out/.lkvm.help"
	printf '.PP\nEach command has its page: \\fBlkvm\\-run\\fR(1) for run, and so on; stop, pause and\n'
	printf 'resume are in \\fBlkvm\\-list\\fR(1), nmi in \\fBlkvm\\-sdei\\fR(1).\n'
	printf '.SH EXIT STATUS\n'
	exit_status
	see_also lkvm
} >"$out/lkvm.1"

for e in $pages; do
	page=lkvm-${e%%:*}
	cmds=$(echo "${e#*:}" | tr , ' ')
	names= what=
	for c in $cmds; do
		names="$names${names:+, }lkvm\\-$c"
		what="$what${what:+; }$(summary "$c")"
		"$@" "$c" --help >"$out/.$c.help"
	done
	{
		header "$page" "$names \\- $what"
		printf '.SH SYNOPSIS\n'
		for c in $cmds; do roff_help synopsis <"$out/.$c.help"; done
		printf '.SH DESCRIPTION\n'
		for c in $cmds; do
			[ "$c" = "${e%%:*}" ] && [ "$cmds" = "$c" ] || printf '.SS lkvm %s\n' "$c"
			roff_help body <"$out/.$c.help"
		done
		prose "$page"
		see_also "$page"
	} >"$out/$page.1"
	for c in $cmds; do
		[ "lkvm-$c" = "$page" ] || printf '.so man1/%s.1\n' "$page" >"$out/lkvm-$c.1"
	done
done
rm -f "$out"/.*.help
