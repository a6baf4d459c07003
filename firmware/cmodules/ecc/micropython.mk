# The ecc module built into a firmware, for make-based ports (esp8266, unix, ...):
#
#   make -C ports/esp8266 USER_C_MODULES=/path/to/firmware/cmodules
#
# USER_C_MODULES names the directory holding ecc/: py/py.mk includes every
# */micropython.mk in it, with USERMOD_DIR set to that module's directory.

ECC_MOD_DIR := $(USERMOD_DIR)

# The binding holds the module's qstrs, so it is scanned for them.
SRC_USERMOD_C += $(ECC_MOD_DIR)/modecc.c

# The core has no qstrs: library sources, compiled and linked but not scanned.
SRC_USERMOD_LIB_C += $(wildcard $(ECC_MOD_DIR)/core/*.c)

# py.mk has no list for assembly: name the objects of the core's .S files
# (lx106 code, empty elsewhere); py/mkrules.mk builds them from
# $(USER_C_MODULES) through its vpath, as it does the C files.
PY_O += $(patsubst $(USER_C_MODULES)/%.S,$(BUILD)/%.o,$(wildcard $(ECC_MOD_DIR)/core/*.S))

# No -I: modecc.c includes "core/ecc.h" and the core its headers by relative
# path, and CFLAGS_USERMOD would apply to the whole firmware, where a header
# name of the core (sha256.h, ...) could shadow one of MicroPython's.
