/* Known-answer and Wycheproof checks of the ecc core, one PASS/FAIL line
 * each. Portable: the same file runs on QEMU (lx106) and on the host. */
#include "ecc.h"
#include "harness.h"
#include "vectors.h"
#include "wycheproof_vectors.h"

static unsigned failures;

static int same(const uint8_t *a, const uint8_t *b, size_t len) {
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff == 0;
}

static void copy(uint8_t *dst, const uint8_t *src, size_t len) {
    for (size_t i = 0; i < len; i++) {
        dst[i] = src[i];
    }
}

static void print_id(const char *op, const char *name, unsigned tc_id) {
    out_str(op);
    out_str(" ");
    out_str(name);
    if (tc_id != 0) {
        out_u32(tc_id);
    }
}

/* One line per check: "PASS op name" or "FAIL op name rc=... ". */
static void report(const char *op, const char *name, unsigned tc_id, int ok, int rc) {
    out_str(ok ? "PASS " : "FAIL ");
    print_id(op, name, tc_id);
    if (!ok) {
        failures++;
        out_str(" rc=");
        if (rc < 0) {
            out_str("-");
            out_u32((uint32_t)-rc);
        } else {
            out_u32((uint32_t)rc);
        }
    }
    out_str("\n");
}

/* A result that must be ECC_OK and equal to want; prints both on mismatch. */
static void expect_bytes(const char *op, const char *name, int rc, const uint8_t *got,
                         const uint8_t *want, size_t len) {
    int ok = rc == ECC_OK && same(got, want, len);
    report(op, name, 0, ok, rc);
    if (!ok) {
        out_str("  got  ");
        out_hex(got, len);
        out_str("\n  want ");
        out_hex(want, len);
        out_str("\n");
    }
}

static void expect_rc(const char *op, const char *name, int rc, int want) {
    report(op, name, 0, rc == want, rc);
}

static void check_x25519(void) {
    uint8_t out[32];
    uint8_t zero[32] = {0};

    expect_bytes("x25519", "rfc7748-5.2-1", ecc_x25519(out, x25519_v1_scalar, x25519_v1_u), out,
                 x25519_v1_out, 32);
    expect_bytes("x25519", "rfc7748-5.2-2", ecc_x25519(out, x25519_v2_scalar, x25519_v2_u), out,
                 x25519_v2_out, 32);
    expect_bytes("x25519", "rfc7748-5.2-iter1", ecc_x25519(out, x25519_nine, x25519_nine), out,
                 x25519_iter1_out, 32);
    expect_bytes("x25519", "rfc7748-6.1-alice", ecc_x25519(out, x25519_alice_priv, x25519_bob_pub),
                 out, x25519_alice_bob, 32);
    expect_bytes("x25519", "rfc7748-6.1-bob", ecc_x25519(out, x25519_bob_priv, x25519_alice_pub),
                 out, x25519_alice_bob, 32);
    /* u = 0 has small order: the all-zero result must be refused. */
    expect_rc("x25519", "u-zero", ecc_x25519(out, x25519_alice_priv, zero), ECC_EZERO);

    ecc_x25519_base(out, x25519_alice_priv);
    expect_bytes("x25519_base", "rfc7748-6.1-alice", ECC_OK, out, x25519_alice_pub, 32);
    ecc_x25519_base(out, x25519_bob_priv);
    expect_bytes("x25519_base", "rfc7748-6.1-bob", ECC_OK, out, x25519_bob_pub, 32);
}

static void check_p256_keys(void) {
    uint8_t pub[64];
    uint8_t bad[32];

    expect_bytes("p256_public", "rfc6979-a.2.5", ecc_p256_public(pub, p256_x), pub, p256_U, 64);
    expect_bytes("p256_public", "rfc5903-8.1-i", ecc_p256_public(pub, p256_i), pub, p256_gi, 64);
    for (size_t i = 0; i < 32; i++) {
        bad[i] = 0;
    }
    expect_rc("p256_public", "priv-zero", ecc_p256_public(pub, bad), ECC_ESCALAR);
    expect_rc("p256_public", "priv-n", ecc_p256_public(pub, p256_n), ECC_ESCALAR);
}

static void check_p256_ecdh(void) {
    uint8_t shared[32];
    uint8_t bad[64];

    expect_bytes("p256_ecdh", "i-U", ecc_p256_ecdh(shared, p256_i, p256_U), shared, p256_ecdh_iU,
                 32);
    expect_bytes("p256_ecdh", "x-gi", ecc_p256_ecdh(shared, p256_x, p256_gi), shared,
                 p256_ecdh_iU, 32);
    copy(bad, p256_U, 64);
    bad[63] ^= 1; /* y changed: off the curve */
    expect_rc("p256_ecdh", "off-curve", ecc_p256_ecdh(shared, p256_i, bad), ECC_EPOINT);
}

