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
