#!/usr/bin/env bash
# The whole test suite: format check, build, static analysis, unit +
# integration + stress tests, the same under AddressSanitizer +
# UndefinedBehaviorSanitizer (clang -O2) and under ThreadSanitizer (clang -O2),
# a libFuzzer smoke run, the device fault test under clang -O2, and the
# integration and stress tests again with mmiod under valgrind memcheck.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

"$root/tools/install-deps.sh"

echo "== format check"
if command -v clang-format >/dev/null; then
	(cd "$root" && git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror)
fi

echo "== build and test"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$jobs"

echo "== static analysis (clang-tidy, cppcheck)"
"$root/tools/lint.sh" "$root/build"

echo "== ASan + UBSan (clang -O2)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMMIO_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "$jobs"
ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"

echo "== ThreadSanitizer (clang -O2): unit, integration and stress tests, mmiod and libmmio-client too"
# A report fails its process (halt_on_error, exit 66) and so its test: mmiod's exit status is
# asserted at each stop. Reports also go to files, and any there fails the stage: mmiod's
# would otherwise sit in its log, and some processes' exit status no test looks at. An
# intended crash (stress_crash's SIGSEGV) leaves an "ERROR: ... SEGV" file, not a report.
tsan_reports="$root/build-tsan/tsan-reports"
cmake -S "$root" -B "$root/build-tsan" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMMIO_TSAN=ON >/dev/null
cmake --build "$root/build-tsan" -j "$jobs"
rm -rf "$tsan_reports"
mkdir -m 1777 "$tsan_reports" # tests run processes as other uids
# clang 14's TSan cannot map its shadow with more than 28 bits of mmap randomisation.
tsan_run=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
	tsan_run=(setarch "$(uname -m)" -R)
fi
rc=0
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path='$tsan_reports/tsan' ${TSAN_OPTIONS:-}" \
	"${tsan_run[@]}" ctest --test-dir "$root/build-tsan" --output-on-failure -L 'unit|integration|stress' \
	-j "$jobs" || rc=$?
mapfile -t tsan_found < <(grep -l 'WARNING: ThreadSanitizer' "$tsan_reports"/* 2>/dev/null || true)
if [ ${#tsan_found[@]} -gt 0 ]; then
	cat "${tsan_found[@]}"
	rc=1
fi
if [ "$rc" -ne 0 ]; then
	echo "ThreadSanitizer stage failed" >&2
	exit "$rc"
fi

echo "== fuzz smoke (libFuzzer, 30 s per target; fuzz/run.sh SECONDS for longer)"
"$root/fuzz/run.sh" 30

echo "== device faults under clang -O2 without sanitizers (gcc -O2 is the plain build)"
cmake -S "$root" -B "$root/build-clang" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	>/dev/null
cmake --build "$root/build-clang" -j "$jobs" --target test_fault
ctest --test-dir "$root/build-clang" --output-on-failure -R '^test_fault$'

echo "== integration and stress tests with mmiod under valgrind"
MMIO_TEST_DAEMON_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect -q" \
	ctest --test-dir "$root/build" --output-on-failure -L 'integration|stress' -j "$jobs"

echo "== all tests (plain build)"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"
