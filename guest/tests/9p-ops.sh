#!/bin/sh
# Guest half of the 9p-ops system test (tests/system/t-9p.sh): mounts the share tagged "share"
# on /mnt (and "second" on /mnt2) and works in it; one line per check, "9p-ok: NAME" or "9p-FAIL: NAME". $1 is the host
# path of a marker file outside the share, which must stay out of reach.
m=/mnt
marker=$1
mkdir -p $m
mount -t 9p -o trans=virtio,version=9p2000.L share $m || { echo "9p: mount failed"; exit 1; }
echo "9p: mounted"
check() {
	if eval "$2"; then echo "9p-ok: $1"; else echo "9p-FAIL: $1"; fi
}

check read '[ "$(cat $m/hostfile)" = from-the-host ]'
echo hello-from-guest >$m/created
echo more >>$m/created
check create '[ "$(cat $m/created)" = "$(printf "hello-from-guest\nmore")" ]'
printf 'XY' | dd of=$m/created bs=1 seek=2 conv=notrunc 2>/dev/null
check write '[ "$(head -n 1 $m/created)" = heXYo-from-guest ]'
mkdir $m/newdir
check mkdir '[ -d $m/newdir ]'
echo x >$m/newdir/a
mv $m/newdir/a $m/newdir/b
check rename '[ ! -e $m/newdir/a ] && [ "$(cat $m/newdir/b)" = x ]'
mv $m/newdir/b $m/moved-up
check rename-dirs '[ "$(cat $m/moved-up)" = x ]'
echo gone >$m/todelete
rm $m/todelete
check unlink '[ ! -e $m/todelete ]'
rmdir $m/newdir
check rmdir '[ ! -e $m/newdir ]'
ln -s created $m/guestlink
check symlink '[ "$(readlink $m/guestlink)" = created ] && [ "$(head -n 1 $m/guestlink)" = heXYo-from-guest ]'
ln $m/hostfile $m/hardlink
check link '[ "$(stat -c %h $m/hostfile)" = 2 ]'
chmod 600 $m/hostfile
check chmod '[ "$(stat -c %a $m/hostfile)" = 600 ]'
# No setuid or setgid bit reaches the host (which checks too); the share's root keeps its mode.
echo x >$m/guestsuid && chmod 4755 $m/guestsuid
check setuid-chmod '[ "$(stat -c %a $m/guestsuid)" = 755 ]'
echo x >/tmp/suid && chmod 6755 /tmp/suid && cp -p /tmp/suid $m/copiedsuid
check setuid-create '[ "$(stat -c %a $m/copiedsuid)" = 755 ]'
mkdir -m 2775 $m/sgiddir
check setgid-mkdir '[ "$(stat -c %a $m/sgiddir)" = 775 ]'
echo more >>$m/hostsuid
check setuid-write '[ "$(stat -c %a $m/hostsuid)" = 755 ]'
rootmode=$(stat -c %a $m)
check root-chmod-refused '! chmod 777 $m 2>/dev/null && [ "$(stat -c %a $m)" = "$rootmode" ]'
: >$m/created2 && truncate -s 1000 $m/created2 2>/dev/null
check truncate '[ "$(stat -c %s $m/created2)" = 1000 ]'
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do : >$m/many-$i; done
check readdir '[ "$(ls $m | grep -c "^many-")" = 20 ] && ls $m | grep -qx hostfile'
check df 'df $m >/dev/null'
check mknod-dev '! mknod $m/devnull c 1 3 2>/dev/null'
check mkfifo 'mkfifo $m/fifo && [ -p $m/fifo ]'

# Large files, both ways; the host compares the checksums.
dd if=/dev/urandom of=$m/guestbig bs=1M count=4 2>/dev/null
sync
echo "9p-md5 guestbig $(md5sum $m/guestbig | cut -d ' ' -f 1)"
echo "9p-md5 hostbig $(md5sum $m/hostbig | cut -d ' ' -f 1)"

# Escapes: every way up leads to the guest's own root, never to the host's files.
check dotdot-stays-in-guest '[ -d $m/../../tests ] && [ ! -e $m/../../outside-marker ]'
check symlink-to-root-is-guest-root '[ -d $m/hostroot/tests ] && ! ls $m/hostroot/ | grep -qx lkvm'
check no-marker '! cat $m/marker-link $m/marker-abs $m/up/outside-marker $m/hostroot$marker \
	$m/../outside-marker "$marker" 2>/dev/null | grep -q secret'
ls $m/.. $m/../.. >/dev/null

# A second share, tagged "second": its own directory, nothing of the first.
mkdir -p /mnt2
mount -t 9p -o trans=virtio,version=9p2000.L second /mnt2
check second-share '[ "$(cat /mnt2/file2)" = second ] && [ ! -e /mnt2/hostfile ]'
umount /mnt2
umount $m
echo "9p: done"
