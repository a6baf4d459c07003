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
void ecc_fe25519_reduce(fe r, int32_t t[2 * LB_N]); /* lb_mul_xtensa.S: the same, fused */
#define fe_reduce ecc_fe25519_reduce
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
    ecc_lb_mul(t, a, b);
    fe_reduce(r, t);
}

static void fe_sqr(fe r, const fe a) {
    int32_t t[2 * LB_N];
    ecc_lb_sqr(t, a);
    fe_reduce(r, t);
}

/* r = a + m b for m = 1 (sum) or m = 121665 = (486662 - 2) / 4 (a24 times
 * e), and r = a + 8p - b for m = -1, in one carry pass. 8p = 2^258 - 152
 * has limbs 0x3ffe (0x7fe on top) less 150 in limb 0, each at least the
 * largest normalised limb, so no column goes negative. */
static void fe_lin(fe r, const fe a, const fe b, int32_t m) {
    int32_t k = m < 0 ? 0x3ffe : 0, c = m < 0 ? -150 : 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t x = a[i] + m * b[i] + k + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    fe_top(r, a[LB_N - 1] + m * b[LB_N - 1] + (k & 0x7fe) + c);
}

static const lbc P25519 = {0x1fff1fed, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff,
                           0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x1fff1fff, 0x00ff1fff};

