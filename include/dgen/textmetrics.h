/*
 * textmetrics.h - the text measures behind the metric blocks
 * (DiversityScore, CoherenceScore, RougeScore) and the character count of
 * ValidatorBlock, kept apart from the blocks so they can be checked
 * against hand-computed numbers directly.
 *
 * Text is UTF-8 and is measured in Unicode code points. A byte that does
 * not start a well-formed sequence counts as one code point of its own
 * (json-c strings are already valid, so this only matters for callers
 * that pass raw bytes).
 *
 * Ownership: textmetrics_codepoints() returns a malloc'd array the caller
 * frees; textmetrics_rouge_tokenize() fills a caller-owned struct that
 * textmetrics_tokens_free() releases. Everything else allocates only
 * temporarily.
 */
#ifndef DGEN_TEXTMETRICS_H
#define DGEN_TEXTMETRICS_H

#include <stddef.h>
#include <stdint.h>

/* Decodes s[0..len) into code points; *n receives the count. Never NULL
 * (an empty text gives a one-element allocation and *n = 0). */
uint32_t *textmetrics_codepoints(const char *s, size_t len, size_t *n);

/* Number of code points in s[0..len). */
size_t textmetrics_length(const char *s, size_t len);

/* Python's difflib.SequenceMatcher(None, a, b): the number of matching
 * elements M found by the Ratcliff/Obershelp recursion (longest matching
 * block first, earliest in a then in b on ties, then the parts left and
 * right of it), with difflib's "autojunk" rule: when b has 200 or more
 * elements, an element occurring more than len(b)/100 + 1 times in b cannot
 * start or continue a match, only extend one. */
size_t textmetrics_seq_matches(const uint32_t *a, size_t la, const uint32_t *b, size_t lb);

/* difflib's ratio(): 2*M / (la + lb); 1.0 when both are empty. */
double textmetrics_seq_ratio(const uint32_t *a, size_t la, const uint32_t *b, size_t lb);

/* Length of the longest common subsequence of two sequences of ids, in
 * O(la*lb/64) time and O(min(la,lb)) memory (bit-parallel). */
size_t textmetrics_lcs(const uint32_t *a, size_t la, const uint32_t *b, size_t lb);

/* DiversityScore of one text: distinct words / words, where a word is a
 * run of letters and digits, case-folded. Letters and digits are the
 * ASCII ones plus every non-ASCII code point except whitespace and the
 * punctuation and symbol blocks (U+00A1-U+00BF, U+00D7, U+00F7,
 * U+2000-U+2BFF, U+3000-U+303F, U+FE30-U+FE4F, fullwidth ASCII
 * punctuation, U+1F000-U+1FAFF). Case folding covers ASCII, Latin-1,
 * basic Greek and Cyrillic. 0 when there is no word. */
double textmetrics_word_diversity(const char *s, size_t len);

/* CoherenceScore: min(1, W / S / 20) where W counts whitespace-separated
 * words of the whole text (whitespace as Python's str.split() sees it)
 * and S counts the pieces between '.' characters that hold anything
 * other than whitespace. 0 when S is 0. */
double textmetrics_coherence(const char *s, size_t len);

/* Tokens as Google's rouge_score package makes them with use_stemmer=True:
 * lowercase, every character other than a-z and 0-9 becomes a separator,
 * tokens longer than 3 characters are Porter-stemmed (PORTER_NLTK, the
 * stemmer rouge_score uses), empty tokens dropped. */
struct textmetrics_tokens {
	char **tok;  /* tok[0..n), NUL-terminated, pointing into buf */
	size_t n;
	char *buf;
};

void textmetrics_rouge_tokenize(const char *s, size_t len, struct textmetrics_tokens *out);
void textmetrics_tokens_free(struct textmetrics_tokens *t);

enum textmetrics_rouge {
	TEXTMETRICS_ROUGE1,
	TEXTMETRICS_ROUGE2,
	TEXTMETRICS_ROUGEL,
};

struct textmetrics_prf {
	double precision, recall, fmeasure;
};

/* ROUGE of `generated` against `reference`: for rouge1/rouge2 the clipped
 * n-gram overlap O, P = O / generated n-grams, R = O / reference n-grams;
 * for rougeL the LCS length over the token counts; F = 2PR / (P + R),
 * 0 when P + R is 0. Either text without tokens gives all zeros. */
void textmetrics_rouge(const char *generated, size_t glen, const char *reference,
		       size_t rlen, enum textmetrics_rouge type, struct textmetrics_prf *out);

#endif
