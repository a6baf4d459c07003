// The simulated chip's memory-mapped flash: the window its ROMFS partition is
// read through, as the ESP8266 maps flash at 0x40200000.
//
// A native module's code and rodata go where the port allocates executable
// memory, which on the unix port is mmap'd outside the GC heap. So a ROMFS
// image copied into this window, and the bytecode that runs in place from it,
// cost the simulated heap nothing, as on a board whose firmware has ROMFS.
// The window is rodata only so that it lands in that block (a native module
// may not have .data or .bss); startup.py fills it once at reset.
#include "py/dynruntime.h"

// ESP8266_GENERIC FLASH_2M_ROMFS: a 320 KiB ROMFS partition.
#define WINDOW_BYTES (320 * 1024)

// One non-zero byte keeps the array out of .bss.
static const uint8_t window[WINDOW_BYTES] __attribute__((aligned(16))) = {0xff};

// window() -> (address, size), for uctypes.bytearray_at().
static mp_obj_t window_fun(void) {
    mp_obj_t items[2] = {
        mp_obj_new_int_from_uint((uintptr_t)window),
        MP_OBJ_NEW_SMALL_INT(WINDOW_BYTES),
    };
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(window_obj, window_fun);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_window, MP_OBJ_FROM_PTR(&window_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
