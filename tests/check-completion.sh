#!/bin/bash
# completion/lkvm driven as bash drives it (make completion-check): for each command line, the
# words split as readline splits them (COMP_WORDBREAKS: "--psci=u" is "--psci" "=" "u"),
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, _lkvm called with bash's arguments, and
# COMPREPLY checked. The options and values come from the real lkvm's --help; the running VMs
# from a stand-in for `lkvm list` and `lkvm cpu list`, since there is no VM here. The stand-in
# prints its tables with the formats of the code that prints the real ones (builtin-list.c,
# psci/hotplug.c's hotplug__list), checked here against that code, and the list's header is also
# checked against the real, empty, `lkvm list`.
# Usage: LKVM_RUN='how to run lkvm' tests/check-completion.sh
# (default: ./lkvm, through qemu-aarch64-static when this machine is not arm64)
# shellcheck disable=SC2059 # printf's formats in variables: the C code's, on purpose
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
name=completion
. "$top/tests/check-lib.sh"

if [ -z "${LKVM_RUN:-}" ]; then
	LKVM_RUN=$top/lkvm
	[ "$(uname -m)" = aarch64 ] || LKVM_RUN="qemu-aarch64-static -L /usr/aarch64-linux-gnu $LKVM_RUN"
fi
$LKVM_RUN --version >/dev/null 2>&1 || die "cannot run lkvm as '$LKVM_RUN' (make lkvm first?)"

# src_format FILE FUNCTION: FUNCTION's text in FILE on one line, its string literals joined
# across the PRIx64/PRIu64 macros ("%9" PRIu64 " " is "%9u "), as bash's printf takes them.
src_format() {
	sed -n "/^[a-z].*[ *]$2(/,/^}/p" "$top/$1" | tr -d '\n\t' | sed 's/" *PRI\([xu]\)64 *"/\1/g; s/, */, /g'
}
# expect_src FILE FUNCTION TEXT: FUNCTION in FILE prints with TEXT (its format and arguments).
expect_src() {
	src_format "$1" "$2" | grep -qF -- "$3" ||
		die "$1: $2 no longer prints with $3: make the stand-in's tables print as it does"
}
list_head='%-24s %8s %5s %8s\n'
list_row='%-24s %8u %5u %8u\n'
cpu_head='%-4s %-12s %-11s %9s %12s %9s %12s %8s\n'
cpu_row='%-4u 0x%010x %-11s %9u %12u %9u %12u %8u\n'
expect_src builtin-list.c cmd_list "\"$list_head\", \"NAME\", \"PID\", \"CPUS\", \"PLUGGED\")"
expect_src builtin-list.c list_vm "\"$list_row\", ctl_client__show(vm, false), pid, cpus, plugged)"
expect_src psci/hotplug.c hotplug__list "\"$cpu_head\", \"ID\", \"MPIDR\", \"STATE\", \"STANDBYS\", \"STANDBY_US\", \"POWERDNS\", \"POWERDN_US\", \"DELAY_MS\")"
expect_src psci/hotplug.c hotplug__list "\"$cpu_row\", i, c.mpidr, state,"
# The vCPU states the stand-in shows, and the one the completion tells absent vCPUs by.
expect_src psci/psci.c psci__state_name '"absent", "off", "on-pending", "on", "suspended"'

# The stand-in, first on PATH as "lkvm": VMs vm1 and web-2.test; vm1's vCPUs 0-2 present (one
# with an eject request pending), 3-4 absent.
{
	printf "$list_head" NAME PID CPUS PLUGGED
	printf "$list_row" vm1 4242 5 3
	printf "$list_row" web-2.test 4343 2 2
} >"$work/list"
{
	printf "$cpu_head" ID MPIDR STATE STANDBYS STANDBY_US POWERDNS POWERDN_US DELAY_MS
	printf "$cpu_row" 0 0 on 3 12 0 0 0
	printf "$cpu_row" 1 1 on,eject 0 0 1 4000 25
	printf "$cpu_row" 2 2 off 0 0 0 0 0
	printf "$cpu_row" 3 3 absent 0 0 0 0 0
	printf "$cpu_row" 4 4 absent 0 0 0 0 0
} >"$work/cpus"
mkdir -p "$work/bin" "$work/run"
cat >"$work/bin/lkvm" <<EOF
#!/bin/sh
case "\$1 \${2:-}" in
"list ") exec cat "$work/list" ;;
"cpu list") [ "\$3 \$4" = "--name vm1" ] && exec cat "$work/cpus"; exit 1 ;;
esac
exec $LKVM_RUN "\$@"
EOF
chmod +x "$work/bin/lkvm"
real_list=$(XDG_RUNTIME_DIR="$work/run" $LKVM_RUN list)
[ "$real_list" = "$(head -n 1 "$work/list")" ] ||
	die "the stand-in's lkvm list header is not lkvm's: '$real_list'"

