# src/engine: sources and tests (see Makefile.am).
