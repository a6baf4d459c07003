/* What both test drivers need: the group order and reproducible inputs. */
#ifndef ECC_TEST_COMMON_H
#define ECC_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Group order n, big-endian. */
static const uint8_t N[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* splitmix64: inputs only need to vary, not to be unpredictable. Each driver
 * seeds rng_state itself. */
static uint64_t rng_state;

static void fill(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        p[i] = (uint8_t)(z ^ (z >> 31));
    }
}

#endif
