/*
 * jobstate.c - job-wide state in memory (see jobstate.h). The NearDuplicate
 * index is a hash table from LSH band key to the entries that have it, so
 * a check looks at candidates only, as the store's index does.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/jobstate.h"
#include "dgen/util.h"

struct entry {
	int64_t unit;
	uint32_t *sig;
	size_t n_sig;
};

struct slot {
	uint64_t key;
	size_t entry; /* index into entries, + 1; 0 = empty */
	struct slot *next;
};

struct dgen_jobstate_mem {
	pthread_mutex_t lock;
	struct entry *entries;
	size_t n, cap;
	struct slot **table;
	size_t n_buckets, n_slots;
};

struct dgen_jobstate_mem *jobstate_mem_new(void)
{
	struct dgen_jobstate_mem *m = dgen_xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	m->n_buckets = 1024;
	m->table = dgen_xcalloc(m->n_buckets, sizeof(*m->table));
	return m;
}

void jobstate_mem_free(struct dgen_jobstate_mem *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct slot *s = m->table[i], *nx; s; s = nx) {
			nx = s->next;
			free(s);
		}
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].sig);
	free(m->entries);
	free(m->table);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void grow(struct dgen_jobstate_mem *m)
{
	size_t nb = m->n_buckets * 2;
	struct slot **t = dgen_xcalloc(nb, sizeof(*t));

	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct slot *s = m->table[i], *nx; s; s = nx) {
			nx = s->next;
			s->next = t[s->key % nb];
			t[s->key % nb] = s;
		}
	free(m->table);
	m->table = t;
	m->n_buckets = nb;
}

static double share_equal(const uint32_t *a, const uint32_t *b, size_t n)
{
	size_t eq = 0;

	for (size_t i = 0; i < n; i++)
		eq += a[i] == b[i];
	return n ? (double)eq / (double)n : 0;
}

/* Under the lock: the best earlier candidate by band, then the new entry
 * and its band keys. A run in memory checks each unit once (it has no
 * restarts), so every entry already there is earlier. */
static int mem_check(void *self, int64_t job_id, int64_t unit, const uint32_t *sig, size_t n_sig,
		     const uint64_t *bands, size_t n_bands, double threshold, int64_t *dup_unit,
		     int64_t *dup_record, double *similarity, struct dgen_err *err)
{
	struct dgen_jobstate_mem *m = self;
	size_t best = 0;
	double best_sim = 0;

	(void)job_id;
	(void)err;
	pthread_mutex_lock(&m->lock);
	for (size_t b = 0; b < n_bands; b++)
		for (struct slot *s = m->table[bands[b] % m->n_buckets]; s; s = s->next) {
			const struct entry *e;
			double sim;

			if (s->key != bands[b])
				continue;
			e = &m->entries[s->entry - 1];
			if (e->n_sig != n_sig)
				continue;
			sim = share_equal(e->sig, sig, n_sig);
			if (sim >= threshold && (sim > best_sim || (sim == best_sim && s->entry < best))) {
				best_sim = sim;
				best = s->entry;
			}
		}
	{
		struct entry *e;

		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->entries = dgen_xrealloc(m->entries, m->cap * sizeof(*m->entries));
		}
		e = &m->entries[m->n++];
		e->unit = unit;
		e->n_sig = n_sig;
		e->sig = dgen_xcalloc(n_sig ? n_sig : 1, sizeof(*sig));
		memcpy(e->sig, sig, n_sig * sizeof(*sig));
		for (size_t b = 0; b < n_bands; b++) {
			struct slot *s = dgen_xcalloc(1, sizeof(*s));

			s->key = bands[b];
			s->entry = m->n;
			s->next = m->table[bands[b] % m->n_buckets];
			m->table[bands[b] % m->n_buckets] = s;
			if (++m->n_slots > m->n_buckets * 2)
				grow(m);
		}
	}
	*dup_unit = best ? m->entries[best - 1].unit : -1;
	/* `dgen run` numbers its records by unit: the record is the unit */
	*dup_record = *dup_unit;
	*similarity = best ? best_sim : 0;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

const struct dgen_jobstate_ops jobstate_mem_ops = { mem_check };
