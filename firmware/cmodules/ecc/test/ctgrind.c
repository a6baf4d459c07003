/* Constant-time check of the ecc core under valgrind, in the style of
 * Monocypher's tests/ctgrind.c.
 *
 * Secret inputs (private keys, scalars) are marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED. Memcheck then reports every conditional jump
 * ("Conditional jump or move depends on uninitialised value(s)") and every
 * memory address ("Use of uninitialised value") computed from them: exactly
 * the secret-dependent branches and table lookups a timing attack can see.
 * Outputs and return codes legitimately depend on the secrets, so they are
 * marked defined again after each call, before anything looks at them.
 * Nothing inside the core is marked.
 *
 *   valgrind --tool=memcheck --error-exitcode=1 ./ctgrind [check ...]
 *
 * With no argument every check runs; a check name (x25519, p256_sign, ...)
 * runs just that one. Outside valgrind the marks do nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "ecc.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))


#include "common.h"

/* A random scalar in [1, n-1] (top bit cleared: always below n, never zero
 * in practice; the checks below also try the invalid values). */
static void fill_scalar(uint8_t k[32]) {
    fill(k, 32);
    k[0] &= 0x7f;
    k[31] |= 1;
}

/* Scalars to try per check: random valid ones, then the edges of the range
 * check (0, 1, n-1, n, all ones). Constant-time code takes the same path for
 * all of them; trying the invalid ones also covers the reject path. */
#define NSCALARS 7

static void scalar_case(uint8_t k[32], int i) {
    memset(k, 0, 32);
    switch (i) {
    case 0:
    case 1:
        fill_scalar(k);
        break;
    case 2: /* zero */
        break;
    case 3:
        k[31] = 1;
        break;
    case 4: /* n - 1 */
        memcpy(k, N, 32);
        k[31] -= 1;
        break;
    case 5:
        memcpy(k, N, 32);
        break;
    default:
        memset(k, 0xff, 32);
        break;
    }
}

/* A valid public key: the public side of ECDH and point_mul. */
static void public_key(uint8_t pub[64]) {
    uint8_t k[32];
    fill_scalar(k);
    if (ecc_p256_public(pub, k) != ECC_OK) {
        printf("setup: ecc_p256_public failed\n");
        memset(pub, 0, 64);
    }
}

static int failures;

static void expect(int ok, const char *what) {
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static void check_x25519(void) {
    uint8_t scalar[32], u[32], out[32];
    for (int i = 0; i < 4; i++) {
        fill(scalar, 32);
        fill(u, 32);
        u[31] |= (uint8_t)(i << 7); /* the ignored top bit, both ways */
        SECRET(scalar, 32);
        int rc = ecc_x25519(out, scalar, u);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, 32);
        expect(rc == ECC_OK, "x25519 rc");
    }
    /* u = 0 (low order): the all-zero result must be detected without a
     * secret-dependent branch on the way. */
    memset(u, 0, 32);
    fill(scalar, 32);
    SECRET(scalar, 32);
    int rc = ecc_x25519(out, scalar, u);
    PUBLIC(&rc, sizeof rc);
    PUBLIC(out, 32);
    expect(rc == ECC_EZERO, "x25519 low order rc");
}

static void check_x25519_base(void) {
    uint8_t scalar[32], out[32];
    for (int i = 0; i < 4; i++) {
        fill(scalar, 32);
        SECRET(scalar, 32);
        ecc_x25519_base(out, scalar);
        PUBLIC(out, 32);
    }
}

static void check_p256_public(void) {
    uint8_t priv[32], pub[64];
    for (int i = 0; i < NSCALARS; i++) {
        scalar_case(priv, i);
        SECRET(priv, 32);
        int rc = ecc_p256_public(pub, priv);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(pub, 64);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_public rc");
    }
}

static void check_p256_ecdh(void) {
    uint8_t priv[32], pub[64], shared[32];
    public_key(pub);
    for (int i = 0; i < NSCALARS; i++) {
        scalar_case(priv, i);
        SECRET(priv, 32);
        int rc = ecc_p256_ecdh(shared, priv, pub);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(shared, 32);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_ecdh rc");
    }
}

static void check_p256_sign(void) {
    uint8_t priv[32], digest[32], sig[64];
    for (int i = 0; i < NSCALARS; i++) {
        scalar_case(priv, i);
        fill(digest, 32); /* the digest is public */
        SECRET(priv, 32);
        int rc = ecc_p256_sign(sig, priv, digest);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(sig, 64);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_sign rc");
    }
}

static void check_p256_scalar_mul(void) {
    uint8_t k[32], priv[32], out[32];
    for (int i = 0; i < NSCALARS; i++) {
        scalar_case(k, i);
        fill_scalar(priv);
        SECRET(k, 32);
        SECRET(priv, 32);
        int rc = ecc_p256_scalar_mul(out, k, priv);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, 32);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_scalar_mul rc");
        /* and the second operand out of range */
        SECRET(k, 32);
        SECRET(priv, 32);
        rc = ecc_p256_scalar_mul(out, priv, k);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, 32);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_scalar_mul rc (swapped)");
    }
}

static void check_p256_point_mul(void) {
    uint8_t k[32], pub[64], out[64];
    public_key(pub);
    for (int i = 0; i < NSCALARS; i++) {
        scalar_case(k, i);
        SECRET(k, 32);
        int rc = ecc_p256_point_mul(out, k, pub);
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, 64);
        expect((rc == ECC_OK) == (i != 2 && i < 5), "p256_point_mul rc");
    }
}

static const struct {
    const char *name;
    void (*run)(void);
} CHECKS[] = {
    {"x25519", check_x25519},
    {"x25519_base", check_x25519_base},
    {"p256_public", check_p256_public},
    {"p256_ecdh", check_p256_ecdh},
    {"p256_sign", check_p256_sign},
    {"p256_scalar_mul", check_p256_scalar_mul},
    {"p256_point_mul", check_p256_point_mul},
};
#define NCHECKS (sizeof CHECKS / sizeof CHECKS[0])

int main(int argc, char **argv) {
    rng_state = 0x6563632d63746772u; /* this driver's own input sequence */
    for (size_t c = 0; c < NCHECKS; c++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], CHECKS[c].name) == 0;
        if (!wanted) continue;
        CHECKS[c].run();
        printf("ran %s\n", CHECKS[c].name);
    }
    for (int a = 1; a < argc; a++) {
        int known = 0;
        for (size_t c = 0; c < NCHECKS; c++) known |= strcmp(argv[a], CHECKS[c].name) == 0;
        if (!known) {
            printf("unknown check %s\n", argv[a]);
            failures++;
        }
    }
    return failures ? 2 : 0;
}
