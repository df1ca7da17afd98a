/* SPDX-License-Identifier: MIT */
/* A raw system call for the end-to-end tests' programs built without libc
 * (-nostdlib -static): they make no call at start-up, so what they do
 * first is what the test means. Up to three arguments. */
static inline long sc(long n, long a, long b, long c)
{
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        return r;
}
