// The unix_sim board's 32-bit interpreter: the unix port with the language
// features of MicroPython's ESP8266 build (ports/esp8266/mpconfigport.h), so
// what the chip lacks this lacks too. Built by tools/unix32.py.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)
// The ESP8266 build has no binascii.crc32 and no three-argument pow().
#define MICROPY_PY_BINASCII_CRC32 (0)
#define MICROPY_PY_BUILTINS_POW3 (0)
// Single-precision floats, as on the chip, packed into the object word
// (no heap for a float), as the chip's MICROPY_OBJ_REPR_C does.
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_OBJ_REPR (MICROPY_OBJ_REPR_C)
// Modules have no __file__ on the chip: no interned path per import.
#define MICROPY_MODULE___FILE__ (0)
// What else the chip's build leaves out that code could come to rely on.
#define MICROPY_PY_BUILTINS_COMPLEX (0)
#define MICROPY_PY_DELATTR_SETATTR (0)
#define MICROPY_PY_BUILTINS_STR_CENTER (0)
#define MICROPY_PY_BUILTINS_STR_PARTITION (0)
#define MICROPY_PY_BUILTINS_STR_SPLITLINES (0)
#define MICROPY_PY_BUILTINS_SLICE_INDICES (0)
#define MICROPY_PY_BUILTINS_NOTIMPLEMENTED (0)
#define MICROPY_PY_MATH_CONSTANTS (0)
#define MICROPY_PY_MATH_SPECIAL_FUNCTIONS (0)
#define MICROPY_PY_MATH_FACTORIAL (0)
#define MICROPY_PY_MATH_ISCLOSE (0)
#define MICROPY_PY_RANDOM_EXTRA_FUNCS (0)
#define MICROPY_PY_HASHLIB_MD5 (0)
#include "variants/mpconfigvariant_common.h"  // ports/unix is on the include path
