/*
 * log.c - one line per event. What the program did not write itself is
 * escaped (a newline in an LLM reply must not forge a log line), secrets
 * are replaced wherever they appear, and each line leaves in one write(2)
 * so threads and forked workers never interleave within a line.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/buf.h"
#include "dgen/clock.h"
#include "dgen/log.h"
#include "dgen/util.h"

#define MAX_SECRETS 16

static char log_prog[64] = "dgen";
static int log_fd = 2;
static bool log_debug;
static char *log_secrets[MAX_SECRETS];
static int log_nsecrets;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void dgen_log_init(const char *prog, bool debug, int fd)
{
	snprintf(log_prog, sizeof log_prog, "%s", prog ? prog : "dgen");
	log_debug = debug;
	log_fd = fd;
}

void dgen_log_set_debug(bool debug)
{
	log_debug = debug;
}

bool dgen_log_debug_enabled(void)
{
	return log_debug;
}

void dgen_log_secret(const char *secret)
{
	if (!secret || !*secret)
		return;
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < log_nsecrets; i++)
		if (strcmp(log_secrets[i], secret) == 0)
			goto out;
	if (log_nsecrets < MAX_SECRETS)
		log_secrets[log_nsecrets++] = dgen_xstrdup(secret);
out:
	pthread_mutex_unlock(&log_lock);
}

void dgen_log_secret_forget(const char *secret)
{
	if (!secret || !*secret)
		return;
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < log_nsecrets; i++)
		if (strcmp(log_secrets[i], secret) == 0) {
			free(log_secrets[i]);
			log_secrets[i] = log_secrets[--log_nsecrets];
			break;
		}
	pthread_mutex_unlock(&log_lock);
}

char *dgen_log_redact_url(const char *url)
{
	struct dgen_buf b = DGEN_BUF_INIT;
	const char *scheme, *host, *auth_end, *at, *q;

	if (!url)
		return dgen_xstrdup("");
	scheme = strstr(url, "://");
	host = scheme ? scheme + 3 : url;
	/* The authority ends at the first '/', '?' or '#'; userinfo is what
	 * comes before its last '@'. */
	auth_end = host + strcspn(host, "/?#");
	at = NULL;
	for (const char *p = host; p < auth_end; p++)
		if (*p == '@')
			at = p;
	dgen_buf_append(&b, url, (size_t)(host - url));
	if (at) {
		dgen_buf_puts(&b, "[redacted]@");
		host = at + 1;
	}
	q = host + strcspn(host, "?#");
	dgen_buf_append(&b, host, (size_t)(q - host));
	if (*q == '?')
		dgen_buf_puts(&b, "?[redacted]");
	return dgen_buf_steal(&b);
}

/* Appends s with control characters escaped and secrets redacted. */
static void append_escaped(struct dgen_buf *b, const char *s)
{
	while (*s) {
		unsigned char c = (unsigned char)*s;
		bool redacted = false;

		for (int i = 0; i < log_nsecrets; i++) {
			size_t n = strlen(log_secrets[i]);

			if (strncmp(s, log_secrets[i], n) == 0) {
				dgen_buf_puts(b, "[redacted]");
				s += n;
				redacted = true;
				break;
			}
		}
		if (redacted)
			continue;
		if (c == '\n')
			dgen_buf_puts(b, "\\n");
		else if (c == '\r')
			dgen_buf_puts(b, "\\r");
		else if (c == '\t')
			dgen_buf_puts(b, "\\t");
		else if (c == '\\')
			dgen_buf_puts(b, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			dgen_buf_printf(b, "\\x%02x", c);
		else
			dgen_buf_putc(b, (char)c);
		s++;
	}
}

/* One log line: timestamp, level, program and pid, the trace id when
 * there is one, then the message with registered secrets masked and
 * control characters escaped, written in one write() so concurrent
 * writers never interleave within a line. */
void dgen_log(enum dgen_log_level lvl, const char *trace_id, const char *fmt, ...)
{
	struct dgen_buf msg = DGEN_BUF_INIT, line = DGEN_BUF_INIT;
	char ts[DGEN_ISO_LEN];
	va_list ap;

	if (lvl == DGEN_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	dgen_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	dgen_clock_iso_now(ts);
	dgen_buf_printf(&line, "%s %s %s[%ld]", ts, level_names[lvl], log_prog, (long)getpid());
	if (trace_id && *trace_id) {
		dgen_buf_puts(&line, " trace_id=");
		append_escaped(&line, trace_id);
	}
	dgen_buf_putc(&line, ' ');
	pthread_mutex_lock(&log_lock);
	append_escaped(&line, dgen_buf_str(&msg));
	pthread_mutex_unlock(&log_lock);
	dgen_buf_putc(&line, '\n');
	if (write(log_fd, line.data, line.len) < 0) {
		/* Nowhere left to report a failing log stream. */
	}
	dgen_buf_free(&msg);
	dgen_buf_free(&line);
}
