/*
 * log.h - one line per event on stderr (or a chosen stream).
 *
 *   2026-11-24T21:41:44.123Z info dgen-runner[812] trace_id=... job 4 claimed
 *
 * Text the program did not write itself is escaped: control characters
 * become \n, \xNN, so a line is always one line. Strings registered with
 * dgen_log_secret() are replaced by "[redacted]" wherever they appear.
 *
 * Ownership: the logger copies what it keeps (program name, secrets).
 * Thread safe: each event is one write(2).
 */
#ifndef DGEN_LOG_H
#define DGEN_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum dgen_log_level { DGEN_LOG_DEBUG, DGEN_LOG_INFO, DGEN_LOG_WARN, DGEN_LOG_ERROR };

/* prog is copied; fd is where lines go (2 for stderr). */
void dgen_log_init(const char *prog, bool debug, int fd);
void dgen_log_set_debug(bool debug);
bool dgen_log_debug_enabled(void);
/* Registers a secret (an API key) to redact; empty strings are ignored. */
void dgen_log_secret(const char *secret);
/* Forgets a secret registered for the length of one request (a bearer
 * token, a session id, a password in a body). */
void dgen_log_secret_forget(const char *secret);

/* A copy of url fit to print (malloc'd, the caller frees): userinfo
 * ("user:pass@") and the query string ("?key=...") become "[redacted]",
 * the fragment is dropped; scheme, host, port and path stay.
 * "https://u:p@h:1/v1?key=k" -> "https://[redacted]@h:1/v1?[redacted]".
 * Every place that prints an LLM endpoint (logs, dgen llm test, error
 * messages) prints this instead. */
char *dgen_log_redact_url(const char *url);

void dgen_log(enum dgen_log_level lvl, const char *trace_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define dgen_debug(...) do { if (dgen_log_debug_enabled()) dgen_log(DGEN_LOG_DEBUG, NULL, __VA_ARGS__); } while (0)
#define dgen_info(...) dgen_log(DGEN_LOG_INFO, NULL, __VA_ARGS__)
#define dgen_warn(...) dgen_log(DGEN_LOG_WARN, NULL, __VA_ARGS__)
#define dgen_error(...) dgen_log(DGEN_LOG_ERROR, NULL, __VA_ARGS__)

#endif
