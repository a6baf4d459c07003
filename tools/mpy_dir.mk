# MPY_DIR for a native-module build: the caller's MicroPython tree when set,
# else the pinned one tools/mpy_dir.py extracts. Set REPO and NATMOD_PYTHON
# (a python with pyelftools, for mpy_ld) before including this file.
ifeq ($(MPY_DIR),)
MPY_DIR := $(shell $(NATMOD_PYTHON) $(REPO)/tools/mpy_dir.py)
ifeq ($(MPY_DIR),)
$(error no MicroPython tree: tools/mpy_dir.py failed (see above), or set MPY_DIR)
endif
endif
