/*
 * secret.c - secrets at rest under a key file (see secret.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "dgen/secret.h"
#include "dgen/util.h"

char *secret_key_path(const struct dgen_config *cfg)
{
	if (cfg->key_file && *cfg->key_file)
		return dgen_xstrdup(cfg->key_file);
	/* beside the sqlite file; with DATABASE_URL, in the data directory
	 * (the directory of DATABASE_PATH) */
	return dgen_config_data_file(cfg, "dgen.key");
}

static int read_key(int fd, const char *path, struct dgen_secret_key *key, struct dgen_err *err)
{
	unsigned char extra;
	size_t got = 0;

	while (got < sizeof key->k) {
		ssize_t n = read(fd, key->k + got, sizeof key->k - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != sizeof key->k || read(fd, &extra, 1) != 0) {
		dgen_err_set(err, DGEN_EIO, "key file %s is not a %d-byte key", path,
			     DGEN_SECRET_KEY_BYTES);
		dgen_err_detail_str(err, "path", path);
		return -1;
	}
	return 0;
}

/* Makes the key with O_EXCL: of two processes starting at once, one
 * writes it and the other finds it and reads it. The key is written to a
 * temporary name first and linked into place, so a reader never sees a
 * short key. */
int secret_key_load(const char *path, struct dgen_secret_key *key, struct dgen_err *err)
{
	int fd, rc = -1;
	char *tmp = NULL;

	if (sodium_init() < 0)
		return dgen_err_set(err, DGEN_EIO, "libsodium failed to initialise");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		tmp = dgen_xasprintf("%s.%ld.tmp", path, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			randombytes_buf(key->k, sizeof key->k);
			if (write(fd, key->k, sizeof key->k) != (ssize_t)sizeof key->k ||
			    fsync(fd) != 0) {
				close(fd);
				unlink(tmp);
				dgen_err_set(err, DGEN_EIO, "cannot write key file %s: %s", path,
					     strerror(errno));
				goto out;
			}
			close(fd);
			if (link(tmp, path) != 0 && errno != EEXIST) {
				unlink(tmp);
				dgen_err_set(err, DGEN_EIO, "cannot create key file %s: %s", path,
					     strerror(errno));
				goto out;
			}
			unlink(tmp);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		dgen_err_set(err, DGEN_EIO, "cannot open key file %s: %s", path, strerror(errno));
		dgen_err_detail_str(err, "path", path);
		goto out;
	}
	rc = read_key(fd, path, key, err);
	close(fd);
out:
	free(tmp);
	return rc;
}

int secret_key_load_config(const struct dgen_config *cfg, struct dgen_secret_key *key,
			   struct dgen_err *err)
{
	char *path = secret_key_path(cfg);
	int rc = secret_key_load(path, key, err);

	free(path);
	return rc;
}

void secret_seal(const struct dgen_secret_key *key, const char *plain, size_t len,
		 unsigned char **blob, size_t *blob_len)
{
	unsigned char *b = dgen_xmalloc(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len);

	randombytes_buf(b, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len,
			      b, key->k);
	*blob = b;
	*blob_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
}

int secret_open(const struct dgen_secret_key *key, const unsigned char *blob, size_t blob_len,
		char **plain, struct dgen_err *err)
{
	size_t n;
	char *p;

	*plain = NULL;
	if (blob_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return dgen_err_set(err, DGEN_EIO, "a stored secret is truncated");
	n = blob_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	p = dgen_xmalloc(n + 1);
	if (crypto_secretbox_open_easy((unsigned char *)p, blob + crypto_secretbox_NONCEBYTES,
				       blob_len - crypto_secretbox_NONCEBYTES, blob, key->k) != 0) {
		free(p);
		return dgen_err_set(err, DGEN_EIO,
				    "a stored secret cannot be decrypted with the key file (DGEN_KEY_FILE)");
	}
	p[n] = '\0';
	*plain = p;
	return 0;
}
