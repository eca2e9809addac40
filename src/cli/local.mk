# src/cli: sources and tests (see Makefile.am).
bin_PROGRAMS += dgen
dgen_SOURCES = src/cli/dgen.c src/cli/run.c src/cli/accounts.c src/cli/models.c
dgen_LDADD = $(DGEN_LIBS)
noinst_HEADERS += src/cli/cli.h
TESTS += tests/test_cli.sh
EXTRA_DIST += tests/test_cli.sh
