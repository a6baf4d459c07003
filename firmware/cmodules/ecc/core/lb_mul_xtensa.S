/* ecc_lb_mul and ecc_lb_sqr for the Xtensa lx106 (call0 ABI): t[0..39] = column
 * sums of a * b (a * a) for 20-limb, 13-bit operands (see limbs.h; limbs.c
 * has the C versions used everywhere else).
 *
 * Both are built on one strip routine, mac5: five rows held in a8..a12, five
 * running column sums in registers, and a stretch of b streaming past one
 * limb at a time. Per product one MUL16U and one ADD; per b limb one L16UI,
 * one store of the finished column and one load of the column entering the
 * window. Five steps are written out (the register roles rotate by one each
 * step and come back after five), the rest is a loop.
 *
 * In: a2 = t (int32_t[40]), a3 = a (uint16_t[20]), a4 = b (uint16_t[20]).
 * Touches only a2..a15; a12..a15 are saved.
 */
#if defined(__XTENSA__) && defined(__XTENSA_CALL0_ABI__)

    .text

/* One b limb (a4 + 2j) against the rows a8..a12: c0 finishes column j of
 * a2 and takes the column entering the window, j + 5. */
.macro step j, c0, c1, c2, c3, c4
    l16ui   a5, a4, 2 * \j
    mul16u  a6, a8, a5
    add     \c0, \c0, a6
    mul16u  a6, a9, a5
    add     \c1, \c1, a6
    mul16u  a6, a10, a5
    add     \c2, \c2, a6
    mul16u  a6, a11, a5
    add     \c3, \c3, a6
    mul16u  a6, a12, a5
    add     \c4, \c4, a6
    s32i    \c0, a2, 4 * \j
    l32i    \c0, a2, 4 * \j + 20
.endm

/* mac5 (internal, entered by call0): t[i + j] += r[i] b[j] for the rows
 * r = a8..a12 and b = a4 .. a7 (a multiple of five limbs, at least five),
 * t = a2. Clobbers a0, a2..a6, a13..a15; the caller's frame keeps the
 * return address at a1 + 28. */
    .align  4
.Lmac5:
    s32i    a0, a1, 28
    l32i    a13, a2, 0
    l32i    a14, a2, 4
    l32i    a15, a2, 8
    l32i    a3, a2, 12
    l32i    a0, a2, 16
.Lmac5_loop:
    step    0, a13, a14, a15, a3, a0
    step    1, a14, a15, a3, a0, a13
    step    2, a15, a3, a0, a13, a14
    step    3, a3, a0, a13, a14, a15
    step    4, a0, a13, a14, a15, a3
    addi    a4, a4, 10
    addi    a2, a2, 20
    bne     a4, a7, .Lmac5_loop
    /* the four open columns; a3 holds the reload of the fifth, unchanged */
    s32i    a13, a2, 0
    s32i    a14, a2, 4
    s32i    a15, a2, 8
    s32i    a3, a2, 12
    l32i    a6, a1, 28
    jx      a6

/* t[off] += x * y (x, y registers), through a5 */
.macro cadd x, y
    mul16u  a6, \x, \y
    add     a5, a5, a6
.endm

/* ecc_lb_sqr: the same entry, a4 = 0 marks the square. */
    .align  4
    .global ecc_lb_sqr
    .type   ecc_lb_sqr, @function
ecc_lb_sqr:
    movi    a4, 0
    j       ecc_lb_mul
    .size   ecc_lb_sqr, . - ecc_lb_sqr

    .align  4
    .global ecc_lb_mul
    .type   ecc_lb_mul, @function
ecc_lb_mul:
    /* frame: a0, a12..a15, two words for the callers, mac5's return */
    addi    a1, a1, -32
    s32i    a0, a1, 0
    s32i    a12, a1, 4
    s32i    a13, a1, 8
    s32i    a14, a1, 12
    s32i    a15, a1, 16
    movi    a5, 0
    addi    a6, a2, 160
.Lzero:
    addi    a6, a6, -16
    s32i    a5, a6, 0
    s32i    a5, a6, 4
    s32i    a5, a6, 8
    s32i    a5, a6, 12
    bne     a6, a2, .Lzero
    beqz    a4, .Lsqr

    /* product: four strips of five rows against all of b */
    addi    a7, a4, 40
    addi    a5, a3, 40
    s32i    a5, a1, 24
