/*
 * porter.h - the Porter (1980) suffix-stripping stemmer for English words.
 *
 * Three variants, because the scores users compare against come from
 * different implementations:
 *   PORTER_ORIGINAL  the rules of the 1980 paper as published;
 *   PORTER_MARTIN    Martin Porter's own reference implementations (the
 *                    "bli"->"ble" and "logi"->"log" departures, words of
 *                    one or two letters left alone); this is the variant
 *                    that reproduces his published voc.txt/output.txt;
 *   PORTER_NLTK      the variant of nltk's PorterStemmer() default mode,
 *                    which Google's rouge_score package uses: a few
 *                    irregular forms (dying->die, skies->sky ...), "ies"
 *                    and "ied" kept as "ie" in four-letter words, y->i only
 *                    after a consonant, "alli"/"fulli"/"logi" rules.
 *
 * Ownership: nothing is allocated; the word is stemmed in place.
 */
#ifndef DGEN_PORTER_H
#define DGEN_PORTER_H

#include <stddef.h>

enum porter_mode {
	PORTER_ORIGINAL,
	PORTER_MARTIN,
	PORTER_NLTK,
};

/* Stems word[0..len) in place and returns the stem's length (never more
 * than len; the byte after the stem is not touched). The word should be
 * lowercase; any byte other than a..z counts as a consonant, as in the
 * reference implementations. */
size_t porter_stem(char *word, size_t len, enum porter_mode mode);

#endif
