# src/api: the HTTP API (dgen-api), see Makefile.am.
#
# The request layer (request, multipart, respond) has no
# dependencies beyond the core and goes into libdgen.a, where the unit
# tests and fuzz targets reach it. The handlers, route table and server
# are dgen-api's own convenience library: only dgen-api links libfcgi.
libdgen_a_SOURCES += src/api/request.c src/api/multipart.c \
	src/api/respond.c
noinst_HEADERS += include/dgen/request.h \
	include/dgen/multipart.h include/dgen/respond.h include/dgen/route.h \
	include/dgen/api.h

noinst_LIBRARIES += libdgenapi.a
libdgenapi_a_SOURCES = src/api/api.c src/api/route.c src/api/server.c \
	src/api/api_health.c src/api/api_blocks.c src/api/api_templates.c src/api/api_pipelines.c \
	src/api/api_seeds.c src/api/api_generate.c src/api/api_jobs.c src/api/api_records.c \
	src/api/api_export.c
API_LIBS = libdgenapi.a $(DGEN_LIBS) $(FCGI_LIBS)

sbin_PROGRAMS += dgen-api
dgen_api_SOURCES = src/api/main.c
dgen_api_LDADD = $(API_LIBS)

check_PROGRAMS += tests/test_request tests/test_multipart tests/test_route
TESTS += tests/test_request tests/test_multipart tests/test_route
tests_test_request_LDADD = $(TEST_LIBS)
tests_test_multipart_LDADD = $(TEST_LIBS)
tests_test_route_LDADD = $(API_LIBS)

# libFuzzer targets (tests/fuzz/local.mk): the request parser, the
# multipart parser and the JSON body path. In a normal `make check` they
# replay their corpus.
check_PROGRAMS += tests/fuzz/fuzz_request tests/fuzz/fuzz_multipart tests/fuzz/fuzz_jsonbody
FUZZ_TESTS += tests/fuzz/fuzz_request tests/fuzz/fuzz_multipart tests/fuzz/fuzz_jsonbody
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c tests/fuzz/driver.c
tests_fuzz_fuzz_request_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c tests/fuzz/driver.c
tests_fuzz_fuzz_multipart_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_multipart_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_jsonbody_SOURCES = tests/fuzz/fuzz_jsonbody.c tests/fuzz/driver.c
tests_fuzz_fuzz_jsonbody_LDADD = $(TEST_LIBS)
tests_fuzz_fuzz_jsonbody_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINKFLAGS)

# End-to-end tests: dgen-api as a CGI program, and behind a real nginx.
# tests/api/fake_runner plays the runner's side of the queue for them.
check_PROGRAMS += tests/api/fake_runner tests/fixtures/listen_exec
tests_api_fake_runner_LDADD = $(TEST_LIBS)
TESTS += tests/api_cgi.sh tests/api_nginx.sh tests/api_paging.sh tests/api_storm.sh tests/api_upload_memory.sh
EXTRA_DIST += tests/api_cgi.sh tests/api_nginx.sh tests/api_paging.sh tests/api_storm.sh tests/api_upload_memory.sh tests/api/lib.sh tests/api/pool.sh conf/nginx-dgen.conf \
	contrib/bench-api contrib/bench-execute-storm
