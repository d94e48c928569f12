# tests/lib.sh - a few shell functions for the integration tests.
#
# Each check prints one line, "ok" or "FAIL" and its name; a failure also
# shows what differed.  test_summary prints the closing line
# "N passed, N failed" and returns non-zero if anything failed.

TESTS_PASSED=0
TESTS_FAILED=0

test_pass() {
	TESTS_PASSED=$((TESTS_PASSED + 1))
	printf 'ok    %s\n' "$1"
}

test_fail() {
	TESTS_FAILED=$((TESTS_FAILED + 1))
	printf 'FAIL  %s\n' "$1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/      /'
	return 0
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		test_pass "$1"
	else
		test_fail "$1" "expected: $2" "actual:   $3"
	fi
}

# expect_file_eq NAME EXPECTED_FILE ACTUAL_FILE
expect_file_eq() {
	if cmp -s "$2" "$3"; then
		test_pass "$1"
	else
		test_fail "$1" "$(diff -u "$2" "$3" | head -n 40)"
	fi
}

# expect_grep NAME PATTERN FILE: an extended regular expression matches a line
expect_grep() {
	if grep -E -q -- "$2" "$3"; then
		test_pass "$1"
	else
		test_fail "$1" "no line matches: $2" "in $3:" "$(head -n 20 "$3")"
	fi
}

# expect_lines NAME N FILE: FILE has exactly N lines
expect_lines() {
	local n
	n=$(wc -l < "$3")
	expect_eq "$1" "$2" "$n"
}

# expect_cmp NAME A OP B: numeric test [ A -OP B ] (OP: eq ne lt le gt ge);
# anything that is not a number (a missing counter) fails
expect_cmp() {
	if [[ $2 =~ ^[0-9]+$ && $4 =~ ^[0-9]+$ ]] && [ "$2" "-$3" "$4" ]; then
		test_pass "$1"
	else
		test_fail "$1" "expected: $2 -$3 $4"
	fi
}

test_summary() {
	echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" -eq 0 ]
}
