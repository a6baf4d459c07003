/* P-256: Montgomery arithmetic on 20 limbs of 13 bits (R = 2^260), Jacobian
 * points with a complete, branch-free addition, a co-Z Montgomery ladder for
 * variable points, a signed 4-tooth comb over a constant table for the
 * generator, and for verification the same comb with Shamir's trick.
 *
 * Field values are kept below 2^257 and scalars below 2n, with limbs below
 * 2^13; Montgomery products of such values stay in range because R >> p.
 * Everything that touches a secret is straight-line or fixed-count code with
 * masked selects; only signature verification (public inputs) branches.
 */
#include "ecc.h"
#include "limbs.h"
#include "sha256.h"

#include "p256_consts.h"

typedef struct {
    lb x, y, z;
} pt; /* Jacobian, Montgomery form; z == 0 is the point at infinity */

/* ---- field mod p --------------------------------------------------------- */

/* Montgomery reduction by p = 2^256 - 2^224 + 2^192 + 2^96 - 1: -1/p mod 2^13
 * is 1, so each digit m is the low limb itself and m*p is four shifted adds. */
static void fp_redc(lb r, int32_t t[2 * LB_N]) {
    for (int i = 0; i < LB_N; i++) {
        int32_t x = t[i], m = x & LB_MASK;
        t[i + 1] += x >> LB_BITS; /* (x - m) / 2^13: the low limb becomes zero */
        t[i + 7] += m << 5;       /* 2^96  = 2^(13*7 + 5)  */
        t[i + 14] += m << 10;     /* 2^192 = 2^(13*14 + 10) */
        t[i + 17] -= m << 3;      /* 2^224 = 2^(13*17 + 3)  */
        t[i + 19] += m << 9;      /* 2^256 = 2^(13*19 + 9)  */
    }
    ecc_lb_carry(r, t + LB_N);
}

static void fp_mul(lb r, const lb a, const lb b) {
    int32_t t[2 * LB_N];
    ecc_lb_mul(t, a, b);
    fp_redc(r, t);
}

static void fp_sqr(lb r, const lb a) {
    int32_t t[2 * LB_N];
    ecc_lb_sqr(t, a);
    fp_redc(r, t);
}

/* After an addition: limbs carried, and what is at 2^256 and above (t < 8)
 * folded back as t (2^224 - 2^192 - 2^96 + 1), then carried again. In:
 * r[0..18] below 2^13, x = limb 19 with its carry. Out: below 2^257. */
static void fp_fold(lb r, int32_t x) {
    int32_t t = x >> 9;
    /* The folded limbs may go negative: they wrap as uint16 and are read back
     * as int16 by the carry pass (|limb| stays below 2^15). */
    r[LB_N - 1] = (uint16_t)(x & 0x1ff);
    r[0] = (uint16_t)(r[0] + t);
    r[7] = (uint16_t)(r[7] - (t << 5));
    r[14] = (uint16_t)(r[14] - (t << 10));
    r[17] = (uint16_t)(r[17] + (t << 3));
    int32_t c = 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t y = (int16_t)r[i] + c;
        r[i] = (uint16_t)(y & LB_MASK);
        c = y >> LB_BITS;
    }
    r[LB_N - 1] = (uint16_t)(r[LB_N - 1] + c);
}

/* Sums and differences are kept below 2^257 rather than fully reduced: a
 * Montgomery product of such values is again below 2^257, and comparisons
 * reduce first (fp_canon). */
