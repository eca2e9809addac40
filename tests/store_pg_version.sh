#!/bin/sh
# store_pg_version.sh - a PostgreSQL server older than the oldest dgen
# runs on (13) is refused with a message naming both versions, and the
# runner stops instead of waiting for it. The "server" is a stand-in that
# speaks just the start of the protocol (python3), so no PostgreSQL of
# that age is needed.
. "$top_srcdir/tests/lib/tap.sh"
skip_without python3
if ! grep -q '^#define HAVE_LIBPQ 1' "$top_builddir/config.h" 2>/dev/null; then
	echo "1..0 # SKIP built without libpq"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dgen-pgver.XXXXXX")
fake=
trap 'kill $fake 2>/dev/null; rm -rf "$T"' EXIT

# fake VERSION: answers every connection on $T/.s.PGSQL.5432 as a server
# of that version would (trust: no password asked), then closes it.
fake() {
	python3 - "$T/.s.PGSQL.5432" "$1" <<'PY' &
import os, socket, struct, sys
path, version = sys.argv[1], sys.argv[2].encode()
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
open(path + ".ready", "w").close()
def msg(kind, body):
    return kind + struct.pack("!I", len(body) + 4) + body
while True:
    c, _ = s.accept()
    n = struct.unpack("!I", c.recv(4))[0]
    c.recv(n - 4)  # the startup packet: user, database
    c.sendall(msg(b"R", struct.pack("!I", 0)) +
              msg(b"S", b"server_version\0" + version + b"\0") +
              msg(b"S", b"client_encoding\0UTF8\0") +
              msg(b"K", struct.pack("!II", 4242, 1)) +
              msg(b"Z", b"I"))
    c.recv(4096)
    c.close()
PY
	fake=$!
	i=0
	while [ ! -f "$T/.s.PGSQL.5432.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}

fake 12.4
export DGEN_CONFIG=/dev/null DATABASE_PATH="$T/dgen.db"
export DATABASE_URL="postgresql://dgen:pw-old@/dgen?host=$T&sslmode=disable&gssencmode=disable"
out=$("$top_builddir/dgen" migrate 2>&1)
check "dgen migrate refuses a PostgreSQL 12 server" test $? -ne 0
check "naming its version and the oldest one dgen runs on ($out)" \
	sh -c "printf '%s' \"\$1\" | grep -q 'PostgreSQL 12.4 .*older than 13'" - "$out"
check "without the password" sh -c "! printf '%s' \"\$1\" | grep -q pw-old" - "$out"
LLM_ENDPOINT=http://127.0.0.1:9/v1/chat/completions timeout 20 "$top_builddir/dgen-runner" \
	>"$T/runner.log" 2>&1
check "the runner stops too, rather than waiting for a newer server" test $? -ne 0 -a $? -ne 124
check "saying why" grep -q 'older than 13' "$T/runner.log"
done_testing
