/*
 * cmdline.c - the options every dgen program shares (see cmdline.h).
 */
#include "config.h"

#include <stdio.h>

#include "dgen/cmdline.h"

int dgen_cmdline_common(int opt, const char *prog, const char *usage, const char **config)
{
	switch (opt) {
	case 'c':
		*config = optarg;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return 0;
	case 'V':
		printf("%s %s\n", prog, PACKAGE_VERSION);
		return 0;
	default:
		return DGEN_CMDLINE_OTHER;
	}
}
