/*
 * textmetrics.c - similarity, diversity, coherence and ROUGE measures.
 *
 * The scores are meant to agree with the Python tools people compare
 * against (difflib's SequenceMatcher, Google's rouge_score), so the
 * algorithms follow theirs step for step, tie-breaking included; only the
 * data structures differ (arrays and stamps instead of dicts, a
 * bit-parallel LCS instead of the full table).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/porter.h"
#include "dgen/textmetrics.h"
#include "dgen/utf8.h"
#include "dgen/util.h"

/* Decodes one code point at s[*i], advancing *i. A malformed sequence
 * yields its first byte as 0xDC00+byte (never a real character). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t cp;
	size_t n = utf8_scan((const char *)s + *i, len - *i, &cp);

	if (n == 0) {
		cp = 0xDC00u + s[*i];
		n = 1;
	}
	*i += n;
	return cp;
}

uint32_t *textmetrics_codepoints(const char *s, size_t len, size_t *n)
{
	uint32_t *out = dgen_xmalloc((len + 1) * sizeof(*out));
	size_t i = 0, k = 0;

	while (i < len)
		out[k++] = utf8_next((const unsigned char *)s, len, &i);
	*n = k;
	return out;
}

size_t textmetrics_length(const char *s, size_t len)
{
	size_t i = 0, k = 0;

	while (i < len) {
		utf8_next((const unsigned char *)s, len, &i);
		k++;
	}
	return k;
}

/* ---- difflib's SequenceMatcher ---------------------------------------- */

/* b2j: for each distinct element of b, its positions in ascending order.
 * An open-addressing table maps the element to its slice of `pos`. */
struct b2j_slot {
	uint32_t key;
	bool used;
	size_t start, count;
};

struct matcher {
	const uint32_t *a, *b;
	size_t la, lb;
	struct b2j_slot *tab;
	size_t mask;
	size_t *pos;
	/* j2len of difflib, double-buffered by row parity; an entry counts
	 * only when its stamp is the previous row's number. */
	uint32_t *len[2];
	uint64_t *stamp[2];
	uint64_t gen;
};

static size_t hash_u32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static struct b2j_slot *b2j_find(const struct matcher *m, uint32_t key)
{
	size_t h = hash_u32(key) & m->mask;

	while (m->tab[h].used && m->tab[h].key != key)
		h = (h + 1) & m->mask;
	return &m->tab[h];
}

/* difflib's SequenceMatcher setup: index every element of b by its
 * positions (an open-addressing table), and drop as "popular" the elements
 * that occur in more than 1% of a b of 200 or more, as difflib's autojunk
 * does, so the matches agree with Python's. */
static void matcher_init(struct matcher *m, const uint32_t *a, size_t la, const uint32_t *b,
			 size_t lb)
{
	size_t cap = 16, next = 0;

	memset(m, 0, sizeof(*m));
	m->a = a;
	m->la = la;
	m->b = b;
	m->lb = lb;
	while (cap < 2 * lb + 2)
		cap <<= 1;
	m->tab = dgen_xcalloc(cap, sizeof(*m->tab));
	m->mask = cap - 1;
	m->pos = dgen_xmalloc((lb + 1) * sizeof(*m->pos));
	for (size_t j = 0; j < lb; j++) {
		struct b2j_slot *s = b2j_find(m, b[j]);

		s->used = true;
		s->key = b[j];
		s->count++;
	}
	for (size_t h = 0; h < cap; h++) {
		if (m->tab[h].used) {
			m->tab[h].start = next;
			next += m->tab[h].count;
			m->tab[h].count = 0;
		}
	}
	for (size_t j = 0; j < lb; j++) {
		struct b2j_slot *s = b2j_find(m, b[j]);

		m->pos[s->start + s->count++] = j;
	}
	/* autojunk: popular elements of a long b are dropped from b2j. */
	if (lb >= 200) {
		size_t ntest = lb / 100 + 1;

		for (size_t h = 0; h < cap; h++)
			if (m->tab[h].used && m->tab[h].count > ntest)
				m->tab[h].count = 0;
	}
	for (int r = 0; r < 2; r++) {
		m->len[r] = dgen_xcalloc(lb + 1, sizeof(*m->len[r]));
		m->stamp[r] = dgen_xcalloc(lb + 1, sizeof(*m->stamp[r]));
	}
	m->gen = 1;
}

