# src/cli: sources and tests (see Makefile.am).