/* Canonical little-endian bytes: carry strictly, then subtract p while >= p. */
static void fe_tobytes(uint8_t out[32], const fe a) {
    fe r;
    int32_t c = 0;
    for (int i = 0; i < LB_N; i++) { /* value < 2^256: nothing carries out of limb 19 */
        int32_t x = a[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    ecc_lb_csub(r, r, P25519);
    ecc_lb_csub(r, r, P25519);
    ecc_lb_to_le(out, r);
}

/* The ladder and the inversion as programs over a workspace of field
 * elements: two 16-bit ops per word, op = code | d << 3 | a << 7 | b << 11
 * (d = a op b, slots of the workspace), a zero op ends the program. A call
 * per field operation from C takes several times the bytes of an op. */
enum { FE_END, FE_MUL, FE_SQR, FE_ADD, FE_SUB, FE_A24, FE_SQN };
#define OP(c, d, a, b) ((uint32_t)(c) | (uint32_t)(d) << 3 | (uint32_t)(a) << 7 | (uint32_t)(b) << 11)
#define OPS(x, y) ((x) | (y) << 16)
#define MUL(d, a, b) OP(FE_MUL, d, a, b)
#define SQR(d, a) OP(FE_SQR, d, a, 0)
#define ADD(d, a, b) OP(FE_ADD, d, a, b)
#define SUB(d, a, b) OP(FE_SUB, d, a, b)
#define A24(d, a, b) OP(FE_A24, d, a, b) /* d = a + a24 b */
#define SQN(d, n) OP(FE_SQN, d, (n) & 15, (n) >> 4) /* d = d^(2^n), n < 256 */

/* Workspace slots: the ladder's state and temporaries, reused by the
 * inversion once the ladder is done. */
enum { X1, X2, Z2, X3, Z3, A, B, C, D, NSLOT };

/* One ladder step (RFC 7748), after the conditional swap. */
static const uint32_t LADDER[] = {
    OPS(ADD(A, X2, Z2), SUB(B, X2, Z2)),
    OPS(ADD(C, X3, Z3), SUB(D, X3, Z3)),
    OPS(MUL(D, D, A), MUL(C, C, B)),     /* DA, CB */
    OPS(ADD(X3, D, C), SQR(X3, X3)),     /* (DA + CB)^2 */
    OPS(SUB(Z3, D, C), SQR(Z3, Z3)),
    OPS(MUL(Z3, Z3, X1), SQR(A, A)),     /* x1 (DA - CB)^2, AA */
    OPS(SQR(B, B), MUL(X2, A, B)),       /* BB, x2 = AA BB */
    OPS(SUB(B, A, B), A24(C, A, B)),     /* E = AA - BB, AA + a24 E */
    OPS(MUL(Z2, B, C), 0),
};

/* x2 / z2: z2^(p-2) by the usual chain (254 squarings, 11 multiplications),
 * z2 in Z2, z^2 in D, z^9 in X3, z^11 in Z3. */
static const uint32_t INVERT[] = {
    OPS(SQR(D, Z2), SQR(A, D)),
    OPS(SQR(A, A), MUL(X3, A, Z2)),      /* z^9 */
    OPS(MUL(Z3, X3, D), SQR(A, Z3)),     /* z^11 */
    OPS(MUL(B, A, X3), SQR(A, B)),       /* B = z^(2^5 - 1) */
    OPS(SQN(A, 4), MUL(B, A, B)),        /* 2^10 - 1 */
    OPS(SQR(A, B), SQN(A, 9)),
    OPS(MUL(C, A, B), SQR(A, C)),        /* C = 2^20 - 1 */
    OPS(SQN(A, 19), MUL(A, A, C)),       /* 2^40 - 1 */
    OPS(SQN(A, 10), MUL(B, A, B)),       /* B = 2^50 - 1 */
    OPS(SQR(A, B), SQN(A, 49)),
    OPS(MUL(C, A, B), SQR(A, C)),        /* C = 2^100 - 1 */
    OPS(SQN(A, 99), MUL(A, A, C)),       /* 2^200 - 1 */
    OPS(SQN(A, 50), MUL(A, A, B)),       /* 2^250 - 1 */
    OPS(SQN(A, 5), MUL(Z2, A, Z3)),      /* 2^255 - 21 */
    OPS(MUL(X2, X2, Z2), 0),
};

static void fe_run(fe *s, const uint32_t *prog) {
    for (;; prog++) {
        uint32_t w = *prog;
        for (int h = 0; h < 2; h++, w >>= 16) {
            uint16_t *d = s[(w >> 3) & 15], *a = s[(w >> 7) & 15], *b = s[(w >> 11) & 15];
            switch (w & 7) {
            case FE_END: return;
            case FE_MUL: fe_mul(d, a, b); break;
            case FE_SQR: fe_sqr(d, a); break;
            case FE_ADD: fe_lin(d, a, b, 1); break;
            case FE_SUB: fe_lin(d, a, b, -1); break;
            case FE_A24: fe_lin(d, a, b, 121665); break;
            default:
                for (uint32_t n = (w >> 7) & 0xff; n; n--) fe_sqr(d, d);
            }
        }
    }
}

int ecc_x25519(uint8_t shared[32], const uint8_t scalar[32], const uint8_t u[32]) {
    fe s[NSLOT];
    ecc_lb_from_le(s[X1], u);
    s[X1][LB_N - 1] &= 0xff; /* RFC 7748: ignore the top bit of u */
    for (int i = 0; i < LB_N; i++) {
        s[X2][i] = s[Z3][i] = 0;
        s[Z2][i] = 0;
        s[X3][i] = s[X1][i];
    }
    s[X2][0] = s[Z3][0] = 1;

    uint32_t swap = 0;
    for (int t = 254; t >= 0; t--) {
        /* the clamped scalar: bit 254 set, bits 0..2 clear (bit 255 unused) */
        uint32_t bit = t == 254 ? 1 : t < 3 ? 0 : (scalar[t >> 3] >> (t & 7)) & 1;
        swap ^= bit;
        ecc_lb_cswap2(s[X2], s[X3], s[Z2], s[Z3], ct_mask(swap));
        swap = bit;
        fe_run(s, LADDER);
    }
    ecc_lb_cswap2(s[X2], s[X3], s[Z2], s[Z3], ct_mask(swap));
    fe_run(s, INVERT);
    fe_tobytes(shared, s[X2]);

    ecc_wipe(s, sizeof s);

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