static void matcher_free(struct matcher *m)
{
	free(m->tab);
	free(m->pos);
	for (int r = 0; r < 2; r++) {
		free(m->len[r]);
		free(m->stamp[r]);
	}
}

/* find_longest_match(alo, ahi, blo, bhi) exactly as difflib does it
 * without a junk function: the first longest block by (i, j), then
 * extended on both sides over equal elements (popular ones included). */
static void longest_match(struct matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi,
			  size_t *oi, size_t *oj, size_t *ok)
{
	size_t besti = alo, bestj = blo, bestsize = 0;

	m->gen++; /* a gap: the first row has no previous row */
	for (size_t i = alo; i < ahi; i++) {
		uint64_t cur = ++m->gen;
		int r = (int)(cur & 1), pr = r ^ 1;
		const struct b2j_slot *s = b2j_find(m, m->a[i]);
		const size_t *p;
		size_t lo, hi;

		if (!s->used || s->count == 0)
			continue;
		p = m->pos + s->start;
		/* skip positions before blo (difflib skips them one by one) */
		lo = 0;
		hi = s->count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (p[mid] < blo)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t t = lo; t < s->count && p[t] < bhi; t++) {
			size_t j = p[t], k = 1;

			if (j > 0 && m->stamp[pr][j - 1] == cur - 1)
				k = (size_t)m->len[pr][j - 1] + 1;
			m->len[r][j] = (uint32_t)k;
			m->stamp[r][j] = cur;
			if (k > bestsize) {
				besti = i + 1 - k;
				bestj = j + 1 - k;
				bestsize = k;
			}
		}
	}
	while (besti > alo && bestj > blo && m->a[besti - 1] == m->b[bestj - 1]) {
		besti--;
		bestj--;
		bestsize++;
	}
	while (besti + bestsize < ahi && bestj + bestsize < bhi &&
	       m->a[besti + bestsize] == m->b[bestj + bestsize])
		bestsize++;
	*oi = besti;
	*oj = bestj;
	*ok = bestsize;
}

/* Total size of the matching blocks difflib finds: the longest match,
 * then recursively the parts to its left and right, with an explicit stack
 * so hostile input cannot exhaust the thread's. */
size_t textmetrics_seq_matches(const uint32_t *a, size_t la, const uint32_t *b, size_t lb)
{
	struct matcher m;
	size_t (*stack)[4], n = 0, cap = 16, total = 0;

	if (la == 0 || lb == 0)
		return 0;
	matcher_init(&m, a, la, b, lb);
	stack = dgen_xmalloc(cap * sizeof(*stack));
	stack[n][0] = 0;
	stack[n][1] = la;
	stack[n][2] = 0;
	stack[n][3] = lb;
	n++;
	while (n > 0) {
		size_t alo, ahi, blo, bhi, i, j, k;

		n--;
		alo = stack[n][0];
		ahi = stack[n][1];
		blo = stack[n][2];
		bhi = stack[n][3];
		longest_match(&m, alo, ahi, blo, bhi, &i, &j, &k);
		if (k == 0)
			continue;
		total += k;
		if (n + 2 > cap) {
			cap *= 2;
			stack = dgen_xrealloc(stack, cap * sizeof(*stack));
		}
		if (alo < i && blo < j) {
			stack[n][0] = alo;
			stack[n][1] = i;
			stack[n][2] = blo;
			stack[n][3] = j;
			n++;
		}
		if (i + k < ahi && j + k < bhi) {
			stack[n][0] = i + k;
			stack[n][1] = ahi;
			stack[n][2] = j + k;
			stack[n][3] = bhi;
			n++;
		}
	}
	free(stack);
	matcher_free(&m);
	return total;
}

double textmetrics_seq_ratio(const uint32_t *a, size_t la, const uint32_t *b, size_t lb)
{
	if (la + lb == 0)
		return 1.0;
	return 2.0 * (double)textmetrics_seq_matches(a, la, b, lb) / (double)(la + lb);
}

/* ---- LCS --------------------------------------------------------------- */

/* Bit-parallel LCS (Allison-Dix / Hyyro): one bit per element of the
 * shorter sequence x; for each element of y, with M the positions where
 * x holds it, V <- (V + (V & M)) | (V & ~M). The LCS length is the number
 * of zero bits left in V. Match vectors are built per row from a position
 * list, so memory stays linear. */
