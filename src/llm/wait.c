/*
 * wait.c - the one place an LLM or embeddings call waits (llm.h, "How a
 * call waits"): the blocking default and the switch to a daemon's own.
 *
 * The default runs a transfer on the caller's multi handle (its
 * connection cache), polled in POLL_SLICE_MS slices so that a stop
 * (cancel, deadline) ends even a silent transfer within one slice.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include "dgen/clock.h"
#include "dgen/llm.h"

#define POLL_SLICE_MS 50   /* how often a silent transfer checks for a stop */
#define SLEEP_SLICE_MS 20  /* same, while waiting */

static int blocking_perform(void *easy, void **own, dgen_llm_stop_fn stop, void *arg,
			    bool *stopped)
{
	CURLM *multi;
	CURLcode cc = CURLE_OK;
	CURLMsg *msg;
	int left;

	/* the caller's is made at its first transfer: a daemon with its own
	 * waiter never pays for one */
	if (own && !*own)
		*own = curl_multi_init();
	multi = own ? *own : curl_multi_init();
	*stopped = false;
	if (!multi || curl_multi_add_handle(multi, easy) != CURLM_OK) {
		if (multi && !own)
			curl_multi_cleanup(multi);
		return CURLE_FAILED_INIT;
	}
	for (;;) {
		int running = 0;

		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			goto out;
		}
		if (!running)
			break;
		if (stop && stop(arg)) {
			*stopped = true;
			cc = CURLE_ABORTED_BY_CALLBACK;
			goto out;
		}
		if (curl_multi_poll(multi, NULL, 0, POLL_SLICE_MS, NULL) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			goto out;
		}
	}
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
			cc = msg->data.result;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		*stopped = true;
out:
	curl_multi_remove_handle(multi, easy);
	if (!own)
		curl_multi_cleanup(multi);
	return (int)cc;
}

/* Sleeps in slices so a stop is noticed within SLEEP_SLICE_MS. */
static int blocking_sleep(long ms, dgen_llm_stop_fn stop, void *arg)
{
	double until = dgen_clock_mono() + (double)ms / 1000.0;

	for (;;) {
		double now = dgen_clock_mono();
		long slice;
		struct timespec ts;

		if (stop && stop(arg))
			return -1;
		if (now >= until)
			return 0;
		slice = (long)((until - now) * 1000.0) + 1;
		if (slice > SLEEP_SLICE_MS)
			slice = SLEEP_SLICE_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = slice * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

const struct dgen_llm_waiter llm_blocking_waiter = { blocking_perform, blocking_sleep };

static const struct dgen_llm_waiter *waiter = &llm_blocking_waiter;

void llm_set_waiter(const struct dgen_llm_waiter *w)
{
	waiter = w ? w : &llm_blocking_waiter;
}

int llm_wait_perform(void *easy, void **multi, dgen_llm_stop_fn stop, void *arg,
		     bool *stopped)
{
	return waiter->perform(easy, multi, stop, arg, stopped);
}

int llm_wait_sleep(long ms, dgen_llm_stop_fn stop, void *arg)
{
	return waiter->sleep(ms, stop, arg);
}
