# debian.gdb's sessions, run in the folder holding gdbprog (gcc -g) in Lintel and on the host.
gdb -batch -nx -x gdbprog.gdb ./gdbprog 2>&1 </dev/null
# Attaching to a program asleep in pause() (once it has made the file "waiting", its state is
# S only there), without ASLR as gdb runs a program.
rm -f waiting
GDBPROG_WAIT=1 setarch -R ./gdbprog </dev/null &
p=$!
for i in $(seq 200); do
    [ -e waiting ] && grep -q ') S ' /proc/$p/stat 2>/dev/null && break
    sleep 0.05
done
gdb -batch -nx -p $p -ex bt -ex 'print released' -ex 'set var released = 1' -ex detach 2>&1 </dev/null
kill -USR2 $p
wait $p
echo "exit status $?"
rm -f waiting
# A core dump (core_pattern "core" on both sides): the crash as bash reports it, then gdb on
# the core prints where it happened and what the program's global held.
rm -f core
bash -c 'ulimit -c unlimited; GDBPROG_CRASH=1 setarch -R ./gdbprog; echo "crash status $?"' 2>&1
# (gdb warns when a core's XSAVE note is shorter than the layout it expects for the CPU's
# components: a property of the CPU and kernel that wrote it, so it and blank lines are left
# out on both sides.)
gdb -batch -nx -c core ./gdbprog -ex bt -ex 'print counter' 2>&1 </dev/null |
    grep -v -e '^warning: Section .\.reg-xstate' -e '^$'
rm -f core
