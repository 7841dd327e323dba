#!/bin/bash
# completion/lkvm driven as bash drives it (make completion-check): COMP_WORDS, COMP_CWORD,
# COMP_LINE and COMP_POINT set for a command line, _lkvm called, COMPREPLY checked. The options
# and values come from the real lkvm's --help (LKVM_RUN: how to run it); the running VMs from a
# stand-in for `lkvm list` and `lkvm cpu list`, since there is no VM here: its tables are those
# lkvm prints, checked against the real empty `lkvm list` and the cpu table of the unit tests.
# Usage: LKVM_RUN='how to run lkvm' tests/check-completion.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
name=completion
. "$top/tests/check-lib.sh"

# The stand-in, first on PATH as "lkvm": one VM, vm1, with vCPUs 0-1 on and 2-3 absent.
cat >"$work/list" <<'EOF'
NAME                          PID  CPUS  PLUGGED
vm1                          4242     4        2
EOF
cat >"$work/cpus" <<'EOF'
ID   MPIDR        STATE        STANDBYS   STANDBY_US  POWERDNS   POWERDN_US DELAY_MS
0    0x0000000000 on                  3           12         0            0        0
1    0x0000000001 on                  0            0         0            0        0
2    0x0000000002 absent              0            0         0            0        0
3    0x0000000003 absent              0            0         0            0        0
EOF
mkdir -p "$work/bin" "$work/run"
cat >"$work/bin/lkvm" <<EOF
#!/bin/sh
case "\$1 \${2:-}" in
"list ") exec cat "$work/list" ;;
"cpu list") [ "\$3 \$4" = "--name vm1" ] && exec cat "$work/cpus"; exit 1 ;;
esac
exec ${LKVM_RUN:-$top/lkvm} "\$@"
EOF
chmod +x "$work/bin/lkvm"
real_list=$(XDG_RUNTIME_DIR="$work/run" ${LKVM_RUN:-$top/lkvm} list | head -n 1)
[ "$real_list" = "$(head -n 1 "$work/list")" ] ||
	fail "the stand-in's lkvm list header is not lkvm's: '$real_list'"
grep -qF "\"$(head -n 1 "$work/cpus")\\n\"" "$top/tests/unit/test-control.c" ||
	fail "the stand-in's lkvm cpu list header is not the one tests/unit/test-control.c checks"

export PATH="$work/bin:$PATH"
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1091
. "$top/completion/lkvm"

# complete LINE: COMPREPLY for LINE with the cursor at its end, sorted, one line.
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#1}
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_lkvm lkvm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$work/stderr"
	[ ! -s "$work/stderr" ] || fail "'$1': completion wrote to stderr: $(head -n 3 "$work/stderr")"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE WORDS: exactly these completions (sorted).
expect() {
	got=$(complete_line "$1")
	want=$(tr ' ' '\n' <<<"$2" | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || fail "'$1': got '$got', expected '$want'"
}
# expect_has LINE WORD...: these among the completions.
expect_has() {
	got=" $(complete_line "$1") "
	shift
	for w in "$@"; do
		[[ $got == *" $w "* ]] || fail "'$1': '$w' not among:$got"
	done
}

# Commands, their options, option values.
expect_has "lkvm " run list cpu stop pause resume events timeline balloon sdei nmi help version
expect "lkvm ti" "timeline"
expect "lkvm help ba" "balloon"
expect_has "lkvm run --" --kernel --initrd --params --psci --max-cpus --virtio-transport --acpi \
	--sdei --console --irqchip --events-log --dump-dtb --vsock
expect "lkvm run --psci=" "kernel user"
expect "lkvm run --psci=u" "user"
expect "lkvm run --console " "serial virtio"
expect "lkvm run --virtio-transport " "mmio pci"
expect "lkvm run --virtio-transport=p" "pci"
expect "lkvm run --irqchip " "auto gicv2 gicv3 gicv3-its"
expect "lkvm run --on-reset " "exit restart"
expect "lkvm run --trng " "kernel off user"
expect "lkvm run --psci-conduit " "hvc smc"
expect "lkvm run --loglevel " "debug error info warning"
expect "lkvm run -n " "mode=none mode=tap mode=user"
expect "lkvm run --network mode=u" "user"
expect "lkvm run -c " ""
expect "lkvm cpu --" "--json --name"
expect "lkvm events -" "--name --timeout --wait -w"
expect "lkvm balloon -" "--deflate --inflate --json --name -d -i"

# Files where a file goes, directories where a directory does.
mkdir "$work/files" "$work/files/share"
touch "$work/files/Image" "$work/files/initrd.gz"
cd "$work/files" || exit 1
expect "lkvm run -k I" "Image"
expect "lkvm run --kernel=I" "Image"
expect "lkvm run -i in" "initrd.gz"
expect "lkvm run --events-log I" "Image"
expect "lkvm run --9p " "share"
expect "lkvm run -d sh" "share"
expect "lkvm timeline -o I" "Image"
expect "lkvm timeline I" "Image"
cd "$top" || exit 1

# Running VMs after --name, actions, and the vCPUs that plug or unplug can take.
expect "lkvm stop --name " "vm1"
expect "lkvm cpu list --name v" "vm1"
expect "lkvm run --name " ""
expect "lkvm cpu " "delay list plug unplug"
expect "lkvm cpu --name vm1 " "delay list plug unplug"
expect "lkvm sdei " "list signal"
expect "lkvm balloon --name vm1 " "deflate inflate"
expect "lkvm cpu plug --name vm1 " "2 3"
expect "lkvm cpu --name vm1 unplug " "0 1"
expect "lkvm cpu delay --name=vm1 " "0 1 2 3"
expect "lkvm cpu plug --name vm1 2 " ""

check_end
