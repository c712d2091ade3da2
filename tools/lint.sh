#!/usr/bin/env bash
# Static analysis of mmiod's own C sources: clang-tidy (checks in .clang-tidy) and cppcheck
# (suppressions in tools/cppcheck-suppressions.txt). Prints every finding, then a count per
# check, and exits non-zero if there is any.
#
# usage: tools/lint.sh [build-dir]    (default: build; configured here if it is missing)
#
# Linted: every .c file in the build's compile_commands.json except generated code (the build
# tree), third-party code (any third_party/ directory), and tests/ and bench/, which are not
# clean yet. Headers are checked through the files that include them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$root" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
jobs=$(nproc)
clang_tidy=${CLANG_TIDY:-$(command -v clang-tidy || command -v clang-tidy-14)}
cppcheck=${CPPCHECK:-cppcheck}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S "$root" -B "$build" >/dev/null
fi
# The translation units include the generated mmio.pb-c.h: build the target that makes it.
cmake --build "$build" --target mmio-proto -j "$jobs" >/dev/null

# Absolute paths, one each (the client sources are compiled twice: shared and static).
sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$build/compile_commands.json" | sort -u |
	grep "^$root/" | grep -v "^$build/" | grep -v '/third_party/' |
	grep -Ev "^$root/(tests|bench)/" >"$out/files"
if [ ! -s "$out/files" ]; then
	echo "lint: no files to check in $build/compile_commands.json" >&2
	exit 2
fi
echo "== lint: $(wc -l <"$out/files") files"

echo "== clang-tidy"
tidy_rc=0
run_clang_tidy=$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)
if [ -n "$run_clang_tidy" ]; then
	# run-clang-tidy takes regular expressions: match each file exactly.
	sed 's/[][\.*^$+?(){}|]/\\&/g; s/^/^/; s/$/$/' "$out/files" >"$out/regexes"
	xargs -a "$out/regexes" -d '\n' "$run_clang_tidy" -quiet -p "$build" -j "$jobs" \
		-clang-tidy-binary "$clang_tidy" >"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
else
	xargs -a "$out/files" -d '\n' -n 1 -P "$jobs" "$clang_tidy" --quiet -p "$build" \
		>"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
fi
# run-clang-tidy 14 always asks for colour.
sed -i 's/\x1b\[[0-9;]*m//g' "$out/tidy"
# Findings in a header are reported once per file that includes it.
grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' "$out/tidy" | sed "s|^$root/||" |
	sort -u >"$out/tidy.findings" || true
# Anything else on stderr (bad config, compile errors) is shown as is.
grep -Ev '^[0-9]+ (warnings?|errors?)( and [0-9]+ (warnings?|errors?))? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^[0-9]+ warnings? treated as errors?$|^$' \
	"$out/tidy.err" >&2 || true
grep -v "^$clang_tidy " "$out/tidy" | sed "s|^$root/||" || true
if [ "$tidy_rc" -ne 0 ] && [ ! -s "$out/tidy.findings" ]; then
	echo "clang-tidy failed (exit $tidy_rc) without a finding; see above" >&2
fi

echo "== cppcheck"
# cppcheck skips system headers, but two define the vocabulary the code is written in: without
# sys/queue.h every TAILQ_FOREACH body reads as uninitialised use, and without protobuf-c.h the
# generated header's version check hits #error. Include exactly the files the compiler would.
system_header() {
	printf '#include <%s>\n' "$1" | cc -E -M -x c - 2>/dev/null | tr ' \\' '\n\n' |
		grep -m1 "/$1\$"
}
queue_h=$(system_header sys/queue.h)
protobuf_c_h=$(system_header protobuf-c/protobuf-c.h)
# With a relative --project, cppcheck names files relative to the current directory.
build_rel=$(realpath --relative-to="$root" "$build")
sed "s|^$root/|--file-filter=|" "$out/files" >"$out/filters"
cpp_rc=0
(cd "$root" && xargs -a "$out/filters" -d '\n' "$cppcheck" -q --project="$build_rel/compile_commands.json" \
	--std=c11 --library=posix --library=gnu --include="$queue_h" --include="$protobuf_c_h" \
	--enable=warning,style,performance,portability --inline-suppr --error-exitcode=1 \
	--suppress=missingIncludeSystem --suppress="*:$build_rel/*" \
	--suppressions-list=tools/cppcheck-suppressions.txt -j "$jobs" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]') \
	>"$out/cppcheck.out" 2>&1 || cpp_rc=$?
cat "$out/cppcheck.out"
grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: .*\[[A-Za-z0-9_]+\]$' "$out/cppcheck.out" |
	sort -u >"$out/cppcheck.findings" || true

echo "== summary"
n_tidy=$(wc -l <"$out/tidy.findings")
n_cpp=$(wc -l <"$out/cppcheck.findings")
echo "clang-tidy: $n_tidy findings"
sed -n 's/.*\[\([^],]*\)[],].*$/\1/p' "$out/tidy.findings" | sort | uniq -c | sort -rn
echo "cppcheck: $n_cpp findings"
sed -n 's/.*\[\([A-Za-z0-9_]*\)\]$/\1/p' "$out/cppcheck.findings" | sort | uniq -c | sort -rn
if [ "$n_tidy" -ne 0 ] || [ "$n_cpp" -ne 0 ] || [ "$tidy_rc" -ne 0 ] || [ "$cpp_rc" -ne 0 ]; then
	echo "lint: FAILED"
	exit 1
fi
echo "lint: clean"