size_t textmetrics_lcs(const uint32_t *a, size_t la, const uint32_t *b, size_t lb)
{
	const uint32_t *x = a, *y = b;
	size_t lx = la, ly = lb, words, *order, zeros = 0;
	uint64_t *v, *mv;
	struct matcher idx; /* reuses the b2j table as x's position index */

	if (la == 0 || lb == 0)
		return 0;
	if (lb < la) {
		x = b;
		lx = lb;
		y = a;
		ly = la;
	}
	words = (lx + 63) / 64;
	v = dgen_xmalloc(words * sizeof(*v));
	mv = dgen_xcalloc(words, sizeof(*mv));
	memset(v, 0xff, words * sizeof(*v));
	/* position index of x (no autojunk here: build it by hand) */
	memset(&idx, 0, sizeof(idx));
	{
		size_t cap = 16, next = 0;

		while (cap < 2 * lx + 2)
			cap <<= 1;
		idx.tab = dgen_xcalloc(cap, sizeof(*idx.tab));
		idx.mask = cap - 1;
		idx.pos = dgen_xmalloc(lx * sizeof(*idx.pos));
		for (size_t j = 0; j < lx; j++) {
			struct b2j_slot *s = b2j_find(&idx, x[j]);

			s->used = true;
			s->key = x[j];
			s->count++;
		}
		for (size_t h = 0; h < cap; h++) {
			if (idx.tab[h].used) {
				idx.tab[h].start = next;
				next += idx.tab[h].count;
				idx.tab[h].count = 0;
			}
		}
		for (size_t j = 0; j < lx; j++) {
			struct b2j_slot *s = b2j_find(&idx, x[j]);

			idx.pos[s->start + s->count++] = j;
		}
	}
	order = idx.pos;
	for (size_t t = 0; t < ly; t++) {
		const struct b2j_slot *s = b2j_find(&idx, y[t]);
		uint64_t carry = 0;

		if (!s->used)
			continue; /* M = 0 leaves V unchanged */
		for (size_t q = 0; q < s->count; q++) {
			size_t p = order[s->start + q];

			mv[p / 64] |= (uint64_t)1 << (p % 64);
		}
		for (size_t w = 0; w < words; w++) {
			uint64_t u = v[w] & mv[w];
			uint64_t sum = v[w] + u;
			uint64_t c1 = sum < v[w];
			uint64_t s2 = sum + carry;
			uint64_t c2 = s2 < sum;

			v[w] = s2 | (v[w] & ~mv[w]);
			carry = c1 | c2;
		}
		for (size_t q = 0; q < s->count; q++) {
			size_t p = order[s->start + q];

			mv[p / 64] = 0;
		}
	}
	for (size_t p = 0; p < lx; p++)
		if (!(v[p / 64] >> (p % 64) & 1))
			zeros++;
	free(v);
	free(mv);
	free(idx.tab);
	free(idx.pos);
	return zeros;
}

/* ---- words and sentences ----------------------------------------------- */

