/* lb_mul and lb_sqr for the Xtensa lx106 (call0 ABI): t[0..39] = column
 * sums of a * b (a * a) for 20-limb, 13-bit operands (see limbs.h; limbs.c
 * has the C versions used everywhere else).
 *
 * Five strips of four rows: a[4s..4s+3] sit in a8..a11, four running column
 * sums in a12..a15, and b streams past one limb at a time. Per product one
 * MUL16U and one ADD; per b limb one L16UI, one store of the finished column
 * and one load of the column entering the window. The 20 steps of a strip are
 * unrolled, the register roles rotating by one each step.
 *
 * In: a2 = t (int32_t[40]), a3 = a (uint16_t[20]), a4 = b (uint16_t[20]).
 * Touches only the stack-free registers a2..a15; a12..a15 are saved.
 */
#if defined(__XTENSA__) && defined(__XTENSA_CALL0_ABI__)

    .text
    .align  4
    .global lb_mul
    .type   lb_mul, @function

/* One b limb (a4 + 2j) against the four rows a8..a11: c0 finishes at column
 * j of the column pointer tp, and reloads the column entering the window. */
.macro step j, c0, c1, c2, c3, tp
    l16ui   a5, a4, 2 * \j
    mul16u  a6, a8, a5
    add     \c0, \c0, a6
    mul16u  a6, a9, a5
    add     \c1, \c1, a6
    mul16u  a6, a10, a5
    add     \c2, \c2, a6
    mul16u  a6, a11, a5
    add     \c3, \c3, a6
    s32i    \c0, \tp, 4 * \j
    l32i    \c0, \tp, 4 * \j + 16
.endm

/* Four steps: the register roles come back to where they started. */
.macro four j, tp
    step    \j, a12, a13, a14, a15, \tp
    step    (\j + 1), a13, a14, a15, a12, \tp
    step    (\j + 2), a14, a15, a12, a13, \tp
    step    (\j + 3), a15, a12, a13, a14, \tp
.endm

lb_mul:
    addi    a1, a1, -16
    s32i    a12, a1, 0
    s32i    a13, a1, 4
    s32i    a14, a1, 8
    s32i    a15, a1, 12

    movi    a5, 0
    .set    i, 0
    .rept   40
    s32i    a5, a2, 4 * i
    .set    i, i + 1
    .endr

    movi    a7, 5
.Lstrip:
    l16ui   a8, a3, 0
    l16ui   a9, a3, 2
    l16ui   a10, a3, 4
    l16ui   a11, a3, 6
    l32i    a12, a2, 0
    l32i    a13, a2, 4
    l32i    a14, a2, 8
    l32i    a15, a2, 12
    four    0, a2
    four    4, a2
    four    8, a2
    four    12, a2
    four    16, a2
    s32i    a12, a2, 80
    s32i    a13, a2, 84
    s32i    a14, a2, 88
    addi    a2, a2, 16
    addi    a3, a3, 8
    addi    a7, a7, -1
    bnez    a7, .Lstrip

    l32i    a12, a1, 0
    l32i    a13, a1, 4
    l32i    a14, a1, 8
    l32i    a15, a1, 12
    addi    a1, a1, 16
    ret
    .size   lb_mul, . - lb_mul

/* lb_sqr: the 190 cross products a_i a_j (i < j) once, then doubled, plus
 * the 20 squares: 210 MUL16U instead of 400.
 *
 * For each block s of four limbs (rows a8..a11): its six in-block cross
 * products, then a strip of the rows against the limbs of the later blocks,
 * four at a time (lb_mul's steps, with a0 as the column pointer).
 * Stack: a0, a12..a15, t, a, blocks left.
 */
/* t[off] += x (x in a6) */
.macro acc off
    l32i    a5, a2, \off
    add     a5, a5, a6
    s32i    a5, a2, \off
.endm

    .align  4
    .global lb_sqr
    .type   lb_sqr, @function
lb_sqr:
    addi    a1, a1, -32
    s32i    a0, a1, 0
    s32i    a12, a1, 4
    s32i    a13, a1, 8
    s32i    a14, a1, 12
    s32i    a15, a1, 16
    s32i    a2, a1, 20
    s32i    a3, a1, 24

    movi    a5, 0
    .set    i, 0
    .rept   40
    s32i    a5, a2, 4 * i
    .set    i, i + 1
    .endr

    movi    a5, 5
    s32i    a5, a1, 28
