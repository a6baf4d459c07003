/* MicroPython binding of the ecc core (core/ecc.h): module `ecc`.
 *
 * One file, two builds:
 * - dynamic native module (.mpy, see Makefile): dynruntime.mk defines
 *   MICROPY_ENABLE_DYNRUNTIME; the functions are registered in mpy_init.
 * - user C module in a firmware (micropython.mk / micropython.cmake):
 *   a constant module table and MP_REGISTER_MODULE.
 *
 * A native module may have no writable .data or .bss, so everything here is
 * const or on the stack: results go through a stack array into a new bytes.
 * Bytes in via the buffer protocol, every length checked exactly, and copied
 * onto the stack before the core sees them (ecc_copy_in, below).
 */
#if MICROPY_ENABLE_DYNRUNTIME
#include "py/dynruntime.h"
#else
#include "py/runtime.h"
#endif

#include "core/ecc.h"

/* Inputs that may sit in flash.
 *
 * On the ESP8266 a bytes object can point straight into memory-mapped flash
 * (e.g. a literal in a module imported from ROMFS): that memory allows
 * only aligned 32-bit loads, any narrower load raises LoadStoreError and
 * resets the chip. The core reads its inputs byte by byte (l8ui) and is built
 * without -mforce-l32, so no pointer from Python ever reaches it: every input
 * is first copied onto the stack (RAM) by ecc_copy_in, which reads its source
 * only with aligned 32-bit loads: the pointer rounded down to a word, one load
 * per word, bytes taken out by shifts. It loads a word only while a byte of
 * the input is still wanted from it, so it never reads past the word holding
 * the last byte (nor before the word holding the first): those words are
 * mapped wherever the bytes are. The pointer is volatile so that the compiler
 * keeps exactly these 32-bit loads (it may not merge, split or narrow them).
 * tests/test_ecc_flash_inputs.py checks the instructions and that buffers
 * from Python reach nothing else. Outputs are new bytes objects on the heap,
 * RAM, where byte stores are fine. */
static __attribute__((noinline)) void ecc_copy_in(uint8_t *dst, const void *src, size_t n) {
    uintptr_t addr = (uintptr_t)src;
    const volatile uint32_t *w = (const volatile uint32_t *)(addr & ~(uintptr_t)3);
    unsigned i = (unsigned)(addr & 3); /* index of the next byte in the word */
    while (n > 0) {
        uint32_t word = *w++;
        for (; i < 4 && n > 0; i++, n--) {
            #if MP_ENDIANNESS_BIG
            *dst++ = (uint8_t)(word >> (24 - 8 * i));
            #else
            *dst++ = (uint8_t)(word >> (8 * i));
            #endif
        }
        i = 0;
    }
}

/* Raises unless obj has a buffer of exactly len bytes, then copies it to dst
 * (unless dst is NULL): the only place where a pointer from Python is read,
 * and only by ecc_copy_in. */
static void ecc_in(uint8_t *dst, mp_obj_t obj, size_t len, mp_rom_error_text_t msg) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(obj, &info, MP_BUFFER_READ);
    if (info.len != len) {
        mp_raise_ValueError(msg);
    }
    if (dst != NULL) {
        ecc_copy_in(dst, info.buf, len);
    }
}

/* Only ecc_in's checks: for a secret, copied later (see below). */
#define ecc_need_len(obj, len, msg) ecc_in(NULL, obj, len, msg)

/* Copies an uncompressed P-256 point 0x04||X||Y to pub; X||Y (pub + 1) is what
 * the core takes. */
static void ecc_in_pub65(uint8_t pub[65], mp_obj_t obj) {
    ecc_in(pub, obj, 65, MP_ERROR_TEXT("pub must be 65 bytes"));
    if (pub[0] != 0x04) {
        mp_raise_ValueError(MP_ERROR_TEXT("pub must start with 0x04"));
    }
}

/* Raises ValueError unless the core said ECC_OK. */
static void ecc_check(int rc) {
    if (rc == ECC_OK) {
        return;
    }
    if (rc == ECC_EPOINT) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid point"));
    }
    if (rc == ECC_ESCALAR) {
        mp_raise_ValueError(MP_ERROR_TEXT("scalar out of range"));
    }
    if (rc == ECC_EZERO) {
        mp_raise_ValueError(MP_ERROR_TEXT("zero result"));
    }
    mp_raise_ValueError(MP_ERROR_TEXT("ecc failed"));
}

