# tests/lib/tap.sh - TAP for the shell test suites (sourced; POSIX sh).
#
# ok/not_ok print one numbered result line; check runs a command and
# reports whether it succeeded; diag prints comment lines; the plan comes
# at the end (plan, or done_testing, which also fails when a test did).
# The output is what build-aux/tap-driver.sh reads.
#
# check's command writes where the suite's output goes, unless
# TAP_CHECK_LOG names a file: then its output goes there and is shown as
# diagnostics only when it fails (/dev/null: never shown).
# A suite may redefine not_ok to add its own diagnostics; it then counts
# the failure with tap_not_ok.

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

tap_not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

not_ok() { tap_not_ok "$@"; }

# diag LINE...: each argument (each line of it) as a TAP comment.
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	tap_desc=$1
	shift
	if [ -n "${TAP_CHECK_LOG:-}" ]; then
		if "$@" >"$TAP_CHECK_LOG" 2>&1; then
			ok "$tap_desc"
		else
			not_ok "$tap_desc"
			[ "$TAP_CHECK_LOG" = /dev/null ] || sed 's/^/# /' "$TAP_CHECK_LOG"
		fi
	elif "$@"; then
		ok "$tap_desc"
	else
		not_ok "$tap_desc"
	fi
}

# The plan, after the last test.
plan() { echo "1..$tap_n"; }

# The plan; true when no test failed (a suite's exit status).
done_testing() {
	plan
	[ "$tap_failed" -eq 0 ]
}

# Skips the whole suite (an empty plan) when one of the tools it needs is
# not installed.
skip_without() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 && continue
		echo "1..0 # SKIP $tool is not installed"
		exit 0
	done
}