.Lsblock:                       /* a2 = &t[8s], a3 = &a[4s] */
    l16ui   a8, a3, 0
    l16ui   a9, a3, 2
    l16ui   a10, a3, 4
    l16ui   a11, a3, 6
    mul16u  a6, a8, a9
    acc     4
    mul16u  a6, a8, a10
    acc     8
    mul16u  a6, a8, a11
    mul16u  a7, a9, a10
    add     a6, a6, a7
    acc     12
    mul16u  a6, a9, a11
    acc     16
    mul16u  a6, a10, a11
    acc     20
    l32i    a7, a1, 28
    addi    a7, a7, -1          /* later blocks: groups of four b limbs */
    beqz    a7, .Lsnext
    addi    a0, a2, 16          /* column 8s + 4 */
    addi    a4, a3, 8           /* b = a[4s + 4] */
    l32i    a12, a0, 0
    l32i    a13, a0, 4
    l32i    a14, a0, 8
    l32i    a15, a0, 12
.Lsgroup:
    four    0, a0
    addi    a4, a4, 8
    addi    a0, a0, 16
    addi    a7, a7, -1
    bnez    a7, .Lsgroup
    s32i    a12, a0, 0
    s32i    a13, a0, 4
    s32i    a14, a0, 8
.Lsnext:
    addi    a2, a2, 32
    addi    a3, a3, 8
    l32i    a5, a1, 28
    addi    a5, a5, -1
    s32i    a5, a1, 28
    bnez    a5, .Lsblock

    /* t[2i] = 2 t[2i] + a[i]^2, t[2i+1] = 2 t[2i+1] (t[39] stays 0) */
    l32i    a2, a1, 20
    l32i    a3, a1, 24
    movi    a7, 20
.Lsdouble:
    l16ui   a5, a3, 0
    mul16u  a5, a5, a5
    l32i    a6, a2, 0
    add     a6, a6, a6
    add     a6, a6, a5
    s32i    a6, a2, 0
    l32i    a6, a2, 4
    add     a6, a6, a6
    s32i    a6, a2, 4
    addi    a2, a2, 8
    addi    a3, a3, 2
    addi    a7, a7, -1
    bnez    a7, .Lsdouble

    l32i    a0, a1, 0
    l32i    a12, a1, 4
    l32i    a13, a1, 8
    l32i    a14, a1, 12
    l32i    a15, a1, 16
    addi    a1, a1, 32
    ret
    .size   lb_sqr, . - lb_sqr

/* fe25519_reduce(r = a2, t = a3): product columns to a normalised element mod
 * 2^255 - 19, the algorithm of fe_reduce in x25519.c fused into one pass:
 * limb i = t[i] + 608 (low13(t[i+20]) + high(t[i+19])) + carry, then limb 19
 * folds its bits above 2^255 back times 19 into limbs 0..2. Columns stay
 * below 2^31 (see x25519.c). */
    .align  4
    .global fe25519_reduce
    .type   fe25519_reduce, @function
fe25519_reduce:
    movi    a4, 0               /* carry */
    movi    a5, 0               /* high part of the previous upper column */
    movi    a9, 608
    movi    a10, 19
.Lfred:
    l32i    a6, a3, 0           /* t[i] */
    l32i    a7, a3, 80          /* t[i + 20] */
    extui   a8, a7, 0, 13
    add     a8, a8, a5
    srai    a5, a7, 13
    mull    a8, a8, a9
    add     a6, a6, a8
    add     a6, a6, a4
    extui   a8, a6, 0, 13
    s16i    a8, a2, 0
    srai    a4, a6, 13
    addi    a3, a3, 4
    addi    a2, a2, 2
    addi    a10, a10, -1
    bnez    a10, .Lfred
    /* limb 19: t[39] is zero, so only the high part of t[38] comes down */
    l32i    a6, a3, 0
    mull    a8, a5, a9
    add     a6, a6, a8
    add     a6, a6, a4
    extui   a8, a6, 0, 8
    s16i    a8, a2, 0
    addi    a2, a2, -38         /* back to r[0] */
    srai    a6, a6, 8
    movi    a9, 19
    mull    a6, a6, a9
    l16ui   a8, a2, 0
    add     a6, a6, a8
    extui   a8, a6, 0, 13
    s16i    a8, a2, 0
    srai    a6, a6, 13
    l16ui   a8, a2, 2
    add     a6, a6, a8
    extui   a8, a6, 0, 13
    s16i    a8, a2, 2
    srai    a6, a6, 13
    l16ui   a8, a2, 4
    add     a6, a6, a8
    s16i    a6, a2, 4
    ret
    .size   fe25519_reduce, . - fe25519_reduce

#endif
