# Runs inside Lintel on the Debian root and natively on the host; the outputs must match.
set -e
T=$(mktemp -d)
cd "$T"
f() { local x=$1; echo "f:$((x * 2))"; }
f 21
arr=(one two three)
echo "${#arr[@]} ${arr[2]} ${arr[*]:1}"
declare -A m=([a]=1 [b]=2)
echo "assoc ${m[b]} ${#m[@]}"
cat <<HERE | tr a-z A-Z
heredoc $((1 + 2))
HERE
trap 'echo trapped' USR1
kill -USR1 $$
sleep 0.1 &
wait $!
echo "bg status $?"
sleep 5 &
kill $!
wait $! || echo "killed job status $?"
printf '%s\n' c b a | sort | tr '\n' ' '
echo
seq 1 100 | wc -l
echo hello world | cut -d' ' -f2
echo abc | sed 's/b/B/'
printf 'x\ny\nx\n' | sort | uniq -c | tr -s ' '
echo "a b c" | awk '{ print $3, NF }'
grep -c x <<< $'x\ny\nx'
mkdir -p t/d
echo data > t/d/f
ln -s f t/d/link
cp -a t t2
cat t2/d/f
readlink t2/d/link
tar czf a.tgz t
tar tzf a.tgz | sort | tr '\n' ' '
echo
gzip -dc a.tgz | wc -c
find t -type f | sort
date -u -d @86400 +%F
stat -c '%s %F %a' t/d/f
ls -1 t/d
ls -l t/d/f | cut -d' ' -f1,5
du -b t/d/f | cut -f1
echo "a,b,c" | gawk -F, '{ printf "%s-%d\n", $2, NF }'
perl -e 'my %h = (a => 1, b => 2); print join(",", map { "$_=$h{$_}" } sort keys %h), "\n"'
printf 'x1\ny\nx2\n' | perl -ne 'print if /x/'
perl - <<'PL'
use IPC::SysV qw(IPC_PRIVATE S_IRUSR S_IWUSR);
use IPC::Msg; use IPC::Semaphore; use IPC::SharedMem;
my $q = IPC::Msg->new(IPC_PRIVATE, S_IRUSR | S_IWUSR) or die "msgget: $!";
$q->snd(2, "two"); $q->snd(1, "one");
my $buf; $q->rcv($buf, 100, -2); print "msg $buf, ", $q->stat->qnum, " left\n"; $q->remove;
my $s = IPC::Semaphore->new(IPC_PRIVATE, 2, S_IRUSR | S_IWUSR) or die "semget: $!";
$s->setall(3, 4); $s->op(0, -1, 0, 1, 1, 0); print "sem ", join(",", $s->getall), "\n"; $s->remove;
my $m = IPC::SharedMem->new(IPC_PRIVATE, 8192, S_IRUSR | S_IWUSR) or die "shmget: $!";
$m->attach; $m->write("hello", 0, 5);
print "shm ", $m->read(0, 5), " nattch ", $m->stat->nattch, "\n"; $m->detach; $m->remove;
PL
sqlite3 db.sqlite "create table t(a text); insert into t values ('lintel'), ('linux');"
sqlite3 db.sqlite "select count(*), max(a) from t;"
getent passwd root | cut -d: -f1,3,6
/usr/bin/python3 - <<'PY'
import os, json, hashlib, subprocess, threading, sqlite3, unittest
print(json.dumps({"k": [1, 2]}, sort_keys=True))
print(hashlib.sha256(b"lintel").hexdigest()[:16])
print(subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout.strip())
out = []
ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sorted(out))
db = sqlite3.connect("t.db")
db.execute("create table x(a)")
db.executemany("insert into x values(?)", [(1,), (2,)])
db.commit()
print("sqlite", db.execute("select sum(a) from x").fetchone()[0])
class T(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)
    def test_str(self):
        self.assertIn("nt", "lintel")
r = unittest.TextTestRunner(stream=open(os.devnull, "w")).run(
    unittest.defaultTestLoader.loadTestsFromTestCase(T))
