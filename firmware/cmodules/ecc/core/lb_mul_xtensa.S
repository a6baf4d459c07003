/* lb_mul for the Xtensa lx106 (call0 ABI): t[0..39] = column sums of a * b
 * for 20-limb, 13-bit operands (see limbs.h; limbs.c has the C version used
 * everywhere else).
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

/* One b limb against the four rows: c0 finishes at column j. */
.macro step j, c0, c1, c2, c3
    l16ui   a5, a4, 2 * \j
    mul16u  a6, a8, a5
    add     \c0, \c0, a6
    mul16u  a6, a9, a5
    add     \c1, \c1, a6
    mul16u  a6, a10, a5
    add     \c2, \c2, a6
    mul16u  a6, a11, a5
    add     \c3, \c3, a6
    s32i    \c0, a2, 4 * \j
    l32i    \c0, a2, 4 * \j + 16
.endm

.macro four j
    step    \j, a12, a13, a14, a15
    step    (\j + 1), a13, a14, a15, a12
    step    (\j + 2), a14, a15, a12, a13
    step    (\j + 3), a15, a12, a13, a14
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
    four    0
    four    4
    four    8
    four    12
    four    16
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

#endif
