/* SHA-256 and HMAC-SHA256, small: only what RFC 6979 nonces need. */
#ifndef ECC_SHA256_H
#define ECC_SHA256_H

#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint8_t buf[64];
    uint32_t len; /* bytes hashed; messages here are far below 2^32 bytes */
} ecc_sha256_ctx;

void ecc_sha256_init(ecc_sha256_ctx *c);
void ecc_sha256_update(ecc_sha256_ctx *c, const uint8_t *data, unsigned n);
void ecc_sha256_final(ecc_sha256_ctx *c, uint8_t out[32]);

/* out = HMAC-SHA256(key[32], v[32] || sep || xh[64]), what RFC 6979's
 * HMAC-DRBG hashes: the byte sep only when sep >= 0, xh only when not NULL.
 * out may be key or v. */
void ecc_hmac_sha256(uint8_t out[32], const uint8_t key[32], const uint8_t v[32], int sep,
                     const uint8_t *xh);

#endif
