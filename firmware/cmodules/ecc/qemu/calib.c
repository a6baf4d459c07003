/* Calibration program for the CCOUNT x 25 rule (make calibrate): two spans
 * of code between pairs of CCOUNT reads, checked against QEMU's
 * translation-block log by calibrate.py. Prints "span NAME ccount=DELTA". */
#include "semihost.h"

static inline uint32_t ccount(void) {
    uint32_t c;
    __asm__ volatile("rsr %0, ccount" : "=r"(c));
    return c;
}

static void report(const char *name, uint32_t delta) {
    sh_puts("span ");
    sh_puts(name);
    sh_puts(" ccount=");
    sh_putu(delta);
    sh_puts("\n");
}

/* Mixed work like the core's: calls, loads, stores, 16-bit and 32-bit
 * multiplies, data-dependent branches. */
static __attribute__((noinline)) uint32_t mix(uint32_t *buf, uint32_t n, uint32_t seed) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lo = (uint16_t)seed;
        uint32_t hi = seed >> 16;
        seed = lo * hi + buf[i & 15] * 69069u + 1u;
        buf[(seed >> 7) & 15] ^= seed;
        if (seed & 1) {
            seed ^= seed << 3;
        }
    }
    return seed;
}

int main(void) {
    static uint32_t buf[16];
    uint32_t n = 20000;
    uint32_t t0 = ccount();
    __asm__ volatile("1: addi %0, %0, -1\n\t"
                     "bnez %0, 1b\n"
                     : "+r"(n));
    uint32_t t1 = ccount();
    uint32_t seed = 0;
    for (uint32_t i = 0; i < 200; i++) {
        seed = mix(buf, 500 + i, seed);
    }
    uint32_t t2 = ccount();
    report("loop", t1 - t0);
    report("mixed", t2 - t1);
    return (int)(seed & 0); /* keep seed live */
}
