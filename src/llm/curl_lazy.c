/*
 * curl_lazy.c - libcurl loaded with dlopen on first use, for dgen-api.
 *
 * As a plain CGI program dgen-api starts once per request. Linked to
 * libcurl directly it maps some thirty libraries at every start (libcurl
 * pulls TLS, Kerberos, LDAP, SSH, RTMP ...) and the dynamic loader's
 * symbol lookups cost several times the request itself. Only the routes
 * that call an LLM (execute) need libcurl, so dgen-api links this file
 * instead of -lcurl: it defines the libcurl functions the LLM client
 * calls, under their own names, and each one loads the real libcurl on
 * its first call and forwards to it. dgen-runner and dgen link libcurl
 * directly and never see this file; the client code (client.c and the
 * adapters) is the same in all three programs.
 *
 * When libcurl cannot be loaded, curl_global_init() fails with
 * CURLE_FAILED_INIT and curl_easy_strerror() says why, which the client
 * reports as its usual "cannot init libcurl" error: the other routes go
 * on working.
 *
 * The option setters are variadic with exactly one argument whose type
 * libcurl encodes in the option number (CURLOPTTYPE_*); the argument is
 * read back with that type and passed on.
 *
 * Ownership: everything belongs to libcurl, as with a direct link; the
 * library handle stays loaded until the process exits.
 */
#include "config.h"

#define CURL_DISABLE_TYPECHECK 1 /* the setters are defined here, not called */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#ifndef DGEN_LIBCURL_SONAME
#define DGEN_LIBCURL_SONAME "libcurl.so.4"
#endif

/* Every forwarded function: name, return type, parameters, arguments. */
#define CURL_LAZY_FUNCS(X)                                                             \
	X(curl_global_init, CURLcode, (long flags), (flags))                           \
	X(curl_global_cleanup, void, (void), ())                                       \
	X(curl_easy_strerror, const char *, (CURLcode c), (c))                         \
	X(curl_multi_strerror, const char *, (CURLMcode c), (c))                       \
	X(curl_share_strerror, const char *, (CURLSHcode c), (c))                      \
	X(curl_easy_init, CURL *, (void), ())                                          \
	X(curl_easy_cleanup, void, (CURL *e), (e))                                     \
	X(curl_easy_reset, void, (CURL *e), (e))                                       \
	X(curl_easy_perform, CURLcode, (CURL *e), (e))                                 \
	X(curl_multi_init, CURLM *, (void), ())                                        \
	X(curl_multi_cleanup, CURLMcode, (CURLM *m), (m))                              \
	X(curl_multi_add_handle, CURLMcode, (CURLM *m, CURL *e), (m, e))               \
	X(curl_multi_remove_handle, CURLMcode, (CURLM *m, CURL *e), (m, e))            \
	X(curl_multi_perform, CURLMcode, (CURLM *m, int *running), (m, running))       \
	X(curl_multi_poll, CURLMcode,                                                  \
	  (CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *numfds),        \
	  (m, fds, n, ms, numfds))                                                     \
	X(curl_multi_wait, CURLMcode,                                                  \
	  (CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *numfds),        \
	  (m, fds, n, ms, numfds))                                                     \
	X(curl_multi_wakeup, CURLMcode, (CURLM *m), (m))                               \
	X(curl_multi_timeout, CURLMcode, (CURLM *m, long *ms), (m, ms))                \
	X(curl_multi_info_read, CURLMsg *, (CURLM *m, int *left), (m, left))           \
	X(curl_share_init, CURLSH *, (void), ())                                       \
	X(curl_share_cleanup, CURLSHcode, (CURLSH *s), (s))                            \
	X(curl_slist_append, struct curl_slist *, (struct curl_slist *l, const char *s), \
	  (l, s))                                                                      \
	X(curl_slist_free_all, void, (struct curl_slist *l), (l))                      \
	X(curl_getdate, time_t, (const char *s, const time_t *unused), (s, unused))    \
	X(curl_version, char *, (void), ())                                            \
	X(curl_free, void, (void *p), (p))

/* The variadic ones, looked up by the same loader. */
#define CURL_LAZY_VARIADIC(X)                                                          \
	X(curl_easy_setopt, CURLcode, CURL *, CURLoption)                              \
	X(curl_easy_getinfo, CURLcode, CURL *, CURLINFO)                               \
	X(curl_multi_setopt, CURLMcode, CURLM *, CURLMoption)                          \
	X(curl_share_setopt, CURLSHcode, CURLSH *, CURLSHoption)

#define DECLARE(name, ret, params, args) static ret(*real_##name) params;
CURL_LAZY_FUNCS(DECLARE)
#undef DECLARE
#define DECLARE(name, ret, handle, opt) static ret (*real_##name)(handle, opt, ...);
CURL_LAZY_VARIADIC(DECLARE)
#undef DECLARE

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;            /* 1 once every symbol resolved */
static char load_error[256];  /* why not, for curl_easy_strerror */

/* Resolves one symbol; the first that is missing fails the whole load. */
static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p && !load_error[0])
		snprintf(load_error, sizeof load_error, "libcurl could not be loaded: %s has no %s",
			 DGEN_LIBCURL_SONAME, name);
	return p;
}

static void load(void)
{
	void *h = dlopen(DGEN_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *e = dlerror();

		snprintf(load_error, sizeof load_error, "libcurl could not be loaded: %s",
			 e ? e : DGEN_LIBCURL_SONAME);
		return;
	}
#define RESOLVE(name, ...) *(void **)&real_##name = sym(h, #name);
	CURL_LAZY_FUNCS(RESOLVE)
	CURL_LAZY_VARIADIC(RESOLVE)
#undef RESOLVE
	loaded = load_error[0] == '\0';
}

