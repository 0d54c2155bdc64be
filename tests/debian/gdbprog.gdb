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
continue
stepi
bt
next
next
print counter
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
