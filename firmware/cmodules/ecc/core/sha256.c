/* SHA-256 (FIPS 180-4) and HMAC (RFC 2104), compact rather than fast: the
 * nonce derivation hashes a few hundred bytes per signature. */
#include "sha256.h"

#include "limbs.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* One block. The working variables a..h are s[0..7], shifted down a place
 * per round: more memory traffic than eight named variables, much less code. */
static void compress(uint32_t h[8], const uint8_t blk[64]) {
    uint32_t w[16], s[8];
    for (int i = 0; i < 8; i++) s[i] = h[i];
    for (int i = 0; i < 64; i++) {
        uint32_t x;
        if (i < 16) {
            const uint8_t *p = blk + 4 * i;
            x = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        } else { /* message schedule in a 16-word ring */
            uint32_t s0 = w[(i + 1) & 15], s1 = w[(i + 14) & 15];
            x = w[i & 15] + w[(i + 9) & 15] + (ror(s0, 7) ^ ror(s0, 18) ^ (s0 >> 3)) +
                (ror(s1, 17) ^ ror(s1, 19) ^ (s1 >> 10));
        }
        w[i & 15] = x;
        uint32_t a = s[0], e = s[4];
        uint32_t t1 = s[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & s[5]) ^ (~e & s[6])) +
                      K[i] + x;
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & (s[1] | s[2])) | (s[1] & s[2]));
        for (int j = 7; j > 0; j--) s[j] = s[j - 1];
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) h[i] += s[i];
    ecc_wipe(w, sizeof w);
    ecc_wipe(s, sizeof s);
}

void ecc_sha256_init(ecc_sha256_ctx *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++) c->h[i] = iv[i];
    c->len = 0;
}

void ecc_sha256_update(ecc_sha256_ctx *c, const uint8_t *data, unsigned n) {
    while (n--) {
        c->buf[c->len & 63] = *data++;
        if ((++c->len & 63) == 0) compress(c->h, c->buf);
    }
}

void ecc_sha256_final(ecc_sha256_ctx *c, uint8_t out[32]) {
    /* 0x80, z zero bytes, then the bit length as 8 big-endian bytes; the
     * messages here stay far below 2^29 bytes */
    uint32_t bits = c->len << 3, z = (55 - c->len) & 63;
    for (uint32_t j = 0; j <= z + 8; j++) {
        uint32_t i = z + 8 - j; /* bytes after this one */
        uint8_t b = (uint8_t)(j == 0 ? 0x80 : i < 4 ? bits >> (8 * i) : 0);
        ecc_sha256_update(c, &b, 1);
    }
    for (int i = 0; i < 32; i++) out[i] = (uint8_t)(c->h[i >> 2] >> (24 - 8 * (i & 3)));
    ecc_wipe(c, sizeof *c);
}

void ecc_hmac_sha256(uint8_t out[32], const uint8_t key[32], const uint8_t v[32], int sep,
                     const uint8_t *xh) {
    ecc_sha256_ctx ctx;
    uint8_t pad[64], inner[32], b = (uint8_t)sep;
    for (int i = 0; i < 64; i++) pad[i] = (uint8_t)((i < 32 ? key[i] : 0) ^ 0x36);
    for (int pass = 0; pass < 2; pass++) {
        ecc_sha256_init(&ctx);
        ecc_sha256_update(&ctx, pad, 64);
        if (pass) {
            ecc_sha256_update(&ctx, inner, 32);
            ecc_sha256_final(&ctx, out);
        } else {
            ecc_sha256_update(&ctx, v, 32);
            if (sep >= 0) ecc_sha256_update(&ctx, &b, 1);
            if (xh) ecc_sha256_update(&ctx, xh, 64);
            ecc_sha256_final(&ctx, inner);
            for (int i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
        }
    }
    ecc_wipe(pad, sizeof pad);
    ecc_wipe(inner, sizeof inner);
}
