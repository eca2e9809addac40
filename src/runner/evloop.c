/*
 * evloop.c - event loops running units on coroutines (evloop.h).
 *
 * A coroutine is a stack and a saved stack pointer, switched by a dozen
 * instructions of our own on x86-64 (below), or a ucontext
 * (makecontext/swapcontext, from the C library) elsewhere and under
 * AddressSanitizer. It lives on an mmap'd stack of STACK_SIZE with a guard page below it: a stack
 * overflow faults instead of writing over a neighbour. The pages are only
 * reserved; what a unit really touches (templates, JSON, libcurl's
 * callbacks: a few dozen KiB, see the debug line at stop) is what costs
 * memory, and coroutines are kept for the next unit, so a loop's memory is
 * bounded by its capacity. Under AddressSanitizer every switch is told to
 * it (__sanitizer_start/finish_switch_fiber) and stacks are larger.
 *
 * One loop is one thread: its coroutines run one at a time, switched to
 * from the loop (never from one another), so nothing here is locked but
 * the inbox, where other threads post events. libcurl is driven with
 * curl_multi_socket_action over an epoll set: the cost of a wake-up is
 * that of the sockets that are ready, not of every transfer in flight.
 * Waits with a stop function (an LLM call's cancel flag and deadline) are
 * checked every STOP_SCAN_MS, like the blocking waiter's poll slices.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "dgen/clock.h"
#include "dgen/log.h"
#include "dgen/util.h"
#include "evloop.h"

#if defined(__SANITIZE_ADDRESS__)
#define EV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EV_ASAN 1
#endif
#endif

#ifdef EV_ASAN
#include <sanitizer/common_interface_defs.h>
#define STACK_SIZE (1024 * 1024)
#define SWITCH_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define SWITCH_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
/* Virtual size; blocks use a small part of it (see evloop_stop's log). */
#define STACK_SIZE (256 * 1024)
#define SWITCH_START(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define SWITCH_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

/*
 * glibc's swapcontext saves and restores the signal mask: one
 * rt_sigprocmask system call on every switch, several a record. The loop
 * threads never change their signal mask (nor the FPU control words), so
 * on x86-64 a switch saves only what the ABI says a callee keeps: rbx,
 * rbp, r12-r15 pushed on the stack being left, rsp stored, the other rsp
 * loaded, its registers popped, ret. Under AddressSanitizer the usual
 * ucontext path stays, with its fiber annotations.
 */
#if defined(__x86_64__) && defined(__linux__) && !defined(EV_ASAN)
#define EV_FAST_SWITCH 1
#endif

#ifdef EV_FAST_SWITCH
/* Saves the caller's registers and rsp in *save, carries on on to. */
void dgen_evloop_switch(void **save, void *to);
__asm__(".text\n"
	".globl dgen_evloop_switch\n"
	".hidden dgen_evloop_switch\n"
	".type dgen_evloop_switch,@function\n"
	".p2align 4\n"
	"dgen_evloop_switch:\n"
	"\tpushq %rbp\n"
	"\tpushq %rbx\n"
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tpushq %r14\n"
	"\tpushq %r15\n"
	"\tmovq %rsp, (%rdi)\n"
	"\tmovq %rsi, %rsp\n"
	"\tpopq %r15\n"
	"\tpopq %r14\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tpopq %rbp\n"
	"\tret\n"
	".size dgen_evloop_switch, .-dgen_evloop_switch\n");
#define CTX_T void *
#else
#define CTX_T ucontext_t
#endif

#define STOP_SCAN_MS 50
#define RECV_BUFFER 2048L
#define MAX_EVENTS 256

enum co_state { CO_IDLE, CO_READY, CO_RUNNING, CO_CURL, CO_TIMER, CO_EVENT };

struct evco {
	CTX_T ctx;
	struct evloop *L;
	char *map;                  /* guard page + stack */
	size_t map_len;
	enum co_state state;
	void *unit;                 /* NULL when idle */
	void *local;
	bool exit;
	/* the wait it is parked in */
	CURL *easy;
	CURLcode cc;
	bool stopped;
	dgen_llm_stop_fn stop;
	void *stop_arg;
	uint64_t timer_gen;
	struct evco *next;          /* idle, ready or inbox list */
	struct evco *wprev, *wnext; /* waits with a stop function */
	void *fake_stack;           /* ASan's, while switched out */
};

struct timer {
	double at;
	struct evco *co;
	uint64_t gen;
};