export PATH="$work/bin:$PATH"
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1091
. "$top/completion/lkvm"

# is_break C: whether readline breaks words at C but keeps it as a word.
is_break() {
	[[ -n $1 && $1 != [[:blank:]] && $COMP_WORDBREAKS == *"$1"* ]]
}

# complete LINE: got = COMPREPLY for LINE with the cursor at its end, sorted, on one line; in
# this shell, so that the completion's cache lives on as in a user's. COMP_WORDS as bash makes
# them: blanks separate words, a run of the other COMP_WORDBREAKS is a word of its own; $2 is
# the text after the last break, $3 the word before the cursor's.
complete_line() {
	local line=$1 w='' c i prev_break=1 this_break
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		is_break "$c"
		this_break=$?
		if [[ $c == [[:blank:]] ]]; then
			[[ -z $w ]] || COMP_WORDS+=("$w")
			w=
		elif [[ -n $w ]] && ((this_break != prev_break)); then
			COMP_WORDS+=("$w")
			w=$c
		else
			w+=$c
		fi
		prev_break=$this_break
	done
	COMP_WORDS+=("$w")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	! is_break "${w: -1}" || w=
	_lkvm lkvm "$w" "${COMP_WORDS[COMP_CWORD - 1]}" 2>"$work/stderr"
	[ ! -s "$work/stderr" ] || fail "'$1': completion wrote to stderr: $(head -n 3 "$work/stderr")"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
}

# expect LINE WORDS: exactly these completions.
expect() {
	complete_line "$1"
	want=$(tr -s '[:space:]' '\n' <<<"$2" | sort | tr '\n' ' ' | sed 's/^ //; s/ $//')
	[ "$got" = "$want" ] || fail "'$1': got '$got', expected '$want'"
}
# expect_has LINE WORD...: these among the completions.
expect_has() {
	local line=$1
	complete_line "$line"
	shift
	for w in "$@"; do
		[[ " $got " == *" $w "* ]] || fail "'$line': '$w' not among: $got"
	done
}

# The splitting above is bash's (probed once in an interactive bash).
complete_line "lkvm run --psci="
[ "${COMP_WORDS[*]}|$COMP_CWORD" = "lkvm run --psci =|3" ] ||
	die "complete_line split 'lkvm run --psci=' as '${COMP_WORDS[*]}|$COMP_CWORD'"

# Commands, their options, option values.
expect "lkvm " "run list cpu stop pause resume events timeline balloon sdei nmi help version \
	--help --version"
expect "lkvm -" "--help --version"
expect "lkvm ti" "timeline"
expect "lkvm help ba" "balloon"
expect "lkvm help run " ""
expect "lkvm version " ""
expect_has "lkvm run --" --kernel --initrd --params --psci --max-cpus --virtio-transport --acpi \
	--sdei --console --irqchip --events-log --dump-dtb --vsock --firmware --console-log --9p
