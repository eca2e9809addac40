/*
 * secret.h - secrets at rest: libsodium secretbox (XSalsa20-Poly1305)
 * under a key kept in a file of its own (mode 0600), made on first use.
 * A sealed secret is nonce || box, so the same plain text seals to
 * different bytes every time.
 *
 * Ownership: sealed blobs and opened texts are malloc'd; the caller frees
 * them (secret_open's text is NUL-terminated; wipe it when done).
 */
#ifndef DGEN_SECRET_H
#define DGEN_SECRET_H

#include <stddef.h>

#include "dgen/config.h"
#include "dgen/err.h"

#define DGEN_SECRET_KEY_BYTES 32

struct dgen_secret_key {
	unsigned char k[DGEN_SECRET_KEY_BYTES];
};

/* The key file of the configuration: DGEN_KEY_FILE, else "dgen.key" in
 * the directory of DATABASE_PATH. malloc'd. */
char *secret_key_path(const struct dgen_config *cfg);
/* Reads the key at path, or makes one (random, written mode 0600 with
 * O_EXCL so concurrent starts agree on one key). A file of the wrong size
 * is DGEN_EIO naming it. */
int secret_key_load(const char *path, struct dgen_secret_key *key, struct dgen_err *err);
/* secret_key_load(secret_key_path(cfg)). */
int secret_key_load_config(const struct dgen_config *cfg, struct dgen_secret_key *key,
			   struct dgen_err *err);
/* Seals plain[0..len) into *blob (*blob_len bytes). */
void secret_seal(const struct dgen_secret_key *key, const char *plain, size_t len,
		 unsigned char **blob, size_t *blob_len);
/* Opens a sealed blob; a blob sealed under another key or altered is
 * DGEN_EIO ("cannot be decrypted with the key file"). */
int secret_open(const struct dgen_secret_key *key, const unsigned char *blob, size_t blob_len,
		char **plain, struct dgen_err *err);

#endif