struct evloop {
	pthread_t tid;
	bool started;
	int epfd, evfd;
	unsigned char *fds;         /* per socket: FD_* and its events */
	size_t fd_cap;
	CURLM *multi;
	double curl_due;            /* monotonic; < 0: libcurl wants no timeout */
	double last_io;             /* monotonic end of the last io_round */
	double last_scan;           /* monotonic time of the last stop scan */
	const struct evloop_ops *ops;
	void *arg;
	int cap, running;
	CTX_T main;
	const void *main_bottom;    /* the loop thread's stack (ASan) */
	size_t main_size;
	void *main_fake;
	struct evco *cur;
	struct evco **all;
	int n_all;
	struct evco *idle;
	struct evco *ready, *ready_tail;
	struct evco *waits;
	struct timer *heap;
	size_t heap_len, heap_cap;
	pthread_mutex_t lock;       /* guards inbox and quit */
	struct evco *inbox;
	bool quit;
};

static __thread struct evloop *tl_loop;

/* ---- lists and timers --------------------------------------------------- */

static void ready_push(struct evloop *L, struct evco *co)
{
	co->state = CO_READY;
	co->next = NULL;
	if (L->ready_tail)
		L->ready_tail->next = co;
	else
		L->ready = co;
	L->ready_tail = co;
}

/* A coroutine whose transfer ended goes first: it tells its model's
 * budget how the call went (a 429 pauses it) before the coroutines queued
 * behind it ask the budget for their own calls. */
static void ready_push_front(struct evloop *L, struct evco *co)
{
	co->state = CO_READY;
	co->next = L->ready;
	L->ready = co;
	if (!L->ready_tail)
		L->ready_tail = co;
}

static struct evco *ready_pop(struct evloop *L)
{
	struct evco *co = L->ready;

	if (co && !(L->ready = co->next))
		L->ready_tail = NULL;
	return co;
}

static void wait_link(struct evloop *L, struct evco *co)
{
	co->wprev = NULL;
	co->wnext = L->waits;
	if (L->waits)
		L->waits->wprev = co;
	L->waits = co;
}

static void wait_unlink(struct evloop *L, struct evco *co)
{
	if (!co->stop)
		return;
	if (co->wprev)
		co->wprev->wnext = co->wnext;
	else
		L->waits = co->wnext;
	if (co->wnext)
		co->wnext->wprev = co->wprev;
	co->stop = NULL;
}

static void heap_push(struct evloop *L, struct timer t)
{
	size_t i;

	if (L->heap_len == L->heap_cap) {
		L->heap_cap = L->heap_cap ? L->heap_cap * 2 : 64;
		L->heap = dgen_xrealloc(L->heap, L->heap_cap * sizeof *L->heap);
	}
	for (i = L->heap_len++; i > 0 && L->heap[(i - 1) / 2].at > t.at; i = (i - 1) / 2)
		L->heap[i] = L->heap[(i - 1) / 2];
	L->heap[i] = t;
}

static struct timer heap_pop(struct evloop *L)
{
	struct timer top = L->heap[0], last = L->heap[--L->heap_len];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= L->heap_len)
			break;
		if (c + 1 < L->heap_len && L->heap[c + 1].at < L->heap[c].at)
			c++;
		if (L->heap[c].at >= last.at)
			break;
		L->heap[i] = L->heap[c];
		i = c;
	}
	if (L->heap_len > 0)
		L->heap[i] = last;
	return top;
}

/* ---- switching ---------------------------------------------------------- */

/* From the loop into co, until it parks or ends its unit. */
static void resume(struct evloop *L, struct evco *co)
{
	L->cur = co;
	co->state = CO_RUNNING;
	if (L->ops->enter)
		L->ops->enter(L->arg, &co->local);
	SWITCH_START(&L->main_fake, co->map + getpagesize(), co->map_len - (size_t)getpagesize());
#ifdef EV_FAST_SWITCH
	dgen_evloop_switch(&L->main, co->ctx);
#else
	swapcontext(&L->main, &co->ctx);
#endif
	SWITCH_FINISH(L->main_fake, NULL, NULL);
	if (L->ops->leave)
		L->ops->leave(L->arg, &co->local);
	L->cur = NULL;
}

