#!/bin/sh
# Guest half of 9p-share-unreadable (tests/system/t-9p.sh): mounts the share, says so, waits for
# the host to make it unreadable (a line on stdin), reports what each operation returns, then
# waits for the host to give it back (another line) and reports again.
mkdir -p /mnt
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none share /mnt ||
	{ echo "p9-deny: mount failed"; exit 1; }
ops() { # WHEN
	cat /mnt/f >/dev/null 2>&1
	echo "p9-deny: $1 cat=$?"
	ls /mnt/d >/dev/null 2>&1
	echo "p9-deny: $1 ls=$?"
	touch /mnt/new 2>/dev/null
	echo "p9-deny: $1 touch=$?"
}
ops before
echo "p9-deny: mounted"
read -r _
ops denied
echo "p9-deny: waiting"
read -r _
ops again
