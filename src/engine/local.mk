# src/engine: sources and tests (see Makefile.am).

# engine: block registry and plugins, pipelines, usage and constraints,
# seed files, YAML pipeline templates; their tests. One line per group: the
# blocks, what a pipeline is made of, how it runs.
libdgen_a_SOURCES += src/engine/registry.c \
	src/engine/pipeline.c src/engine/seeds.c src/engine/catalog.c \
	src/engine/plan.c src/engine/exec.c src/engine/usage.c src/engine/estimate.c
noinst_HEADERS += include/dgen/block.h include/dgen/registry.h \
	include/dgen/pipeline.h include/dgen/seeds.h include/dgen/catalog.h \
	include/dgen/plan.h include/dgen/exec.h include/dgen/usage.h include/dgen/estimate.h

ENGINE_TESTS = tests/test_registry tests/test_pipeline tests/test_catalog tests/test_seeds \
	tests/test_exec
check_PROGRAMS += $(ENGINE_TESTS)
TESTS += $(ENGINE_TESTS)

# test_registry loads real plugins: the example one and three it must refuse.
ENGINE_PLUGINS = tests/plugins/uppercase_block.so tests/plugins/bad_abi.so \
	tests/plugins/shadow.so tests/plugins/no_symbol.so
EXTRA_tests_test_registry_DEPENDENCIES = $(ENGINE_PLUGINS)
ENGINE_PLUGIN_CC = $(CC) $(AM_CPPFLAGS) $(CPPFLAGS) $(JSONC_CFLAGS) $(DGEN_WARN) \
	$(CFLAGS) -shared -fPIC
ENGINE_PLUGIN_DEPS = $(srcdir)/include/dgen/block.h $(srcdir)/include/dgen/registry.h
tests/plugins/uppercase_block.so: $(srcdir)/contrib/plugin-example/uppercase_block.c $(ENGINE_PLUGIN_DEPS)
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(ENGINE_PLUGIN_CC) -o $@ $(srcdir)/contrib/plugin-example/uppercase_block.c
tests/plugins/bad_abi.so: $(srcdir)/tests/fixtures/plugin_bad.c $(ENGINE_PLUGIN_DEPS)
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(ENGINE_PLUGIN_CC) -DBAD_ABI -o $@ $(srcdir)/tests/fixtures/plugin_bad.c
tests/plugins/shadow.so: $(srcdir)/tests/fixtures/plugin_bad.c $(ENGINE_PLUGIN_DEPS)
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(ENGINE_PLUGIN_CC) -DSHADOW -o $@ $(srcdir)/tests/fixtures/plugin_bad.c
tests/plugins/no_symbol.so: $(srcdir)/tests/fixtures/plugin_bad.c $(ENGINE_PLUGIN_DEPS)
	@$(MKDIR_P) tests/plugins
	$(AM_V_CC)$(ENGINE_PLUGIN_CC) -DNO_SYMBOL -o $@ $(srcdir)/tests/fixtures/plugin_bad.c
CLEANFILES += $(ENGINE_PLUGINS)
EXTRA_DIST += contrib/plugin-example/uppercase_block.c contrib/plugin-example/README \
	tests/fixtures/plugin_bad.c

# The builtin pipeline templates and their example seeds.
enginetemplatesdir = $(pkgdatadir)/templates
dist_enginetemplates_DATA = templates/json_generation.yaml \
	templates/text_classification.yaml templates/qa_generation.yaml
enginetemplateseedsdir = $(pkgdatadir)/templates/seeds
dist_enginetemplateseeds_DATA = templates/seeds/seed_json_generation.json \
	templates/seeds/seed_text_classification.json templates/seeds/seed_qa_generation.md
# end engine

# Job-wide block state in memory (`dgen run`; the runner keeps it in the store).
libdgen_a_SOURCES += src/engine/jobstate.c
noinst_HEADERS += include/dgen/jobstate.h
# The templates of the blocks beyond the first eight (SPEC.md §10).
dist_enginetemplates_DATA += templates/data_augmentation.yaml templates/ragas_evaluation.yaml
dist_enginetemplateseeds_DATA += templates/seeds/seed_data_augmentation.json \
	templates/seeds/seed_ragas_evaluation.json
