# src/api: sources and tests (see Makefile.am).
