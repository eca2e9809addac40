/*
 * listen_exec.c - hands a listening unix socket to a program the way its
 * launchers do, for the API tests:
 *
 *   listen_exec systemd PATH PROGRAM [ARGS...]   socket on fd 3, LISTEN_FDS=1,
 *                                                LISTEN_PID = the program's pid
 *   listen_exec stdin PATH PROGRAM [ARGS...]     socket on fd 0 (spawn-fcgi)
 *
 * The program replaces this process (exec), so LISTEN_PID is its pid.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	int fd, target;
	char pid[32];

	if (argc < 4 || (strcmp(argv[1], "systemd") != 0 && strcmp(argv[1], "stdin") != 0)) {
		fprintf(stderr, "usage: listen_exec systemd|stdin PATH PROGRAM [ARGS...]\n");
		return 2;
	}
	if (strlen(argv[2]) >= sizeof sa.sun_path) {
		fprintf(stderr, "listen_exec: path too long\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[2], strlen(argv[2]) + 1);
	unlink(argv[2]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
		perror("listen_exec: socket");
		return 1;
	}
	target = strcmp(argv[1], "systemd") == 0 ? 3 : 0;
	if (fd != target) {
		if (dup2(fd, target) < 0) {
			perror("listen_exec: dup2");
			return 1;
		}
		close(fd);
	}
	if (target == 3) {
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "1", 1);
	}
	execv(argv[3], argv + 3);
	perror("listen_exec: exec");
	return 127;
}
