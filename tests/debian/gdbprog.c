/* The program of debian.gdb: gdb breaks in compute, steps through it and watches counter. */
#include <stdio.h>

int counter;

static int square(int v)
{
	return v * v;
}

static int compute(int n)
{
	int total = n * 10;
	total += square(n);
	counter = total;
	return total;
}

int main(void)
{
	int r = compute(3);
	counter += 1;
	printf("result %d counter %d\n", r, counter);
	return 0;
}