static int ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

CURLcode curl_global_init(long flags)
{
	if (!ready())
		return CURLE_FAILED_INIT;
	return real_curl_global_init(flags);
}

void curl_global_cleanup(void)
{
	if (ready())
		real_curl_global_cleanup();
}

const char *curl_easy_strerror(CURLcode c)
{
	if (!ready())
		return load_error;
	return real_curl_easy_strerror(c);
}

const char *curl_multi_strerror(CURLMcode c)
{
	return ready() ? real_curl_multi_strerror(c) : load_error;
}

const char *curl_share_strerror(CURLSHcode c)
{
	return ready() ? real_curl_share_strerror(c) : load_error;
}

CURL *curl_easy_init(void)
{
	return ready() ? real_curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *e)
{
	if (ready())
		real_curl_easy_cleanup(e);
}

void curl_easy_reset(CURL *e)
{
	if (ready())
		real_curl_easy_reset(e);
}

CURLcode curl_easy_perform(CURL *e)
{
	return ready() ? real_curl_easy_perform(e) : CURLE_FAILED_INIT;
}

CURLM *curl_multi_init(void)
{
	return ready() ? real_curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return ready() ? real_curl_multi_cleanup(m) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *e)
{
	return ready() ? real_curl_multi_add_handle(m, e) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *e)
{
	return ready() ? real_curl_multi_remove_handle(m, e) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return ready() ? real_curl_multi_perform(m, running) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *numfds)
{
	return ready() ? real_curl_multi_poll(m, fds, n, ms, numfds) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_wait(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *numfds)
{
	return ready() ? real_curl_multi_wait(m, fds, n, ms, numfds) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_wakeup(CURLM *m)
{
	return ready() ? real_curl_multi_wakeup(m) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_timeout(CURLM *m, long *ms)
{
	return ready() ? real_curl_multi_timeout(m, ms) : CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	if (!ready()) {
		*left = 0;
		return NULL;
	}
	return real_curl_multi_info_read(m, left);
}

CURLSH *curl_share_init(void)
{
	return ready() ? real_curl_share_init() : NULL;
}

CURLSHcode curl_share_cleanup(CURLSH *s)
{
	return ready() ? real_curl_share_cleanup(s) : CURLSHE_INVALID;
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? real_curl_slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (ready())
		real_curl_slist_free_all(l);
}

time_t curl_getdate(const char *s, const time_t *unused)
{
	return ready() ? real_curl_getdate(s, unused) : (time_t)-1;
}

char *curl_version(void)
{
	return ready() ? real_curl_version() : load_error;
}

void curl_free(void *p)
{
	if (ready())
		real_curl_free(p);
}

/* The one argument of an easy or multi option, by the type its number
 * encodes: long, pointer (objects, strings, lists, blobs), function
 * pointer, or curl_off_t. */
#define SETOPT_BODY(fn, handle, opt, fail)                                             \
	va_list ap;                                                                    \
	int type = (int)(opt) / 10000 * 10000;                                         \
	if (!ready())                                                                  \
		return fail;                                                           \
	va_start(ap, opt);                                                             \
	if (type == CURLOPTTYPE_LONG) {                                                \
		long v = va_arg(ap, long);                                             \
		va_end(ap);                                                            \
		return fn(handle, opt, v);                                             \
	} else if (type == CURLOPTTYPE_FUNCTIONPOINT) {                                \
		void (*v)(void) = va_arg(ap, void (*)(void));                          \
		va_end(ap);                                                            \
		return fn(handle, opt, v);                                             \
	} else if (type == CURLOPTTYPE_OFF_T) {                                        \
		curl_off_t v = va_arg(ap, curl_off_t);                                 \
		va_end(ap);                                                            \
		return fn(handle, opt, v);                                             \
	} else {                                                                       \
		void *v = va_arg(ap, void *);                                          \
		va_end(ap);                                                            \
		return fn(handle, opt, v);                                             \
	}

CURLcode curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
	SETOPT_BODY(real_curl_easy_setopt, e, opt, CURLE_FAILED_INIT)
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	SETOPT_BODY(real_curl_multi_setopt, m, opt, CURLM_BAD_HANDLE)
}

/* Every CURLINFO answer goes to a pointer. */
CURLcode curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
	va_list ap;
	void *p;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	p = va_arg(ap, void *);
	va_end(ap);
	return real_curl_easy_getinfo(e, info, p);
}

/* Share options: the lock kinds are ints, the lock callbacks function
 * pointers, the user data a pointer. */
CURLSHcode curl_share_setopt(CURLSH *s, CURLSHoption opt, ...)
{
	va_list ap;
	CURLSHcode rc;

	if (!ready())
		return CURLSHE_INVALID;
	va_start(ap, opt);
	if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE) {
		int v = va_arg(ap, int);

		rc = real_curl_share_setopt(s, opt, v);
	} else if (opt == CURLSHOPT_LOCKFUNC || opt == CURLSHOPT_UNLOCKFUNC) {
		void (*v)(void) = va_arg(ap, void (*)(void));

		rc = real_curl_share_setopt(s, opt, v);
	} else {
		void *v = va_arg(ap, void *);

		rc = real_curl_share_setopt(s, opt, v);
	}
	va_end(ap);
	return rc;
}
