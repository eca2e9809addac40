/*
 * bench_curl - what libcurl alone costs per LLM call: the floor under
 * dgen-runner's CPU per record. One thread keeps N transfers in flight on
 * a libcurl multi handle driven by epoll (as the runner's event loops do),
 * each a POST of a chat request like the runner's, on kept-alive
 * connections, with nothing done with the reply. No pipeline, no record,
 * no database. One line of results:
 *
 *   in_flight=1024 calls=20000 seconds=4.07 rps=4914.0 cpu_us_per_call=61.2 maxrss_kib=19000
 *
 * Usage: bench_curl --endpoint URL [--in-flight N] [--calls N]
 * contrib/bench-runner runs it beside the runner's own cases.
 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

static const char BODY[] =
	"{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
	"\"Write one sentence about benchmarks.\"}],\"max_tokens\":64}";

struct bench {
	CURLM *multi;
	int epfd;
	double due;             /* when libcurl wants its timeout run; < 0 none */
	long started, done, calls, errors;
	struct curl_slist *headers;
	const char *endpoint;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* libcurl says which sockets to watch: mirror it in the epoll set. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *ud, void *sp)
{
	struct bench *b = ud;
	struct epoll_event ev = { .data.fd = s };

	(void)e;
	(void)sp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, s, &ev) != 0)
		epoll_ctl(b->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int timer_cb(CURLM *m, long ms, void *ud)
{
	(void)m;
	((struct bench *)ud)->due = ms < 0 ? -1 : now() + (double)ms / 1000;
	return 0;
}

static CURL *easy_new(struct bench *b)
{
	CURL *e = curl_easy_init();

	if (!e)
		abort();
	curl_easy_setopt(e, CURLOPT_URL, b->endpoint);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, b->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, BODY);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof BODY - 1));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	return e;
}

/* Starts e again if calls remain, else frees it. */
static void next_call(struct bench *b, CURL *e)
{
	if (b->started < b->calls) {
		b->started++;
		curl_multi_add_handle(b->multi, e);
	} else {
		curl_easy_cleanup(e);
	}
}

/* Finished transfers: count them and send each handle's next call. */
static void reap(struct bench *b)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(b->multi, &left))) {
		CURL *e = m->easy_handle;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		if (m->data.result != CURLE_OK || status != 200)
			b->errors++;
		b->done++;
		curl_multi_remove_handle(b->multi, e);
		next_call(b, e);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "in-flight", required_argument, NULL, 'n' },
		{ "calls", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .due = -1, .calls = 20000 };
	long in_flight = 1024;
	struct epoll_event evs[256];
	struct rusage ru;
	double t0, t;
	int o, running;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'e')
			b.endpoint = optarg;
		else if (o == 'n')
			in_flight = atol(optarg);
		else if (o == 'c')
			b.calls = atol(optarg);
		else
			return 2;
	}
	if (!b.endpoint || in_flight < 1 || b.calls < 1) {
		fprintf(stderr, "usage: bench_curl --endpoint URL [--in-flight N] [--calls N]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	b.multi = curl_multi_init();
	b.epfd = epoll_create1(EPOLL_CLOEXEC);
	b.headers = curl_slist_append(NULL, "Content-Type: application/json");
	b.headers = curl_slist_append(b.headers, "Authorization: Bearer bench");
	curl_multi_setopt(b.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(b.multi, CURLMOPT_SOCKETDATA, &b);
	curl_multi_setopt(b.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(b.multi, CURLMOPT_TIMERDATA, &b);
	curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, in_flight + 16);
	t0 = now();
	for (long i = 0; i < in_flight && i < b.calls; i++)
		next_call(&b, easy_new(&b));
	while (b.done < b.calls) {
		double wait = b.due < 0 ? 0.1 : b.due - now();
		int n = epoll_wait(b.epfd, evs, 256, wait <= 0 ? 0 : (int)(wait * 1000) + 1);

		if (b.due >= 0 && now() >= b.due) {
			b.due = -1;
			curl_multi_socket_action(b.multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		for (int i = 0; i < n; i++) {
			int fl = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				 (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				 (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

			curl_multi_socket_action(b.multi, evs[i].data.fd, fl, &running);
		}
		reap(&b);
	}
	t = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("in_flight=%ld calls=%ld errors=%ld seconds=%.2f rps=%.1f cpu_us_per_call=%.1f "
	       "maxrss_kib=%ld\n", in_flight, b.done, b.errors, t, (double)b.done / t,
	       1e6 * ((double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6) /
		       (double)b.done,
	       ru.ru_maxrss);
	curl_slist_free_all(b.headers);
	curl_multi_cleanup(b.multi);
	curl_global_cleanup();
	return b.errors ? 1 : 0;
}