static void check_p256_ecdsa(void) {
    uint8_t sig[64];
    uint8_t bad[64];

    expect_bytes("p256_sign", "rfc6979-a.2.5-sample",
                 ecc_p256_sign(sig, p256_x, p256_sample_digest), sig, p256_sample_sig, 64);
    expect_rc("p256_verify", "rfc6979-a.2.5-sample",
              ecc_p256_verify(p256_U, p256_sample_digest, p256_sample_sig), ECC_OK);

    copy(bad, p256_sample_sig, 64);
    bad[40] ^= 0x10;
    expect_rc("p256_verify", "s-changed", ecc_p256_verify(p256_U, p256_sample_digest, bad),
              ECC_ESIG);
    copy(bad, p256_sample_digest, 32);
    bad[0] ^= 1;
    expect_rc("p256_verify", "digest-changed", ecc_p256_verify(p256_U, bad, p256_sample_sig),
              ECC_ESIG);
    expect_rc("p256_verify", "wrong-key",
              ecc_p256_verify(p256_gi, p256_sample_digest, p256_sample_sig), ECC_ESIG);
    copy(bad, p256_sample_sig, 64);
    for (size_t i = 0; i < 32; i++) {
        bad[i] = 0;
    }
    expect_rc("p256_verify", "r-zero", ecc_p256_verify(p256_U, p256_sample_digest, bad), ECC_ESIG);
    copy(bad, p256_sample_sig, 64);
    copy(bad + 32, p256_n, 32);
    expect_rc("p256_verify", "s-n", ecc_p256_verify(p256_U, p256_sample_digest, bad), ECC_ESIG);
}

/* The HomeCA key update: pub' = k*pub must be the public key of k*priv. */
static void check_p256_key_update(void) {
    uint8_t priv2[32];
    uint8_t pub2[64];
    uint8_t pub3[64];
    int rc;

    expect_bytes("p256_scalar_mul", "k-x", ecc_p256_scalar_mul(priv2, p256_k, p256_x), priv2,
                 p256_kx, 32);
    expect_bytes("p256_point_mul", "k-U", ecc_p256_point_mul(pub2, p256_k, p256_U), pub2, p256_kU,
                 64);
    rc = ecc_p256_public(pub3, priv2);
    expect_bytes("p256_point_mul", "consistent-with-scalar_mul", rc, pub3, pub2, 64);
    expect_rc("p256_point_mul", "k-n", ecc_p256_point_mul(pub2, p256_n, p256_U), ECC_ESCALAR);
}

static void check_p256_compression(void) {
    uint8_t comp[33];
    uint8_t want[33];
    uint8_t pub[64];
    int rc;

    want[0] = 0x02 | (p256_U[63] & 1);
    copy(want + 1, p256_U, 32);
    expect_bytes("p256_compress", "U", ecc_p256_compress(comp, p256_U), comp, want, 33);
    expect_bytes("p256_decompress", "U", ecc_p256_decompress(pub, want), pub, p256_U, 64);
    want[0] ^= 1; /* the other root: (x, p - y) */
    rc = ecc_p256_decompress(pub, want);
    report("p256_decompress", "other-root", 0,
           rc == ECC_OK && same(pub, p256_U, 32) && !same(pub + 32, p256_U + 32, 32), rc);
    /* x = 1: x^3 - 3x + b is not a square mod p (checked on the host). */
    for (size_t i = 1; i < 33; i++) {
        want[i] = 0;
    }
    want[0] = 0x02;
    want[32] = 1;
    expect_rc("p256_decompress", "x-not-on-curve", ecc_p256_decompress(pub, want), ECC_EPOINT);
    copy(want + 1, p256_U, 32);
    want[0] = 0x04;
    rc = ecc_p256_decompress(pub, want);
    report("p256_decompress", "bad-prefix", 0, rc != ECC_OK, rc);
}

static void check_wycheproof(void) {
    uint8_t out[32];
    uint8_t pub[64];
    int rc;

    for (unsigned i = 0; i < WP_X25519_COUNT; i++) {
        const wp_x25519_t *v = &wp_x25519[i];
        rc = ecc_x25519(out, v->priv, v->pub);
        /* X25519 is total: the RFC defines every output; all-zero is refused. */
        int ok = v->zero_shared ? rc == ECC_EZERO : rc == ECC_OK && same(out, v->shared, 32);
        report("x25519", "wycheproof-", v->tc_id, ok, rc);
    }
    for (unsigned i = 0; i < WP_ECDH_COUNT; i++) {
        const wp_ecdh_t *v = &wp_ecdh[i];
        if (v->pub_len == 33) {
            rc = ecc_p256_decompress(pub, v->pub);
        } else {
            copy(pub, v->pub + 1, 64);
            rc = ECC_OK;
        }
        if (rc == ECC_OK) {
            rc = ecc_p256_ecdh(out, v->priv, pub);
        }
        int match = rc == ECC_OK && same(out, v->shared, 32);
        int ok = v->result == WP_VALID     ? match
                 : v->result == WP_INVALID ? rc != ECC_OK
                                           : match || rc != ECC_OK;
        report("p256_ecdh", "wycheproof-", v->tc_id, ok, rc);
    }
    for (unsigned i = 0; i < WP_ECDSA_COUNT; i++) {
        const wp_ecdsa_t *v = &wp_ecdsa[i];
        rc = ecc_p256_verify(v->pub, v->digest, v->sig);
        int ok = v->result == WP_VALID     ? rc == ECC_OK
                 : v->result == WP_INVALID ? rc == ECC_ESIG
                                           : rc == ECC_OK || rc == ECC_ESIG;
        report("p256_verify", "wycheproof-", v->tc_id, ok, rc);
    }
}

unsigned run_checks(void) {
    failures = 0;
    check_x25519();
    check_p256_keys();
    check_p256_ecdh();
    check_p256_ecdsa();
    check_p256_key_update();
    check_p256_compression();
    check_wycheproof();
    return failures;
}
