/*
 * test_textmetrics.c - the measures behind the metric blocks, on numbers
 * worked out by hand (the arithmetic is in the comments), plus a
 * cross-check of the bit-parallel LCS against the textbook table.
 */
#include <stdlib.h>
#include <string.h>

#include "dgen/textmetrics.h"
#include "tap.h"

static double ratio(const char *a, const char *b)
{
	size_t la, lb;
	uint32_t *ca = textmetrics_codepoints(a, strlen(a), &la);
	uint32_t *cb = textmetrics_codepoints(b, strlen(b), &lb);
	double r = textmetrics_seq_ratio(ca, la, cb, lb);

	free(ca);
	free(cb);
	return r;
}

static struct textmetrics_prf rouge(const char *g, const char *r, enum textmetrics_rouge t)
{
	struct textmetrics_prf p;

	textmetrics_rouge(g, strlen(g), r, strlen(r), t, &p);
	return p;
}

static void test_ratio(void)
{
	char *x10 = malloc(12), *x200 = malloc(201), *x199 = malloc(200);

	/* longest block "bcd": M = 3, 2*3/(4+4) = 0.75 */
	is_dbl(ratio("abcd", "bcde"), 0.75, 1e-12, "ratio abcd/bcde = 0.75");
	is_dbl(ratio("abcd", "abcd"), 1.0, 1e-12, "identical = 1");
	is_dbl(ratio("", ""), 1.0, 1e-12, "two empty texts = 1 (as difflib)");
	is_dbl(ratio("abc", ""), 0.0, 1e-12, "one empty = 0");
	/* "ab" at (0,0), then right of it "xcd"/"cd": "cd"; M = 4, 8/9 */
	is_dbl(ratio("abxcd", "abcd"), 8.0 / 9.0, 1e-12, "recursion right of the block: 8/9");
	/* "ab" (1,0,2) first, then "cd" right of it: M = 4, 8/12 */
	is_dbl(ratio("qabxcd", "abycdf"), 8.0 / 12.0, 1e-12, "qabxcd/abycdf = 2/3");
	/* code points, not bytes: é is one element. "café"/"cafe": M = 3, 6/8 */
	is_dbl(ratio("caf\xc3\xa9", "cafe"), 0.75, 1e-12, "UTF-8 counted in code points");
	/* autojunk: b = 200 x's, so x (200 > 200/100+1 = 3 times) is popular and
	 * cannot start a match; a = 10 x's still matches 10 by extension from
	 * (0,0): 2*10/210. */
	memset(x10, 'x', 10);
	x10[10] = '\0';
	memset(x200, 'x', 200);
	x200[200] = '\0';
	memset(x199, 'x', 199);
	x199[199] = '\0';
	is_dbl(ratio(x10, x200), 20.0 / 210.0, 1e-12, "autojunk: extension from (0,0)");
	/* a = y + 10 x's: no block can start, extension from (0,0) fails at y: 0 */
	x10[0] = 'y';
	memset(x10 + 1, 'x', 10);
	x10[11] = '\0';
	is_dbl(ratio(x10, x200), 0.0, 1e-12, "autojunk: popular x never matches");
	/* b of 199 is below the autojunk length: the 10 x's match, 20/210 */
	is_dbl(ratio(x10, x199), 20.0 / 210.0, 1e-12, "no autojunk under 200 elements");
	free(x10);
	free(x200);
	free(x199);
}

static size_t lcs_table(const uint32_t *a, size_t la, const uint32_t *b, size_t lb)
{
	size_t *prev = calloc(lb + 1, sizeof(size_t)), *cur = calloc(lb + 1, sizeof(size_t)), r;

	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			if (a[i - 1] == b[j - 1])
				cur[j] = prev[j - 1] + 1;
			else
				cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	r = prev[lb];
	free(prev);
	free(cur);
	return r;
}

