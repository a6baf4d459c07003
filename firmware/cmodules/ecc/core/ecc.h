/* ecc: compact, constant-time X25519 and P-256 for small cores (ESP8266 lx106).
 *
 * Portable C99, no heap, no division, no 64-bit multiplication, no static or
 * global writable state (dynamic MicroPython modules cannot have any). Every
 * function that takes a secret runs in time independent of its value.
 *
 * Byte formats: scalars and field elements big-endian for P-256 (SEC 1),
 * little-endian for X25519 (RFC 7748). P-256 public keys are X||Y (64 bytes,
 * no 0x04 prefix: the binding adds and checks it). Signatures are r||s.
 *
 * Return values: ECC_OK, or a negative ECC_E* code.
 */
#ifndef ECC_H
#define ECC_H

#include <stdint.h>

#define ECC_OK 0
#define ECC_EPOINT (-1)  /* not a point on the curve, or the point at infinity */
#define ECC_ESCALAR (-2) /* scalar is zero or not below the group order n */
#define ECC_EZERO (-3)   /* the result is zero / infinity (e.g. low-order X25519 input) */
#define ECC_ESIG (-4)    /* signature does not verify */

/* X25519 (RFC 7748). The scalar is clamped as the RFC says. ECC_EZERO when
 * the shared secret is all zero (u of small order): callers must not use it. */
int ecc_x25519(uint8_t shared[32], const uint8_t scalar[32], const uint8_t u[32]);
void ecc_x25519_base(uint8_t pub[32], const uint8_t scalar[32]);

/* P-256 public key priv*G. ECC_ESCALAR unless 0 < priv < n. */
int ecc_p256_public(uint8_t pub[64], const uint8_t priv[32]);

/* ECDH: x-coordinate of priv*pub. pub is fully validated (coordinates below p,
 * on the curve; P-256 has cofactor 1). */
int ecc_p256_ecdh(uint8_t shared[32], const uint8_t priv[32], const uint8_t pub[64]);

/* ECDSA over a SHA-256 digest, nonce by RFC 6979 (HMAC-SHA256). s is not
 * normalised to low-S: P-256 verifiers accept both. */
int ecc_p256_sign(uint8_t sig[64], const uint8_t priv[32], const uint8_t digest[32]);

/* ECC_OK, ECC_ESIG (also for r or s out of [1, n-1]) or ECC_EPOINT when pub
 * is not a valid point. Variable time: all inputs are public. */
int ecc_p256_verify(const uint8_t pub[64], const uint8_t digest[32], const uint8_t sig[64]);

/* HomeCA key update. out = k*priv mod n (both in [1, n-1]). */
int ecc_p256_scalar_mul(uint8_t out[32], const uint8_t k[32], const uint8_t priv[32]);
/* out = k*pub, pub validated, 0 < k < n. */
int ecc_p256_point_mul(uint8_t out[64], const uint8_t k[32], const uint8_t pub[64]);

/* SEC 1 point compression: 0x02/0x03 || X. Both directions validate the
 * point (ECC_EPOINT). */
int ecc_p256_compress(uint8_t out[33], const uint8_t pub[64]);
int ecc_p256_decompress(uint8_t out[64], const uint8_t in[33]);

/* Zero n bytes in a way the compiler keeps: for secrets, the core's own
 * temporaries and a caller's copies of its inputs. */
void ecc_wipe(void *p, unsigned n);

#endif
