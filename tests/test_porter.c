/*
 * test_porter.c - the Porter stemmer against a vocabulary sample
 * (tests/data/porter/vocabulary.txt: word and its stem in the Martin,
 * nltk and original variants), plus the paper's own examples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgen/porter.h"
#include "tap.h"

static const char *stem(const char *w, enum porter_mode m)
{
	static char buf[256];
	size_t n = strlen(w);

	memcpy(buf, w, n + 1);
	n = porter_stem(buf, n, m);
	buf[n] = '\0';
	return buf;
}

static void vocabulary(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[512];
	FILE *f;
	size_t words = 0, bad[3] = { 0, 0, 0 };

	snprintf(path, sizeof(path), "%s/tests/data/porter/vocabulary.txt", top ? top : ".");
	f = fopen(path, "r");
	if (!ok(f != NULL, "open %s", path))
		return;
	while (fgets(line, sizeof(line), f)) {
		char word[128], want[3][128];
		const enum porter_mode modes[3] = { PORTER_MARTIN, PORTER_NLTK, PORTER_ORIGINAL };

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%127s %127s %127s %127s", word, want[0], want[1], want[2]) != 4)
			continue;
		words++;
		for (int m = 0; m < 3; m++) {
			const char *got = stem(word, modes[m]);

			if (strcmp(got, want[m]) != 0 && bad[m]++ < 10)
				diag("mode %d: %s -> %s, expected %s", m, word, got, want[m]);
		}
	}
	fclose(f);
	ok(words >= 500, "vocabulary sample has %zu words", words);
	is_int(bad[0], 0, "Martin Porter's reference variant: every word of the sample");
	is_int(bad[1], 0, "nltk (rouge_score) variant: every word of the sample");
	is_int(bad[2], 0, "original 1980 variant: every word of the sample");
}

int main(void)
{
	/* Step examples of the 1980 paper that are also whole-word stems. */
	is_str(stem("caresses", PORTER_MARTIN), "caress", "caresses");
	is_str(stem("ponies", PORTER_MARTIN), "poni", "ponies");
	is_str(stem("cats", PORTER_MARTIN), "cat", "cats");
	is_str(stem("feed", PORTER_MARTIN), "feed", "feed (m=0 keeps eed)");
	is_str(stem("agreed", PORTER_MARTIN), "agre", "agreed: eed->ee, then final e dropped");
	is_str(stem("hopping", PORTER_MARTIN), "hop", "hopping: double consonant undone");
	is_str(stem("falling", PORTER_MARTIN), "fall", "falling keeps ll");
	is_str(stem("filing", PORTER_MARTIN), "file", "filing: cvc gets its e back");
	is_str(stem("happy", PORTER_MARTIN), "happi", "happy: y->i");
	is_str(stem("sky", PORTER_MARTIN), "sky", "sky: no vowel before y");
	is_str(stem("generalizations", PORTER_MARTIN), "gener", "generalizations");
	is_str(stem("oscillators", PORTER_MARTIN), "oscil", "oscillators");
	/* Where the variants part. */
	is_str(stem("archaeology", PORTER_ORIGINAL), "archaeologi", "original keeps -logi");
	is_str(stem("archaeology", PORTER_MARTIN), "archaeolog", "Martin: logi->log");
	is_str(stem("sensibly", PORTER_ORIGINAL), "sensibli", "original: only abli->able");
	is_str(stem("sensibly", PORTER_MARTIN), "sensibl", "Martin: bli->ble");
	is_str(stem("dying", PORTER_NLTK), "die", "nltk irregular form dying");
	is_str(stem("dying", PORTER_MARTIN), "dy", "Martin: dying -> dy");
	is_str(stem("ties", PORTER_NLTK), "tie", "nltk: four-letter ies -> ie");
	is_str(stem("ties", PORTER_MARTIN), "ti", "Martin: ies -> i");
	is_str(stem("enjoy", PORTER_NLTK), "enjoy", "nltk: y after a vowel stays");
	is_str(stem("enjoy", PORTER_MARTIN), "enjoi", "Martin: y after a vowel -> i");
	is_str(stem("as", PORTER_MARTIN), "as", "Martin leaves two-letter words");
	is_str(stem("as", PORTER_ORIGINAL), "a", "original strips s from 'as'");
	/* A long run of y's must not recurse per letter (and must not crash). */
	{
		size_t n = 200000;
		char *w = malloc(n + 1);

		memset(w, 'y', n);
		w[n] = '\0';
		n = porter_stem(w, n, PORTER_NLTK);
		ok(n > 0 && n <= 200000, "200000 y's stem without trouble (%zu)", n);
		free(w);
	}
	vocabulary();
	return done_testing();
}
