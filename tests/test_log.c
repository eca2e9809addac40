/* test_log.c - a log line is one line whatever the message holds, and a
 * registered secret never reaches the log. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgen/log.h"
#include "tap.h"

int main(void)
{
	char path[] = "/tmp/dgen-test-log-XXXXXX", text[4096];
	int fd = mkstemp(path);
	ssize_t n;
	int lines = 0;

	ok(fd >= 0, "temp log file");
	dgen_log_init("test-log", false, fd);
	dgen_log_secret("sk-SECRET-123");
	dgen_info("user said: line1\nline2\x01 end");
	dgen_log(DGEN_LOG_WARN, "trace-abc", "calling with key sk-SECRET-123 now");
	dgen_debug("hidden debug line");
	dgen_log_set_debug(true);
	dgen_debug("visible debug line");
	lseek(fd, 0, SEEK_SET);
	n = read(fd, text, sizeof text - 1);
	text[n > 0 ? n : 0] = '\0';
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	is_int(lines, 3, "three events, three lines");
	ok(strstr(text, "line1\\nline2\\x01 end") != NULL, "control characters are escaped");
	ok(strstr(text, "SECRET") == NULL, "the secret is not in the log");
	ok(strstr(text, "[redacted]") != NULL, "the secret is marked redacted");
	ok(strstr(text, "trace_id=trace-abc") != NULL, "trace_id field is written");
	ok(strstr(text, " warn test-log[") != NULL, "level and program are on the line");
	ok(strstr(text, "hidden debug") == NULL, "debug lines are off by default");
	ok(strstr(text, "visible debug") != NULL, "DEBUG turns debug lines on");
	close(fd);
	unlink(path);

	/* URLs are printed with their credentials cut out. */
	{
		static const char *const cases[][2] = {
			{ "https://user:pa55@llm.example:8443/v1/chat?key=K3Y&x=1#frag",
			  "https://[redacted]@llm.example:8443/v1/chat?[redacted]" },
			{ "http://127.0.0.1:11434/v1/chat/completions",
			  "http://127.0.0.1:11434/v1/chat/completions" },
			{ "https://generativelanguage.example/v1beta?key=abc",
			  "https://generativelanguage.example/v1beta?[redacted]" },
			{ "http://tok@host?k=v", "http://[redacted]@host?[redacted]" },
			{ "http://host/a@b", "http://host/a@b" },
			{ "", "" },
		};

		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			char *r = dgen_log_redact_url(cases[i][0]);

			is_str(r, cases[i][1], "redacted: %s", cases[i][0]);
			free(r);
		}
	}
	return done_testing();
}
