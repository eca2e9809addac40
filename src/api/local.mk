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
libdgenapi_a_SOURCES = src/api/api.c src/api/dispatch.c src/api/api_accounts.c src/api/route.c src/api/server.c \
	src/api/api_health.c src/api/api_blocks.c src/api/api_templates.c src/api/api_pipelines.c \
	src/api/api_seeds.c src/api/api_generate.c src/api/api_jobs.c src/api/api_records.c \
	src/api/api_export.c src/api/api_models.c src/api/dbhint.c
# dgen-api does not link libcurl: as a CGI program it starts at every
# request, and libcurl's thirty libraries cost most of that start. It links
# src/llm/curl_lazy.c instead, which loads libcurl on the first LLM call.
# (dgen-runner and dgen link libcurl as usual.)
noinst_LIBRARIES += libdgencurllazy.a
libdgencurllazy_a_SOURCES = src/llm/curl_lazy.c
API_LIBS = libdgenapi.a libdgen.a libdgencurllazy.a $(SQLITE_LIBS) $(JSONC_LIBS) $(SODIUM_LIBS) \
	$(YAML_LIBS) $(PTHREAD_LIBS) $(LIBS) $(FCGI_LIBS)

sbin_PROGRAMS += dgen-api
dgen_api_SOURCES = src/api/main.c
dgen_api_LDADD = $(API_LIBS)

check_PROGRAMS += tests/test_request tests/test_multipart tests/test_route
TESTS += tests/test_request tests/test_multipart tests/test_route
tests_test_route_LDADD = $(API_LIBS)

# End-to-end tests: dgen-api as a CGI program, behind a real nginx, and as
# CGI under a real Apache (mod_cgid) configured from contrib/apache.
# tests/api/fake_runner plays the runner's side of the queue for them.
check_PROGRAMS += tests/api/fake_runner tests/fixtures/listen_exec
API_SHELL_TESTS = tests/api_cgi.sh tests/api_nginx.sh tests/api_apache.sh \
	tests/api_paging.sh tests/api_storm.sh tests/api_upload_memory.sh tests/api_access.sh \
	tests/api_models.sh tests/api_cost.sh
TESTS += $(API_SHELL_TESTS)
EXTRA_DIST += $(API_SHELL_TESTS) tests/api/lib.sh tests/api/pool.sh conf/nginx-dgen.conf \
	contrib/bench-api contrib/bench-execute-storm
