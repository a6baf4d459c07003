/* Sanitizer driver: every ecc function under -fsanitize=address,undefined.
 *
 * Each call gets exact-size heap copies of its inputs and an exact-size heap
 * output, so AddressSanitizer catches a read or write even one byte past any
 * buffer; UBSan (built with -fno-sanitize-recover) aborts on undefined
 * behaviour. Results are checked against answers made on the fly by cross-
 * checks (ECDH symmetry, sign -> verify, compress -> decompress, ...) plus a
 * few published vectors.
 *
 *   ./sanitize [iterations]      (default 300)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecc.h"


#include "common.h"

/* Exact-size heap buffers: ASan's redzone starts right after the last byte. */
static uint8_t *in(const uint8_t *data, size_t n) {
    uint8_t *p = malloc(n);
    if (!p) abort();
    memcpy(p, data, n);
    return p;
}

static uint8_t *out(size_t n) {
    uint8_t *p = malloc(n);
    if (!p) abort();
    memset(p, 0xa5, n);
    return p;
}

/* Thin wrappers: copy in, call, copy out, free. */
static int x25519(uint8_t r[32], const uint8_t k[32], const uint8_t u[32]) {
    uint8_t *o = out(32), *a = in(k, 32), *b = in(u, 32);
    int rc = ecc_x25519(o, a, b);
    memcpy(r, o, 32);
    free(o), free(a), free(b);
    return rc;
}

static void x25519_base(uint8_t r[32], const uint8_t k[32]) {
    uint8_t *o = out(32), *a = in(k, 32);
    ecc_x25519_base(o, a);
    memcpy(r, o, 32);
    free(o), free(a);
}

static int p256_public(uint8_t r[64], const uint8_t k[32]) {
    uint8_t *o = out(64), *a = in(k, 32);
    int rc = ecc_p256_public(o, a);
    memcpy(r, o, 64);
    free(o), free(a);
    return rc;
}

static int p256_ecdh(uint8_t r[32], const uint8_t k[32], const uint8_t pub[64]) {
    uint8_t *o = out(32), *a = in(k, 32), *b = in(pub, 64);
    int rc = ecc_p256_ecdh(o, a, b);
    memcpy(r, o, 32);
    free(o), free(a), free(b);
    return rc;
}

static int p256_sign(uint8_t r[64], const uint8_t k[32], const uint8_t d[32]) {
    uint8_t *o = out(64), *a = in(k, 32), *b = in(d, 32);
    int rc = ecc_p256_sign(o, a, b);
    memcpy(r, o, 64);
    free(o), free(a), free(b);
    return rc;
}

static int p256_verify(const uint8_t pub[64], const uint8_t d[32], const uint8_t sig[64]) {
    uint8_t *a = in(pub, 64), *b = in(d, 32), *c = in(sig, 64);
    int rc = ecc_p256_verify(a, b, c);
    free(a), free(b), free(c);
    return rc;
}

static int p256_scalar_mul(uint8_t r[32], const uint8_t k[32], const uint8_t priv[32]) {
    uint8_t *o = out(32), *a = in(k, 32), *b = in(priv, 32);
    int rc = ecc_p256_scalar_mul(o, a, b);
    memcpy(r, o, 32);
    free(o), free(a), free(b);
    return rc;
}

static int p256_point_mul(uint8_t r[64], const uint8_t k[32], const uint8_t pub[64]) {
    uint8_t *o = out(64), *a = in(k, 32), *b = in(pub, 64);
    int rc = ecc_p256_point_mul(o, a, b);
    memcpy(r, o, 64);
    free(o), free(a), free(b);
    return rc;
}

static int p256_compress(uint8_t r[33], const uint8_t pub[64]) {
    uint8_t *o = out(33), *a = in(pub, 64);
    int rc = ecc_p256_compress(o, a);
    memcpy(r, o, 33);
    free(o), free(a);
    return rc;
}

static int p256_decompress(uint8_t r[64], const uint8_t c[33]) {
    uint8_t *o = out(64), *a = in(c, 33);
    int rc = ecc_p256_decompress(o, a);
    memcpy(r, o, 64);
    free(o), free(a);
    return rc;
}

static int failures;

/* Prints the first 20 failures; a broken function fails every round. */
static void expect(int ok, const char *what, int iter) {
    if (!ok && failures++ < 20) printf("FAIL %s (iteration %d)\n", what, iter);
}