/* Whitespace as Python's str.isspace() defines it. */
static bool is_space_cp(uint32_t c)
{
	if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F))
		return true;
	if (c < 0x80)
		return false;
	return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_word_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	if (is_space_cp(c) || (c >= 0xDC80 && c <= 0xDCFF))
		return false;
	if ((c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7)
		return false;
	if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
	    (c >= 0xFE30 && c <= 0xFE4F))
		return false;
	if ((c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	    (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
		return false;
	if (c >= 0x1F000 && c <= 0x1FAFF)
		return false;
	return true;
}

/* FNV-1a over 32-bit units. */
static uint64_t hash_units(const uint32_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Distinct words over words, words being lowercase alphanumeric runs
 * (SPEC.md §7), counted with a hash table of the words seen. */
double textmetrics_word_diversity(const char *s, size_t len)
{
	size_t n, nw = 0, distinct = 0, i = 0, cap = 16;
	uint32_t *cp = textmetrics_codepoints(s, len, &n);
	size_t *start = dgen_xmalloc((n / 2 + 1) * sizeof(*start));
	size_t *wlen = dgen_xmalloc((n / 2 + 1) * sizeof(*wlen));
	size_t *tab; /* word index + 1, 0 = empty */
	double r = 0.0;

	while (i < n) {
		while (i < n && !is_word_cp(cp[i]))
			i++;
		if (i >= n)
			break;
		start[nw] = i;
		while (i < n && is_word_cp(cp[i])) {
			cp[i] = utf8_lower(cp[i]);
			i++;
		}
		wlen[nw] = i - start[nw];
		nw++;
	}
	while (cap < 2 * nw + 2)
		cap <<= 1;
	tab = dgen_xcalloc(cap, sizeof(*tab));
	for (size_t w = 0; w < nw; w++) {
		size_t h = (size_t)hash_units(cp + start[w], wlen[w]) & (cap - 1);

		for (;; h = (h + 1) & (cap - 1)) {
			size_t o;

			if (tab[h] == 0) {
				tab[h] = w + 1;
				distinct++;
				break;
			}
			o = tab[h] - 1;
			if (wlen[o] == wlen[w] &&
			    memcmp(cp + start[o], cp + start[w], wlen[w] * sizeof(*cp)) == 0)
				break;
		}
	}
	if (nw > 0)
		r = (double)distinct / (double)nw;
	free(tab);
	free(start);
	free(wlen);
	free(cp);
	return r;
}

/* Words per non-empty '.'-separated sentence over 20, capped at 1
 * (SPEC.md §1 and §7); 0 for text without a sentence. */
double textmetrics_coherence(const char *s, size_t len)
{
	size_t i = 0, words = 0, sentences = 0;
	bool in_word = false, sentence_has_text = false;
	double r;

	while (i < len) {
		uint32_t c = utf8_next((const unsigned char *)s, len, &i);
		bool sp = is_space_cp(c);

		if (!sp && !in_word)
			words++;
		in_word = !sp;
		if (c == '.') {
			if (sentence_has_text)
				sentences++;
			sentence_has_text = false;
		} else if (!sp) {
			sentence_has_text = true;
		}
	}
	if (sentence_has_text)
		sentences++;
	if (sentences == 0)
		return 0.0;
	r = (double)words / (double)sentences / 20.0;
	return r < 1.0 ? r : 1.0;
}

/* ---- ROUGE -------------------------------------------------------------- */

/* rouge_score's tokenizer: lowercase, everything outside [a-z0-9] a
 * separator, and the Porter stem of tokens longer than 3 characters. */
void textmetrics_rouge_tokenize(const char *s, size_t len, struct textmetrics_tokens *out)
{
	size_t i = 0, o = 0, ntok = 0, cap = 16;
	char *buf = dgen_xmalloc(2 * len + 2);

	/* Pass 1: lowercase and map everything outside [a-z0-9] to a NUL,
	 * as rouge_score does after Python's str.lower(). The only non-ASCII
	 * characters that lowercase into [a-z0-9] are KELVIN SIGN (-> k) and
	 * LATIN CAPITAL I WITH DOT (-> i + a combining dot, a separator). */
	while (i < len) {
		uint32_t c = utf8_next((const unsigned char *)s, len, &i);

		if (c >= 'A' && c <= 'Z')
			buf[o++] = (char)(c + 32);
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			buf[o++] = (char)c;
		else if (c == 0x212A)
			buf[o++] = 'k';
		else if (c == 0x130) {
			buf[o++] = 'i';
			buf[o++] = '\0';
		} else {
			buf[o++] = '\0';
		}
	}
	buf[o] = '\0';
	/* Pass 2: split, stem in place, terminate each token. */
	out->tok = dgen_xmalloc(cap * sizeof(*out->tok));
	for (size_t p = 0; p < o;) {
		size_t st, n;

		while (p < o && buf[p] == '\0')
			p++;
		if (p >= o)
			break;
		st = p;
		while (p < o && buf[p] != '\0')
			p++;
		n = p - st;
		if (n > 3)
			n = porter_stem(buf + st, n, PORTER_NLTK);
		if (n == 0)
			continue;
		buf[st + n] = '\0'; /* a stem is never longer than its token */
		if (ntok == cap) {
			cap *= 2;
			out->tok = dgen_xrealloc(out->tok, cap * sizeof(*out->tok));
		}
		out->tok[ntok++] = buf + st;
	}
	out->n = ntok;
	out->buf = buf;
}

void textmetrics_tokens_free(struct textmetrics_tokens *t)
{
	free(t->tok);
	free(t->buf);
	t->tok = NULL;
	t->buf = NULL;
	t->n = 0;
}

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Gives every distinct token of both texts a small id: ids[0..n) for
 * g then r. Returns the number of distinct tokens. */
static size_t intern(const struct textmetrics_tokens *g, const struct textmetrics_tokens *r,
		     uint32_t *ids)
{
	size_t total = g->n + r->n, cap = 16, next = 0;
	const char **key;
	uint32_t *val;

	while (cap < 2 * total + 2)
		cap <<= 1;
	key = dgen_xcalloc(cap, sizeof(*key));
	val = dgen_xcalloc(cap, sizeof(*val));
	for (size_t t = 0; t < total; t++) {
		const char *w = t < g->n ? g->tok[t] : r->tok[t - g->n];
		size_t h = (size_t)hash_str(w) & (cap - 1);

		while (key[h] && strcmp(key[h], w) != 0)
			h = (h + 1) & (cap - 1);
		if (!key[h]) {
			key[h] = w;
			val[h] = (uint32_t)next++;
		}
		ids[t] = val[h];
	}
	free(key);
	free(val);
	return next;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Clipped overlap of the n-gram multisets (n = 1 or 2): sort the n-gram
 * keys of both sides and walk them together, adding min(count, count). */
static size_t ngram_overlap(const uint32_t *g, size_t gn, const uint32_t *r, size_t rn,
			    int order, size_t nid)
{
	size_t ng = gn >= (size_t)order ? gn - (size_t)order + 1 : 0;
	size_t nr = rn >= (size_t)order ? rn - (size_t)order + 1 : 0;
	uint64_t *kg = dgen_xmalloc((ng + 1) * sizeof(*kg));
	uint64_t *kr = dgen_xmalloc((nr + 1) * sizeof(*kr));
	size_t i = 0, j = 0, overlap = 0;

	for (size_t t = 0; t < ng; t++)
		kg[t] = order == 1 ? g[t] : (uint64_t)g[t] * nid + g[t + 1];
	for (size_t t = 0; t < nr; t++)
		kr[t] = order == 1 ? r[t] : (uint64_t)r[t] * nid + r[t + 1];
	qsort(kg, ng, sizeof(*kg), cmp_u64);
	qsort(kr, nr, sizeof(*kr), cmp_u64);
	while (i < ng && j < nr) {
		if (kg[i] < kr[j]) {
			i++;
		} else if (kg[i] > kr[j]) {
			j++;
		} else {
			uint64_t k = kg[i];
			size_t ci = 0, cj = 0;

			while (i < ng && kg[i] == k) {
				i++;
				ci++;
			}
			while (j < nr && kr[j] == k) {
				j++;
				cj++;
			}
			overlap += ci < cj ? ci : cj;
		}
	}
	free(kg);
	free(kr);
	return overlap;
}

/* ROUGE-1/2 (n-gram overlap) or ROUGE-L (longest common subsequence) of
 * generated against reference: precision, recall and F-measure; either
 * side without tokens scores 0. */
void textmetrics_rouge(const char *generated, size_t glen, const char *reference,
		       size_t rlen, enum textmetrics_rouge type, struct textmetrics_prf *out)
{
	struct textmetrics_tokens g, r;
	uint32_t *ids;
	size_t nid, hit, gcount, rcount;

	out->precision = out->recall = out->fmeasure = 0.0;
	textmetrics_rouge_tokenize(generated, glen, &g);
	textmetrics_rouge_tokenize(reference, rlen, &r);
	if (g.n == 0 || r.n == 0)
		goto out;
	ids = dgen_xmalloc((g.n + r.n) * sizeof(*ids));
	nid = intern(&g, &r, ids);
	if (type == TEXTMETRICS_ROUGEL) {
		hit = textmetrics_lcs(ids, g.n, ids + g.n, r.n);
		gcount = g.n;
		rcount = r.n;
	} else {
		int order = type == TEXTMETRICS_ROUGE1 ? 1 : 2;

		hit = ngram_overlap(ids, g.n, ids + g.n, r.n, order, nid);
		gcount = g.n >= (size_t)order ? g.n - (size_t)order + 1 : 0;
		rcount = r.n >= (size_t)order ? r.n - (size_t)order + 1 : 0;
	}
	free(ids);
	/* rouge_score divides by max(count, 1) and computes
	 * 2 * p * r / (p + r) left to right; so do we. */
	out->precision = (double)hit / (double)(gcount > 0 ? gcount : 1);
	out->recall = (double)hit / (double)(rcount > 0 ? rcount : 1);
	if (out->precision + out->recall > 0)
		out->fmeasure = 2 * out->precision * out->recall /
				(out->precision + out->recall);
out:
	textmetrics_tokens_free(&g);
	textmetrics_tokens_free(&r);
}
