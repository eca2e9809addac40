# src/runner: sources and tests (see Makefile.am).
