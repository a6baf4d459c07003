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
 * Bytes in via the buffer protocol; every length is checked exactly.
 */
#if MICROPY_ENABLE_DYNRUNTIME
#include "py/dynruntime.h"
#else
#include "py/runtime.h"
#endif

#include "core/ecc.h"

/* The buffer of obj, which must be exactly len bytes long. */
static const uint8_t *ecc_in(mp_obj_t obj, size_t len, mp_rom_error_text_t msg) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(obj, &info, MP_BUFFER_READ);
    if (info.len != len) {
        mp_raise_ValueError(msg);
    }
    return (const uint8_t *)info.buf;
}

/* An uncompressed P-256 point 0x04||X||Y; returns X||Y as the core takes it. */
static const uint8_t *ecc_in_pub65(mp_obj_t obj) {
    const uint8_t *pub = ecc_in(obj, 65, MP_ERROR_TEXT("pub must be 65 bytes"));
    if (pub[0] != 0x04) {
        mp_raise_ValueError(MP_ERROR_TEXT("pub must start with 0x04"));
    }
    return pub + 1;
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

static mp_obj_t ecc_py_x25519(mp_obj_t scalar_in, mp_obj_t u_in) {
    const uint8_t *scalar = ecc_in(scalar_in, 32, MP_ERROR_TEXT("scalar must be 32 bytes"));
    const uint8_t *u = ecc_in(u_in, 32, MP_ERROR_TEXT("u must be 32 bytes"));
    uint8_t out[32];
    ecc_check(ecc_x25519(out, scalar, u));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_x25519_obj, ecc_py_x25519);

static mp_obj_t ecc_py_x25519_base(mp_obj_t scalar_in) {
    const uint8_t *scalar = ecc_in(scalar_in, 32, MP_ERROR_TEXT("scalar must be 32 bytes"));
    uint8_t out[32];
    ecc_x25519_base(out, scalar);
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_x25519_base_obj, ecc_py_x25519_base);

static mp_obj_t ecc_py_p256_public(mp_obj_t priv_in) {
    const uint8_t *priv = ecc_in(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    uint8_t out[65];
    out[0] = 0x04;
    ecc_check(ecc_p256_public(out + 1, priv));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_p256_public_obj, ecc_py_p256_public);

static mp_obj_t ecc_py_p256_ecdh(mp_obj_t priv_in, mp_obj_t pub_in) {
    const uint8_t *priv = ecc_in(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    const uint8_t *pub = ecc_in_pub65(pub_in);
    uint8_t out[32];
    ecc_check(ecc_p256_ecdh(out, priv, pub));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_ecdh_obj, ecc_py_p256_ecdh);

static mp_obj_t ecc_py_p256_sign(mp_obj_t priv_in, mp_obj_t digest_in) {
    const uint8_t *priv = ecc_in(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    const uint8_t *digest = ecc_in(digest_in, 32, MP_ERROR_TEXT("digest must be 32 bytes"));
    uint8_t out[64];
    ecc_check(ecc_p256_sign(out, priv, digest));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_sign_obj, ecc_py_p256_sign);

static mp_obj_t ecc_py_p256_verify(mp_obj_t pub_in, mp_obj_t digest_in, mp_obj_t sig_in) {
    const uint8_t *pub = ecc_in_pub65(pub_in);
    const uint8_t *digest = ecc_in(digest_in, 32, MP_ERROR_TEXT("digest must be 32 bytes"));
    const uint8_t *sig = ecc_in(sig_in, 64, MP_ERROR_TEXT("sig must be 64 bytes"));
    int rc = ecc_p256_verify(pub, digest, sig);
    if (rc == ECC_ESIG) {
        return mp_const_false;
    }
    ecc_check(rc);
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_3(ecc_p256_verify_obj, ecc_py_p256_verify);

static mp_obj_t ecc_py_p256_scalar_mul(mp_obj_t k_in, mp_obj_t priv_in) {
    const uint8_t *k = ecc_in(k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    const uint8_t *priv = ecc_in(priv_in, 32, MP_ERROR_TEXT("priv must be 32 bytes"));
    uint8_t out[32];
    ecc_check(ecc_p256_scalar_mul(out, k, priv));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_scalar_mul_obj, ecc_py_p256_scalar_mul);

static mp_obj_t ecc_py_p256_point_mul(mp_obj_t k_in, mp_obj_t pub_in) {
    const uint8_t *k = ecc_in(k_in, 32, MP_ERROR_TEXT("k must be 32 bytes"));
    const uint8_t *pub = ecc_in_pub65(pub_in);
    uint8_t out[65];
    out[0] = 0x04;
    ecc_check(ecc_p256_point_mul(out + 1, k, pub));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ecc_p256_point_mul_obj, ecc_py_p256_point_mul);

static mp_obj_t ecc_py_p256_compress(mp_obj_t pub_in) {
    const uint8_t *pub = ecc_in_pub65(pub_in);
    uint8_t out[33];
    ecc_check(ecc_p256_compress(out, pub));
    return mp_obj_new_bytes(out, sizeof(out));
}
static MP_DEFINE_CONST_FUN_OBJ_1(ecc_p256_compress_obj, ecc_py_p256_compress);

static mp_obj_t ecc_py_p256_decompress(mp_obj_t pub_in) {
    const uint8_t *pub = ecc_in(pub_in, 33, MP_ERROR_TEXT("pub must be 33 bytes"));
    uint8_t out[65];
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
