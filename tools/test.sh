#!/usr/bin/env bash
# The whole test suite: format check, build, static analysis, unit +
# integration + stress tests, the same under AddressSanitizer +
# UndefinedBehaviorSanitizer (clang -O2), a libFuzzer smoke run, the device
# fault test under clang -O2, and the integration and stress tests again with
# mmiod under valgrind memcheck.
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
