#!/bin/sh
# lkvm's NMI in a Linux guest with 3 vCPUs, through the test module (tests/system/t-sdei-linux.sh
# drives it: it answers each "sdei-nmi: waiting" line with a newline once its `lkvm nmi`s have
# been handled). First with the CPUs idle (the shell waits in read, the others in WFI), then with
# CPU 1 busy in a user-space loop; then the guest must go on as before.
sh /tests/sdei-module.sh load || exit 1
echo "sdei-nmi: waiting (idle)"
read -r _
taskset -c 1 sh -c 'while :; do :; done' &
busy=$!
echo "sdei-nmi: waiting (busy)"
read -r _
kill -0 "$busy" && echo "sdei-nmi: the busy loop survived"
kill "$busy"
sh /tests/sdei-module.sh counts
# Every CPU still runs work (field 39 of /proc/self/stat: the CPU it runs on).
for c in 0 1 2; do
	taskset -c "$c" awk '{ print "sdei-nmi: ran on CPU " $39 }' /proc/self/stat
done
sh /tests/sdei-module.sh unload
