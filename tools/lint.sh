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
clang_tidy=${CLANG_TIDY:-$(command -v clang-tidy || command -v clang-tidy-14 || true)}
cppcheck=${CPPCHECK:-$(command -v cppcheck || true)}
if [ -z "$clang_tidy" ] || [ -z "$cppcheck" ] || ! command -v python3 >/dev/null; then
	echo "lint: needs clang-tidy, cppcheck and python3 (tools/install-deps.sh installs them)" >&2
	exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S "$root" -B "$build" >/dev/null
fi
# The translation units include the generated mmio.pb-c.h: build the target that makes it.
cmake --build "$build" --target mmio-proto -j "$jobs" >/dev/null

# A compile database of just the files to lint, one command each. The client sources are
# compiled twice (shared and static library), and clang-tidy 14 analysing a file twice in one
# process reports analyzer findings that neither run has on its own.
lintdb="$build/lint"
mkdir -p "$lintdb"
cat >"$out/select.py" <<'EOF'
import json, os, sys
root, build, out = sys.argv[1:]
skip = ("tests", "bench")  # not clean yet
seen, keep = set(), []
for e in json.load(open(os.path.join(build, "compile_commands.json"))):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    parts = os.path.relpath(f, root).split(os.sep)
    if (parts[0] == ".." or f.startswith(build + os.sep) or parts[0] in skip
            or "third_party" in parts or f in seen):
        continue
    seen.add(f)
    keep.append(e)
with open(out, "w") as db:
    json.dump(keep, db, indent=1)
print("\n".join(sorted(seen)))
EOF
python3 "$out/select.py" "$root" "$build" "$lintdb/compile_commands.json" >"$out/files"
if [ ! -s "$out/files" ]; then
	echo "lint: no files to check in $build/compile_commands.json" >&2
	exit 2
fi
echo "== lint: $(wc -l <"$out/files") files"

echo "== clang-tidy"
tidy_rc=0
run_clang_tidy=$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)
if [ -n "$run_clang_tidy" ]; then
	"$run_clang_tidy" -quiet -p "$lintdb" -j "$jobs" -clang-tidy-binary "$clang_tidy" \
		>"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
else
	xargs -a "$out/files" -d '\n' -n 1 -P "$jobs" "$clang_tidy" --quiet -p "$lintdb" \
		>"$out/tidy" 2>"$out/tidy.err" || tidy_rc=$?
fi
# run-clang-tidy 14 always asks for colour; it also echoes each command line.
sed -i 's/\x1b\[[0-9;]*m//g' "$out/tidy"
grep -v "^$clang_tidy " "$out/tidy" | sed "s|^$root/||" || true
# Anything unexpected on stderr (a bad config, a compile error) is shown as is.
grep -Ev '^[0-9]+ (warnings?|errors?)( and [0-9]+ (warnings?|errors?))? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^[0-9]+ warnings? treated as errors?$|^$' \
	"$out/tidy.err" >&2 || true
# A finding in a header is reported once per file that includes it.
grep -E "^$root/.*:[0-9]+:[0-9]+: (warning|error): " "$out/tidy" | sed "s|^$root/||" |
	sort -u >"$out/tidy.findings" || true
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
# With a relative --project, cppcheck names files relative to the current directory, which the
# suppressions list relies on.
build_rel=$(realpath --relative-to="$root" "$build")
cpp_rc=0
(cd "$root" && "$cppcheck" -q --project="$build_rel/lint/compile_commands.json" --std=c11 \
	--library=posix --library=gnu --include="$queue_h" --include="$protobuf_c_h" \
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