static void test_lcs(void)
{
	/* CLRS: ABCBDAB / BDCABA -> 4 (BCBA) */
	const uint32_t a[] = { 'A', 'B', 'C', 'B', 'D', 'A', 'B' };
	const uint32_t b[] = { 'B', 'D', 'C', 'A', 'B', 'A' };
	size_t bad = 0;

	is_int(textmetrics_lcs(a, 7, b, 6), 4, "LCS ABCBDAB/BDCABA = 4");
	is_int(textmetrics_lcs(b, 6, a, 7), 4, "LCS is symmetric");
	is_int(textmetrics_lcs(a, 7, b, 0), 0, "LCS with an empty side = 0");
	/* random sequences across word boundaries (lengths up to 300, so
	 * more than four 64-bit words), against the full table */
	srand(42);
	for (int t = 0; t < 300; t++) {
		size_t la = (size_t)(rand() % 300), lb = (size_t)(rand() % 300);
		uint32_t alpha = (uint32_t)(1 + rand() % 6);
		uint32_t *x = malloc((la + 1) * sizeof(*x)), *y = malloc((lb + 1) * sizeof(*y));

		for (size_t i = 0; i < la; i++)
			x[i] = (uint32_t)rand() % alpha;
		for (size_t i = 0; i < lb; i++)
			y[i] = (uint32_t)rand() % alpha;
		if (textmetrics_lcs(x, la, y, lb) != lcs_table(x, la, y, lb))
			bad++;
		free(x);
		free(y);
	}
	is_int(bad, 0, "bit-parallel LCS equals the table on 300 random pairs");
}

static void test_words(void)
{
	/* the cat and the hat: 5 words, 4 distinct -> 0.8 */
	is_dbl(textmetrics_word_diversity("The cat and the hat", 19), 0.8, 1e-12,
	       "distinct/total words, case-folded");
	/* hello x3 after folding, punctuation separates: 1/3 */
	is_dbl(textmetrics_word_diversity("Hello, hello HELLO!", 19), 1.0 / 3.0, 1e-12,
	       "punctuation is not part of a word");
	is_dbl(textmetrics_word_diversity("", 0), 0.0, 1e-12, "no words -> 0");
	is_dbl(textmetrics_word_diversity("?! ...", 6), 0.0, 1e-12, "only punctuation -> 0");
	/* É folds to é: one distinct word out of two */
	is_dbl(textmetrics_word_diversity("\xc3\x89t\xc3\xa9 \xc3\xa9t\xc3\xa9", 11), 0.5,
	       1e-12, "Latin-1 letters fold");
	/* a digit run is a word: 1, 2, 2 -> 2/3 */
	is_dbl(textmetrics_word_diversity("1 2 2", 5), 2.0 / 3.0, 1e-12, "digits are words");
}

static void test_coherence(void)
{
	const char *t = "One two three. Four five.";
	const char *long_s = "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d "
			     "e f g h i j k l m n o p q r s. Done";

	/* 5 words / 2 sentences / 20 = 0.125 */
	is_dbl(textmetrics_coherence(t, strlen(t)), 0.125, 1e-12, "5 words, 2 sentences");
	/* 2 words, no '.', one sentence: 2/1/20 = 0.1 */
	is_dbl(textmetrics_coherence("Hello world", 11), 0.1, 1e-12, "no period: one sentence");
	/* "A. . B.": pieces "A", " ", " B", "" -> 2 sentences; words "A.", ".",
	 * "B." -> 3; 3/2/20 = 0.075 */
	is_dbl(textmetrics_coherence("A. . B.", 7), 0.075, 1e-12, "blank pieces not counted");
	/* 46 words / 2 sentences = 23 per sentence -> capped at 1 */
	is_dbl(textmetrics_coherence(long_s, strlen(long_s)), 1.0, 1e-12, "capped at 1");
	is_dbl(textmetrics_coherence("", 0), 0.0, 1e-12, "empty -> 0");
	is_dbl(textmetrics_coherence("...", 3), 0.0, 1e-12, "no sentence -> 0");
	/* NBSP (U+00A0) separates words as in Python's split(): 2/1/20 */
	is_dbl(textmetrics_coherence("a\xc2\xa0" "b", 4), 0.1, 1e-12, "Unicode spaces split");
}

