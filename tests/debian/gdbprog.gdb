break compute
run
bt
print n
next
print total
step
bt
finish
watch counter
continue
info registers rip
continue
delete
print square(5)
print greeting
x/s greeting
set var counter = 100
handle SIGUSR1 nostop noprint pass
break on_usr1
continue
print sig
catch syscall getppid
continue
x/2i $pc
continue
delete
print $rax == getppid()
break worker
continue
next
print *v
continue
print $_exitcode
