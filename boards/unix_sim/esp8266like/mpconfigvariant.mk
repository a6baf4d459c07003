# i386 objects (gcc-multilib): 4-byte words, 16-byte GC blocks and 31-bit small
# ints, as on the lx106. Nothing the ESP8266 build lacks: no ffi, btree, TLS or
# threads.
CFLAGS_EXTRA += -m32
LDFLAGS_EXTRA += -m32
MICROPY_PY_FFI = 0
MICROPY_PY_BTREE = 0
MICROPY_PY_SSL = 0
MICROPY_SSL_MBEDTLS = 0
MICROPY_PY_THREAD = 0
FROZEN_MANIFEST = $(VARIANT_DIR)/manifest.py
