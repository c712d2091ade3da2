#!/usr/bin/env bash
# The whole test suite: build, unit + integration tests, the same under
# AddressSanitizer + UndefinedBehaviorSanitizer (clang), and the integration
# tests again with mmiod under valgrind memcheck.
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
