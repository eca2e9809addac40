/*
 * mock.h - starting and steering tests/mock-llm/mock-llm from a C test or
 * benchmark (header-only: each test program is one translation unit).
 *
 * mock_start() runs the binary ($top_builddir/tests/mock-llm/mock-llm, else
 * ./tests/mock-llm/mock-llm) on a free port and waits for it; mock_stop()
 * ends it. mock_post()/mock_get() talk to its control endpoints and return
 * the parsed JSON reply (caller puts it) or NULL.
 */
#ifndef DGEN_TEST_MOCK_H
#define DGEN_TEST_MOCK_H

#include <curl/curl.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mock {
	pid_t pid;
	int port;
	char url[64]; /* http://127.0.0.1:PORT */
};

static inline int mock_start(struct mock *m, const char *const *extra_args)
{
	const char *top = getenv("top_builddir");
	char bin[4096], pf[] = "/tmp/dgen-mock-portXXXXXX";
	const char *argv[32];
	int fd, n = 0;

	memset(m, 0, sizeof(*m));
	snprintf(bin, sizeof(bin), "%s/tests/mock-llm/mock-llm", top && *top ? top : ".");
	fd = mkstemp(pf);
	if (fd < 0)
		return -1;
	close(fd);
	unlink(pf);
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--port-file";
	argv[n++] = pf;
	for (int i = 0; extra_args && extra_args[i] && n < 30; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	m->pid = fork();
	if (m->pid < 0)
		return -1;
	if (m->pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (dn >= 0)
			dup2(dn, 1);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) { /* up to 5 s */
		FILE *f = fopen(pf, "r");
		int status;

		if (f) {
			if (fscanf(f, "%d", &m->port) == 1) {
				fclose(f);
				unlink(pf);
				snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->port);
				return 0;
			}
			fclose(f);
		}
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			m->pid = 0;
			return -1;
		}
		{
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return -1;
}

static inline void mock_stop(struct mock *m)
{
	if (m->pid > 0) {
		kill(m->pid, SIGTERM);
		waitpid(m->pid, NULL, 0);
		m->pid = 0;
	}
}

struct mock_acc {
	char *buf;
	size_t cap, used;
};

static inline size_t mock_collect(char *p, size_t sz, size_t n, void *ud)
{
	struct mock_acc *a = ud;
	size_t len = sz * n;

	if (a->used + len + 1 > a->cap) {
		a->cap = (a->used + len + 1) * 2;
		a->buf = realloc(a->buf, a->cap);
		if (!a->buf)
			abort();
	}
	memcpy(a->buf + a->used, p, len);
	a->used += len;
	a->buf[a->used] = '\0';
	return len;
}

/* method "GET" or "POST"; body may be NULL. Returns the reply as JSON. */
static inline struct json_object *mock_http(const struct mock *m, const char *method,
					    const char *path, const char *body)
{
	struct mock_acc acc = { NULL, 0, 0 };
	char url[256];
	CURL *e = curl_easy_init();
	struct json_object *o = NULL;

	snprintf(url, sizeof(url), "%s%s", m->url, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mock_collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &acc);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
	if (curl_easy_perform(e) == CURLE_OK && acc.buf)
		o = json_tokener_parse(acc.buf);
	curl_easy_cleanup(e);
	free(acc.buf);
	return o;
}

/* POST /mock/config with a JSON object text; 0 on success. */
static inline int mock_config(const struct mock *m, const char *json)
{
	struct json_object *o = mock_http(m, "POST", "/mock/config", json);
	int ok = o && !json_object_object_get_ex(o, "error", NULL);

	json_object_put(o);
	return ok ? 0 : -1;
}

static inline int mock_reset(const struct mock *m)
{
	struct json_object *o = mock_http(m, "POST", "/mock/reset", "");
	int ok = o != NULL;

	json_object_put(o);
	return ok ? 0 : -1;
}

#endif
