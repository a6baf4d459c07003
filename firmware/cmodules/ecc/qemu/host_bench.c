/* Host (x86-64) driver for the same checks and ops as the QEMU harness.
 *   host_bench check        run the checks, exit 1 on any failure
 *   host_bench list         print the op names
 *   host_bench run OP [N]   run OP N times (default 1) inside bench_run(),
 *                           the function callgrind's --toggle-collect names */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecc.h"
#include "harness.h"

void out_str(const char *s) {
    fputs(s, stdout);
}

void out_u32(uint32_t v) {
    printf("%lu", (unsigned long)v);
}

void out_hex(const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        printf("%02x", buf[i]);
    }
}

int harness_nop(void) {
    return ECC_OK;
}

/* noinline: callgrind counts exactly the instructions inside this call. */
__attribute__((noinline)) int bench_run(const bench_op_t *op, unsigned times) {
    int rc = ECC_OK;
    for (unsigned i = 0; i < times; i++) {
        rc |= op->run();
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        unsigned failures = run_checks();
        printf("DONE fail=%u\n", failures);
        return failures == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (unsigned i = 0; i < bench_op_count; i++) {
            puts(bench_ops[i].name);
        }
        return 0;
    }
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "run") == 0) {
        unsigned times = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 1;
        for (unsigned i = 0; i < bench_op_count; i++) {
            if (strcmp(bench_ops[i].name, argv[2]) == 0) {
                int rc = bench_run(&bench_ops[i], times);
                if (rc != ECC_OK) {
                    fprintf(stderr, "%s: returned %d\n", argv[2], rc);
                    return 1;
                }
                return 0;
            }
        }
        fprintf(stderr, "unknown op %s\n", argv[2]);
        return 2;
    }
    fprintf(stderr, "usage: %s check | list | run OP [N]\n", argv[0]);
    return 2;
}
