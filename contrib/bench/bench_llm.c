/*
 * bench_llm - how many LLM calls per second the client sustains: T threads,
 * each with its own handle on one shared client, call the endpoint in a
 * loop for S seconds (or until N calls in all), then one line of results:
 *
 *   threads=16 calls=5012 errors=0 seconds=3.00 rps=1670.2 p50_ms=9.4 p99_ms=15.1
 *
 * Usage: bench_llm --endpoint URL [--provider NAME] [--threads T]
 *                  [--seconds S] [--requests N]
 * contrib/bench-llm runs the matrix against tests/mock-llm/mock-llm.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/clock.h"
#include "dgen/config.h"
#include "dgen/err.h"
#include "dgen/llm.h"
#include "dgen/log.h"
#include "dgen/util.h"

struct shared {
	struct dgen_llm_client *c;
	double until;
	long max_calls;
	atomic_long issued;
};

struct worker {
	struct shared *s;
	double *lat;   /* latencies of successful calls, seconds */
	size_t n_lat, cap_lat;
	long errors;
	char first_error[DGEN_ERR_MSG_MAX];
};

static const struct dgen_llm_message MSGS[] = {
	{ "system", "You write one short factual sentence." },
	{ "user", "Name a river in Europe and the country it flows through." },
};

static void *run(void *arg)
{
	struct worker *w = arg;
	struct dgen_llm_handle *h = llm_handle_new(w->s->c);
	struct dgen_llm_request req;

	memset(&req, 0, sizeof(req));
	req.messages = MSGS;
	req.n_messages = 2;
	req.temperature = 0.7;
	req.max_tokens = 64;
	while (dgen_clock_mono() < w->s->until &&
	       (w->s->max_calls <= 0 || atomic_fetch_add(&w->s->issued, 1) < w->s->max_calls)) {
		struct dgen_llm_response r;
		struct dgen_err err = DGEN_ERR_INIT;

		if (llm_call(h, &req, &r, &err) == 0) {
			if (w->n_lat == w->cap_lat) {
				w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 1024;
				w->lat = dgen_xrealloc(w->lat, w->cap_lat * sizeof(*w->lat));
			}
			w->lat[w->n_lat++] = r.latency;
		} else {
			if (w->errors++ == 0)
				snprintf(w->first_error, sizeof(w->first_error), "%s", err.msg);
		}
		llm_response_free(&r);
		dgen_err_clear(&err);
	}
	llm_handle_free(h);
	return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "provider", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "requests", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dgen_config cfg;
	struct dgen_err err = DGEN_ERR_INIT;
	struct shared s;
	struct worker *w;
	pthread_t *tids;
	const char *endpoint = NULL, *provider = "";
	long threads = 1, max_calls = 0;
	double seconds = 3, t0, elapsed, *all;
	size_t n_all = 0;
	long errors = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'e': endpoint = optarg; break;
		case 'p': provider = optarg; break;
		case 't': threads = strtol(optarg, NULL, 10); break;
		case 's': seconds = strtod(optarg, NULL); break;
		case 'n': max_calls = strtol(optarg, NULL, 10); break;
		case 'h':
			printf("usage: bench_llm --endpoint URL [--provider NAME] [--threads T] "
			       "[--seconds S] [--requests N]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!endpoint || threads < 1 || threads > 4096 || seconds <= 0) {
		fprintf(stderr, "bench_llm: --endpoint is required; --threads 1..4096; --seconds > 0\n");
		return 2;
	}
	dgen_log_init("bench_llm", false, 2);
	memset(&cfg, 0, sizeof(cfg));
	cfg.llm_endpoint = (char *)endpoint;
	cfg.llm_api_key = (char *)"sk-bench";
	cfg.llm_model = (char *)"bench-model";
	cfg.llm_provider = (char *)provider;
	cfg.llm_proxy = (char *)"";
	cfg.llm_timeout_ms = 30000;
	cfg.llm_connect_timeout_ms = 5000;
	cfg.llm_max_retries = 0;
	cfg.llm_retry_after_cap_ms = 1000;
	cfg.llm_max_response = 1 << 20;
	if (llm_client_new(&cfg, &s.c, &err)) {
		fprintf(stderr, "bench_llm: %s\n", err.msg);
		return 1;
	}
	s.max_calls = max_calls;
	atomic_init(&s.issued, 0);
	w = dgen_xcalloc((size_t)threads, sizeof(*w));
	tids = dgen_xcalloc((size_t)threads, sizeof(*tids));
	t0 = dgen_clock_mono();
	s.until = t0 + seconds;
	for (long i = 0; i < threads; i++) {
		w[i].s = &s;
		pthread_create(&tids[i], NULL, run, &w[i]);
	}
	for (long i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	elapsed = dgen_clock_mono() - t0;
	for (long i = 0; i < threads; i++) {
		n_all += w[i].n_lat;
		errors += w[i].errors;
	}
	all = dgen_xcalloc(n_all + 1, sizeof(*all));
	n_all = 0;
	for (long i = 0; i < threads; i++) {
		memcpy(all + n_all, w[i].lat, w[i].n_lat * sizeof(*all));
		n_all += w[i].n_lat;
	}
	qsort(all, n_all, sizeof(*all), cmp_dbl);
	printf("provider=%s threads=%ld calls=%zu errors=%ld seconds=%.2f rps=%.1f p50_ms=%.1f p99_ms=%.1f\n",
	       llm_provider_name(llm_client_provider(s.c)), threads, n_all, errors, elapsed,
	       (double)n_all / elapsed, n_all ? all[n_all / 2] * 1000 : 0.0,
	       n_all ? all[(n_all * 99) / 100 < n_all ? (n_all * 99) / 100 : n_all - 1] * 1000 : 0.0);
	for (long i = 0; i < threads; i++) {
		if (w[i].errors) {
			fprintf(stderr, "bench_llm: first error: %s\n", w[i].first_error);
			break;
		}
	}
	for (long i = 0; i < threads; i++)
		free(w[i].lat);
	free(w);
	free(tids);
	free(all);
	llm_client_free(s.c);
	return errors ? 1 : 0;
}
