# src/store: sources and tests (see Makefile.am).
# The sqlite store: connection and statement table (db), schema (migrate),
# pipelines, jobs, the queue protocol and records. All SQL of dgen is here.
noinst_HEADERS += include/dgen/db.h include/dgen/migrate.h \
	include/dgen/pipelines.h include/dgen/jobs.h include/dgen/queue.h \
	include/dgen/records.h