.Lmstrip:
    l16ui   a8, a3, 0
    l16ui   a9, a3, 2
    l16ui   a10, a3, 4
    l16ui   a11, a3, 6
    l16ui   a12, a3, 8
    addi    a3, a3, 10
    s32i    a3, a1, 20
    call0   .Lmac5
    addi    a2, a2, -60         /* 20 columns on, back 15: the next strip */
    addi    a4, a4, -40
    l32i    a3, a1, 20
    l32i    a5, a1, 24
    bne     a3, a5, .Lmstrip
    j       .Lexit

    /* square: per block of five limbs (rows a8..a12, columns from a2) the
     * squares and the doubled products inside the block, then the doubled
     * rows against the limbs of the later blocks by mac5. A row is doubled
     * once its square and its products with lower rows are done. */
.Lsqr:
    addi    a7, a3, 40          /* end of a: end of every strip */
.Lsblock:
    l16ui   a8, a3, 0
    l16ui   a9, a3, 2
    l16ui   a10, a3, 4
    l16ui   a11, a3, 6
    l16ui   a12, a3, 8
    addi    a3, a3, 10
    s32i    a3, a1, 20
    s32i    a2, a1, 24
    l32i    a5, a2, 0
    cadd    a8, a8
    s32i    a5, a2, 0
    add     a8, a8, a8
    l32i    a5, a2, 4
    cadd    a8, a9
    s32i    a5, a2, 4
    l32i    a5, a2, 8
    cadd    a9, a9
    cadd    a8, a10
    s32i    a5, a2, 8
    add     a9, a9, a9
    l32i    a5, a2, 12
    cadd    a8, a11
    cadd    a9, a10
    s32i    a5, a2, 12
    l32i    a5, a2, 16
    cadd    a10, a10
    cadd    a8, a12
    cadd    a9, a11
    s32i    a5, a2, 16
    add     a10, a10, a10
    l32i    a5, a2, 20
    cadd    a9, a12
    cadd    a10, a11
    s32i    a5, a2, 20
    l32i    a5, a2, 24
    cadd    a11, a11
    cadd    a10, a12
    s32i    a5, a2, 24
    add     a11, a11, a11
    l32i    a5, a2, 28
    cadd    a11, a12
    s32i    a5, a2, 28
    l32i    a5, a2, 32
    cadd    a12, a12
    s32i    a5, a2, 32
    add     a12, a12, a12
    beq     a3, a7, .Lexit      /* the last block has no later limbs */
    mov     a4, a3
    addi    a2, a2, 20          /* column 10s + 5 */
    call0   .Lmac5
    l32i    a2, a1, 24
    addi    a2, a2, 40
    l32i    a3, a1, 20
    j       .Lsblock

.Lexit:
    l32i    a0, a1, 0
    l32i    a12, a1, 4
    l32i    a13, a1, 8
    l32i    a14, a1, 12
    l32i    a15, a1, 16
    addi    a1, a1, 32
    ret
    .size   ecc_lb_mul, . - ecc_lb_mul

/* ecc_fe25519_reduce(r = a2, t = a3): product columns to a normalised element mod
 * 2^255 - 19, the algorithm of fe_reduce in x25519.c fused into one pass:
 * limb i = t[i] + 608 (low13(t[i+20]) + high(t[i+19])) + carry, then limb 19
 * folds its bits above 2^255 back times 19 into limbs 0..2. Columns stay
 * below 2^31 (see x25519.c). */
    .align  4
    .global ecc_fe25519_reduce
    .type   ecc_fe25519_reduce, @function
ecc_fe25519_reduce:
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
    .size   ecc_fe25519_reduce, . - ecc_fe25519_reduce

#endif

/* Elsewhere (a user C module in another port) this object is empty. Marked
 * as needing no executable stack, or GNU ld warns and makes the whole
 * program's stack executable. */
#if defined(__ELF__) && !defined(__XTENSA__)
    .section .note.GNU-stack,"",%progbits
#endif
