# src/blocks: sources and tests (see Makefile.am).
