/* Output through QEMU's xtensa semihosting (the simcall instruction). */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

void sh_write(const char *buf, size_t len);
void sh_exit(int code) __attribute__((noreturn));

void sh_puts(const char *s); /* no newline added */
void sh_putu(uint32_t v);    /* decimal */
void sh_puthex(const uint8_t *buf, size_t len);

#endif
