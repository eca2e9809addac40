/*
 * porter.c - Porter's suffix-stripping stemmer, in the three variants of
 * porter.h, written from the rules of "An algorithm for suffix stripping"
 * (Program 14.3, 1980) and the documented departures of the later variants.
 *
 * The word is worked on in place: w[0..k) is the current word, and every
 * rule replaces a suffix by one no longer than it, so the stem never
 * outgrows the buffer the caller gave.
 */
#include <stdbool.h>
#include <string.h>

#include "dgen/porter.h"

struct word {
	char *b;
	size_t k; /* current length */
	enum porter_mode mode;
};

static bool is_vowel_letter(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* The paper's consonant: a letter other than a, e, i, o, u, and other
 * than a y preceded by a consonant. A y therefore flips the class of the
 * letter before it; walking back over a run of y's keeps this linear in
 * the run instead of recursing once per letter. */
static bool is_cons(const char *b, size_t i)
{
	size_t s = i;
	bool c;

	while (s > 0 && b[s] == 'y')
		s--;
	if (b[s] == 'y')
		c = true; /* a y that starts the word */
	else
		c = !is_vowel_letter(b[s]);
	return ((i - s) & 1) ? !c : c;
}

/* m in [C](VC){m}[V] for b[0..j): the number of vowel-to-consonant
 * transitions. One forward pass, with the y rule applied on the way. */
static size_t measure(const char *b, size_t j)
{
	size_t m = 0;
	bool prev_cons = true, prev_vowel = false;

	for (size_t i = 0; i < j; i++) {
		bool c;

		if (is_vowel_letter(b[i]))
			c = false;
		else if (b[i] == 'y')
			c = i == 0 ? true : !prev_cons;
		else
			c = true;
		if (c && prev_vowel)
			m++;
		prev_vowel = !c;
		prev_cons = c;
	}
	return m;
}

/* *v*: b[0..j) contains a vowel. */
static bool has_vowel(const char *b, size_t j)
{
	bool prev_cons = true;

	for (size_t i = 0; i < j; i++) {
		bool c;

		if (is_vowel_letter(b[i]))
			return true;
		c = b[i] == 'y' ? (i == 0 ? true : !prev_cons) : true;
		if (!c)
			return true;
		prev_cons = c;
	}
	return false;
}

/* *d: b[0..j) ends with a double consonant. */
static bool ends_double_cons(const char *b, size_t j)
{
	return j >= 2 && b[j - 1] == b[j - 2] && is_cons(b, j - 1);
}

/* *o: b[0..j) ends consonant-vowel-consonant, the last not w, x or y.
 * The nltk variant also accepts a two-letter vowel-consonant word. */
static bool ends_cvc(const struct word *w, size_t j)
{
	const char *b = w->b;

	if (j >= 3 && is_cons(b, j - 3) && !is_cons(b, j - 2) && is_cons(b, j - 1) &&
	    b[j - 1] != 'w' && b[j - 1] != 'x' && b[j - 1] != 'y')
		return true;
	return w->mode == PORTER_NLTK && j == 2 && !is_cons(b, 0) && is_cons(b, 1);
}

static bool ends(const struct word *w, const char *suf, size_t n)
{
	return w->k >= n && memcmp(w->b + w->k - n, suf, n) == 0;
}

#define ENDS(w, lit) ends((w), (lit), sizeof(lit) - 1)

/* Replaces the last n letters with rep (never longer than n). */
static void replace(struct word *w, size_t n, const char *rep)
{
	size_t r = strlen(rep);

	memcpy(w->b + w->k - n, rep, r);
	w->k = w->k - n + r;
}

enum cond {
	C_M0,   /* m > 0 */
	C_M1,   /* m > 1 */
	C_ION,  /* m > 1 and the stem ends in s or t */
	C_LOGI, /* nltk: m > 0 of the stem with the "l" of "logi" kept */
};

struct rule {
	const char *suf;
	const char *rep;
	enum cond cond;
};

static bool cond_holds(const struct word *w, size_t stem, enum cond c)
{
	switch (c) {
	case C_M0:
		return measure(w->b, stem) > 0;
	case C_M1:
		return measure(w->b, stem) > 1;
	case C_ION:
		return measure(w->b, stem) > 1 && (w->b[stem - 1] == 's' || w->b[stem - 1] == 't');
	case C_LOGI:
		return measure(w->b, stem + 1) > 0;
	}
	return false;
}

/* The paper's rule groups: the rule with the matching suffix (the lists
 * put longer suffixes first where one ends another) decides alone; if its
 * condition fails the word stays as it is. */
static void apply(struct word *w, const struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t sl = strlen(rules[i].suf);

		if (!ends(w, rules[i].suf, sl))
			continue;
		if (cond_holds(w, w->k - sl, rules[i].cond))
			replace(w, sl, rules[i].rep);
		return;
	}
}

