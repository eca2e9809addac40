/*
 * cmdline.h - the options every dgen program takes, with one meaning and
 * one output in dgen, dgen-api and dgen-runner: --config FILE, --help and
 * --version. Each program keeps its own getopt_long loop for the rest.
 *
 * Ownership: *config points into argv; prog and usage stay the caller's.
 */
#ifndef DGEN_CMDLINE_H
#define DGEN_CMDLINE_H

#include <getopt.h>

/* The getopt_long rows of the shared options; a program ends its own
 * table with them and a zero row. */
#define DGEN_CMDLINE_OPTIONS                                               \
	{ "config", required_argument, NULL, 'c' },                        \
	{ "help", no_argument, NULL, 'h' },                                \
	{ "version", no_argument, NULL, 'V' }

/* What dgen_cmdline_common() returns for an option that is not shared. */
#define DGEN_CMDLINE_OTHER (-2)

/* Handles a shared option as getopt_long returned it: 'c' keeps optarg in
 * *config and returns -1 (parse on); 'h' prints usage on stdout, 'V'
 * "<prog> <version>", and both return 0 (exit successfully). Any other
 * opt returns DGEN_CMDLINE_OTHER for the program to handle. */
int dgen_cmdline_common(int opt, const char *prog, const char *usage, const char **config);

#endif
