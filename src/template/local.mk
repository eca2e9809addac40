# src/template: sources and tests (see Makefile.am).

# The template engine: Jinja2-subset prompt templates. Its parts depend one
# way only: base (arena, errors) and builtins (names of filters, tests,
# methods, functions) <- parse; value (render state, Python-like values)
# <- filters <- render. Public header: include/dgen/template.h.
libdgen_a_SOURCES += src/template/template_base.c src/template/template_builtins.c \
	src/template/template_parse.c \
	src/template/template_value.c src/template/template_filters.c \
	src/template/template_render.c
noinst_HEADERS += include/dgen/template.h src/template/template_int.h \
	src/template/template_builtins.h \
	src/template/template_value.h src/template/template_filters.h

# Golden tests (the fuzz target is in tests/fuzz/local.mk).
check_PROGRAMS += tests/test_template
TESTS += tests/test_template
EXTRA_DIST += tests/data/template
