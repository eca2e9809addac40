/*
 * seeds.h - seed files, their validation, and the units they expand to.
 *
 * A seed file (SPEC.md §3) is a JSON array, or one object, of
 * {"repetitions": int [1], "metadata": {...}}. A markdown upload becomes
 * one seed {"metadata": {"file_content": text}} (for a multiplier
 * pipeline). Each repetition of each seed is one unit of work, numbered
 * deterministically: seeds in file order, a seed's repetitions consecutive,
 *
 *     unit = repetitions(seed 0) + ... + repetitions(seed i-1) + rep
 *
 * so the same file always gives the same numbering (the runner's unit key;
 * a multiplier pipeline splits each unit further into chunks).
 *
 * Ownership: a struct dgen_seeds is caller-owned; seeds_free() releases
 * what the parse functions put in it. Metadata objects are borrowed from
 * it. A struct dgen_seed_index is caller-owned too; the index functions
 * take the text over whatever happens, and seeds_index_free() releases
 * it. JSON builders (and seeds_index_metadata) return one new reference.
 */
#ifndef DGEN_SEEDS_H
#define DGEN_SEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "dgen/err.h"
#include "dgen/json.h"
#include "dgen/pipeline.h"

struct dgen_seed_limits {
	long max_seeds;       /* seeds per file (100 000) */
	long max_repetitions; /* repetitions per seed, 1..max (10 000) */
};

extern const struct dgen_seed_limits seeds_default_limits;

struct dgen_seed {
	struct json_object *metadata; /* an object; borrowed from root */
	long repetitions;
	long long first_unit;         /* unit number of repetition 0 */
};

struct dgen_seeds {
	struct dgen_seed *v;
	size_t n;
	long long total_units;    /* sum of repetitions */
	struct json_object *root; /* the parsed document (owned) */
};

/*
 * Checks an already-parsed seed document and fills out (taking a new
 * reference to doc). Errors are DGEN_EINVALID with detail
 * {"seed_index": i (0-based), "field": "repetitions" | "metadata" | key}
 * and a message "Seed <i>: ..." ; a document that is neither an array nor
 * an object, or an empty array, has no seed_index; more than max_seeds
 * seeds has detail {"limit": n}.
 */
int seeds_from_json(struct json_object *doc, const struct dgen_seed_limits *lim,
		    struct dgen_seeds *out, struct dgen_err *err);
/* Parses text (JSON within jlim; NULL = defaults) then as above. Bad JSON
 * is DGEN_EBADREQ with line and column. */
int seeds_parse(const char *text, size_t len, const struct dgen_json_limits *jlim,
		const struct dgen_seed_limits *lim, struct dgen_seeds *out,
		struct dgen_err *err);
/* The check of seeds_parse(), same answers and errors, without keeping
 * the seeds: the file is walked seed by seed, so memory stays at one
 * seed's parsed tree whatever the file's size (the upload check of POST
 * /api/generate). *total_units receives the sum of repetitions. */
int seeds_check(const char *text, size_t len, const struct dgen_json_limits *jlim,
		const struct dgen_seed_limits *lim, long long *total_units,
		struct dgen_err *err);
/* One seed {"metadata": {"file_content": text}}; text must be UTF-8
 * without NUL bytes (DGEN_EINVALID). */
int seeds_from_markdown(const char *text, size_t len, struct dgen_seeds *out,
			struct dgen_err *err);
/* Reads a file: *.md / *.markdown as markdown, anything else as JSON. The
 * file may be up to jlim->max_bytes (DGEN_ETOOBIG past it). */
int seeds_load_file(const char *path, const struct dgen_json_limits *jlim,
		    const struct dgen_seed_limits *lim, struct dgen_seeds *out,
		    struct dgen_err *err);
void seeds_free(struct dgen_seeds *s);

/* Maps a unit number to its seed index and repetition; -1 when out of range. */
int seeds_unit(const struct dgen_seeds *s, long long unit, size_t *seed_index, long *repetition);

/*
 * A seed file kept as its text, each seed found again by its byte span:
 * 16 bytes a seed beside the text, where a json-c tree of the whole file
 * costs 20 times its size and more. A seed's metadata is parsed when it is
 * asked for, one seed at a time (the planner of the runner and `dgen run`).
 */
struct dgen_seed_span {
	uint32_t off, len;        /* the seed object in text */
	int64_t first_unit;       /* unit number of repetition 0 */
};

struct dgen_seed_index {
	char *text;               /* the file (owned) */
	size_t len;
	bool markdown;            /* text is the one seed's metadata.file_content */
	struct dgen_seed_span *v; /* owned */
	size_t n;
	long long total_units;    /* sum of repetitions */
	struct dgen_json_limits jlim; /* the limits the file was checked with */
};

/* Checks text as seeds_parse() does, same answers and errors, and indexes
 * its seeds. Takes text (malloc'd) over, on success and on error. */
int seeds_index_json(char *text, size_t len, const struct dgen_json_limits *jlim,
		     const struct dgen_seed_limits *lim, struct dgen_seed_index *out,
		     struct dgen_err *err);
/* The one seed of a markdown file, as seeds_from_markdown(); takes text over. */
int seeds_index_markdown(char *text, size_t len, struct dgen_seed_index *out,
			 struct dgen_err *err);
/* Reads a file as seeds_load_file() does, into an index. */
int seeds_index_load(const char *path, const struct dgen_json_limits *jlim,
		     const struct dgen_seed_limits *lim, struct dgen_seed_index *out,
		     struct dgen_err *err);
long seeds_index_repetitions(const struct dgen_seed_index *s, size_t i);
/* As seeds_unit(), over an index. */
int seeds_index_unit(const struct dgen_seed_index *s, long long unit, size_t *seed_index,
		     long *repetition);
/* Seed i's metadata, parsed from its span: a new object each call. */
int seeds_index_metadata(const struct dgen_seed_index *s, size_t i, struct json_object **meta,
			 struct dgen_err *err);
void seeds_index_free(struct dgen_seed_index *s);

/*
 * POST /api/seeds/validate: checks a seed document (parsed JSON) against a
 * pipeline and returns {"valid": bool, "errors": [str], "warnings": [str]}.
 * Errors are the problems seeds_from_json would refuse, every seed checked
 * (at most 100 messages), and the template variables a prompt reads that
 * neither the seed's metadata nor an earlier block provides (one error per
 * block parameter and variable, naming the first seed indexes that lack
 * it): prompts render with strict undefined, so such a seed always fails.
 * Warnings are what may still work: a prompt this check cannot compile,
 * variables after a multiplier, and the multiplier's inputs missing from
 * a seed.
 */
struct json_object *seeds_validate(const struct dgen_pipeline *p, struct json_object *doc,
				   const struct dgen_seed_limits *lim);

#endif