expect "lkvm run --psci=" "kernel user"
expect "lkvm run --psci=u" "user"
expect "lkvm run --console " "serial virtio"
expect "lkvm run --console=v" "virtio"
expect "lkvm run --virtio-transport " "mmio pci"
expect "lkvm run --virtio-transport=p" "pci"
expect "lkvm run --irqchip " "auto gicv2 gicv3 gicv3-its"
expect "lkvm run --irqchip gicv3-" "gicv3-its"
expect "lkvm run --on-reset " "exit restart"
expect "lkvm run --trng " "kernel off user"
expect "lkvm run --psci-conduit " "hvc smc"
expect "lkvm run --psci-conduit=s" "smc"
expect "lkvm run --loglevel " "debug error info warning"
expect "lkvm run -n " "mode=none mode=tap mode=user"
expect "lkvm run --network m" "mode=none mode=tap mode=user"
expect "lkvm run --network mode=" "none tap user"
expect "lkvm run -n mode=u" "user"
expect "lkvm run -c " ""
expect "lkvm run --max-cpus=" ""
expect "lkvm list -" "--json"
expect "lkvm list " ""
expect "lkvm cpu --" "--json --name"
expect "lkvm events -" "--name --timeout --wait -w"
expect "lkvm balloon -" "--deflate --inflate --json --name -d -i"
expect "lkvm nmi -" "--cpu --name -c"
expect "lkvm timeline -" "--cpus --output -c -o"

# Files where a file goes, directories where a directory does.
mkdir "$work/files" "$work/files/share" "$work/files/Images"
touch "$work/files/Image" "$work/files/initrd.gz" "$work/files/disk.img" "$work/files/fw.bin"
cd "$work/files" || exit 1
expect "lkvm run -k I" "Image Images"
expect "lkvm run --kernel=I" "Image Images"
expect "lkvm run -i in" "initrd.gz"
expect "lkvm run --initrd " "Image Images disk.img fw.bin initrd.gz share"
expect "lkvm run -f f" "fw.bin"
expect "lkvm run --firmware=f" "fw.bin"
expect "lkvm run --console-log d" "disk.img"
expect "lkvm run --events-log=in" "initrd.gz"
expect "lkvm run --dump-dtb I" "Image Images"
expect "lkvm run --9p " "Images share"
expect "lkvm run --9p=s" "share"
expect "lkvm run --hugetlbfs " "Images share"
expect "lkvm run --dump-acpi I" "Images"
expect "lkvm run -d " "Image Images disk.img fw.bin initrd.gz share"
expect "lkvm run --disk=sh" "share"
expect "lkvm run -d disk.img," "disk.img,direct disk.img,ro"
expect "lkvm run --disk disk.img,ro,d" "disk.img,ro,direct"
expect "lkvm run --psci fw" "fw.bin"
expect "lkvm run -c 2 I" "Image Images"
expect "lkvm run --sdei " "Image Images disk.img fw.bin initrd.gz share"
expect "lkvm timeline -o I" "Image Images"
expect "lkvm timeline --output=d" "disk.img"
expect "lkvm timeline I" "Image Images"
expect "lkvm timeline -o out.svg in" "initrd.gz"
cd "$top" || exit 1

# Running VMs after --name, actions, and the vCPUs that plug, unplug, delay, nmi and sdei
# signal can take.
expect "lkvm stop --name " "vm1 web-2.test"
expect "lkvm pause --name=w" "web-2.test"
expect "lkvm resume --name " "vm1 web-2.test"
expect "lkvm events -w --name " "vm1 web-2.test"
expect "lkvm cpu list --name v" "vm1"
expect "lkvm cpu list --json --name " "vm1 web-2.test"
expect "lkvm balloon --name " "vm1 web-2.test"
expect "lkvm run --name " ""
expect "lkvm cpu " "delay list plug unplug"
expect "lkvm cpu --name vm1 " "delay list plug unplug"
expect "lkvm sdei " "list signal"
expect "lkvm balloon --name vm1 " "deflate inflate"
expect "lkvm cpu plug --name vm1 " "3 4"
expect "lkvm cpu --name vm1 unplug " "0 1 2"
expect "lkvm cpu delay --name=vm1 " "0 1 2 3 4"
expect "lkvm cpu plug --name vm1 3 " ""
expect "lkvm cpu plug " ""
expect "lkvm nmi --name vm1 --cpu " "0 1 2"
expect "lkvm nmi --name=vm1 -c " "0 1 2"
expect "lkvm sdei signal --name vm1 nmi -c " "0 1 2"
expect "lkvm nmi --cpu " ""

# shellcheck disable=SC2119 # no detail
check_end
