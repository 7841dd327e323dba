#!/bin/sh
# Guest half of 9p-share-removed (tests/system/t-9p.sh): mounts the share, says so, waits for the
# host to remove it (a line on stdin), then reports what each operation on it returns.
mkdir -p /mnt
mount -t 9p -o trans=virtio,version=9p2000.L share /mnt || { echo "p9-gone: mount failed"; exit 1; }
cat /mnt/f
echo "p9-gone: mounted"
read -r _
cat /mnt/f
echo "p9-gone: cat=$?"
touch /mnt/new
echo "p9-gone: touch=$?"
ls /mnt
echo "p9-gone: ls=$?"