/* Secret inputs (scalars, private keys) are wiped from the stack once the core
 * has run, as the core wipes its own temporaries: by ecc_out_wiping, before
 * ecc_check, which may raise. A secret is copied last, after every check that
 * may raise (lengths in argument order, as without the copies; then the 0x04
 * prefix), so that no exception leaves a copy behind. */

/* The end of a call on a secret: wipes its 32-byte copy, raises unless rc is
 * ECC_OK, else returns out[0..len) as a new bytes. */
static mp_obj_t ecc_out_wiping(int rc, uint8_t secret[32], const uint8_t *out, size_t len) {
    ecc_wipe(secret, 32);
    ecc_check(rc);
    return mp_obj_new_bytes(out, len);
}

static mp_obj_t ecc_py_x25519(mp_obj_t scalar_in, mp_obj_t u_in) {
    uint8_t scalar[32], u[32], out[32];
    ecc_need_len(scalar_in, 32, MP_ERROR_TEXT("scalar must be 32 bytes"));
    ecc_in(u, u_in, 32, MP_ERROR_TEXT("u must be 32 bytes"));
    ecc_in(scalar, scalar_in, 32, MP_ERROR_TEXT("scalar must be 32 bytes"));
    return ecc_out_wiping(ecc_x25519(out, scalar, u), scalar, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_x25519_obj, ecc_py_x25519);

static mp_obj_t ecc_py_x25519_base(mp_obj_t scalar_in) {
    uint8_t scalar[32], out[32];
    ecc_in(scalar, scalar_in, 32, MP_ERROR_TEXT("scalar must be 32 bytes"));
    ecc_x25519_base(out, scalar);
    return ecc_out_wiping(ECC_OK, scalar, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_x25519_base_obj, ecc_py_x25519_base);

static mp_obj_t ecc_py_p256_public(mp_obj_t priv_in) {
    uint8_t priv[32], out[65];
    ecc_in(priv, priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    out[0] = 0x04;
    return ecc_out_wiping(ecc_p256_public(out + 1, priv), priv, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_p256_public_obj, ecc_py_p256_public);

static mp_obj_t ecc_py_p256_ecdh(mp_obj_t priv_in, mp_obj_t pub_in) {
    uint8_t priv[32], pub[65], out[32];
    ecc_need_len(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    ecc_in_pub65(pub, pub_in);
    ecc_in(priv, priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    return ecc_out_wiping(ecc_p256_ecdh(out, priv, pub + 1), priv, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_ecdh_obj, ecc_py_p256_ecdh);

static mp_obj_t ecc_py_p256_sign(mp_obj_t priv_in, mp_obj_t digest_in) {
    uint8_t priv[32], digest[32], out[64];
    ecc_need_len(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    ecc_in(digest, digest_in, 32, MP_ERROR_TEXT("digest must be 32 bytes"));
    ecc_in(priv, priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    return ecc_out_wiping(ecc_p256_sign(out, priv, digest), priv, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_sign_obj, ecc_py_p256_sign);

static mp_obj_t ecc_py_p256_verify(mp_obj_t pub_in, mp_obj_t digest_in, mp_obj_t sig_in) {
    uint8_t pub[65], digest[32], sig[64];
    ecc_in_pub65(pub, pub_in);
    ecc_in(digest, digest_in, 32, MP_ERROR_TEXT("digest must be 32 bytes"));
    ecc_in(sig, sig_in, 64, MP_ERROR_TEXT("sig must be 64 bytes"));
    int rc = ecc_p256_verify(pub + 1, digest, sig);
    if (rc == ECC_ESIG) {
        return mp_const_false;
    }
    ecc_check(rc);
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_3(ecc_p256_verify_obj, ecc_py_p256_verify);

static mp_obj_t ecc_py_p256_scalar_mul(mp_obj_t k_in, mp_obj_t priv_in) {
    uint8_t k[32], priv[32], out[32];
    ecc_need_len(k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    ecc_need_len(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    ecc_in(k, k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    ecc_in(priv, priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    int rc = ecc_p256_scalar_mul(out, k, priv);
    ecc_wipe(k, sizeof(k));
    return ecc_out_wiping(rc, priv, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_scalar_mul_obj, ecc_py_p256_scalar_mul);

static mp_obj_t ecc_py_p256_point_mul(mp_obj_t k_in, mp_obj_t pub_in) {
    uint8_t k[32], pub[65], out[65];
    ecc_need_len(k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    ecc_in_pub65(pub, pub_in);
    ecc_in(k, k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    out[0] = 0x04;
    return ecc_out_wiping(ecc_p256_point_mul(out + 1, k, pub + 1), k, out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_point_mul_obj, ecc_py_p256_point_mul);

static mp_obj_t ecc_py_p256_compress(mp_obj_t pub_in) {
    uint8_t pub[65], out[33];
    ecc_in_pub65(pub, pub_in);
    ecc_check(ecc_p256_compress(out, pub + 1));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_p256_compress_obj, ecc_py_p256_compress);

static mp_obj_t ecc_py_p256_decompress(mp_obj_t pub_in) {
    uint8_t pub[33], out[65];
    ecc_in(pub, pub_in, 33, MP_ERROR_TEXT("pub must be 33 bytes"));
    out[0] = 0x04;
    ecc_check(ecc_p256_decompress(out + 1, pub));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_p256_decompress_obj, ecc_py_p256_decompress);

#if MICROPY_ENABLE_DYNRUNTIME

/* Qstrs of a native module are not compile-time constants, so its globals
 * are stored one by one here rather than from the const table below. */
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_store_global(MP_QSTR_x25519, MP_OBJ_FROM_PTR(&ecc_x25519_obj));
    mp_store_global(MP_QSTR_x25519_base, MP_OBJ_FROM_PTR(&ecc_x25519_base_obj));
    mp_store_global(MP_QSTR_p256_public, MP_OBJ_FROM_PTR(&ecc_p256_public_obj));
    mp_store_global(MP_QSTR_p256_ecdh, MP_OBJ_FROM_PTR(&ecc_p256_ecdh_obj));
    mp_store_global(MP_QSTR_p256_sign, MP_OBJ_FROM_PTR(&ecc_p256_sign_obj));
    mp_store_global(MP_QSTR_p256_verify, MP_OBJ_FROM_PTR(&ecc_p256_verify_obj));
    mp_store_global(MP_QSTR_p256_scalar_mul, MP_OBJ_FROM_PTR(&ecc_p256_scalar_mul_obj));
    mp_store_global(MP_QSTR_p256_point_mul, MP_OBJ_FROM_PTR(&ecc_p256_point_mul_obj));
    mp_store_global(MP_QSTR_p256_compress, MP_OBJ_FROM_PTR(&ecc_p256_compress_obj));
    mp_store_global(MP_QSTR_p256_decompress, MP_OBJ_FROM_PTR(&ecc_p256_decompress_obj));

    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t ecc_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_ecc) },
    { MP_ROM_QSTR(MP_QSTR_x25519), MP_ROM_PTR(&ecc_x25519_obj) },
    { MP_ROM_QSTR(MP_QSTR_x25519_base), MP_ROM_PTR(&ecc_x25519_base_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_public), MP_ROM_PTR(&ecc_p256_public_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_ecdh), MP_ROM_PTR(&ecc_p256_ecdh_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_sign), MP_ROM_PTR(&ecc_p256_sign_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_verify), MP_ROM_PTR(&ecc_p256_verify_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_scalar_mul), MP_ROM_PTR(&ecc_p256_scalar_mul_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_point_mul), MP_ROM_PTR(&ecc_p256_point_mul_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_compress), MP_ROM_PTR(&ecc_p256_compress_obj) },
    { MP_ROM_QSTR(MP_QSTR_p256_decompress), MP_ROM_PTR(&ecc_p256_decompress_obj) },
};
static MP_DEFINE_CONST_DICT(ecc_module_globals, ecc_module_globals_table);

const mp_obj_module_t ecc_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ecc_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_ecc, ecc_user_cmodule);

#endif
