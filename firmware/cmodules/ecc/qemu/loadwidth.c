/* QEMU TCG plugin: the width of every load into given address ranges.
 *
 * On the ESP8266 a native module's code and rodata sit in IRAM or flash,
 * which only aligned 32-bit loads may read: a narrower or unaligned load
 * there raises LoadStoreError. QEMU's lx106 model has plain RAM everywhere,
 * so the bare-metal harness (ecc-bench.elf) would never notice; this plugin
 * does. Run with
 *
 *   qemu-system-xtensa ... -plugin loadwidth.so,out=FILE,range=LO:HI,... -kernel ELF
 *
 * range=LO:HI watches [LO, HI) (hex), count=LO:HI only counts there (a
 * control: memory that may be read by byte); up to 8 in all. At exit FILE
 * holds one line per range in the order given, "range LO HI loads1 loads2
 * loads4 unaligned4", then one line "bad PC ADDR BYTES" per offending load
 * in a watched range (narrow, or 4 bytes unaligned), the first 64.
 * tests/test_ecc_flash_inputs.py builds and runs it.
 *
 * QEMU 7.2 ships no plugin header in Debian: the declarations below are those
 * of the plugin API version 1 (include/qemu/qemu-plugin.h) that this uses. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef uint32_t qemu_plugin_meminfo_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
                                      void *userdata);
unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

EXPORT int qemu_plugin_version = 1;

#define MAX_RANGES 8
#define MAX_BAD 64

static struct {
    uint64_t lo, hi;
    uint64_t loads[3]; /* by size: 1, 2, 4 (or wider) */
    uint64_t unaligned4;
    bool watched;
} ranges[MAX_RANGES];
static int n_ranges;
static struct {
    uint64_t pc, addr;
    unsigned bytes;
} bad[MAX_BAD];
static unsigned n_bad;
static char out_path[4096];

/* One guest access; userdata is the instruction's address. Stores are
 * dropped here: QEMU 7.2 reported stores to a callback registered for
 * QEMU_PLUGIN_MEM_R only, so the callback takes both and filters. */
static void on_load(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *pc) {
    (void)vcpu;
    if (qemu_plugin_mem_is_store(info)) {
        return;
    }
    unsigned bytes = 1u << qemu_plugin_mem_size_shift(info);
    for (int i = 0; i < n_ranges; i++) {
        if (vaddr < ranges[i].lo || vaddr >= ranges[i].hi) {
            continue;
        }
        ranges[i].loads[bytes == 1 ? 0 : bytes == 2 ? 1 : 2]++;
        bool unaligned = bytes == 4 && (vaddr & 3) != 0;
        ranges[i].unaligned4 += unaligned;
        if (ranges[i].watched && (bytes != 4 || unaligned) && n_bad < MAX_BAD) {
            bad[n_bad].pc = (uint64_t)(uintptr_t)pc;
            bad[n_bad].addr = vaddr;
            bad[n_bad].bytes = bytes;
            n_bad++;
        }
    }
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        void *pc = (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn);
        qemu_plugin_register_vcpu_mem_cb(insn, on_load, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_RW, pc);
    }
}

static void write_report(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
        perror(out_path);
        return;
    }
    for (int i = 0; i < n_ranges; i++) {
        fprintf(f, "range %#" PRIx64 " %#" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                   "\n",
                ranges[i].lo, ranges[i].hi, ranges[i].loads[0], ranges[i].loads[1],
                ranges[i].loads[2], ranges[i].unaligned4);
    }
    for (unsigned i = 0; i < n_bad; i++) {
        fprintf(f, "bad %#" PRIx64 " %#" PRIx64 " %u\n", bad[i].pc, bad[i].addr, bad[i].bytes);
    }
    fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                               char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        unsigned long long lo, hi;
        char kind[8];
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else if (sscanf(argv[i], "%7[a-z]=%llx:%llx", kind, &lo, &hi) == 3 &&
                   (strcmp(kind, "range") == 0 || strcmp(kind, "count") == 0) &&
                   n_ranges < MAX_RANGES) {
            ranges[n_ranges].lo = lo;
            ranges[n_ranges].hi = hi;
            ranges[n_ranges].watched = kind[0] == 'r';
            n_ranges++;
        } else {
            fprintf(stderr, "loadwidth: bad argument %s\n", argv[i]);
            return -1;
        }
    }
    if (out_path[0] == '\0' || n_ranges == 0) {
        fprintf(stderr, "loadwidth: needs out=FILE and at least one range=LO:HI or count=LO:HI\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, write_report, NULL);
    return 0;
}