print("unittest", r.testsRun, len(r.failures), len(r.errors))
import ctypes, locale
libc = ctypes.CDLL("libc.so.6")
print("dlopen", libc.getpid() == os.getpid())
locale.setlocale(locale.LC_ALL, "C.UTF-8")
print("locale", locale.getlocale()[1])
PY
# util-linux's System V IPC tools (ipcmk, ipcs through /proc/sysvipc and *_STAT, ipcrm).
id=$(ipcmk -S 2 | awk '{print $NF}')
ipcs -s -i "$id" | grep -E "^nsems"
ipcs -s | grep -c " $id "
ipcrm -s "$id"
ipcs -s | grep -c " $id " || true
id=$(ipcmk -M 8192 | awk '{print $NF}')
ipcs -m -i "$id" | grep -o "bytes=[0-9]*"
ipcrm -m "$id"
id=$(ipcmk -Q | awk '{print $NF}')
ipcs -q | grep -c " $id "
ipcrm -q "$id"
ipcs -q | grep -c " $id " || true
# sqlite3 in WAL mode: the -shm file shared through MAP_SHARED and fcntl locks; a reader
# keeps its snapshot while a writer's transaction is open.
sqlite3 w.db "pragma journal_mode=wal; create table t(a); insert into t values (1), (2);"
sqlite3 w.db "begin; insert into t values (3);" "select count(*) from t;"
python3 - <<'PY'
import sqlite3
a = sqlite3.connect("w.db", isolation_level=None)
b = sqlite3.connect("w.db", isolation_level=None)
a.execute("begin")
a.execute("insert into t values (10)")
b.execute("begin")
print("reader sees", b.execute("select count(*) from t").fetchone()[0])
a.execute("commit")
print("same snapshot", b.execute("select count(*) from t").fetchone()[0])
b.execute("commit")
print("new snapshot", b.execute("select sum(a) from t").fetchone()[0])
PY
sqlite3 w.db "pragma journal_mode; select count(*) from t;" "pragma wal_checkpoint(truncate);"
ls w.db* | tr '\n' ' '
echo
# Debian's strace through ptrace: syscall stops of a shell and its forked subshell (-f).
strace -f -qq -e signal=none -e trace=chdir,exit_group sh -c 'cd /tmp; (cd /; exit 3); true' 2>&1 |
    sed 's/^\[pid *[0-9]*\] //' | tr -s ' '
# The issue's strace session: process and file calls of a shell running ls, one file per
# process (-ff: no interleaving), in a clean environment; sizes, addresses and pids vary.
rm -rf /tmp/st /tmp/st.out.* && mkdir /tmp/st && touch /tmp/st/a /tmp/st/b
(cd /tmp && env -i PATH=/usr/bin:/bin strace -ff -qq -e signal=none -e trace=process,file \
    -o /tmp/st.out sh -c 'ls /tmp/st >/dev/null; true')
for f in $(ls /tmp/st.out.* | sort -t. -k3 -n); do
    echo "== a process"
    sed -E 's/0x[0-9a-f]+/ADDR/g; s/(st_size|stx_size)=[0-9]+/\1=N/g; s/\{stx_mask=[^}]*\}/{...}/;
        s/^(vfork\(\)|wait4\(.*\)) += [0-9]+$/\1 = PID/' "$f" | tr -s ' '
done
rm -rf /tmp/st /tmp/st.out.*
# Debian's inotifywait (inotify-tools) watching a tree (-m -r) while this script creates, writes,
# renames, moves and deletes in it, one change at a time; where inotifywait must first add a
# watch (a new or moved-in directory) the script waits for the event in the log.
mkdir -p iw/a/b out
inotifywait -m -r -e create,modify,attrib,close_write,moved_from,moved_to,delete,delete_self \
    --format '%e %w%f' -o iw.log iw 2>iw.err &
