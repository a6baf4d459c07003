/* Known-answer vectors shared by the checks and the benchmarks. */
#ifndef VECTORS_H
#define VECTORS_H

#include <stdint.h>

extern const uint8_t x25519_v1_scalar[32];
extern const uint8_t x25519_v1_u[32];
extern const uint8_t x25519_v1_out[32];
extern const uint8_t x25519_v2_scalar[32];
extern const uint8_t x25519_v2_u[32];
extern const uint8_t x25519_v2_out[32];
extern const uint8_t x25519_nine[32];
extern const uint8_t x25519_iter1_out[32];
extern const uint8_t x25519_alice_priv[32];
extern const uint8_t x25519_alice_pub[32];
extern const uint8_t x25519_bob_priv[32];
extern const uint8_t x25519_bob_pub[32];
extern const uint8_t x25519_alice_bob[32];
extern const uint8_t p256_x[32];
extern const uint8_t p256_U[64];
extern const uint8_t p256_sample_digest[32];
extern const uint8_t p256_sample_sig[64];
extern const uint8_t p256_i[32];
extern const uint8_t p256_gi[64];
extern const uint8_t p256_ecdh_iU[32];
extern const uint8_t p256_k[32];
extern const uint8_t p256_kx[32];
extern const uint8_t p256_kU[64];
extern const uint8_t p256_n[32];

#endif
