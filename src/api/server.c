/*
 * server.c - how dgen-api runs: its own pre-fork master over a unix
 * socket, a socket handed over by systemd or spawn-fcgi, or plain CGI.
 *
 *   dgen-api --socket PATH [--workers N] [--mode 0660]   own pool
 *   (systemd: LISTEN_FDS=1, LISTEN_PID=pid)              socket is fd 3
 *   (spawn-fcgi: fd 0 is a listening socket)             serve on fd 0
 *   (web server CGI: GATEWAY_INTERFACE, REQUEST_METHOD)  one request
 *
 * The master never opens the database: workers do, after fork. A worker
 * that dies is restarted, with a growing delay when workers keep dying
 * young (a crash loop should not spin the CPU). SIGTERM or SIGINT: the
 * master stops the workers, each finishes the request in hand, exits 0.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dgen/api.h"
#include "dgen/clock.h"
#include "dgen/cmdline.h"
#include "dgen/log.h"
#include "dgen/util.h"

#define MAX_WORKERS 256
#define BACKOFF_MIN 0.25   /* seconds before restarting a worker that died young */
#define BACKOFF_MAX 30.0
#define YOUNG 5.0          /* a worker dying within this many seconds died young */

struct opts {
	const char *socket_path;
	const char *config;
	int workers;           /* 0 = not given */
	mode_t mode;
	int backlog;
	unsigned long max_requests;
};

/* ---- transports -------------------------------------------------------- */

