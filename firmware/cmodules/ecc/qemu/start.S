/* Startup for the bare-metal lx106 harness on QEMU's "sim" machine.
 *
 * QEMU 7.2 starts the lx106 at its reset vector (sysrom0, 0x50000000), not at
 * the ELF entry, so .reset jumps from there to _start in instram0. */

    .section .reset, "ax"
    .global _reset
_reset:
    /* L32R only reaches backwards: hop over the literal, then load it. */
    j       1f
    .align  4
.Lstart_addr:
    .word   _start
1:  l32r    a0, .Lstart_addr
    jx      a0

/* Exception vectors (VECBASE is 0x40000000 at reset). Nothing here should
 * fault; if it does, exit at once with 64 + EXCCAUSE instead of running on
 * into whatever code sits at the vector address. */
    .section .vectors, "ax"
    .global _vectors
_vectors:
    .org    0x10                /* debug */
    movi    a3, 62
    j       .Lfault_exit
    .org    0x20                /* NMI */
    movi    a3, 63
    j       .Lfault_exit
    .org    0x30                /* kernel exception */
    rsr     a3, exccause
    j       .Lfault_cause
    .org    0x50                /* user exception */
    rsr     a3, exccause
    j       .Lfault_cause
    .org    0x70                /* double exception */
    rsr     a3, exccause
    j       .Lfault_cause
.Lfault_cause:
    addi    a3, a3, 64
.Lfault_exit:
    movi    a2, 1               /* semihosting exit(a3) */
    simcall
2:  j       2b

    .text
    .literal_position
    .global _start
    .type   _start, @function
    .align  4
_start:
    movi    a1, __stack_top
    /* A real chip does not zero .bss and QEMU's loader only happens to. */
    movi    a2, __bss_start
    movi    a3, __bss_end
    movi    a4, 0
3:  bgeu    a2, a3, 4f
    s32i    a4, a2, 0
    addi    a2, a2, 4
    j       3b
4:  movi    a0, main
    callx0  a0
    /* exit(main's return value) */
    mov     a3, a2
    movi    a2, 1
    simcall
5:  j       5b
    .size   _start, . - _start
