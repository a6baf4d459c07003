/* One benchmark per ecc.h operation, each on fixed valid inputs from
 * vectors.c. Outputs go to static buffers so the callee's stack is all that
 * the stack meter sees. */
#include "ecc.h"
#include "harness.h"
#include "vectors.h"

static uint8_t out32[32];
static uint8_t out64[64];
static uint8_t out33[33];
static const uint8_t p256_U_compressed[33] = {
    0x03, /* Uy is odd */
    0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb, 0x74, 0xc6, 0x35, 0x6d, 0x68,
    0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c, 0xe6, 0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6,
};

static int op_x25519(void) {
    return ecc_x25519(out32, x25519_v1_scalar, x25519_v1_u);
}

static int op_x25519_base(void) {
    ecc_x25519_base(out32, x25519_alice_priv);
    return ECC_OK;
}

static int op_p256_public(void) {
    return ecc_p256_public(out64, p256_x);
}

static int op_p256_ecdh(void) {
    return ecc_p256_ecdh(out32, p256_x, p256_gi);
}

static int op_p256_sign(void) {
    return ecc_p256_sign(out64, p256_x, p256_sample_digest);
}

static int op_p256_verify(void) {
    return ecc_p256_verify(p256_U, p256_sample_digest, p256_sample_sig);
}

static int op_p256_scalar_mul(void) {
    return ecc_p256_scalar_mul(out32, p256_k, p256_x);
}

static int op_p256_point_mul(void) {
    return ecc_p256_point_mul(out64, p256_k, p256_U);
}

static int op_p256_compress(void) {
    return ecc_p256_compress(out33, p256_U);
}

static int op_p256_decompress(void) {
    return ecc_p256_decompress(out64, p256_U_compressed);
}

static int op_empty(void) {
    return harness_nop();
}

const bench_op_t bench_empty = {"empty", op_empty};

const bench_op_t bench_ops[] = {
    {"x25519", op_x25519},
    {"x25519_base", op_x25519_base},
    {"p256_public", op_p256_public},
    {"p256_ecdh", op_p256_ecdh},
    {"p256_sign", op_p256_sign},
    {"p256_verify", op_p256_verify},
    {"p256_scalar_mul", op_p256_scalar_mul},
    {"p256_point_mul", op_p256_point_mul},
    {"p256_compress", op_p256_compress},
    {"p256_decompress", op_p256_decompress},
};

const unsigned bench_op_count = sizeof(bench_ops) / sizeof(bench_ops[0]);
