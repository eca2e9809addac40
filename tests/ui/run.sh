#!/bin/sh
# Browser tests of the dgen web UI against a running stack.
#
#   DGEN_URL=http://127.0.0.1:8080 tests/ui/run.sh      (or: tests/ui/run.sh URL)
#
# Needs: node (18 or newer), static/node_modules from `cd static && npm ci`
# (for playwright-core), and Debian's chromium at /usr/bin/chromium (or
# DGEN_CHROMIUM). Installs and downloads nothing. Prints TAP; exits 0 when
# every test passed, 1 otherwise.
#
# Optional: DGEN_SCREENSHOTS (default tests/ui/screenshots): each page in light
# and dark mode, plus a screenshot of every failure. DGEN_JOB_TIMEOUT_MS
# (default 180000): how long a generation job may take. DGEN_DB: the
# database of the stack under test; with it (and build/tests/api/fake_runner,
# or DGEN_FAKE_RUNNER) the review-at-scale tests seed 10 000 records there.
# DGEN_DATA: the data dir of the stack (`contrib/dgenctl up --data DIR`),
# where the tests read the admin's password and token to sign in (or set
# DGEN_ADMIN_PASSWORD and DGEN_TOKEN).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -ge 1 ]; then
	DGEN_URL=$1
fi
if [ -z "${DGEN_URL:-}" ]; then
	echo "Bail out! set DGEN_URL to the base URL of the stack (e.g. http://127.0.0.1:8080)"
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "Bail out! node is not installed"
	exit 1
fi
if [ ! -d "$root/static/node_modules/playwright-core" ] && [ -z "${PLAYWRIGHT_CORE:-}" ]; then
	echo "Bail out! playwright-core is missing: run 'cd static && npm ci' first"
	exit 1
fi
chromium=${DGEN_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "Bail out! no chromium at $chromium (apt-get install chromium, or set DGEN_CHROMIUM)"
	exit 1
fi

DGEN_URL=$DGEN_URL
DGEN_SCREENSHOTS=${DGEN_SCREENSHOTS:-$here/screenshots}
DGEN_DATA=${DGEN_DATA:-}
if [ -n "$DGEN_DATA" ] && [ ! -d "$DGEN_DATA" ]; then
	echo "Bail out! DGEN_DATA=$DGEN_DATA is not a directory"
	exit 1
fi
export DGEN_URL DGEN_SCREENSHOTS DGEN_DATA
node "$here/e2e.cjs"
rc=$?
[ "$rc" -eq 0 ] || exit 1
exit 0
