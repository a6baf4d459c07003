/* Radix-2^13 arithmetic shared by both curves.
 *
 * A 256-bit value is 20 limbs of 13 bits (260 bits) stored as uint16_t. The
 * lx106 multiplies 16x16->32 in one instruction (MUL16U) but has no 32x32->64
 * multiply, so products of 13-bit limbs are single MUL16U results and a column
 * of 20 of them (< 20 * 2^26 < 2^31) fits a 32-bit accumulator: no carries
 * inside the product, no 64-bit arithmetic anywhere.
 *
 * "Normalised" limbs are below 2^13 + 2^7; every multiplication input must be
 * normalised (column sums then stay below 2^31).
 */
#ifndef ECC_LIMBS_H
#define ECC_LIMBS_H

#include <stdint.h>

#include "ecc.h" /* ecc_wipe */

#define LB_N 20
#define LB_BITS 13
#define LB_MASK 0x1fff

typedef uint16_t lb[LB_N];

/* Constants are stored as limb pairs in 32-bit words (low half = even limb).
 * On the ESP8266 a native module's rodata sits with its code in instruction
 * memory or flash, which only 32-bit loads may read; so every table in this
 * core is made of uint32_t and is read by word, while the working limbs on
 * the stack use cheap 16-bit loads. */
typedef uint32_t lbc[LB_N / 2];

/* t[0..38] = column sums of a*b (t has 40 entries; t[39] = 0). */
void ecc_lb_mul(int32_t t[2 * LB_N], const lb a, const lb b);
/* t[0..38] = column sums of a*a. */
void ecc_lb_sqr(int32_t t[2 * LB_N], const lb a);

/* 256-bit big-endian (be) or little-endian (le) bytes <-> limbs. */
void ecc_lb_from_be(lb r, const uint8_t in[32]);
void ecc_lb_to_be(uint8_t out[32], const lb a);
void ecc_lb_from_le(lb r, const uint8_t in[32]);
void ecc_lb_to_le(uint8_t out[32], const lb a);

/* r = a - m if a >= m else a; limbs below 2^13, constant time.
 * Returns 1 if m was subtracted. */
uint32_t ecc_lb_csub(lb r, const lb a, const lbc m);
/* 1 if a < m (limbs below 2^13), constant time. */
uint32_t ecc_lb_lt(const lb a, const lbc m);
/* A constant into working limbs. */
void ecc_lb_unpack(lb r, const lbc c);
/* 1 if all limbs are zero, constant time. */
uint32_t ecc_lb_is_zero(const lb a);
/* r = mask ? a : r, mask all-ones or zero. */
void ecc_lb_cmov(lb r, const lb a, uint32_t mask);
/* Swap (a, b) and (c, d) when mask is all-ones, in one constant-time pass. */
void ecc_lb_cswap2(lb a, lb b, lb c, lb d, uint32_t mask);
/* Carry so every limb is below 2^13; returns the carry out of limb 19. */
uint32_t ecc_lb_carry(lb r, const int32_t *in);

/* all-ones if bit is 1, zero if 0 */
static inline uint32_t ct_mask(uint32_t bit) { return (uint32_t)0 - bit; }

#endif
