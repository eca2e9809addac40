/*
 * dbhint.c - what to tell the client when the database cannot be opened.
 *
 * The usual cause under a web server's CGI is permissions: the database
 * file is writable by the web server user but its directory is not, and
 * sqlite cannot create the -wal and -shm files beside it. The cause is
 * otherwise only in the web server's error log, which shared hosting
 * users often cannot read; the 503's detail says it too (without the
 * path). With DATABASE_URL the hint names the server instead.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "dgen/api.h"
#include "dgen/config.h"

/* sqlite's "unable to open" does not say which permission is missing; the
 * usual mistake on a shared host is a database directory the web server
 * cannot write (sqlite needs it for -wal and -shm). Name the cause in the
 * answer, not only in the web server's log. */
void api_db_hint(struct dgen_err *err, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = path ? strrchr(path, '/') : NULL;
	size_t n;

	if (!path || !*path)
		return;
	if (dgen_config_is_url(path)) {
		dgen_err_detail_str(err, "hint",
				    "The PostgreSQL server of DATABASE_URL must be running and let "
				    "its user connect; dgen retries until it answers");
		return;
	}
	if (!slash) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir)
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
		dgen_err_detail_str(err, "hint",
				    "The directory of the database must exist and be writable by "
				    "the user the API runs as: sqlite creates the -wal and -shm "
				    "files beside the database");
	else if (faccessat(AT_FDCWD, path, F_OK, 0) == 0 &&
		 faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) != 0)
		dgen_err_detail_str(err, "hint",
				    "The database file must be readable and writable by the user "
				    "the API runs as");
}
