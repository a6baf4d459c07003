/* Bare-metal benchmark of the ecc core on QEMU's lx106 (ESP8266 CPU core).
 *
 * Prints, through semihosting:
 *   PASS|FAIL <op> <check> [rc=...]     known-answer and Wycheproof checks
 *   CALIBRATE loop_instructions=N ccount=C
 *   OVERHEAD ccount=C stack=S           the harness's wrapper (stack subtracted)
 *   BENCH <op> rc=R ccount=C instructions=I stack=S
 *   DONE fail=F
 * and exits with 0, or 1 if anything failed.
 *
 * Instructions: with -icount shift=0 every instruction takes 1 ns of virtual
 * time and CCOUNT ticks at 40 MHz, so instructions = CCOUNT delta x 25
 * (resolution 25). Stack: the free stack is painted before each call and the
 * deepest overwritten word found afterwards. */
#include "ecc.h"
#include "harness.h"
#include "semihost.h"

#define INSTRUCTIONS_PER_TICK 25u
#define CALIBRATE_ITERATIONS 100000u
#define PAINT_A 0xa5a5a5a5u
#define PAINT_B 0x5a5a5a5au

extern uint32_t __stack_bottom[]; /* qemu.ld */

void out_str(const char *s) {
    sh_puts(s);
}

void out_u32(uint32_t v) {
    sh_putu(v);
}

void out_hex(const uint8_t *buf, size_t len) {
    sh_puthex(buf, len);
}

static inline uint32_t ccount(void) {
    uint32_t c;
    __asm__ volatile("rsr %0, ccount" : "=r"(c));
    return c;
}

typedef struct {
    uint32_t ticks;
    uint32_t stack;
    uintptr_t sp; /* measure()'s stack pointer */
    int rc;
} sample_t;

static uintptr_t nop_sp;

/* Runs op once: CCOUNT around the call, and the stack it used below this
 * frame. noinline so that sp is fixed for the whole body: everything the
 * op (and the ops wrapper) pushes lands in the painted area. */
static __attribute__((noinline)) void measure(int (*run)(void), uint32_t paint, sample_t *s) {
    volatile uint32_t *sp;
    volatile uint32_t *p;
    uint32_t t0;
    uint32_t t1;

    __asm__ volatile("mov %0, a1" : "=r"(sp));
    /* volatile: gcc must not turn these loops into memset/memcmp calls,
     * which would run on the very stack being painted. */
    for (p = __stack_bottom; p < sp; p++) {
        *p = paint;
    }
    t0 = ccount();
    s->rc = run();
    t1 = ccount();
    for (p = __stack_bottom; p < sp && *p == paint; p++) {
    }
    s->ticks = t1 - t0;
    s->stack = (uint32_t)((uintptr_t)sp - (uintptr_t)p);
    s->sp = (uintptr_t)sp;
}

/* A loop of exactly 2 instructions per iteration, as a live check of the
 * 25 instructions per tick factor. */
static void calibrate(void) {
    uint32_t n = CALIBRATE_ITERATIONS;
    uint32_t t0 = ccount();
    __asm__ volatile("1: addi %0, %0, -1\n\t"
                     "bnez %0, 1b"
                     : "+r"(n));
    uint32_t t1 = ccount();
    out_str("CALIBRATE loop_instructions=");
    out_u32(2 * CALIBRATE_ITERATIONS);
    out_str(" ccount=");
    out_u32(t1 - t0);
    out_str("\n");
}

/* A leaf without a frame: its sp is the wrapper's, one frame below measure(). */
int harness_nop(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, a1" : "=r"(sp));
    nop_sp = sp;
    return ECC_OK;
}

/* Runs op twice, with two paint patterns so that a word that happens to
 * equal one of them is still seen; ticks from the first run. */
static void measure_op(const bench_op_t *op, sample_t *out) {
    sample_t b;
    measure(op->run, PAINT_A, out);
    measure(op->run, PAINT_B, &b);
    if (b.stack > out->stack) {
        out->stack = b.stack;
    }
}

int main(void) {
    unsigned failures;
    sample_t empty;

    out_str("ecc lx106 harness\n");
    failures = run_checks();
    calibrate();

    /* The wrapper's own frame is the harness's, not the core's: it is the
     * distance from measure()'s sp to the nop's, and is subtracted. Its time
     * (about 15 instructions, under one tick) is only printed: subtracting
     * a reading of 0 or 1 tick would add noise, not remove it. */
    measure_op(&bench_empty, &empty);
    empty.stack = (uint32_t)(empty.sp - nop_sp);
    out_str("OVERHEAD ccount=");
    out_u32(empty.ticks);
    out_str(" stack=");
    out_u32(empty.stack);
    out_str("\n");

    for (unsigned i = 0; i < bench_op_count; i++) {
        const bench_op_t *op = &bench_ops[i];
        sample_t s;
        measure_op(op, &s);
        if (s.rc != ECC_OK) {
            failures++;
            out_str("FAIL bench ");
            out_str(op->name);
            out_str(" rc!=0\n");
        }
        uint32_t ticks = s.ticks;
        out_str("BENCH ");
        out_str(op->name);
        out_str(s.rc == ECC_OK ? " rc=0" : " rc=error");
        out_str(" ccount=");
        out_u32(ticks);
        out_str(" instructions=");
        out_u32(ticks * INSTRUCTIONS_PER_TICK);
        out_str(" stack=");
        out_u32(s.stack - empty.stack);
        out_str("\n");
    }
    out_str("DONE fail=");
    out_u32(failures);
    out_str("\n");
    return failures == 0 ? 0 : 1;
}
