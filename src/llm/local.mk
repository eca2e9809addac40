# src/llm: sources and tests (see Makefile.am).