static void step1a(struct word *w)
{
	if (w->mode == PORTER_NLTK && w->k == 4 && ENDS(w, "ies")) {
		replace(w, 3, "ie");
		return;
	}
	if (ENDS(w, "sses"))
		replace(w, 4, "ss");
	else if (ENDS(w, "ies"))
		replace(w, 3, "i");
	else if (ENDS(w, "ss"))
		;
	else if (ENDS(w, "s"))
		w->k--;
}

/* Step 1b: -eed -> -ee in a measured stem; -ed and -ing dropped when the
 * stem has a vowel, then the stem tidied (-at/-bl/-iz gain an e, a double
 * consonant loses one, a short cvc stem gains an e). The NLTK variant
 * first maps -ied. */
static void step1b(struct word *w)
{
	size_t j;

	if (w->mode == PORTER_NLTK && ENDS(w, "ied")) {
		replace(w, 3, w->k == 4 ? "ie" : "i");
		return;
	}
	if (ENDS(w, "eed")) {
		if (measure(w->b, w->k - 3) > 0)
			w->k--;
		return;
	}
	if (ENDS(w, "ed") && has_vowel(w->b, w->k - 2))
		j = w->k - 2;
	else if (ENDS(w, "ing") && has_vowel(w->b, w->k - 3))
		j = w->k - 3;
	else
		return;
	/* What follows only ever adds back one letter of what was cut. */
	w->k = j;
	if (ENDS(w, "at") || ENDS(w, "bl") || ENDS(w, "iz")) {
		w->b[w->k++] = 'e';
	} else if (ends_double_cons(w->b, w->k)) {
		char c = w->b[w->k - 1];

		if (c != 'l' && c != 's' && c != 'z')
			w->k--;
	} else if (measure(w->b, w->k) == 1 && ends_cvc(w, w->k)) {
		w->b[w->k++] = 'e';
	}
}

static void step1c(struct word *w)
{
	size_t j;
	bool ok;

	if (!ENDS(w, "y"))
		return;
	j = w->k - 1;
	if (w->mode == PORTER_NLTK)
		ok = j > 1 && is_cons(w->b, j - 1);
	else
		ok = has_vowel(w->b, j);
	if (ok)
		w->b[j] = 'i';
}

static const struct rule step2_head[] = {
	{ "ational", "ate", C_M0 }, { "tional", "tion", C_M0 },
	{ "enci", "ence", C_M0 },   { "anci", "ance", C_M0 },
	{ "izer", "ize", C_M0 },
};
static const struct rule step2_abli = { "abli", "able", C_M0 };
static const struct rule step2_bli = { "bli", "ble", C_M0 };
static const struct rule step2_tail[] = {
	{ "alli", "al", C_M0 },      { "entli", "ent", C_M0 },
	{ "eli", "e", C_M0 },        { "ousli", "ous", C_M0 },
	{ "ization", "ize", C_M0 },  { "ation", "ate", C_M0 },
	{ "ator", "ate", C_M0 },     { "alism", "al", C_M0 },
	{ "iveness", "ive", C_M0 },  { "fulness", "ful", C_M0 },
	{ "ousness", "ous", C_M0 },  { "aliti", "al", C_M0 },
	{ "iviti", "ive", C_M0 },    { "biliti", "ble", C_M0 },
};
static const struct rule step2_nltk[] = {
	{ "fulli", "ful", C_M0 }, { "logi", "log", C_LOGI },
};
static const struct rule step2_martin[] = {
	{ "logi", "log", C_M0 },
};

