/* Radix-2^13 arithmetic shared by both curves (see limbs.h). */
#include "limbs.h"

/* The lx106 has ecc_lb_mul and ecc_lb_sqr in lb_mul_xtensa.S (five-row strips); this is
 * the same strip method in C (four rows) for every other target. */
#if !(defined(__XTENSA__) && defined(__XTENSA_CALL0_ABI__))
static inline uint32_t mul16(uint32_t x, uint32_t y) { return x * y; }

/* t[j .. j+23] += a[0..3] * b[0..19], one 4-limb strip of the product.
 * Four running column sums stay in registers while b streams past: per
 * product one MUL16U and one add, per b limb one load, store and reload. */
#define STEP(j, c0, c1, c2, c3)                                                  \
    do {                                                                         \
        uint32_t bj = b[j];                                                      \
        c0 += mul16(a0, bj);                                                     \
        c1 += mul16(a1, bj);                                                     \
        c2 += mul16(a2, bj);                                                     \
        c3 += mul16(a3, bj);                                                     \
        t[j] = (int32_t)c0;                                                      \
        c0 = (uint32_t)t[(j) + 4];                                               \
    } while (0)

static void strip(int32_t *t, const uint16_t *a, const uint16_t *b) {
    uint32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint32_t c0 = (uint32_t)t[0], c1 = (uint32_t)t[1], c2 = (uint32_t)t[2], c3 = (uint32_t)t[3];
    for (int j = 0; j < LB_N; j += 4, b += 4, t += 4) {
        STEP(0, c0, c1, c2, c3);
        STEP(1, c1, c2, c3, c0);
        STEP(2, c2, c3, c0, c1);
        STEP(3, c3, c0, c1, c2);
    }
    /* t now points 20 past the strip start; c0..c2 hold the last open columns
     * and c3 the reload of t[3] (untouched), so only three stores. */
    t[0] = (int32_t)c0;
    t[1] = (int32_t)c1;
    t[2] = (int32_t)c2;
}

void ecc_lb_mul(int32_t t[2 * LB_N], const lb a, const lb b) {
    for (int i = 0; i < 2 * LB_N; i++) t[i] = 0;
    for (int i = 0; i < LB_N; i += 4) strip(t + i, a + i, b);
}

void ecc_lb_sqr(int32_t t[2 * LB_N], const lb a) { ecc_lb_mul(t, a, a); }
#endif

uint32_t ecc_lb_carry(lb r, const int32_t *in) {
    int32_t c = 0;
    for (int i = 0; i < LB_N; i++) {
        int32_t v = in[i] + c;
        r[i] = (uint16_t)(v & LB_MASK);
        c = v >> LB_BITS; /* arithmetic shift: GCC and every compiler we target */
    }
    return (uint32_t)c;
}

/* Bit-level packing: limb i holds bits 13i .. 13i+12 of the 256-bit value. */
static void from_bytes(lb r, const uint8_t *in, int step) {
    uint32_t acc = 0;
    int bits = 0, k = 0;
    for (int i = 0; i < 32; i++) {
        acc |= (uint32_t)in[i * step] << bits;
        bits += 8;
        if (bits >= LB_BITS) {
            r[k++] = (uint16_t)(acc & LB_MASK);
            acc >>= LB_BITS;
            bits -= LB_BITS;
        }
    }
    r[k] = (uint16_t)acc; /* k == 19: the top 9 bits */
}

static void to_bytes(uint8_t *out, const lb a, int step) {
    uint32_t acc = 0;
    int bits = 0, k = 0;
    for (int i = 0; i < 32; i++) {
        while (bits < 8) {
            acc |= (uint32_t)a[k++] << bits;
            bits += LB_BITS;
        }
        out[i * step] = (uint8_t)acc;
        acc >>= 8;
        bits -= 8;
    }
}

void ecc_lb_from_le(lb r, const uint8_t in[32]) { from_bytes(r, in, 1); }
void ecc_lb_to_le(uint8_t out[32], const lb a) { to_bytes(out, a, 1); }
void ecc_lb_from_be(lb r, const uint8_t in[32]) { from_bytes(r, in + 31, -1); }
void ecc_lb_to_be(uint8_t out[32], const lb a) { to_bytes(out + 31, a, -1); }

uint32_t ecc_lb_csub(lb r, const lb a, const lbc m) {
    lb d;
    int32_t c = 0;
    for (int i = 0; i < LB_N; i += 2) {
        uint32_t w = m[i / 2];
        int32_t v = (int32_t)a[i] - (int32_t)(w & 0xffff) + c;
        d[i] = (uint16_t)(v & LB_MASK);
        c = v >> LB_BITS;
        v = (int32_t)a[i + 1] - (int32_t)(w >> 16) + c;
        d[i + 1] = (uint16_t)(v & LB_MASK);
        c = v >> LB_BITS;
    }
    /* c is -1 on borrow (a < m), else 0 */
    uint32_t keep = (uint32_t)c; /* all-ones when a < m */
    for (int i = 0; i < LB_N; i++) r[i] = (uint16_t)((a[i] & keep) | (d[i] & ~keep));
    return 1 & ~keep;
}

uint32_t ecc_lb_lt(const lb a, const lbc m) {
    int32_t c = 0;
    for (int i = 0; i < LB_N; i += 2) {
        uint32_t w = m[i / 2];
        c = ((int32_t)a[i] - (int32_t)(w & 0xffff) + c) >> LB_BITS;
        c = ((int32_t)a[i + 1] - (int32_t)(w >> 16) + c) >> LB_BITS;
    }
    return (uint32_t)c & 1;
}

void ecc_lb_unpack(lb r, const lbc c) {
    for (int i = 0; i < LB_N; i += 2) {
        uint32_t w = c[i / 2];
        r[i] = (uint16_t)w;
        r[i + 1] = (uint16_t)(w >> 16);
    }
}

uint32_t ecc_lb_is_zero(const lb a) {
    uint32_t x = 0;
    for (int i = 0; i < LB_N; i++) x |= a[i];
    return 1 & ((x - 1) >> 31); /* x < 2^16, so x - 1 wraps only for x == 0 */
}

void ecc_lb_cmov(lb r, const lb a, uint32_t mask) {
    for (int i = 0; i < LB_N; i++) r[i] = (uint16_t)(r[i] ^ ((r[i] ^ a[i]) & mask));
}


void ecc_lb_cswap2(lb a, lb b, lb c, lb d, uint32_t mask) {
    for (int i = 0; i < LB_N; i++) {
        uint16_t x = (uint16_t)((a[i] ^ b[i]) & mask);
        a[i] ^= x;
        b[i] ^= x;
        x = (uint16_t)((c[i] ^ d[i]) & mask);
        c[i] ^= x;
        d[i] ^= x;
    }
}

void ecc_wipe(void *p, unsigned n) {
    volatile uint8_t *q = (volatile uint8_t *)p;
    while (n--) *q++ = 0;
}