/* From co back to the loop; returns when the loop resumes it. */
static void park(struct evco *co)
{
	struct evloop *L = co->L;

	SWITCH_START(&co->fake_stack, L->main_bottom, L->main_size);
#ifdef EV_FAST_SWITCH
	dgen_evloop_switch(&co->ctx, L->main);
#else
	swapcontext(&co->ctx, &L->main);
#endif
	SWITCH_FINISH(co->fake_stack, &L->main_bottom, &L->main_size);
}

/* A coroutine's life: a unit, park idle, the next unit, until told to
 * exit; then back to the loop (through uc_link, or a last switch that is
 * never resumed). */
static void co_main(void)
{
	struct evloop *L = tl_loop;
	struct evco *co = L->cur;

	SWITCH_FINISH(NULL, &L->main_bottom, &L->main_size);
	while (!co->exit) {
		L->ops->run(L->arg, co->unit, &co->local);
		co->unit = NULL;
		co->state = CO_IDLE;
		park(co);
	}
	SWITCH_START(NULL, L->main_bottom, L->main_size);
#ifdef EV_FAST_SWITCH
	dgen_evloop_switch(&co->ctx, L->main);
	abort();
#endif
}

static struct evco *co_new(struct evloop *L)
{
	struct evco *co = dgen_xcalloc(1, sizeof *co);
	size_t page = (size_t)getpagesize();

	co->L = L;
	co->map_len = STACK_SIZE + page;
	co->map = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (co->map == MAP_FAILED || mprotect(co->map, page, PROT_NONE) != 0) {
		dgen_error("cannot map a coroutine stack: %s", strerror(errno));
		abort();
	}
#ifdef EV_FAST_SWITCH
	{
		/* the first switch pops six zeroed registers and "returns"
		 * into co_main, as if called: rsp + 8 aligned to 16 */
		uintptr_t top = ((uintptr_t)co->map + co->map_len) & ~(uintptr_t)15;
		void **sp = (void **)top;

		*--sp = NULL;                   /* co_main never returns */
		*--sp = (void *)(uintptr_t)co_main;
		for (int i = 0; i < 6; i++)
			*--sp = NULL;
		co->ctx = sp;
	}
#else
	getcontext(&co->ctx);
	co->ctx.uc_stack.ss_sp = co->map + page;
	co->ctx.uc_stack.ss_size = STACK_SIZE;
	co->ctx.uc_link = &L->main;
	makecontext(&co->ctx, co_main, 0);
#endif
	L->all = dgen_xrealloc(L->all, (size_t)(L->n_all + 1) * sizeof *L->all);
	L->all[L->n_all++] = co;
	return co;
}

/* The deepest a coroutine's stack was touched (resident pages). */
static size_t stack_used(const struct evco *co)
{
	size_t page = (size_t)getpagesize(), n = STACK_SIZE / page, used = 0;
	unsigned char *vec = dgen_xcalloc(n, 1);

	if (mincore(co->map + page, STACK_SIZE, vec) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (vec[i] & 1) {
				used = (n - i) * page;
				break;
			}
		}
	}
	free(vec);
	return used;
}

/* ---- libcurl ------------------------------------------------------------ */

/*
 * What the epoll set holds for each socket, by descriptor: FD_IN_SET and
 * the events registered, and FD_WANTED while libcurl watches it. libcurl
 * stops watching a kept-alive connection when its transfer ends and
 * watches it again, for the same events, when the next transfer of the
 * loop takes it: an epoll_ctl DEL and an ADD per call. So a socket
 * libcurl lets go of stays in the set; if it turns ready meanwhile (the
 * server closed it), io_round() takes it out then. A socket libcurl
 * closes leaves the set by itself (close does that), and close_cb()
 * forgets it here, before its number can be used again.
 */
#define FD_IN_SET 0x40
#define FD_WANTED 0x80

