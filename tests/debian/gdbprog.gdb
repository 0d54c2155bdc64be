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
continue
