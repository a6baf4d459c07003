/* X25519 (RFC 7748) on 20 limbs of 13 bits, modulo p = 2^255 - 19.
 *
 * Field elements are "normalised": limbs 0..18 below 2^13 + 2^9, limb 19
 * below 2^8, so values stay below 2^256 and any two may be multiplied
 * (column sums < 20 * 8704^2 < 2^31). Bits at 2^255 and above fold back
 * times 19, bits at 2^260 and above times 608 (= 19 * 2^5).
 */
#include "ecc.h"
#include "limbs.h"

typedef lb fe;

/* Limb 19 keeps bits 247..254; what is above folds back times 19 (2^255 = 19)
 * and is carried through limbs 0..2, which keeps every limb normalised. x is
 * limb 19 with the incoming carry, below 2^31. */
static void fe_top(fe r, int32_t x) {
    r[LB_N - 1] = (uint16_t)(x & 0xff);
    x = r[0] + 19 * (x >> 8);
    r[0] = (uint16_t)(x & LB_MASK);
    x = r[1] + (x >> LB_BITS);
    r[1] = (uint16_t)(x & LB_MASK);
    r[2] = (uint16_t)(r[2] + (x >> LB_BITS));
}

/* Product columns to a normalised element. Column k >= 20 stands for
 * 2^(13k) = 608 * 2^(13(k-20)) (2^260 = 32 * 19): split it into its low 13
 * bits and the rest and fold both down times 608, then one carry pass.
 * Every column stays below 2^31. */