static unsigned char *fd_slot(struct evloop *L, curl_socket_t s)
{
	if (s < 0)
		return NULL;
	if ((size_t)s >= L->fd_cap) {
		size_t cap = L->fd_cap ? L->fd_cap : 64;

		while (cap <= (size_t)s)
			cap *= 2;
		L->fds = dgen_xrealloc(L->fds, cap);
		memset(L->fds + L->fd_cap, 0, cap - L->fd_cap);
		L->fd_cap = cap;
	}
	return &L->fds[s];
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct evloop *L = userp;
	struct epoll_event ev = { 0 };
	unsigned char *f = fd_slot(L, s), want;

	(void)e;
	(void)socketp;
	if (!f)
		return 0;
	if (what == CURL_POLL_REMOVE) {
		*f &= (unsigned char)~FD_WANTED;
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	want = (unsigned char)(FD_IN_SET | FD_WANTED | ((what & CURL_POLL_IN) ? 1 : 0) |
			       ((what & CURL_POLL_OUT) ? 2 : 0));
	if ((*f | FD_WANTED) == want) {
		*f = want;
		return 0;
	}
	if (!(*f & FD_IN_SET) || (epoll_ctl(L->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)) {
		if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
			epoll_ctl(L->epfd, EPOLL_CTL_MOD, s, &ev);
	}
	*f = want;
	return 0;
}

/* libcurl closes a connection's socket: its number is free again. */
static int close_cb(void *userp, curl_socket_t s)
{
	unsigned char *f = fd_slot(userp, s);

	if (f)
		*f = 0;
	return close(s);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct evloop *L = userp;

	(void)m;
	L->curl_due = timeout_ms < 0 ? -1 : dgen_clock_mono() + (double)timeout_ms / 1000.0;
	return 0;
}

/* Transfers that ended wake their coroutines. */
static void curl_done(struct evloop *L)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(L->multi, &left))) {
		struct evco *co = NULL;
		CURL *e = msg->easy_handle;
		CURLcode cc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&co);
		curl_multi_remove_handle(L->multi, e);
		if (!co || co->state != CO_CURL || co->easy != e)
			continue;
		co->cc = cc;
		co->easy = NULL;
		wait_unlink(L, co);
		ready_push_front(L, co);
	}
}

static void curl_act(struct evloop *L, curl_socket_t s, int flags)
{
	int running;

	curl_multi_socket_action(L->multi, s, flags, &running);
	curl_done(L);
}

/* ---- the waits of a coroutine ------------------------------------------ */

bool evloop_on_coroutine(void)
{
	return tl_loop && tl_loop->cur;
}

