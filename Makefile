# Every target installs what it needs on first use and is quick afterwards.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: the ESP8266 cross compiler, QEMU's lx106 core, valgrind,
# and the 32-bit C library the unix32 interpreter and x86 native modules need.
APT_PKGS := gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf qemu-system-misc valgrind gcc-multilib
APT_STAMP := $(VENV)/.apt-installed
TARGET ?= unix,pty,unix32
PYTEST_ARGS ?=

.PHONY: setup demo test lint format sim report firmware bench bench-ecc clean

setup: $(STAMP) $(APT_STAMP)

# Installs the Debian packages only when a tool is missing (root, as on CI).
$(APT_STAMP): | $(STAMP)
	@if ! command -v xtensa-lx106-elf-gcc >/dev/null || ! command -v qemu-system-xtensa >/dev/null \
	   || ! command -v valgrind >/dev/null || [ ! -d /usr/lib/xtensa-lx106-elf/include ] \
	   || [ ! -e /usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a ]; then \
		echo "installing Debian packages: $(APT_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi
	@touch $@

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# The main job: the simulated home.
demo: $(STAMP) $(APT_STAMP) firmware
	$(BIN)/homeca demo

# Lint, then every test; device tests run on each target in TARGET. The
# simulated devices load the x64 ecc module that `firmware` builds.
test: $(STAMP) $(APT_STAMP) firmware
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q --target $(TARGET) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# One simulated device in the foreground: its console and HC-05 ptys are printed.
sim: $(STAMP)
	$(BIN)/homeca sim device build/sim/node

# Heap and timing figures of the firmware on both interpreters, side by side,
# with the live heap by module and by task.
report: $(STAMP) $(APT_STAMP) firmware
	$(BIN)/homeca sim report --heap-floor --oled-png build/sim/report-oled.png

# The native ecc module (x64 for the unix port, x86 for unix32, xtensa for the
# ESP8266), the simulated board's flash window (simflash, x64 and x86), the
# unix32 interpreter (tools/unix32.py: from MPY_SRC or ../shared/micropython;
# without a source, off CI, it says so and the unix32 tests skip), then the
# nodemcu_v3 bundle: every module compiled, and the ROMFS image, as deployed
# (build/bundle/nodemcu_v3).
firmware: $(STAMP) $(APT_STAMP)
	$(MAKE) -C firmware/cmodules/ecc ARCH=x64 ECC_PYTHON=$(abspath $(BIN)/python)
	$(MAKE) -C firmware/cmodules/ecc ARCH=x86 ECC_PYTHON=$(abspath $(BIN)/python)
	$(MAKE) -C firmware/cmodules/ecc ARCH=xtensa ECC_PYTHON=$(abspath $(BIN)/python)
	$(MAKE) -C boards/unix_sim/simflash ARCH=x64 SIMFLASH_PYTHON=$(abspath $(BIN)/python)
	$(MAKE) -C boards/unix_sim/simflash ARCH=x86 SIMFLASH_PYTHON=$(abspath $(BIN)/python)
	@$(BIN)/python tools/unix32.py || { rc=$$?; if [ $$rc -eq 2 ] && [ -z "$$CI" ]; then \
		echo "unix32: no MicroPython source: the unix32 target's tests will skip"; \
		else exit $$rc; fi; }
	$(BIN)/homeca firmware bundle nodemcu_v3 --out build/bundle/nodemcu_v3

# Benchmarks print numbers; they are not tests. bench-ecc: lx106 instructions
# on QEMU, x86-64 instructions (callgrind), unix-port times, size and stack;
# also written to build/bench/ecc.json.
bench: bench-ecc

bench-ecc: $(STAMP) $(APT_STAMP) firmware
	$(BIN)/python -m homeca.bench.ecc

clean:
	rm -rf build .pytest_cache .ruff_cache