static void test_rouge(void)
{
	const char *g = "the cat sat on the mat", *r = "the cat is on the mat";
	struct textmetrics_prf p;
	struct textmetrics_tokens tk;

	/* unigrams: the x2, cat, on, mat shared -> 5; P = R = 5/6 */
	p = rouge(g, r, TEXTMETRICS_ROUGE1);
	is_dbl(p.precision, 5.0 / 6.0, 1e-12, "rouge1 precision 5/6");
	is_dbl(p.fmeasure, 5.0 / 6.0, 1e-12, "rouge1 F 5/6");
	/* bigrams: (the cat) (on the) (the mat) of 5 each -> P = R = F = 3/5 */
	is_dbl(rouge(g, r, TEXTMETRICS_ROUGE2).fmeasure, 0.6, 1e-12, "rouge2 F 3/5");
	/* LCS: the cat on the mat = 5 of 6 -> 5/6 */
	is_dbl(rouge(g, r, TEXTMETRICS_ROUGEL).fmeasure, 5.0 / 6.0, 1e-12, "rougeL F 5/6");
	/* stemming: running->run, dogs->dog, runs->run; "the" and "dog" are
	 * short (not stemmed). gen [run dog], ref [the dog run]:
	 * rouge1 overlap 2: P = 1, R = 2/3, F = 2*(2/3)/(5/3) = 0.8 */
	p = rouge("running dogs", "the dog runs", TEXTMETRICS_ROUGE1);
	is_dbl(p.recall, 2.0 / 3.0, 1e-12, "stemmed rouge1 recall 2/3");
	is_dbl(p.fmeasure, 0.8, 1e-12, "stemmed rouge1 F 0.8");
	/* rougeL: LCS 1 -> P = 1/2, R = 1/3, F = (2/6)/(5/6) = 0.4 */
	is_dbl(rouge("running dogs", "the dog runs", TEXTMETRICS_ROUGEL).fmeasure, 0.4, 1e-12,
	       "stemmed rougeL F 0.4");
	/* no shared bigram: (run dog) vs (the dog) (dog run) */
	is_dbl(rouge("running dogs", "the dog runs", TEXTMETRICS_ROUGE2).fmeasure, 0.0, 1e-12,
	       "rouge2 without shared bigram = 0");
	/* clipping: the x3 vs the x1: overlap 1, P = 1/3, R = 1/2, F = 0.4 */
	is_dbl(rouge("the the the", "the cat", TEXTMETRICS_ROUGE1).fmeasure, 0.4, 1e-12,
	       "repeated words are clipped");
	is_dbl(rouge("Hello, World!", "hello world", TEXTMETRICS_ROUGE1).fmeasure, 1.0, 1e-12,
	       "case and punctuation ignored");
	is_dbl(rouge("", "the cat", TEXTMETRICS_ROUGE1).fmeasure, 0.0, 1e-12, "empty side = 0");
	is_dbl(rouge("!!!", "the cat", TEXTMETRICS_ROUGEL).fmeasure, 0.0, 1e-12,
	       "no tokens = 0");
	/* one token each: no bigram at all -> 0 */
	is_dbl(rouge("cat", "cat", TEXTMETRICS_ROUGE2).fmeasure, 0.0, 1e-12,
	       "rouge2 of single words = 0");
	/* tokenizer: KELVIN SIGN lowercases to k; U+0130 to i + separator;
	 * é is a separator, so "café" gives "caf" */
	{
		const char *s = "\xe2\x84\xaaing \xc4\xb0x caf\xc3\xa9 Studies";

		textmetrics_rouge_tokenize(s, strlen(s), &tk);
	}
	ok(tk.n == 5 && strcmp(tk.tok[0], "king") == 0 && strcmp(tk.tok[1], "i") == 0 &&
		   strcmp(tk.tok[2], "x") == 0 && strcmp(tk.tok[3], "caf") == 0 &&
		   strcmp(tk.tok[4], "studi") == 0,
	   "rouge_score tokens: king i x caf studi (%zu tokens)", tk.n);
	textmetrics_tokens_free(&tk);
}

int main(void)
{
	test_ratio();
	test_lcs();
	test_words();
	test_coherence();
	test_rouge();
	is_int(textmetrics_length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), 4,
	       "length in code points");
	return done_testing();
}
