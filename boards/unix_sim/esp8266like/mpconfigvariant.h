// The unix_sim board's 32-bit interpreter: the unix port with the language
// features of MicroPython's ESP8266 build (ports/esp8266/mpconfigport.h), so
// what the chip lacks this lacks too. Built by tools/unix32.py.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)
// The ESP8266 build has no binascii.crc32 and no three-argument pow().
#define MICROPY_PY_BINASCII_CRC32 (0)
#define MICROPY_PY_BUILTINS_POW3 (0)
// Single-precision floats, as on the chip.
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#include "variants/mpconfigvariant_common.h"  // ports/unix is on the include path
