/* test_ids.c - trace ids are version 4 UUIDs and do not repeat, not even
 * between a process and the child it forks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dgen/ids.h"
#include "tap.h"

int main(void)
{
	char a[DGEN_UUID_LEN], b[DGEN_UUID_LEN];
	int shape = 1;

	dgen_uuid4(a);
	dgen_uuid4(b);
	is_int(strlen(a), 36, "36 characters");
	ok(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-', "dashes in place");
	ok(a[14] == '4', "version nibble is 4");
	ok(strchr("89ab", a[19]) != NULL, "variant is RFC 4122");
	for (int i = 0; i < 36; i++)
		if (a[i] != '-' && !strchr("0123456789abcdef", a[i]))
			shape = 0;
	ok(shape, "lower-case hex");
	ok(strcmp(a, b) != 0, "two ids differ");

	{
		/* Ids are drawn a block at a time: a child forked with part of
		 * a block left must not hand out the ids its parent will. */
		enum { N = 200 };
		static char mine[N][DGEN_UUID_LEN], child[N][DGEN_UUID_LEN];
		int fd[2], status = 0, same = 0;
		pid_t pid;
		size_t got = 0;

		dgen_uuid4(a); /* the block is now partly used */
		if (pipe(fd) != 0 || (pid = fork()) < 0)
			abort();
		if (pid == 0) {
			close(fd[0]);
			for (int i = 0; i < N; i++) {
				dgen_uuid4(child[i]);
				if (write(fd[1], child[i], DGEN_UUID_LEN) != DGEN_UUID_LEN)
					_exit(1);
			}
			_exit(0);
		}
		close(fd[1]);
		for (int i = 0; i < N; i++)
			dgen_uuid4(mine[i]);
		while (got < sizeof child) {
			ssize_t r = read(fd[0], (char *)child + got, sizeof child - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd[0]);
		waitpid(pid, &status, 0);
		ok(got == sizeof child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "the child made %d ids", N);
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				same += strcmp(mine[i], child[j]) == 0;
		is_int(same, 0, "none of the child's ids is one of the parent's");
		same = 0;
		for (int i = 0; i < N; i++)
			for (int j = i + 1; j < N; j++)
				same += strcmp(mine[i], mine[j]) == 0;
		is_int(same, 0, "the parent's ids are all different");
	}
	return done_testing();
}