iw=$!
for i in $(seq 200); do grep -q "Watches established" iw.err && break; sleep 0.05; done
seen() { for i in $(seq 200); do grep -qxF "$1" iw.log && return; sleep 0.05; done; }
echo one > iw/a/f1
mkdir iw/c
seen "CREATE,ISDIR iw/c"
echo two > iw/c/f2
mv iw/a/f1 iw/c/f1
mv iw/c iw/a/b/c
echo three >> iw/a/b/c/f2
chmod 600 iw/a/b/c/f2
ln iw/a/b/c/f1 iw/a/f3
mkdir out/d
echo x > out/d/g
mv out/d iw/d
seen "MOVED_TO,ISDIR iw/d"
echo y > iw/d/h
mv iw/d/g iw/a/g
mv iw/a/b out/b
rm iw/d/h iw/a/g iw/a/f3
rmdir iw/d
touch iw/end
seen "CLOSE_WRITE,CLOSE iw/end"
kill $iw
wait $iw || echo "inotifywait status $?"
cat iw.log
# Bounded: one event, then inotifywait exits 0; nothing within -t seconds is status 2.
touch lone
inotifywait -t 10 -e delete_self lone >one.log 2>one.err &
iw=$!
for i in $(seq 200); do grep -q "Watches established" one.err && break; sleep 0.05; done
rm lone
wait $iw && echo "one event: $(cat one.log)"
inotifywait -q -t 1 -e create iw || echo "timeout status $?"
# Extended attributes and POSIX ACLs: attr's and acl's tools, cp -a and tar --xattrs --acls.
# (getfacl aligns its comments differently when its output is a terminal, as in the guest.)
gfacl() { getfacl -n "$@" | cat; }
mkdir xa
cd xa
echo data > f
setfattr -n user.color -v blue f
setfattr -n user.empty f
setfattr -n trusted.t -v T f
getfattr -d f
getfattr -d -m - f
getfattr -n user.color --only-values f
echo
getfattr -n user.none f 2>&1 || echo "getfattr status $?"
setfattr -x user.empty f
setfacl -m u:1000:r,g:1000:rw f
gfacl f
stat -c '%a' f
chmod 600 f
gfacl f
setfacl -d -m u:1000:rwx .
mkdir sub
touch sub/g
gfacl sub sub/g
stat -c '%a %n' sub sub/g
cp -a f f2
gfacl f2
getfattr -d f2
tar --xattrs --acls -cf x.tar f sub
mkdir out
tar --xattrs --acls -xf x.tar -C out
gfacl out/f out/sub/g
getfattr -d out/f
setfacl -b f
gfacl f
cd ..
# Inode flags with e2fsprogs' chattr and lsattr, on ext4 and on a tmpfs: an immutable file
# refuses changes, an append-only one takes appends only.
mkdir fl fl/tm
mount -t tmpfs none fl/tm
for d in fl fl/tm; do
  echo data > $d/f
  chattr +i $d/f
  lsattr $d/f
  { echo more >> $d/f; } 2>/dev/null || echo "append refused"
  rm -f $d/f 2>/dev/null || echo "rm refused"
  chattr -i $d/f
  chattr +a $d/f
  lsattr $d/f
  echo more >> $d/f
  { echo over > $d/f; } 2>/dev/null || echo "overwrite refused"
  chattr -a $d/f
  lsattr $d/f
  cat $d/f
  rm $d/f
done
umount fl/tm
rmdir fl/tm fl
# What a user first runs to look at the system (procps, util-linux): no errors, and figures
# that hold together (the numbers themselves differ between the two systems).
free -k | awk 'NR == 1 { print $1, $2, $6 } NR == 2 { print $1, ($2 > 0), ($3 <= $2), ($7 <= $2) }'
ps aux | awk 'NR == 1 { print $1, $2, $3, $4, $11 }'
ps -o comm= -p $$
ps -eo pid= | grep -qx " *$$" && echo "ps lists this shell"
top -b -n1 > top.out 2>&1 && echo "top status 0"
awk 'NR == 1 { print $1 } /^ *PID/ { print $1, $2, $NF }' top.out
lsblk -dn -o TYPE | grep -qx disk && echo "lsblk: a disk"
cd /
rm -rf "$T"
echo end