static void unhex(uint8_t *out, const char *hex) {
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static int same_hex(const uint8_t *data, const char *hex) {
    uint8_t want[64];
    size_t n = strlen(hex) / 2;
    unhex(want, hex);
    return memcmp(data, want, n) == 0;
}

/* Published vectors: RFC 7748 5.2 and 6.1, RFC 6979 A.2.5, the generator. */
static void known_answers(void) {
    uint8_t k[32], u[32], r[64], d[32], pub[64];
    unhex(k, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    unhex(u, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    expect(x25519(r, k, u) == ECC_OK, "rfc7748 5.2 rc", -1);
    expect(same_hex(r, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
           "rfc7748 5.2", -1);
    unhex(k, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    x25519_base(r, k);
    expect(same_hex(r, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
           "rfc7748 6.1 alice public", -1);

    memset(k, 0, 32);
    k[31] = 1;
    expect(p256_public(r, k) == ECC_OK, "1*G rc", -1);
    expect(same_hex(r, "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                       "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
           "1*G", -1);

    unhex(k, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
    expect(p256_public(pub, k) == ECC_OK, "rfc6979 public rc", -1);
    expect(same_hex(pub, "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                         "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"),
           "rfc6979 public", -1);
    /* SHA-256("sample") */
    unhex(d, "af2bdbe1aa9b6ec1e2ade1d694f41fc71a831d0268e9891562113d8a62add1bf");
    expect(p256_sign(r, k, d) == ECC_OK, "rfc6979 sign rc", -1);
    expect(same_hex(r, "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
                       "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"),
           "rfc6979 sample", -1);
    expect(p256_verify(pub, d, r) == ECC_OK, "rfc6979 verify", -1);
}

/* A valid P-256 private key (retry the rare draw that is >= n). */
static void p256_key(uint8_t priv[32], uint8_t pub[64]) {
    do fill(priv, 32);
    while (p256_public(pub, priv) != ECC_OK);
}

static void one_round(int it) {
    uint8_t a[32], b[32], ap[64], bp[64], s1[64], s2[64], t[64], d[32], sig[64], sig2[64];
    uint8_t c[33];

    /* X25519: symmetry, base point 9, the ignored top bit of u. */
    uint8_t xa[32], xb[32], xap[32], xbp[32], nine[32] = {9};
    fill(xa, 32);
    fill(xb, 32);
    x25519_base(xap, xa);
    x25519_base(xbp, xb);
    expect(x25519(s1, xa, xbp) == ECC_OK, "x25519 rc", it);
    expect(x25519(s2, xb, xap) == ECC_OK, "x25519 rc", it);
    expect(memcmp(s1, s2, 32) == 0, "x25519 symmetry", it);
    expect(x25519(t, xa, nine) == ECC_OK && memcmp(t, xap, 32) == 0, "x25519 base = u 9", it);
    xbp[31] ^= 0x80;
    expect(x25519(t, xa, xbp) == ECC_OK && memcmp(t, s1, 32) == 0, "x25519 top bit of u", it);
    uint8_t zero[32] = {0};
    expect(x25519(t, xa, zero) == ECC_EZERO, "x25519 u = 0", it);

    /* P-256 keys and ECDH. */
    p256_key(a, ap);
    p256_key(b, bp);
    expect(p256_ecdh(s1, a, bp) == ECC_OK, "ecdh rc", it);
    expect(p256_ecdh(s2, b, ap) == ECC_OK, "ecdh rc", it);
    expect(memcmp(s1, s2, 32) == 0, "ecdh symmetry", it);

    /* point_mul agrees with ECDH and commutes; scalar_mul then public agrees too. */
    expect(p256_point_mul(t, a, bp) == ECC_OK, "point_mul rc", it);
    expect(memcmp(t, s1, 32) == 0, "point_mul x = ecdh", it);
    expect(p256_point_mul(s2, b, ap) == ECC_OK && memcmp(s2, t, 64) == 0, "point_mul commutes",
           it);
    expect(p256_scalar_mul(d, a, b) == ECC_OK, "scalar_mul rc", it);
    expect(p256_public(s2, d) == ECC_OK && memcmp(s2, t, 64) == 0, "(a*b)G = a(bG)", it);

    /* ECDSA: deterministic, verifies, and only for the right key and digest. */
    fill(d, 32);
    expect(p256_sign(sig, a, d) == ECC_OK, "sign rc", it);
    expect(p256_sign(sig2, a, d) == ECC_OK && memcmp(sig, sig2, 64) == 0, "sign deterministic",
           it);
    expect(p256_verify(ap, d, sig) == ECC_OK, "sign -> verify", it);
    expect(p256_verify(bp, d, sig) == ECC_ESIG, "verify, wrong key", it);
    d[it % 32] ^= 1;
    expect(p256_verify(ap, d, sig) == ECC_ESIG, "verify, wrong digest", it);
    d[it % 32] ^= 1;
    memcpy(sig2, sig, 64);
    memset(sig2, 0, 32);
    expect(p256_verify(ap, d, sig2) == ECC_ESIG, "verify, r = 0", it);
    memcpy(sig2 + 32, N, 32);
    expect(p256_verify(ap, d, sig2) == ECC_ESIG, "verify, s = n", it);

    /* Compression round trip; broken encodings. */
    expect(p256_compress(c, ap) == ECC_OK, "compress rc", it);
    expect(p256_decompress(t, c) == ECC_OK && memcmp(t, ap, 64) == 0, "decompress", it);
    c[0] = 4;
    expect(p256_decompress(t, c) == ECC_EPOINT, "decompress prefix 04", it);

    /* Invalid inputs. */
    memcpy(t, ap, 64);
    t[63] ^= 1; /* off the curve */
    expect(p256_ecdh(s1, a, t) == ECC_EPOINT, "ecdh off curve", it);
    expect(p256_point_mul(s1, a, t) == ECC_EPOINT, "point_mul off curve", it);
    expect(p256_verify(t, d, sig) == ECC_EPOINT, "verify off curve", it);
    expect(p256_public(t, N) == ECC_ESCALAR, "public(n)", it);
    expect(p256_public(t, zero) == ECC_ESCALAR, "public(0)", it);
    expect(p256_sign(sig2, N, d) == ECC_ESCALAR, "sign with n", it);
    expect(p256_ecdh(s1, zero, bp) == ECC_ESCALAR, "ecdh with 0", it);
    expect(p256_scalar_mul(s1, N, a) == ECC_ESCALAR, "scalar_mul with n", it);
    expect(p256_point_mul(s1, zero, bp) == ECC_ESCALAR, "point_mul with 0", it);
}

int main(int argc, char **argv) {
    rng_state = 0x73616e6974697a65u; /* this driver's own input sequence */
    int iterations = argc > 1 ? atoi(argv[1]) : 300;
    known_answers();
    for (int i = 0; i < iterations; i++) one_round(i);
    printf("%d iterations, %d failures\n", iterations, failures);
    return failures ? 1 : 0;
}
