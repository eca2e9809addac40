#!/bin/bash
# `make install DESTDIR=...` puts a working dgen in place: the binaries run,
# the templates and their seeds, the configuration sample, the man pages,
# the systemd units (with the installed paths in them) and, when it is
# built, the UI are where the documentation says; uninstall removes them.
set -u

top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${top_builddir:-$top/build}

T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
dest=$T/dest

. "$top/tests/lib/tap.sh"

# A make of our own, not the jobserver of the make running the tests.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$build" "$@"; }
# shellcheck disable=SC2016
var() { mk -f Makefile -f - print-var V="$1" <<<'print-var: ; @echo $($(V))'; }

prefix=$(var prefix)
bindir=$(var bindir)
sbindir=$(var sbindir)
pkgdatadir=$(var pkgdatadir)
sysconfdir=$(var sysconfdir)
mandir=$(var mandir)

mk install DESTDIR="$dest" >"$T/install.out" 2>&1
rc=$?
check "make install DESTDIR=... succeeds" test $rc -eq 0
[ $rc -eq 0 ] || { sed 's/^/# /' "$T/install.out" | tail -20; plan; exit 1; }

# The binaries: wherever automake put them (bin or sbin), they run.
for b in dgen dgen-api dgen-runner; do
	p=
	for d in "$bindir" "$sbindir"; do
		[ -x "$dest$d/$b" ] && p=$dest$d/$b
	done
	check "$b is installed" test -n "$p"
	[ -n "$p" ] || continue
	check "$b --version names it" sh -c "'$p' --version 2>&1 | grep -q '$b'"
	check "$b --help exits 0" sh -c "'$p' --help >/dev/null 2>&1"
done

for t in json_generation text_classification qa_generation; do
	check "template $t is installed" test -f "$dest$pkgdatadir/templates/$t.yaml"
done
check "the example seeds are installed" test -f "$dest$pkgdatadir/templates/seeds/seed_json_generation.json"
if [ -x "$dest$bindir/dgen" ]; then
	DGEN_TEMPLATES_DIR=$dest$pkgdatadir/templates "$dest$bindir/dgen" templates >"$T/templates.out" 2>&1
	check "the installed dgen lists the installed templates" grep -q json_generation "$T/templates.out"
fi
check "the configuration sample is installed" test -f "$dest$sysconfdir/dgen/dgen.conf.sample"
check "no dgen.conf is installed (only the sample)" test ! -e "$dest$sysconfdir/dgen/dgen.conf"
for m in man1/dgen.1 man5/dgen.conf.5 man8/dgen-api.8 man8/dgen-runner.8; do
	check "man page $m is installed" test -f "$dest$mandir/$m"
done
units=$dest$prefix/lib/systemd/system
check "the systemd units are installed" \
	test -f "$units/dgen-api.socket" -a -f "$units/dgen-api.service" -a -f "$units/dgen-runner.service"
check "the units start the installed binaries" \
	sh -c "grep -q '^ExecStart=$sbindir/dgen-api' '$units/dgen-api.service' && grep -q '^ExecStart=$sbindir/dgen-runner' '$units/dgen-runner.service'"
check "no placeholder is left in the generated files" \
	sh -c "! grep -l '@[a-z]*dir@' '$units'/* '$dest$pkgdatadir/nginx/dgen.conf'"
check "the nginx site serves the installed UI" grep -q "root $pkgdatadir/ui;" "$dest$pkgdatadir/nginx/dgen.conf"
if [ -f "$top/static/dist/index.html" ]; then
	check "the UI is installed" cmp -s "$top/static/dist/index.html" "$dest$pkgdatadir/ui/index.html"
	check "... with all its files" test "$(cd "$top/static/dist" && find . -type f ! -name .built | wc -l)" = \
		"$(cd "$dest$pkgdatadir/ui" && find . -type f | wc -l)"
fi

mk uninstall DESTDIR="$dest" >"$T/uninstall.out" 2>&1
check "make uninstall succeeds" test $? -eq 0
left=$(find "$dest" -type f | sed "s|^$dest||")
check "uninstall leaves no file behind${left:+ ($(echo "$left" | head -3 | tr '\n' ' '))}" test -z "$left"

done_testing
