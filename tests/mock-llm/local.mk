# tests/mock-llm: sources and tests (see Makefile.am).
