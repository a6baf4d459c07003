/* What the checks and the op table need from the platform they run on: the
 * bare-metal QEMU build (bench.c) or the host build (host_bench.c). */
#ifndef HARNESS_H
#define HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Provided by the platform. */
void out_str(const char *s);
void out_u32(uint32_t v);
void out_hex(const uint8_t *buf, size_t len);

/* checks.c: prints one PASS/FAIL line per check, returns the failures. */
unsigned run_checks(void);

/* ops.c: one benchmark per ecc.h operation, on fixed valid inputs. */
typedef struct {
    const char *name;
    int (*run)(void); /* returns the ecc_* result, ECC_OK expected */
} bench_op_t;

extern const bench_op_t bench_ops[];
extern const unsigned bench_op_count;

/* A wrapper like the others around a call to harness_nop(): measures what
 * the harness itself adds, so that it can be subtracted. */
extern const bench_op_t bench_empty;
int harness_nop(void); /* provided by the platform, in another file */

#endif