static void fp_add(lb r, const lb a, const lb b) {
    int32_t c = 0;
    for (int i = 0; i < LB_N - 1; i++) {
        int32_t x = a[i] + b[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    fp_fold(r, a[LB_N - 1] + b[LB_N - 1] + c);
}

/* a - b + 4p: positive for inputs below 2^257. */
static void fp_sub(lb r, const lb a, const lb b) {
    int32_t c = 0, x;
    for (int i = 0; i < LB_N - 2; i += 2) {
        uint32_t w = P4[i / 2];
        x = (int32_t)(a[i] + (w & 0xffff)) - b[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
        x = (int32_t)(a[i + 1] + (w >> 16)) - b[i + 1] + c;
        r[i + 1] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    uint32_t w = P4[LB_N / 2 - 1];
    x = (int32_t)(a[LB_N - 2] + (w & 0xffff)) - b[LB_N - 2] + c;
    r[LB_N - 2] = (uint16_t)(x & LB_MASK);
    fp_fold(r, (int32_t)(a[LB_N - 1] + (w >> 16)) - b[LB_N - 1] + (x >> LB_BITS));
}

static void fp_neg(lb r, const lb a) {
    lb z;
    for (int i = 0; i < LB_N; i++) z[i] = 0;
    fp_sub(r, z, a);
}

/* Fully reduced (below p), still in Montgomery form: values are below
 * 2^257 < 3p. */
static void fp_canon(lb r, const lb a) {
    ecc_lb_csub(r, a, P);
    ecc_lb_csub(r, r, P);
}

static uint32_t fp_is_zero(const lb a) {
    lb c;
    fp_canon(c, a);
    return ecc_lb_is_zero(c);
}

static uint32_t fp_eq(const lb a, const lb b) {
    lb d;
    fp_sub(d, a, b);
    return fp_is_zero(d);
}

/* a^e mod p by left-to-right square-and-multiply; the exponent (eight words,
 * most significant first) is public. r must not alias a. */
static void fp_pow(lb r, const lb a, const uint32_t e[8]) {
    ecc_lb_unpack(r, ONE_P);
    for (int i = 0; i < 256; i++) {
        fp_sqr(r, r);
        if ((e[i >> 5] >> (31 - (i & 31))) & 1) fp_mul(r, r, a);
    }
}

/* Big-endian bytes below p into Montgomery form; 0 if the value is >= p. */
static uint32_t fp_from_bytes(lb r, const uint8_t in[32]) {
    lb x, rr;
    ecc_lb_from_be(x, in);
    uint32_t ok = ecc_lb_lt(x, P);
    ecc_lb_unpack(rr, RR_P);
    fp_mul(r, x, rr);
    return ok;
}

static void lb_one(lb r) {
    for (int i = 0; i < LB_N; i++) r[i] = 0;
    r[0] = 1;
}

static void fp_to_bytes(uint8_t out[32], const lb a) {
    lb x, one;
    lb_one(one);
    fp_mul(x, a, one);
    fp_canon(x, x);
    ecc_lb_to_be(out, x);
}

/* ---- scalars mod n --------------------------------------------------------- */

/* Montgomery reduction by n: a generic digit-by-digit pass (n has no special
 * form). Unsigned: every column stays below 2^32. */
static void sc_redc(lb r, int32_t t[2 * LB_N]) {
    uint32_t *u = (uint32_t *)t;
    for (int i = 0; i < LB_N; i++) {
        uint32_t m = ((u[i] & LB_MASK) * N0) & LB_MASK;
        for (int j = 0; j < LB_N; j += 2) {
            uint32_t w = N[j / 2];
            u[i + j] += m * (w & 0xffff);
            u[i + j + 1] += m * (w >> 16);
        }
        u[i + 1] += u[i] >> LB_BITS;
    }
    /* columns may pass 2^31 here, so carry unsigned (ecc_lb_carry is signed) */
    uint32_t c = 0;
    for (int i = 0; i < LB_N; i++) {
        uint32_t v = u[LB_N + i] + c;
        r[i] = (uint16_t)(v & LB_MASK);
        c = v >> LB_BITS;
    }
}

static void sc_mul(lb r, const lb a, const lb b) {
    int32_t t[2 * LB_N];
    ecc_lb_mul(t, a, b);
    sc_redc(r, t);
}

static void sc_sqr(lb r, const lb a) {
    int32_t t[2 * LB_N];
    ecc_lb_sqr(t, a);
    sc_redc(r, t);
}

/* Big-endian scalar; returns 1 if 0 < k < n. Constant time. */
static uint32_t sc_from_bytes(lb r, const uint8_t in[32]) {
    ecc_lb_from_be(r, in);
    return ecc_lb_lt(r, N) & (1 ^ ecc_lb_is_zero(r));
}

static void sc_to_bytes(uint8_t out[32], const lb a) {
    lb x;
    ecc_lb_csub(x, a, N);
    ecc_lb_to_be(out, x);
}

/* r = a + b mod n for canonical a, b (below n). */
static void sc_add(lb r, const lb a, const lb b) {
    int32_t v[LB_N];
    for (int i = 0; i < LB_N; i++) v[i] = a[i] + b[i];
    ecc_lb_carry(r, v);
    ecc_lb_csub(r, r, N);
}

/* r = a^-1 mod n (Fermat), both plain (not Montgomery) form; a != 0. Also
 * used for verification (public input), where a variable-time inversion would
 * be faster but is more code.
 * Fixed 3-bit windows over the public exponent n - 2 (86 windows, the top
 * one padded with zeros): 258 squarings and 86 multiplications by table
 * entries chosen by public indices. 3 bits rather than 4 keeps the table at
 * 320 bytes of stack. */
__attribute__((noinline)) /* its table must not sit on the stack under pt_mul_comb */
static void sc_inv(lb r, const lb a) {
    lb tab[8], x;
    ecc_lb_unpack(x, RR_N);
    ecc_lb_unpack(tab[0], ONE_N);
    sc_mul(tab[1], a, x); /* a R */
    for (int i = 2; i < 8; i++) sc_mul(tab[i], tab[i - 1], tab[1]);
    ecc_lb_unpack(x, ONE_N);
    for (int i = 85; i >= 0; i--) {
        uint32_t w = 0;
        for (int b = 2; b >= 0; b--) {
            int j = 3 * i + b; /* bit j of n - 2, least significant first */
            uint32_t bit = j < 256 ? (N_MINUS_2[7 - (j >> 5)] >> (j & 31)) & 1 : 0;
            w = (w << 1) | bit;
        }
        for (int k = 0; k < 3; k++) sc_sqr(x, x);
        sc_mul(x, x, tab[w]); /* x * 1 (R) when the window is 0: uniform */
    }
    lb_one(tab[0]);
    sc_mul(r, x, tab[0]);
    ecc_lb_csub(r, r, N);
    ecc_wipe(tab, sizeof tab);
    ecc_wipe(x, sizeof x);
}

/* Plain r = a - b over the limbs; returns 1 on borrow (a < b). */
static uint32_t lb_sub(lb r, const lb a, const lb b) {
    int32_t c = 0;
    for (int i = 0; i < LB_N; i++) {
        int32_t x = (int32_t)a[i] - b[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
    return (uint32_t)c & 1;
}

/* r += n modulo 2^260: undoes a borrowing lb_sub, or makes an odd r even. */
static void lb_add_n(lb r) {
    lb t;
    ecc_lb_unpack(t, N);
    int32_t c = 0;
    for (int i = 0; i < LB_N; i++) {
        int32_t x = r[i] + t[i] + c;
        r[i] = (uint16_t)(x & LB_MASK);
        c = x >> LB_BITS;
    }
}

/* x >>= 1 (limbs below 2^13) */
static void lb_shr1(lb x) {
    for (int i = 0; i < LB_N - 1; i++) x[i] = (uint16_t)((x[i] >> 1) | ((x[i + 1] & 1) << 12));
    x[LB_N - 1] >>= 1;
}

/* Plain product a*b mod n, canonical. */
static void sc_mulmod(lb r, const lb a, const lb b) {
    lb bm;
    ecc_lb_unpack(bm, RR_N);
    sc_mul(bm, b, bm);
    sc_mul(r, a, bm);
    ecc_lb_csub(r, r, N);
    ecc_wipe(bm, sizeof bm);
}

/* Digest as an integer mod n (bits2int then one subtraction: 2^256 < 2n). */
static void sc_from_digest(lb r, const uint8_t d[32]) {
    ecc_lb_from_be(r, d);
    ecc_lb_csub(r, r, N);
}

/* ---- points ---------------------------------------------------------------- */

/* Field by field, not struct assignment: the core must not pull in memcpy. */
static void pt_copy(pt *r, const pt *p) {
    for (int i = 0; i < LB_N; i++) {
        r->x[i] = p->x[i];
        r->y[i] = p->y[i];
        r->z[i] = p->z[i];
    }
}

static void pt_cmov(pt *r, const pt *p, uint32_t mask) {
    ecc_lb_cmov(r->x, p->x, mask);
    ecc_lb_cmov(r->y, p->y, mask);
    ecc_lb_cmov(r->z, p->z, mask);
}

static void pt_set_inf(pt *r) {
    ecc_lb_unpack(r->x, ONE_P);
    ecc_lb_unpack(r->y, ONE_P);
    for (int i = 0; i < LB_N; i++) r->z[i] = 0;
}

/* Point formulas as programs: two 16-bit ops per word,
 * op = code | d << 3 | a << 7 | b << 11 (d = a op b, indices into an array of
 * field element pointers), a zero op ends the program. An op with F_FULL is
 * skipped when fp_run's skip argument is 1 (pt_add with an affine q). A call
 * per field operation from C takes several times the bytes of an op. */
enum { F_END, F_MUL, F_SQR, F_ADD, F_SUB };
#define OP(c, d, a, b) ((uint32_t)(c) | (uint32_t)(d) << 3 | (uint32_t)(a) << 7 | (uint32_t)(b) << 11)
#define OPS(x, y) ((x) | (y) << 16)
#define MUL(d, a, b) OP(F_MUL, d, a, b)
#define SQR(d, a) OP(F_SQR, d, a, 0)
#define ADD(d, a, b) OP(F_ADD, d, a, b)
#define SUB(d, a, b) OP(F_SUB, d, a, b)
#define F_FULL 0x8000u

static void fp_run(uint16_t *const *v, const uint32_t *prog, uint32_t skip) {
    for (;; prog++) {
        uint32_t w = *prog;
        for (int h = 0; h < 2; h++, w >>= 16) {
            uint32_t c = w & 7;
            uint16_t *d = v[(w >> 3) & 15], *a = v[(w >> 7) & 15], *b = v[(w >> 11) & 15];
            if (c == F_END) return;
            if ((w >> 15) & skip & 1) continue;
            if (c == F_MUL) fp_mul(d, a, b);
            else if (c == F_SQR) fp_sqr(d, a);
            else if (c == F_ADD) fp_add(d, a, b);
            else fp_sub(d, a, b);
        }
    }
}

/* Slots shared by the point programs: p, then q or the result, then
 * temporaries. */
enum { PX, PY, PZ, QX, QY, QZ, T0, T1, T2, T3, T4, T5, T6, T7, T8 };

/* dbl-2001-b (a = -3): (QX, QY, QZ) = 2 (PX, PY, PZ); T0 delta then beta,
 * T1 gamma, T2 alpha, T3 scratch. The result may alias p. */
static const uint32_t DOUBLE[] = {
    OPS(SQR(T0, PZ), SQR(T1, PY)),
    OPS(SUB(T3, PX, T0), ADD(T2, PX, T0)),
    OPS(MUL(T2, T2, T3), ADD(T3, T2, T2)),
    OPS(ADD(T2, T2, T3), ADD(T3, PY, PZ)),  /* alpha = 3 (x - delta)(x + delta) */
    OPS(SQR(T3, T3), SUB(T3, T3, T1)),
    OPS(SUB(QZ, T3, T0), MUL(T0, PX, T1)),  /* (y + z)^2 - gamma - delta */
    OPS(ADD(T0, T0, T0), ADD(T0, T0, T0)),  /* 4 beta */
    OPS(SQR(T3, T2), SUB(T3, T3, T0)),
    OPS(SUB(QX, T3, T0), SUB(T0, T0, QX)),  /* alpha^2 - 8 beta */
    OPS(MUL(T0, T0, T2), SQR(T1, T1)),
    OPS(ADD(T1, T1, T1), ADD(T1, T1, T1)),
    OPS(ADD(T1, T1, T1), SUB(QY, T0, T1)),  /* alpha (4 beta - x3) - 8 gamma^2 */
    0,
};

/* Infinity doubles to infinity (z3 = 0). r may alias p. */
static void pt_double(pt *r, const pt *p) {
    lb t[4];
    uint16_t *v[T4] = {(uint16_t *)p->x, (uint16_t *)p->y, (uint16_t *)p->z, r->x, r->y, r->z,
                       t[0], t[1], t[2], t[3]};
    fp_run(v, DOUBLE, 0);
}

/* How pt_add treats p == q, where the addition formula fails. */
enum {
    ADD_COMPLETE = 1, /* always compute the doubling too, select it in constant time */
    ADD_VARTIME = 2,  /* public inputs: double only when needed */
    ADD_AFFINE_Q = 4, /* flag: q has z = 1 (or is infinity), saving four products */
};

/* add-2007-bl into T0..T6 = h, z1z1, t, z2z2, u1, s1, s2: the sum lands in
 * (T0, T1, T2), 2r in T6. T7, T8 are u1 and s1 as first read: T4, T5, or x1
 * and y1 when q is affine, when QZ also stands for z1 and the F_FULL ops are
 * skipped ((z1 + 1)^2 - z1z1 - 1 = 2 z1). */
static const uint32_t ADD_PQ[] = {
    OPS(SQR(T3, QZ) | F_FULL, MUL(T4, PX, T3) | F_FULL),
    OPS(MUL(T5, PY, QZ) | F_FULL, MUL(T5, T5, T3) | F_FULL),
    OPS(SQR(T1, PZ), MUL(T0, QX, T1)),       /* u2 */
    OPS(MUL(T6, QY, PZ), MUL(T6, T6, T1)),
    OPS(SUB(T0, T0, T7), SUB(T6, T6, T8)),   /* h = u2 - u1, r / 2 */
    OPS(ADD(T2, PZ, QZ), SQR(T2, T2) | F_FULL),
    OPS(SUB(T2, T2, T1) | F_FULL, SUB(T2, T2, T3) | F_FULL),
    OPS(MUL(T2, T2, T0), ADD(T1, T0, T0)),   /* z3 = ((z1 + z2)^2 - z1z1 - z2z2) h */
    OPS(SQR(T1, T1), MUL(T3, T0, T1)),       /* i = (2h)^2, j = h i */
    OPS(ADD(T6, T6, T6), MUL(T4, T7, T1)),   /* r, v = u1 i */
    OPS(SQR(T1, T6), SUB(T1, T1, T3)),
    OPS(SUB(T1, T1, T4), SUB(T0, T1, T4)),   /* x3 = r^2 - j - 2v */
    OPS(SUB(T4, T4, T0), MUL(T4, T4, T6)),
    OPS(MUL(T5, T8, T3), ADD(T5, T5, T5)),
    OPS(SUB(T1, T4, T5), 0),                 /* y3 = r (v - x3) - 2 s1 j */
};

/* Infinity on either side returns the other, and p == q takes the doubling
 * as `mode` says. r may alias p or q. */
static void pt_add(pt *r, const pt *p, const pt *q, int mode) {
    /* The result is built in the first three slots as o, and the doubling,
     * when needed, lands in the next three once they are dead. */
    union {
        lb t[7];
        struct {
            pt o, d;
            lb spare;
        } p;
    } w;
    uint32_t affine = (mode & ADD_AFFINE_Q) ? 1 : 0;
    uint16_t *v[T8 + 1] = {(uint16_t *)p->x, (uint16_t *)p->y, (uint16_t *)p->z,
                           (uint16_t *)q->x, (uint16_t *)q->y, (uint16_t *)q->z};
    for (int i = 0; i < 7; i++) v[T0 + i] = w.t[i];
    v[T7] = w.t[4];
    v[T8] = w.t[5];
    if (affine) {
        v[QZ] = (uint16_t *)p->z;
        v[T7] = (uint16_t *)p->x;
        v[T8] = (uint16_t *)p->y;
    }
    fp_run(v, ADD_PQ, affine);
    /* p == q: h = 0 and r = 0, so z3 = 0 and 2r = 0 (z3 is 2 z1 z2 h, which
     * only infinity on one side also zeroes, and then that side decides). */
    uint32_t same = fp_is_zero(w.p.o.z) & fp_is_zero(w.t[6]);
    uint32_t p_inf = fp_is_zero(p->z), q_inf = fp_is_zero(q->z);
    if ((mode & ADD_COMPLETE) || ((mode & ADD_VARTIME) && (same & (1 ^ p_inf) & (1 ^ q_inf)))) {
        pt_double(&w.p.d, p);
        pt_cmov(&w.p.o, &w.p.d, ct_mask(same));
    }
    pt_cmov(&w.p.o, q, ct_mask(p_inf));
    pt_cmov(&w.p.o, p, ct_mask(q_inf));
    pt_copy(r, &w.p.o);
}

/* Affine coordinates (plain big-endian bytes); 0 for the point at infinity. */
static uint32_t pt_to_affine(uint8_t x[32], uint8_t y[32], const pt *p) {
    lb zi, zi2, t;
    uint32_t ok = 1 ^ fp_is_zero(p->z);
    fp_pow(zi, p->z, P_MINUS_2);
    fp_sqr(zi2, zi);
    fp_mul(t, p->x, zi2);
    fp_to_bytes(x, t);
    if (y) {
        fp_mul(zi2, zi2, zi);
        fp_mul(t, p->y, zi2);
        fp_to_bytes(y, t);
    }
    return ok;
}

/* r = x^3 - 3x + b, Montgomery form. */
static void curve_rhs(lb r, const lb x) {
    lb t;
    fp_sqr(r, x);
    fp_mul(r, r, x);
    fp_add(t, x, x);
    fp_add(t, t, x);
    fp_sub(r, r, t);
    ecc_lb_unpack(t, B_M);
    fp_add(r, r, t);
}

/* y^2 == x^3 - 3x + b, Montgomery form. */
static uint32_t on_curve(const lb x, const lb y) {
    lb l, r;
    fp_sqr(l, y);
    curve_rhs(r, x);
    return fp_eq(l, r);
}

/* Public key X||Y into a Jacobian point; 0 unless both coordinates are
 * below p and the point is on the curve (the curve has no other subgroup). */
static uint32_t pt_from_bytes(pt *r, const uint8_t in[64]) {
    uint32_t ok = fp_from_bytes(r->x, in) & fp_from_bytes(r->y, in + 32);
    ecc_lb_unpack(r->z, ONE_P);
    return ok & on_curve(r->x, r->y);
}

/* One step of the co-Z ladder, on (QX, QY) = R_b and (T0, T1) = R_(1-b) at
 * the common z (T2), temporaries T3..T7 (c, w1, w2, a1, s).
 * Conjugate co-Z addition (ZADDC), 5M + 3S (+1M for z): slot 1 becomes
 * R0 + R1, slot 0 R_b - R_(1-b) = +-P. Then co-Z addition (ZADDU), 4M + 2S
 * (+1M for z): slot 0 becomes R0 + R1 +- P = 2 R_b, slot 1 the same R0 + R1
 * rescaled. Both need distinct x (see pt_mul). */
static const uint32_t LADDER[] = {
    /* ZADDC(x1, y1 = QX, QY; x2, y2 = T0, T1) */
    OPS(SUB(T3, QX, T0), MUL(T2, T2, T3)),
    OPS(SQR(T3, T3), MUL(T4, QX, T3)),      /* w1 */
    OPS(MUL(T5, T0, T3), SUB(T3, T4, T5)),  /* w2 */
    OPS(MUL(T6, QY, T3), ADD(T7, QY, T1)),  /* a1 = y1 (w1 - w2), s = y1 + y2 */
    OPS(SUB(T1, QY, T1), SQR(T3, T1)),
    OPS(SUB(T3, T3, T4), SUB(T0, T3, T5)),
    OPS(SUB(T3, T4, T0), MUL(T3, T3, T1)),
    OPS(SUB(T1, T3, T6), SQR(T3, T7)),      /* sum */
    OPS(SUB(T3, T3, T4), SUB(QX, T3, T5)),
    OPS(SUB(T3, T4, QX), MUL(T3, T3, T7)),
    OPS(SUB(QY, T3, T6),                    /* difference */
    /* ZADDU(x1, y1 = T0, T1; x2, y2 = QX, QY): the sum into (QX, QY), (T0, T1)
     * rescaled; d in T6 */
        SUB(T3, T0, QX)),
    OPS(MUL(T2, T2, T3), SQR(T3, T3)),
    OPS(MUL(T0, T0, T3), MUL(T5, QX, T3)),  /* w1 (x1 rescaled), w2 */
    OPS(SUB(T6, T1, QY), SUB(T3, T0, T5)),
    OPS(MUL(T1, T1, T3), SQR(T3, T6)),      /* y1 (w1 - w2): y1 rescaled */
    OPS(SUB(T3, T3, T0), SUB(QX, T3, T5)),  /* d^2 - w1 - w2 */
    OPS(SUB(T3, T0, QX), MUL(T3, T3, T6)),
    OPS(SUB(QY, T3, T1), 0),                /* d (w1 - x3) - y1 (w1 - w2) */
};

/* P at the z of 2P: x z^2, y z^3 into (QX, QY), z in T2. */
static const uint32_t RESCALE[] = {
    OPS(SQR(T3, T2), MUL(QX, PX, T3)),
    OPS(MUL(T3, T3, T2), MUL(QY, PY, T3)),
    0,
};

/* all-ones if a == b (limbs below 2^13), constant time */
static uint32_t lb_eq_mask(const lb a, const lb b) {
    uint32_t x = 0;
    for (int i = 0; i < LB_N; i++) x |= (uint32_t)(a[i] ^ b[i]);
    return ct_mask(1 & ((x - 1) >> 31));
}

/* k*P for a secret 0 < k < n and an affine P (z = 1), constant time: the
 * Montgomery ladder with co-Z additions (Goundar, Joye, Miyaji), no table.
 *
 * The scalar runs as k' = k + n or k + 2n, whichever has bit 256 set, so the
 * ladder always takes 256 steps. It keeps R0 = jP, R1 = (j+1)P; a step needs
 * 2j + 1 != 0 and j != 0, -1 mod n. With j = floor(k' / 2^(i+1)) at bit i,
 * that fails only for k' in [2n - 2, 2n + 1], that is k in {1, n-2, n-1}:
 * their results (P, -2P, -P) are computed aside and selected. */
static void pt_mul(pt *r, const uint8_t k[32], const pt *p) {
    lb kk, t[6];
    pt e;
    ecc_lb_from_be(kk, k);
    lb_add_n(kk);
    for (int i = 0; i < LB_N; i++) t[0][i] = kk[i];
    lb_add_n(t[0]);
    ecc_lb_cmov(kk, t[0], ct_mask(1 ^ ((uint32_t)(kk[19] >> 9) & 1))); /* bit 256 = 13 * 19 + 9 */

    /* R1 = 2P (z = 2y), and R0 = P rescaled to that z: slot 0 is (r->x,
     * r->y), slot 1 (e.x, e.y), the common z e.z. */
    uint16_t *v[T8] = {(uint16_t *)p->x, (uint16_t *)p->y, 0, r->x, r->y, 0, e.x, e.y, e.z,
                       t[1], t[2], t[3], t[4], t[5]};
    pt_double(&e, p);
    fp_run(v, RESCALE, 0);

    uint32_t swap = 0;
    int limb = 19, bit = 8; /* bit 255; no division in the core */
    for (int i = 255; i >= 0; i--) {
        uint32_t b = (uint32_t)(kk[limb] >> bit) & 1;
        if (--bit < 0) { /* follows the loop counter, not the scalar */
            bit = LB_BITS - 1;
            limb--;
        }
        swap ^= b;
        ecc_lb_cswap2(r->x, e.x, r->y, e.y, ct_mask(swap));
        swap = b;
        /* slot 0 holds R_b, slot 1 holds R_(1-b) */
        fp_run(v, LADDER, 0);
    }
    ecc_lb_cswap2(r->x, e.x, r->y, e.y, ct_mask(swap));
    for (int i = 0; i < LB_N; i++) r->z[i] = e.z[i];

    /* The three scalars the ladder cannot take. */
    ecc_lb_from_be(kk, k);
    lb_one(t[0]);
    pt_cmov(r, p, lb_eq_mask(kk, t[0]));       /* k = 1: P */
    ecc_lb_unpack(t[1], N);
    lb_sub(t[1], t[1], t[0]);
    uint32_t m1 = lb_eq_mask(kk, t[1]);        /* k = n - 1: -P */
    lb_sub(t[1], t[1], t[0]);
    uint32_t m2 = lb_eq_mask(kk, t[1]);        /* k = n - 2: -2P */
    pt_double(&e, p);
    pt_cmov(&e, p, m1);
    fp_neg(e.y, e.y);
    pt_cmov(r, &e, m1 | m2);
    ecc_wipe(kk, sizeof kk);
    ecc_wipe(t, sizeof t);
    ecc_wipe(&e, sizeof e);
}

/* The comb's point for column j: sum over b of (2 m_(j+64b) - 1) 2^(64b) G,
 * negated when neg is 1, with m the recoded scalar as little-endian bytes
 * (pt_mul_comb). The sign of the top tooth chooses between entry u and its
 * negation, the other teeth relative to it choose u. Constant time: every
 * entry is read, and m is only indexed by j. */
__attribute__((noinline)) static void comb_point(pt *s, const uint8_t m[32], int j, uint32_t neg) {
    union {
        uint32_t w[16];
        lb t; /* -y, once w is spent */
    } x;
    uint32_t *w = x.w;
    uint8_t bytes[64];
    int sh = j & 7;
    uint32_t top = (m[(j + 192) >> 3] >> sh) & 1, u = 0;
    for (int b = 0; b < 3; b++) u |= (1 ^ top ^ ((m[(j + 64 * b) >> 3] >> sh) & 1)) << b;
    for (int i = 0; i < 16; i++) w[i] = 0;
    for (uint32_t e = 0; e < 8; e++) {
        uint32_t mask = ct_mask(1 & ((u ^ e) - 1) >> 31);
        for (int i = 0; i < 16; i++) w[i] |= COMB[e][i] & mask;
    }
    for (int i = 0; i < 64; i++) bytes[i] = (uint8_t)(w[i >> 2] >> (8 * (i & 3)));
    ecc_lb_from_le(s->x, bytes);
    ecc_lb_from_le(s->y, bytes + 32);
    fp_neg(x.t, s->y);
    ecc_lb_cmov(s->y, x.t, ct_mask(1 ^ top ^ neg));
    ecc_lb_unpack(s->z, ONE_P);
    ecc_wipe(bytes, sizeof bytes);
    ecc_wipe(&x, sizeof x);
}

/* r = k G, plus k2 q when q is given (verification: public inputs, variable
 * time), by a signed comb with four teeth 64 bits apart: 64 doublings and
 * 64 additions of table points, none of them infinity.
 *
 * The comb takes an odd scalar: k' = k, or n - k with every point negated.
 * Then m = (k' + 2^256 - 1) / 2 = (k' >> 1) + 2^255 gives
 * k' = sum_i (2 m_i - 1) 2^i, every digit +-1. With q, the same loop runs on
 * for 256 bits and adds q where k2 has a bit (Shamir's trick). Here p == q
 * cannot be ruled out as simply, so additions are complete unless the inputs
 * are public. k may be 0 (verification): it then adds up to infinity. */
/* The comb's recoding (see pt_mul_comb): m as little-endian bytes; returns
 * 1 if k was even (n - k taken). Its own frame, off the additions' stack. */
__attribute__((noinline)) static uint32_t comb_recode(uint8_t m[32], const uint8_t k[32]) {
    lb kk, t;
    ecc_lb_from_be(kk, k);
    ecc_lb_unpack(t, N);
    lb_sub(t, t, kk);
    uint32_t even = 1 ^ (kk[0] & 1);
    ecc_lb_cmov(kk, t, ct_mask(even));
    lb_shr1(kk);
    kk[LB_N - 1] |= 1 << 8; /* 2^255 = 2^(13 * 19 + 8) */
    ecc_lb_to_le(m, kk);
    ecc_wipe(kk, sizeof kk);
    ecc_wipe(t, sizeof t);
    return even;
}

static void pt_mul_comb(pt *r, const uint8_t k[32], const uint8_t *k2, const pt *q, int mode) {
    uint8_t m[32];
    pt s;
    uint32_t even = comb_recode(m, k);
    pt_set_inf(r);
    for (int i = q ? 255 : 63; i >= 0; i--) {
        pt_double(r, r);
        if (q && ((k2[31 - (i >> 3)] >> (i & 7)) & 1)) pt_add(r, r, q, mode | ADD_AFFINE_Q);
        if (i < 64) {
            comb_point(&s, m, i, even);
            pt_add(r, r, &s, mode | ADD_AFFINE_Q);
        }
    }
    ecc_wipe(m, sizeof m);
    ecc_wipe(&s, sizeof s);
}

/* ---- public API ------------------------------------------------------------ */

int ecc_p256_public(uint8_t pub[64], const uint8_t priv[32]) {
    lb d;
    pt q;
    if (!sc_from_bytes(d, priv)) return ECC_ESCALAR;
    pt_mul_comb(&q, priv, 0, 0, ADD_COMPLETE);
    pt_to_affine(pub, pub + 32, &q);
    ecc_wipe(&q, sizeof q);
    ecc_wipe(d, sizeof d);
    return ECC_OK;
}

/* k*pub, validated, as affine x (and y when wanted). */
static int point_mul(uint8_t x[32], uint8_t *y, const uint8_t k[32], const uint8_t pub[64]) {
    lb s;
    pt p;
    if (!pt_from_bytes(&p, pub)) return ECC_EPOINT;
    if (!sc_from_bytes(s, k)) return ECC_ESCALAR;
    pt q;
    pt_mul(&q, k, &p);
    uint32_t ok = pt_to_affine(x, y, &q);
    ecc_wipe(&q, sizeof q);
    ecc_wipe(s, sizeof s);
    return ok ? ECC_OK : ECC_EZERO;
}

int ecc_p256_ecdh(uint8_t shared[32], const uint8_t priv[32], const uint8_t pub[64]) {
    return point_mul(shared, 0, priv, pub);
}

int ecc_p256_point_mul(uint8_t out[64], const uint8_t k[32], const uint8_t pub[64]) {
    return point_mul(out, out + 32, k, pub);
}

int ecc_p256_scalar_mul(uint8_t out[32], const uint8_t k[32], const uint8_t priv[32]) {
    lb a, b;
    uint32_t ok = sc_from_bytes(a, k) & sc_from_bytes(b, priv);
    if (!ok) return ECC_ESCALAR;
    sc_mulmod(a, a, b);
    sc_to_bytes(out, a);
    ecc_wipe(a, sizeof a);
    ecc_wipe(b, sizeof b);
    return ECC_OK; /* n is prime: a product of nonzero scalars is nonzero */
}

/* RFC 6979 HMAC-DRBG state for P-256 / SHA-256 (qlen = hlen = 256). */
typedef struct {
    uint8_t k[32], v[32];
} drbg;

/* K and V from xh = int2octets(x) || bits2octets(h1). */
static void drbg_init(drbg *g, const uint8_t xh[64]) {
    for (int i = 0; i < 32; i++) {
        g->k[i] = 0;
        g->v[i] = 1;
    }
    for (int sep = 0; sep < 2; sep++) {
        ecc_hmac_sha256(g->k, g->k, g->v, sep, xh);
        ecc_hmac_sha256(g->v, g->k, g->v, -1, 0);
    }
}

/* Next candidate nonce; the caller rejects k = 0 or k >= n and asks again. */
static void drbg_next(drbg *g, uint8_t out[32], int again) {
    if (again) {
        ecc_hmac_sha256(g->k, g->k, g->v, 0, 0);
        ecc_hmac_sha256(g->v, g->k, g->v, -1, 0);
    }
    ecc_hmac_sha256(g->v, g->k, g->v, -1, 0);
    for (int i = 0; i < 32; i++) out[i] = g->v[i];
}

/* r = x(k G) mod n. A function of its own so that the point is off the stack
 * while the signature is finished; scratch32 (caller memory) takes the
 * coordinate bytes. */
__attribute__((noinline)) static void nonce_r(lb r, const uint8_t kb[32], uint8_t scratch32[32]) {
    pt q;
    pt_mul_comb(&q, kb, 0, 0, ADD_COMPLETE);
    pt_to_affine(scratch32, 0, &q);
    ecc_lb_from_be(r, scratch32);
    ecc_lb_csub(r, r, N); /* x < p < 2n */
    ecc_wipe(&q, sizeof q);
}

/* RFC 6979 state from the key and the digest reduced mod n (bits2octets). */
__attribute__((noinline)) static void drbg_start(drbg *g, const uint8_t priv[32], const lb z) {
    uint8_t xh[64];
    for (int i = 0; i < 32; i++) xh[i] = priv[i];
    sc_to_bytes(xh + 32, z);
    drbg_init(g, xh);
    ecc_wipe(xh, sizeof xh);
}

/* s = (z + r d) / k for the key and nonce bytes, into s_out; 0 if s == 0. */
__attribute__((noinline)) static uint32_t finish_s(uint8_t s_out[32], const lb r,
                                                   const uint8_t priv[32], const lb z,
                                                   const uint8_t kb[32]) {
    lb k, s;
    ecc_lb_from_be(k, priv);
    sc_mulmod(s, r, k);
    sc_add(s, s, z);
    ecc_lb_from_be(k, kb);
    sc_inv(k, k);
    sc_mulmod(s, s, k);
    sc_to_bytes(s_out, s);
    uint32_t ok = 1 ^ ecc_lb_is_zero(s);
    ecc_wipe(k, sizeof k);
    ecc_wipe(s, sizeof s);
    return ok;
}

int ecc_p256_sign(uint8_t sig[64], const uint8_t priv[32], const uint8_t digest[32]) {
    lb z, r;
    uint8_t kb[32];
    drbg g;
    if (!sc_from_bytes(r, priv)) return ECC_ESCALAR;
    sc_from_digest(z, digest);
    drbg_start(&g, priv, z);
    for (int again = 0;; again = 1) {
        drbg_next(&g, kb, again);
        /* Rejection happens with probability ~2^-32 and reveals nothing useful. */
        if (!sc_from_bytes(r, kb)) continue;
        nonce_r(r, kb, sig);
        if (ecc_lb_is_zero(r)) continue;
        if (!finish_s(sig + 32, r, priv, z, kb)) continue;
        sc_to_bytes(sig, r);
        break;
    }
    ecc_wipe(r, sizeof r); ecc_wipe(kb, sizeof kb); ecc_wipe(&g, sizeof g);
    return ECC_OK;
}

int ecc_p256_verify(const uint8_t pub[64], const uint8_t digest[32], const uint8_t sig[64]) {
    lb r, s, w;
    pt q, a;
    uint8_t u1[32], u2[32];
    if (!pt_from_bytes(&q, pub)) return ECC_EPOINT;
    if (!sc_from_bytes(r, sig) || !sc_from_bytes(s, sig + 32)) return ECC_ESIG;
    sc_inv(w, s);
    sc_from_digest(s, digest);
    sc_mulmod(s, s, w);
    sc_to_bytes(u1, s); /* z / s */
    sc_mulmod(s, r, w);
    sc_to_bytes(u2, s); /* r / s */
    pt_mul_comb(&a, u1, u2, &q, ADD_VARTIME);
    if (!pt_to_affine(u1, 0, &a)) return ECC_ESIG;
    sc_from_digest(s, u1); /* x mod n, from x < p < 2n; r < n already */
    return lb_eq_mask(s, r) ? ECC_OK : ECC_ESIG;
}

int ecc_p256_compress(uint8_t out[33], const uint8_t pub[64]) {
    pt p;
    if (!pt_from_bytes(&p, pub)) return ECC_EPOINT;
    out[0] = (uint8_t)(2 | (pub[63] & 1));
    for (int i = 0; i < 32; i++) out[1 + i] = pub[i];
    return ECC_OK;
}

int ecc_p256_decompress(uint8_t out[64], const uint8_t in[33]) {
    lb x, rhs, y, t;
    if ((in[0] & 0xfe) != 2 || !fp_from_bytes(x, in + 1)) return ECC_EPOINT;
    curve_rhs(rhs, x);
    fp_pow(y, rhs, P_PLUS_1_DIV_4); /* p = 3 mod 4 */
    fp_sqr(t, y);
    if (!fp_eq(t, rhs)) return ECC_EPOINT;
    for (int i = 0; i < 32; i++) out[i] = in[1 + i];
    fp_to_bytes(out + 32, y);
    if ((out[63] & 1) != (in[0] & 1)) { /* public data: a branch is fine */
        fp_neg(y, y);
        fp_to_bytes(out + 32, y);
    }
    return ECC_OK;
}
