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
	return done_testing();
}
