#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

#include <string.h>

// Parameter names like OSSL_MAC_PARAM_DIGEST arrive in Swift as temporary Strings; OSSL_PARAM
// keeps the pointer, so params are built here, in C, with string literals that never dangle.

/// A new HMAC context with SHA-256 as its digest, ready for `plinth_hmac_rekey`.
static inline EVP_MAC_CTX *plinth_hmac_ctx_new_sha256(EVP_MAC *mac) {
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) return NULL;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// Starts a MAC with `key` on a context from `plinth_hmac_ctx_new_sha256` (the digest stays set,
/// so no parameters are parsed per call). A NULL key would keep the previous key in OpenSSL 3,
/// so an empty key is passed as a valid pointer with length 0.
static inline int plinth_hmac_rekey(EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen) {
    static const unsigned char empty = 0;
    return EVP_MAC_init(ctx, key != NULL ? key : &empty, keylen, NULL);
}

/// 1 when `pkey` is an EC key on NIST P-256 (the only curve ES256 allows), 0 otherwise.
static inline int plinth_pkey_is_p256(const EVP_PKEY *pkey) {
    char name[80];
    size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC")) return 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) return 0;
    return strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0;
}

/// 1 when `pkey` is an RSA key (PKCS#1 v1.5 / PSS capable).
static inline int plinth_pkey_is_rsa(const EVP_PKEY *pkey) {
    return EVP_PKEY_is_a(pkey, "RSA");
}

/// One-shot SHA-256 through the low-level interface: no EVP context copy, provider dispatch or
/// digest lookup, which cost several times the hash itself on short inputs (the gateway hashes
/// the presented API key on every request). Same compression code as EVP's.
static inline void plinth_sha256(const void *data, size_t len, unsigned char *out) {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
#pragma clang diagnostic pop
}