#if defined(__XTENSA__) && defined(__XTENSA_CALL0_ABI__)
void fe25519_reduce(fe r, int32_t t[2 * LB_N]); /* lb_mul_xtensa.S: the same, fused */
#define fe_reduce fe25519_reduce
#else
static void fe_reduce(fe r, int32_t t[2 * LB_N]) {
    for (int k = LB_N; k < 2 * LB_N - 1; k++) {
        int32_t x = t[k];
        t[k - LB_N] += 608 * (x & LB_MASK);
        t[k - LB_N + 1] += 608 * (x >> LB_BITS);
    }
    int32_t c = 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t x = t[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    fe_top(r, t[LB_N - 1] + c);
}
#endif

static void fe_mul(fe r, const fe a, const fe b) {
    int32_t t[2 * LB_N];
    lb_mul(t, a, b);
    fe_reduce(r, t);
}

static void fe_sqr(fe r, const fe a) {
    int32_t t[2 * LB_N];
    lb_sqr(t, a);
    fe_reduce(r, t);
}

static void fe_sqn(fe r, const fe a, int n) {
    fe_sqr(r, a);
    while (--n) fe_sqr(r, r);
}

static void fe_add(fe r, const fe a, const fe b) {
    int32_t c = 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t x = a[i] + b[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    fe_top(r, a[LB_N - 1] + b[LB_N - 1] + c);
}

/* a + 8p - b: 8p with every limb at least the largest normalised limb, so no
 * column goes negative. */
static const lbc P8 = {0x3ffe3f68, 0x3ffe3ffe, 0x3ffe3ffe, 0x3ffe3ffe, 0x3ffe3ffe,
                       0x3ffe3ffe, 0x3ffe3ffe, 0x3ffe3ffe, 0x3ffe3ffe, 0x07fe3ffe};

static void fe_sub(fe r, const fe a, const fe b) {
    int32_t c = 0;
    for (int i = 0; i < LB_N - 2; i += 2) {
        uint32_t w = P8[i / 2];
        int32_t x = (int32_t)(a[i] + (w & 0xffff)) - b[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
        x = (int32_t)(a[i + 1] + (w >> 16)) - b[i + 1] + c;
        r[i + 1] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    uint32_t w = P8[LB_N / 2 - 1];
    int32_t x = (int32_t)(a[LB_N - 2] + (w & 0xffff)) - b[LB_N - 2] + c;
    r[LB_N - 2] = (uint16_t)(x & LB_MASK);
    fe_top(r, (int32_t)(a[LB_N - 1] + (w >> 16)) - b[LB_N - 1] + (x >> LB_BITS));
}

/* r = a + a24 e with a24 = (486662 - 2) / 4 = 121665, in one carry pass. */
static void fe_add_a24(fe r, const fe a, const fe e) {
    int32_t c = 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t x = (int32_t)e[i] * 121665 + a[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    fe_top(r, (int32_t)e[LB_N - 1] * 121665 + a[LB_N - 1] + c);
}

/* z^(p-2) by the usual chain: 254 squarings, 11 multiplications. */
static void fe_invert(fe r, const fe z) {
    fe z2, z9, z11, a, b, c;
    fe_sqr(z2, z);
    fe_sqn(a, z2, 2);
    fe_mul(z9, a, z);
    fe_mul(z11, z9, z2);
    fe_sqr(a, z11);
    fe_mul(b, a, z9);      /* z^(2^5 - 1) */
    fe_sqn(a, b, 5);
    fe_mul(b, a, b);       /* 2^10 - 1 */
    fe_sqn(a, b, 10);
    fe_mul(c, a, b);       /* 2^20 - 1 */
    fe_sqn(a, c, 20);
    fe_mul(a, a, c);       /* 2^40 - 1 */
    fe_sqn(a, a, 10);
    fe_mul(b, a, b);       /* 2^50 - 1 */
    fe_sqn(a, b, 50);
    fe_mul(c, a, b);       /* 2^100 - 1 */
    fe_sqn(a, c, 100);
    fe_mul(a, a, c);       /* 2^200 - 1 */
    fe_sqn(a, a, 50);
    fe_mul(a, a, b);       /* 2^250 - 1 */
    fe_sqn(a, a, 5);
    fe_mul(r, a, z11);     /* 2^255 - 21 */
    ecc_wipe(z2, sizeof z2); ecc_wipe(z9, sizeof z9); ecc_wipe(z11, sizeof z11);
    ecc_wipe(a, sizeof a); ecc_wipe(b, sizeof b); ecc_wipe(c, sizeof c);
}

static const lbc P25519 = {0x1fff1fed, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff,
                           0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x00ff1fff};

/* Canonical little-endian bytes: carry strictly, then subtract p while >= p. */
static void fe_tobytes(uint8_t out[32], const fe a) {
    fe r;
    int32_t v[LB_N];
    for (int i = 0; i < LB_N; i++) v[i] = a[i];
    lb_carry(r, v); /* value < 2^256: limb 19 below 2^9 */
    lb_csub(r, r, P25519);
    lb_csub(r, r, P25519);
    lb_to_le(out, r);
}

int ecc_x25519(uint8_t shared[32], const uint8_t scalar[32], const uint8_t u[32]) {
    uint8_t k[32];
    fe x1, x2, z2, x3, z3, a, b, c, d;
    for (int i = 0; i < 32; i++) k[i] = scalar[i];
    k[0] &= 248;
    k[31] = (uint8_t)((k[31] & 127) | 64);

    lb_from_le(x1, u);
    x1[LB_N - 1] &= 0xff; /* RFC 7748: ignore the top bit of u */
    for (int i = 0; i < LB_N; i++) {
        x2[i] = z3[i] = 0;
        z2[i] = 0;
        x3[i] = x1[i];
    }
    x2[0] = z3[0] = 1;

    uint32_t swap = 0;
    for (int t = 254; t >= 0; t--) {
        uint32_t bit = (k[t >> 3] >> (t & 7)) & 1;
        swap ^= bit;
        lb_cswap2(x2, x3, z2, z3, ct_mask(swap));
        swap = bit;
        fe_add(a, x2, z2);  /* A */
        fe_sub(b, x2, z2);  /* B */
        fe_add(c, x3, z3);  /* C */
        fe_sub(d, x3, z3);  /* D */
        fe_mul(d, d, a);    /* DA */
        fe_mul(c, c, b);    /* CB */
        fe_add(x3, d, c);
        fe_sqr(x3, x3);     /* (DA + CB)^2 */
        fe_sub(z3, d, c);
        fe_sqr(z3, z3);
        fe_mul(z3, z3, x1); /* x1 (DA - CB)^2 */
        fe_sqr(a, a);       /* AA */
        fe_sqr(b, b);       /* BB */
        fe_mul(x2, a, b);   /* AA BB */
        fe_sub(b, a, b);    /* E = AA - BB */
        fe_add_a24(c, a, b); /* AA + a24 E */
        fe_mul(z2, b, c);
    }
    lb_cswap2(x2, x3, z2, z3, ct_mask(swap));

    fe_invert(z2, z2);
    fe_mul(x2, x2, z2);
    fe_tobytes(shared, x2);

    ecc_wipe(k, sizeof k);
    ecc_wipe(x2, sizeof x2); ecc_wipe(z2, sizeof z2); ecc_wipe(x3, sizeof x3);
    ecc_wipe(z3, sizeof z3); ecc_wipe(a, sizeof a); ecc_wipe(b, sizeof b);
    ecc_wipe(c, sizeof c); ecc_wipe(d, sizeof d);

    uint8_t any = 0;
    for (int i = 0; i < 32; i++) any |= shared[i];
    return any ? ECC_OK : ECC_EZERO; /* the result is public once it is rejected */
}

void ecc_x25519_base(uint8_t pub[32], const uint8_t scalar[32]) {
    uint8_t nine[32]; /* on the stack: no byte-wide table in rodata */
    for (int i = 0; i < 32; i++) nine[i] = 0;
    nine[0] = 9;
    ecc_x25519(pub, scalar, nine); /* never zero: 9 generates the prime-order subgroup */
}
