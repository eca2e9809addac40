# src/api: the HTTP API (dgen-api), see Makefile.am.
#
# The request layer (arena, request, multipart, respond) has no
# dependencies beyond the core and goes into libdgen.a, where the unit
# tests and fuzz targets reach it. The handlers, route table and server
# are dgen-api's own convenience library: only dgen-api links libfcgi.
libdgen_a_SOURCES += src/api/arena.c src/api/request.c src/api/multipart.c \
	src/api/respond.c
noinst_HEADERS += include/dgen/arena.h include/dgen/request.h \
	include/dgen/multipart.h include/dgen/respond.h include/dgen/route.h \
	include/dgen/api.h

check_PROGRAMS += tests/test_request tests/test_multipart
TESTS += tests/test_request tests/test_multipart
tests_test_request_LDADD = $(TEST_LIBS)
tests_test_multipart_LDADD = $(TEST_LIBS)
