# contrib: what `make install` puts beside the binaries, and what `make dist`
# carries so a release builds without Node.js. (Templates are installed by
# src/engine/local.mk.)
#
#   $(sysconfdir)/dgen/dgen.conf.sample     every setting, commented out
#   $(pkgdatadir)/ui/                       the built web UI (static/dist)
#   $(pkgdatadir)/nginx/dgen.conf           nginx site for these paths
#   $(pkgdatadir)/apache/                   Apache CGI site, .htaccess, JSON error documents
#   $(prefix)/lib/systemd/system/           dgen-api.socket/.service, dgen-runner.service
#   $(prefix)/lib/sysusers.d/dgen.conf      the dgen account
#   man pages dgen(1) dgen.conf(5) dgen-api(8) dgen-runner(8)

dgenconfdir = $(sysconfdir)/dgen
dist_dgenconf_DATA = conf/dgen.conf.sample

dist_man_MANS += contrib/man/dgen.1 contrib/man/dgen.conf.5 \
	contrib/man/dgen-api.8 contrib/man/dgen-runner.8

systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = contrib/systemd/dgen-api.service contrib/systemd/dgen-runner.service
dist_systemdunit_DATA = contrib/systemd/dgen-api.socket
sysusersdir = $(prefix)/lib/sysusers.d
dist_sysusers_DATA = contrib/sysusers.d/dgen.conf
nginxsitedir = $(pkgdatadir)/nginx
nginxsite_DATA = contrib/nginx/dgen.conf
apachesitedir = $(pkgdatadir)/apache
apachesite_DATA = contrib/apache/dgen.conf contrib/apache/htaccess
apacheerrorsdir = $(pkgdatadir)/apache/errors
dist_apacheerrors_DATA = contrib/apache/errors/400.json contrib/apache/errors/403.json \
	contrib/apache/errors/404.json contrib/apache/errors/408.json \
	contrib/apache/errors/411.json contrib/apache/errors/413.json \
	contrib/apache/errors/414.json contrib/apache/errors/500.json \
	contrib/apache/errors/503.json contrib/apache/errors/504.json

CONTRIB_GENERATED = contrib/systemd/dgen-api.service \
	contrib/systemd/dgen-runner.service contrib/nginx/dgen.conf \
	contrib/apache/dgen.conf contrib/apache/htaccess
CLEANFILES += $(CONTRIB_GENERATED)
EXTRA_DIST += contrib/systemd/dgen-api.service.in \
	contrib/systemd/dgen-runner.service.in contrib/nginx/dgen.conf.in \
	contrib/apache/dgen.conf.in contrib/apache/htaccess.in contrib/debian-chroot-test

# Installed paths go into the units and the nginx site at build time.
contrib_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'
contrib_generate = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(contrib_edit) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
contrib/systemd/dgen-api.service: $(srcdir)/contrib/systemd/dgen-api.service.in Makefile
	$(contrib_generate)
contrib/systemd/dgen-runner.service: $(srcdir)/contrib/systemd/dgen-runner.service.in Makefile
	$(contrib_generate)
contrib/nginx/dgen.conf: $(srcdir)/contrib/nginx/dgen.conf.in Makefile
	$(contrib_generate)
contrib/apache/dgen.conf: $(srcdir)/contrib/apache/dgen.conf.in Makefile
	$(contrib_generate)
contrib/apache/htaccess: $(srcdir)/contrib/apache/htaccess.in Makefile
	$(contrib_generate)

# The UI: static/dist when it is built (contrib/dgenctl setup, or shipped
# in the release tarball), copied file by file under $(pkgdatadir)/ui.
install-data-local: install-dgen-ui
uninstall-local: uninstall-dgen-ui
install-dgen-ui:
	@if test -f "$(srcdir)/static/dist/index.html"; then \
	  echo " installing the UI into $(DESTDIR)$(pkgdatadir)/ui"; \
	  (cd "$(srcdir)/static/dist" && find . -type f ! -name .built) | \
	  while read -r f; do \
	    d=`dirname "$$f"`; \
	    $(MKDIR_P) "$(DESTDIR)$(pkgdatadir)/ui/$$d" && \
	    $(INSTALL_DATA) "$(srcdir)/static/dist/$$f" "$(DESTDIR)$(pkgdatadir)/ui/$$f" || exit 1; \
	  done; \
	else \
	  echo "note: static/dist is not built: no UI installed (run contrib/dgenctl setup)"; \
	fi
uninstall-dgen-ui:
	rm -rf "$(DESTDIR)$(pkgdatadir)/ui"

# A release carries the built UI, so building it needs no Node.js.
dist-hook: dist-dgen-ui
dist-dgen-ui:
	@if test -f "$(srcdir)/static/dist/index.html"; then \
	  $(MKDIR_P) "$(distdir)/static" && \
	  cp -R "$(srcdir)/static/dist" "$(distdir)/static/" && \
	  rm -f "$(distdir)/static/dist/.built"; \
	else \
	  echo "warning: static/dist is not built: the tarball carries no UI" >&2; \
	fi

.PHONY: install-dgen-ui uninstall-dgen-ui dist-dgen-ui

# The local stack and the installation, end to end.
TESTS += tests/stack.sh tests/install.sh tests/harden_stack.sh tests/stack_pg.sh
EXTRA_DIST += tests/stack.sh tests/install.sh tests/harden_stack.sh tests/stack_pg.sh