static int co_perform(void *easy, void **own, dgen_llm_stop_fn stop, void *arg, bool *stopped)
{
	struct evloop *L = tl_loop;
	struct evco *co = L ? L->cur : NULL;

	if (!co)
		return llm_blocking_waiter.perform(easy, own, stop, arg, stopped);
	*stopped = false;
	if (stop && stop(arg)) {
		*stopped = true;
		return CURLE_ABORTED_BY_CALLBACK;
	}
	/* libcurl's 16 KiB receive buffer per handle is most of a unit's
	 * memory at thousands in flight; replies are a few KiB */
	curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, RECV_BUFFER);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)co);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, L);
	if (curl_multi_add_handle(L->multi, easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	co->easy = easy;
	co->stopped = false;
	co->stop = stop;
	co->stop_arg = arg;
	if (stop)
		wait_link(L, co);
	co->state = CO_CURL;
	park(co);
	*stopped = co->stopped || co->cc == CURLE_ABORTED_BY_CALLBACK;
	return (int)co->cc;
}

static int co_sleep(long ms, dgen_llm_stop_fn stop, void *arg)
{
	struct evloop *L = tl_loop;
	struct evco *co = L ? L->cur : NULL;

	if (!co)
		return llm_blocking_waiter.sleep(ms, stop, arg);
	if (stop && stop(arg))
		return -1;
	co->stopped = false;
	co->stop = stop;
	co->stop_arg = arg;
	if (stop)
		wait_link(L, co);
	heap_push(L, (struct timer){ dgen_clock_mono() + (double)ms / 1000.0, co, ++co->timer_gen });
	co->state = CO_TIMER;
	park(co);
	return co->stopped ? -1 : 0;
}

const struct dgen_llm_waiter evloop_waiter = { co_perform, co_sleep };

void evco_sleep(long ms)
{
	co_sleep(ms, NULL, NULL);
}

/* Parks once, always: the post that ends the wait also queues the
 * coroutine to be resumed, even when it came before the park. */
void evco_event_init(struct evco_event *ev)
{
	ev->co = tl_loop->cur;
	atomic_init(&ev->set, 0);
}

void evco_wait(struct evco_event *ev)
{
	struct evco *co = tl_loop->cur;

	(void)ev;
	co->state = CO_EVENT;
	park(co);
}

void evco_post(struct evco_event *ev)
{
	struct evco *co = ev->co;
	struct evloop *L = co->L;
	uint64_t one = 1;
	bool first;

	atomic_store(&ev->set, 1);
	pthread_mutex_lock(&L->lock);
	first = !L->inbox;
	co->next = L->inbox;
	L->inbox = co;
	pthread_mutex_unlock(&L->lock);
	if (first && write(L->evfd, &one, sizeof one) < 0)
		dgen_debug("evloop: wake-up not written: %s", strerror(errno));
}

void evloop_wake(struct evloop *L)
{
	uint64_t one = 1;

	if (write(L->evfd, &one, sizeof one) < 0)
		dgen_debug("evloop: wake-up not written: %s", strerror(errno));
}

/* ---- the loop ----------------------------------------------------------- */

/* Posted coroutines, due timers and stopped waits become ready. */
static void collect(struct evloop *L, double now)
{
	struct evco *in;

	pthread_mutex_lock(&L->lock);
	in = L->inbox;
	L->inbox = NULL;
	pthread_mutex_unlock(&L->lock);
	while (in) {
		struct evco *nx = in->next;

		ready_push(L, in);
		in = nx;
	}
	while (L->heap_len > 0 && L->heap[0].at <= now) {
		struct timer t = heap_pop(L);

		if (t.co->state == CO_TIMER && t.co->timer_gen == t.gen) {
			wait_unlink(L, t.co);
			ready_push(L, t.co);
		}
	}
	if (now - L->last_scan < STOP_SCAN_MS / 1000.0)
		return;
	L->last_scan = now;
	for (struct evco *co = L->waits, *nx; co; co = nx) {
		nx = co->wnext;
		if (!co->stop(co->stop_arg))
			continue;
		wait_unlink(L, co);
		co->stopped = true;
		if (co->state == CO_CURL) {
			curl_multi_remove_handle(L->multi, co->easy);
			co->easy = NULL;
			co->cc = CURLE_ABORTED_BY_CALLBACK;
		}
		ready_push(L, co);
	}
}

/* Free coroutines take the units there are. */
static void dispatch(struct evloop *L)
{
	bool quit;

	pthread_mutex_lock(&L->lock);
	quit = L->quit;
	pthread_mutex_unlock(&L->lock);
	while (!quit && L->running < L->cap) {
		void *unit = L->ops->next(L->arg);
		struct evco *co;

		if (!unit)
			break;
		if ((co = L->idle))
			L->idle = co->next;
		else
			co = co_new(L);
		co->unit = unit;
		L->running++;
		ready_push(L, co);
	}
}

/* How long epoll may wait: until the next timer, libcurl's timeout or
 * stop scan, at most STOP_SCAN_MS (units may appear meanwhile). */
static int wait_ms(struct evloop *L, double now)
{
	double until = now + STOP_SCAN_MS / 1000.0;

	if (L->heap_len > 0 && L->heap[0].at < until)
		until = L->heap[0].at;
	if (L->curl_due >= 0 && L->curl_due < until)
		until = L->curl_due;
	return until <= now ? 0 : (int)((until - now) * 1000.0) + 1;
}

/* libcurl's timeout if it is due (a transfer just added is sent then),
 * and the sockets that are ready within timeout_ms. */
static void io_round(struct evloop *L, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int n;

	if (L->curl_due >= 0 && dgen_clock_mono() >= L->curl_due) {
		L->curl_due = -1;
		curl_act(L, CURL_SOCKET_TIMEOUT, 0);
	}
	n = epoll_wait(L->epfd, evs, MAX_EVENTS, timeout_ms);
	for (int i = 0; i < n; i++) {
		int fl = 0;

		if (evs[i].data.fd == L->evfd) {
			uint64_t v;

			if (read(L->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
				dgen_debug("evloop: wake-up not read: %s", strerror(errno));
			continue;
		}
		if (!(fd_slot(L, evs[i].data.fd)[0] & FD_WANTED)) {
			/* a kept-alive socket libcurl does not watch now */
			epoll_ctl(L->epfd, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
			L->fds[evs[i].data.fd] = 0;
			continue;
		}
		if (evs[i].events & EPOLLIN)
			fl |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			fl |= CURL_CSELECT_OUT;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			fl |= CURL_CSELECT_ERR;
		curl_act(L, evs[i].data.fd, fl);
	}
	L->last_io = dgen_clock_mono();
}

/*
 * Runs the ready coroutines. A long queue of them (a thousand transfers
 * ended together) would otherwise send every next request before reading
 * any answer: each coroutine's transfer is started as soon as it parks
 * and the sockets are looked at every IO_GAP, so an answer that says
 * "slow down" reaches its model's budget (its coroutine goes first)
 * before the rest of the queue asks it for more, as with one thread per
 * call; and commits done meanwhile, due timers and stops join the queue
 * then too, instead of after the whole of it.
 */
#define IO_GAP 0.0001
static void run_ready(struct evloop *L, bool *ended)
{
	struct evco *co;

	while ((co = ready_pop(L))) {
		resume(L, co);
		if (co->state == CO_IDLE) {
			co->next = L->idle;
			L->idle = co;
			L->running--;
			*ended = true;
		}
		if (L->ready && ((L->curl_due >= 0 && dgen_clock_mono() >= L->curl_due) ||
				 dgen_clock_mono() - L->last_io >= IO_GAP)) {
			io_round(L, 0);
			collect(L, dgen_clock_mono());
		}
	}
}

static void *loop_main(void *arg)
{
	struct evloop *L = arg;
	bool ended = true;

	tl_loop = L;
	for (;;) {
		double now = dgen_clock_mono();
		bool quit;

		collect(L, now);
		if (L->curl_due >= 0 && now >= L->curl_due) {
			L->curl_due = -1;
			curl_act(L, CURL_SOCKET_TIMEOUT, 0);
		}
		if (ended || L->running < L->cap)
			dispatch(L);
		ended = false;
		run_ready(L, &ended);
		pthread_mutex_lock(&L->lock);
		quit = L->quit;
		pthread_mutex_unlock(&L->lock);
		if (quit && L->running == 0)
			break;
		io_round(L, ended || L->ready ? 0 : wait_ms(L, dgen_clock_mono()));
	}
	/* Every coroutine is idle: let each return, so its stack is let go
	 * of cleanly (ASan forgets it too). */
	for (int i = 0; i < L->n_all; i++) {
		L->all[i]->exit = true;
		resume(L, L->all[i]);
	}
	tl_loop = NULL;
	return NULL;
}

int evloop_start(struct evloop **out, int cap, const struct evloop_ops *ops, void *arg,
		 struct dgen_err *err)
{
	struct evloop *L = dgen_xcalloc(1, sizeof *L);
	struct epoll_event ev = { .events = EPOLLIN };

	*out = NULL;
	L->ops = ops;
	L->arg = arg;
	L->cap = cap > 0 ? cap : 1;
	L->curl_due = -1;
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	L->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	L->multi = curl_multi_init();
	pthread_mutex_init(&L->lock, NULL);
	ev.data.fd = L->evfd;
	if (L->epfd < 0 || L->evfd < 0 || !L->multi ||
	    epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->evfd, &ev) != 0) {
		dgen_err_set(err, DGEN_EIO, "cannot set up an event loop: %s", strerror(errno));
		goto fail;
	}
	curl_multi_setopt(L->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(L->multi, CURLMOPT_SOCKETDATA, L);
	curl_multi_setopt(L->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(L->multi, CURLMOPT_TIMERDATA, L);
	/* keep a connection per unit in flight between calls */
	curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, (long)L->cap + 16);
	if (pthread_create(&L->tid, NULL, loop_main, L) != 0) {
		dgen_err_set(err, DGEN_EIO, "cannot start an event loop thread");
		goto fail;
	}
	L->started = true;
	*out = L;
	return 0;
fail:
	evloop_stop(L);
	return -1;
}

void evloop_stop(struct evloop *L)
{
	size_t deepest = 0;

	if (!L)
		return;
	if (L->started) {
		pthread_mutex_lock(&L->lock);
		L->quit = true;
		pthread_mutex_unlock(&L->lock);
		evloop_wake(L);
		pthread_join(L->tid, NULL);
	}
	for (int i = 0; i < L->n_all; i++) {
		struct evco *co = L->all[i];
		size_t used = stack_used(co);

		if (used > deepest)
			deepest = used;
		if (L->ops->drop)
			L->ops->drop(L->arg, &co->local);
		munmap(co->map, co->map_len);
		free(co);
	}
	if (L->n_all)
		dgen_debug("evloop: %d coroutines, deepest stack use %zu KiB of %d", L->n_all,
			   deepest / 1024, STACK_SIZE / 1024);
	if (L->multi)
		curl_multi_cleanup(L->multi);
	if (L->epfd >= 0)
		close(L->epfd);
	if (L->evfd >= 0)
		close(L->evfd);
	pthread_mutex_destroy(&L->lock);
	free(L->all);
	free(L->heap);
	free(L->fds);
	free(L);
}