static void step2(struct word *w)
{
	struct rule all[24];
	size_t n = 0;

	/* nltk first turns "alli" into "al" and then looks again, so that
	 * "-ationalli" ends as "-ate". */
	if (w->mode == PORTER_NLTK && ENDS(w, "alli") && measure(w->b, w->k - 4) > 0)
		w->k -= 2;
	for (size_t i = 0; i < sizeof(step2_head) / sizeof(step2_head[0]); i++)
		all[n++] = step2_head[i];
	all[n++] = w->mode == PORTER_ORIGINAL ? step2_abli : step2_bli;
	for (size_t i = 0; i < sizeof(step2_tail) / sizeof(step2_tail[0]); i++)
		all[n++] = step2_tail[i];
	if (w->mode == PORTER_NLTK) {
		all[n++] = step2_nltk[0];
		all[n++] = step2_nltk[1];
	} else if (w->mode == PORTER_MARTIN) {
		all[n++] = step2_martin[0];
	}
	apply(w, all, n);
}

static const struct rule step3_rules[] = {
	{ "icate", "ic", C_M0 }, { "ative", "", C_M0 }, { "alize", "al", C_M0 },
	{ "iciti", "ic", C_M0 }, { "ical", "ic", C_M0 }, { "ful", "", C_M0 },
	{ "ness", "", C_M0 },
};

static const struct rule step4_rules[] = {
	{ "al", "", C_M1 },    { "ance", "", C_M1 }, { "ence", "", C_M1 },
	{ "er", "", C_M1 },    { "ic", "", C_M1 },   { "able", "", C_M1 },
	{ "ible", "", C_M1 },  { "ant", "", C_M1 },  { "ement", "", C_M1 },
	{ "ment", "", C_M1 },  { "ent", "", C_M1 },  { "ion", "", C_ION },
	{ "ou", "", C_M1 },    { "ism", "", C_M1 },  { "ate", "", C_M1 },
	{ "iti", "", C_M1 },   { "ous", "", C_M1 },  { "ive", "", C_M1 },
	{ "ize", "", C_M1 },
};

static void step5(struct word *w)
{
	if (ENDS(w, "e")) {
		size_t j = w->k - 1, m = measure(w->b, j);

		if (m > 1 || (m == 1 && !ends_cvc(w, j)))
			w->k = j;
	}
	if (ENDS(w, "ll") && measure(w->b, w->k - 1) > 1)
		w->k--;
}

/* nltk's irregular forms: the word on the left stems to the right. */
static const char *const nltk_irregular[][2] = {
	{ "sky", "sky" },         { "skies", "sky" },     { "dying", "die" },
	{ "lying", "lie" },       { "tying", "tie" },     { "news", "news" },
	{ "innings", "inning" },  { "inning", "inning" }, { "outings", "outing" },
	{ "outing", "outing" },   { "cannings", "canning" },
	{ "canning", "canning" }, { "howe", "howe" },     { "proceed", "proceed" },
	{ "exceed", "exceed" },   { "succeed", "succeed" },
};

size_t porter_stem(char *word, size_t len, enum porter_mode mode)
{
	struct word w = { word, len, mode };

	if (mode == PORTER_NLTK) {
		for (size_t i = 0; i < sizeof(nltk_irregular) / sizeof(nltk_irregular[0]); i++) {
			const char *from = nltk_irregular[i][0], *to = nltk_irregular[i][1];

			if (strlen(from) == len && memcmp(word, from, len) == 0) {
				memcpy(word, to, strlen(to));
				return strlen(to);
			}
		}
	}
	if (mode != PORTER_ORIGINAL && len <= 2)
		return len;
	step1a(&w);
	step1b(&w);
	step1c(&w);
	step2(&w);
	apply(&w, step3_rules, sizeof(step3_rules) / sizeof(step3_rules[0]));
	apply(&w, step4_rules, sizeof(step4_rules) / sizeof(step4_rules[0]));
	step5(&w);
	return w.k;
}
