/* QEMU xtensa semihosting: simcall with a2 = call number, a3.. = arguments,
 * result in a2 (checked against QEMU 7.2: 1 = exit(code), 4 = write(fd, buf,
 * len)). Printing avoids division: libgcc here has no __udivsi3. */
#include "semihost.h"

#define SYS_EXIT 1
#define SYS_WRITE 4
#define STDOUT 1

static int simcall3(int nr, int a, int b, int c) {
    register int a2 __asm__("a2") = nr;
    register int a3 __asm__("a3") = a;
    register int a4 __asm__("a4") = b;
    register int a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

void sh_write(const char *buf, size_t len) {
    simcall3(SYS_WRITE, STDOUT, (int)(uintptr_t)buf, (int)len);
}

void sh_exit(int code) {
    simcall3(SYS_EXIT, code, 0, 0);
    for (;;) {
    }
}

void sh_puts(const char *s) {
    size_t n = 0;
    while (s[n] != 0) {
        n++;
    }
    sh_write(s, n);
}

void sh_putu(uint32_t v) {
    static const uint32_t pow10[] = {1000000000u, 100000000u, 10000000u, 1000000u, 100000u,
                                     10000u,      1000u,      100u,      10u,      1u};
    char out[10];
    size_t n = 0;
    for (size_t i = 0; i < 10; i++) {
        char d = '0';
        while (v >= pow10[i]) { /* at most 9 subtractions per digit */
            v -= pow10[i];
            d++;
        }
        if (d != '0' || n > 0 || i == 9) {
            out[n++] = d;
        }
    }
    sh_write(out, n);
}

void sh_puthex(const uint8_t *buf, size_t len) {
    static const char digits[] = "0123456789abcdef";
    char out[2];
    for (size_t i = 0; i < len; i++) {
        out[0] = digits[buf[i] >> 4];
        out[1] = digits[buf[i] & 15];
        sh_write(out, 2);
    }
}
