# debian.loop: Debian's losetup, mke2fs, e2fsck and mount (util-linux's libmount) on loop
# devices inside Lintel. Each line printed is compared with a fixed list (xtask/src/test/debian_loop.rs).
set -e
truncate -s 32M /root/x.img
dev=$(losetup -f --show /root/x.img)
echo "dev=$dev"
echo "listed=$(losetup -a | grep -c x.img)"
echo "backing=$(cat /sys/block/${dev#/dev/}/loop/backing_file)"
mke2fs -q -t ext4 "$dev" 2>&1 && echo "mke2fs ok"
e2fsck -fn "$dev" >/dev/null 2>&1 && echo "e2fsck clean"
mkdir -p /mnt
mount "$dev" /mnt
echo data > /mnt/f
umount /mnt
e2fsck -fn "$dev" >/dev/null 2>&1 && echo "e2fsck clean after writes"
losetup -d "$dev"
echo "after detach=$(losetup -a | wc -l)"
mount -o loop /root/x.img /mnt
echo "looped=$(cat /mnt/f)"
echo "source=$(findmnt -n -o SOURCE,FSTYPE /mnt | tr -s ' ')"
umount /mnt
echo "after umount=$(losetup -a | wc -l)"
e2fsck -fn /root/x.img >/dev/null 2>&1 && echo "image clean"
# journal_checksum without metadata_csum: jbd2's version 1 checksums, as Linux sets them.
truncate -s 16M /root/y.img
mke2fs -q -t ext4 -O ^metadata_csum /root/y.img 2>&1
mount -o loop,journal_checksum /root/y.img /mnt
echo v1 > /mnt/g
sync
umount /mnt
dumpe2fs -h /root/y.img 2>/dev/null | grep '^Journal features' | grep -qw journal_checksum &&
    echo "journal_checksum v1"
e2fsck -fn /root/y.img >/dev/null 2>&1 && echo "v1 image clean"
echo "loop done"