static const char *fcgx_getparam(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static long fcgx_read(void *ctx, char *buf, size_t n)
{
	FCGX_Request *r = ctx;
	int got = FCGX_GetStr(buf, n > INT_MAX ? INT_MAX : (int)n, r->in);

	if (got < 0 || (got == 0 && FCGX_GetError(r->in) != 0))
		return -1;
	return got;
}

static int fcgx_write(void *ctx, const char *buf, size_t n)
{
	FCGX_Request *r = ctx;

	while (n) {
		int chunk = n > (1u << 30) ? (1 << 30) : (int)n;

		if (FCGX_PutStr(buf, chunk, r->out) != chunk)
			return -1;
		buf += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

static int fcgx_flush(void *ctx)
{
	return FCGX_FFlush(((FCGX_Request *)ctx)->out) == 0 ? 0 : -1;
}

static const char *cgi_getparam(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static long cgi_read(void *ctx, char *buf, size_t n)
{
	ssize_t got;

	(void)ctx;
	do
		got = read(0, buf, n);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -1 : (long)got;
}

static int cgi_wait(void *ctx, int ms)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	int rc;

	(void)ctx;
	while ((rc = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return rc < 0 ? -1 : rc;
}

static int cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

static int cgi_flush(void *ctx)
{
	(void)ctx;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* ---- worker ------------------------------------------------------------ */

static volatile sig_atomic_t worker_stop;
static volatile int worker_listen_fd = -1;

/* SIGTERM in a worker: finish the request in hand (the signal is blocked
 * while one runs), accept no more. Closing our copy of the listening
 * socket also covers a signal that lands just before accept() starts. */
static void worker_on_term(int sig)
{
	int fd = worker_listen_fd;

	(void)sig;
	worker_stop = 1;
	FCGX_ShutdownPending();
	if (fd >= 0) {
		worker_listen_fd = -1;
		close(fd);
	}
}

/* Accepts and answers requests on listen_fd until told to stop (or
 * max_requests answered). Returns the exit status. */
static int worker_loop(int listen_fd, const struct dgen_config *cfg, unsigned long max_requests,
		       int workers)
{
	struct sigaction sa;
	sigset_t term;
	FCGX_Request fr;
	struct api_worker w;
	struct req_io io = { &fr, fcgx_getparam, fcgx_read, fcgx_write, fcgx_flush, NULL };
	int rc = 0;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: an interrupted read of a request's parameters carries
	 * on; an interrupted accept() is restarted on the listening socket the
	 * handler just closed, and fails, which ends the loop. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &term, NULL);

	worker_listen_fd = listen_fd;
	api_worker_init(&w, cfg);
	api_worker_set_workers(&w, workers);
	if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		dgen_error("cannot set up a FastCGI request");
		return 1;
	}
	for (;;) {
		int a;

		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (worker_stop) {
			sigprocmask(SIG_BLOCK, &term, NULL);
			break;
		}
		a = FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (a < 0) {
			if (!worker_stop) {
				dgen_error("accept failed: %s", strerror(-a > 0 ? -a : EIO));
				rc = 1;
			}
			break;
		}
		api_handle(&w, &io, false);
		FCGX_Finish_r(&fr);
		if (max_requests && w.requests >= max_requests)
			break;
	}
	FCGX_Free(&fr, 1);
	api_worker_free(&w);
	return rc;
}

/* ---- master ------------------------------------------------------------ */

struct slot {
	pid_t pid;
	double started;
	double next_start;
	double backoff;
};

static pid_t spawn(int listen_fd, const struct dgen_config *cfg, unsigned long max_requests,
		   int workers, const sigset_t *saved)
{
	pid_t master_pid = getpid(), pid = fork();

	if (pid == 0) {
		/* A worker dies with its master, even a master killed with
		 * SIGKILL: otherwise orphans keep serving the socket and the
		 * next start finds it taken. The getppid() check covers a
		 * master that died before prctl() took effect. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != master_pid)
			_exit(0);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, saved, NULL);
		_exit(worker_loop(listen_fd, cfg, max_requests, workers));
	}
	if (pid < 0)
		dgen_error("fork failed: %s", strerror(errno));
	return pid;
}

/* Marks the slot of a dead child free and schedules its restart: at once
 * after a clean exit or a long life, after a doubling delay when workers
 * keep dying young. */
static void reap(struct slot *slots, int n, bool stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		double now = dgen_clock_mono();

		for (int i = 0; i < n; i++) {
			double lived;

			if (slots[i].pid != pid)
				continue;
			slots[i].pid = 0;
			lived = now - slots[i].started;
			if (stopping)
				break;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				slots[i].backoff = 0;
			} else {
				if (WIFSIGNALED(status))
					dgen_warn("worker %ld killed by signal %d after %.1f s",
						  (long)pid, WTERMSIG(status), lived);
				else
					dgen_warn("worker %ld exited with status %d after %.1f s",
						  (long)pid, WEXITSTATUS(status), lived);
				if (lived < YOUNG)
					slots[i].backoff = slots[i].backoff ? slots[i].backoff * 2
									    : BACKOFF_MIN;
				else
					slots[i].backoff = 0;
				if (slots[i].backoff > BACKOFF_MAX)
					slots[i].backoff = BACKOFF_MAX;
			}
			slots[i].next_start = now + slots[i].backoff;
			break;
		}
	}
}

static int master(int listen_fd, const struct opts *o, const struct dgen_config *cfg,
		  const char *unlink_path)
{
	struct slot slots[MAX_WORKERS];
	sigset_t set, saved;
	int n = o->workers > 0 ? o->workers : 1, grace;
	double deadline;

	memset(slots, 0, sizeof slots);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &saved);
	signal(SIGPIPE, SIG_IGN);
	dgen_info("listening, %d workers", n);

	for (;;) {
		double now = dgen_clock_mono(), wait = 1.0;
		struct timespec ts;
		siginfo_t si;
		int sig;

		for (int i = 0; i < n; i++) {
			if (slots[i].pid)
				continue;
			if (now >= slots[i].next_start) {
				pid_t pid = spawn(listen_fd, cfg, o->max_requests, n, &saved);

				if (pid > 0) {
					slots[i].pid = pid;
					slots[i].started = now;
				} else {
					slots[i].backoff = BACKOFF_MAX;
					slots[i].next_start = now + BACKOFF_MAX;
				}
			} else if (slots[i].next_start - now < wait) {
				wait = slots[i].next_start - now;
			}
		}
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		reap(slots, n, false);
	}

	/* shutdown: no new connections; workers finish what they hold */
	dgen_info("stopping");
	close(listen_fd);
	if (unlink_path)
		unlink(unlink_path);
	for (int i = 0; i < n; i++)
		if (slots[i].pid)
			kill(slots[i].pid, SIGTERM);
	grace = cfg->grace_seconds > 0 ? cfg->grace_seconds : 30;
	deadline = dgen_clock_mono() + grace;
	for (;;) {
		bool any = false;
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		siginfo_t si;

		reap(slots, n, true);
		for (int i = 0; i < n; i++)
			any |= slots[i].pid != 0;
		if (!any)
			break;
		if (dgen_clock_mono() > deadline) {
			for (int i = 0; i < n; i++)
				if (slots[i].pid) {
					dgen_warn("worker %ld did not stop in %d s: killing it",
						  (long)slots[i].pid, grace);
					kill(slots[i].pid, SIGKILL);
				}
			deadline = dgen_clock_mono() + 5;
		}
		sigtimedwait(&set, &si, &ts);
	}
	dgen_info("stopped");
	return 0;
}

/* ---- socket ------------------------------------------------------------ */

/* A leftover socket file from a dead master is removed; a live one (a
 * connect succeeds) means another server owns the path. */
static int clear_stale_socket(const char *path)
{
	struct stat st;
	struct sockaddr_un sa;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		dgen_error("%s exists and is not a socket", path);
		return -1;
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		dgen_error("socket path too long: %s", path);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	if (rc == 0) {
		dgen_error("another server is listening on %s", path);
		return -1;
	}
	return unlink(path);
}

static int open_socket(const struct opts *o)
{
	bool is_unix = strchr(o->socket_path, '/') || !strchr(o->socket_path, ':');
	int fd;

	if (is_unix && clear_stale_socket(o->socket_path) != 0)
		return -1;
	fd = FCGX_OpenSocket(o->socket_path, o->backlog);
	if (fd < 0) {
		dgen_error("cannot listen on %s: %s", o->socket_path, strerror(errno));
		return -1;
	}
	if (is_unix && chmod(o->socket_path, o->mode) != 0) {
		dgen_error("cannot chmod %s: %s", o->socket_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* systemd socket activation: LISTEN_PID is us and LISTEN_FDS >= 1; the
 * socket is fd 3. The variables are removed so children do not act on
 * them. */
static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long long p, n;

	if (!pid || !fds || dgen_parse_long(pid, 1, INT_MAX, &p) != 0 ||
	    dgen_parse_long(fds, 1, INT_MAX, &n) != 0 || (pid_t)p != getpid())
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

/* ---- CGI --------------------------------------------------------------- */

static int run_cgi(const struct dgen_config *cfg)
{
	static char outbuf[65536];
	struct api_worker w;
	struct req_io io = { NULL, cgi_getparam, cgi_read, cgi_write, cgi_flush, cgi_wait };

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	api_worker_init(&w, cfg);
	api_handle(&w, &io, true);
	fflush(stdout);
	api_worker_free(&w);
	return 0;
}

/* A configuration error in CGI mode still owes the client a response. */
static void cgi_config_error(const struct dgen_err *e)
{
	struct json_object *o = dgen_err_to_json(e);

	printf("Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n%s\n",
	       dgen_json_compact(o));
	json_object_put(o);
}

/* ---- main -------------------------------------------------------------- */

static const char usage_text[] =
	"usage: dgen-api [--socket PATH] [--workers N] [--mode OCTAL] [--backlog N]\n"
	"                [--max-requests N] [--config FILE]\n"
	"\n"
	"Answers the dgen HTTP API (/api/...) as a FastCGI responder:\n"
	"  --socket PATH     listen on a unix socket (host:port for TCP) with a pool\n"
	"  --workers N       worker processes (default 2)\n"
	"  --mode OCTAL      permissions of the socket file (default 0660)\n"
	"  --backlog N       listen backlog (default 128)\n"
	"  --max-requests N  restart a worker after N requests (default: never)\n"
	"  --config FILE     configuration file (KEY=value)\n"
	"Without --socket it serves a socket from systemd (LISTEN_FDS) or on fd 0\n"
	"(spawn-fcgi), or answers one request as a CGI program when run by a web\n"
	"server (GATEWAY_INTERFACE set).\n";

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, 'm' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "max-requests", required_argument, NULL, 'r' },
		DGEN_CMDLINE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc;
	long long v;

	memset(o, 0, sizeof *o);
	o->mode = 0660;
	o->backlog = 128;
	while ((ch = getopt_long(argc, argv, "s:w:m:b:r:c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'w':
			if (dgen_parse_long(optarg, 1, MAX_WORKERS, &v) != 0) {
				fprintf(stderr, "dgen-api: --workers must be 1..%d\n", MAX_WORKERS);
				return 2;
			}
			o->workers = (int)v;
			break;
		case 'm': {
			char *end;
			long m = strtol(optarg, &end, 8);

			if (*optarg == '\0' || *end || m < 0 || m > 0777) {
				fprintf(stderr, "dgen-api: --mode must be octal like 0660\n");
				return 2;
			}
			o->mode = (mode_t)m;
			break;
		}
		case 'b':
			if (dgen_parse_long(optarg, 1, 65535, &v) != 0) {
				fprintf(stderr, "dgen-api: --backlog must be 1..65535\n");
				return 2;
			}
			o->backlog = (int)v;
			break;
		case 'r':
			if (dgen_parse_long(optarg, 0, LONG_MAX, &v) != 0) {
				fprintf(stderr, "dgen-api: --max-requests must be >= 0\n");
				return 2;
			}
			o->max_requests = (unsigned long)v;
			break;
		default:
			rc = dgen_cmdline_common(ch, "dgen-api", usage_text, &o->config);
			if (rc == DGEN_CMDLINE_OTHER) {
				fputs(usage_text, stderr);
				return 2;
			}
			if (rc >= 0)
				return rc;
			break;
		}
	}
	if (optind < argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	return -1;
}

int api_main(int argc, char **argv)
{
	struct opts o;
	struct dgen_config cfg;
	struct dgen_err err = DGEN_ERR_INIT;
	bool cgi_env = getenv("GATEWAY_INTERFACE") || getenv("REQUEST_METHOD");
	int rc, fd;

	dgen_log_init("dgen-api", false, 2);
	/* The database, its WAL and SHM hold the dataset and maybe secrets:
	 * 0640 at most (umask 027 or stricter), however we were started. */
	umask(umask(0) | 027);
	if ((rc = parse_opts(argc, argv, &o)) >= 0)
		return rc;
	memset(&cfg, 0, sizeof cfg);
	if (FCGX_Init() != 0) {
		dgen_error("libfcgi initialisation failed");
		return 1;
	}
	if (dgen_config_load(&cfg, o.config, &err) != 0) {
		dgen_error("configuration: %s", err.msg);
		if (!o.socket_path && FCGX_IsCGI() && cgi_env)
			cgi_config_error(&err);
		dgen_err_clear(&err);
		return 1;
	}
	dgen_log_set_debug(cfg.debug);
	dgen_log_secret(cfg.llm_api_key);

	if (o.socket_path) {
		if ((fd = open_socket(&o)) < 0) {
			rc = 1;
			goto out;
		}
		if (!o.workers)
			o.workers = 2;
		rc = master(fd, &o, &cfg, strchr(o.socket_path, '/') || !strchr(o.socket_path, ':')
						  ? o.socket_path : NULL);
	} else if ((fd = systemd_socket()) >= 0) {
		if (!o.workers)
			o.workers = 2;
		rc = master(fd, &o, &cfg, NULL);
	} else if (!FCGX_IsCGI()) {
		/* spawn-fcgi: fd 0 listens; it runs as many of us as it was told */
		rc = o.workers ? master(0, &o, &cfg, NULL) : worker_loop(0, &cfg, o.max_requests, 1);
	} else if (cgi_env) {
		rc = run_cgi(&cfg);
	} else {
		fprintf(stderr, "dgen-api: not started by a web server; use --socket PATH "
				"(or see --help)\n");
		rc = 2;
	}
out:
	dgen_config_free(&cfg);
	return rc;
}
