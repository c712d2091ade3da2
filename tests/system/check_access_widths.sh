#!/usr/bin/env bash
# Each device accessor must be exactly one load or store instruction of its
# width (STYLE/issue 4): disassemble mapped_load8..64 and mapped_store8..64
# from the built library and check the one mov (x86_64) or ldr/str (arm64)
# that touches device memory has the right operand size.
# Usage: check_access_widths.sh LIBMMIOD_CORE_A
set -euo pipefail
lib=$1

if ! command -v objdump >/dev/null; then
	echo "skipped: objdump not found"
	exit 0
fi
# ASan and TSan builds add shadow-memory checks around each access (CMake does not
# register this test for them; this is for runs by hand).
if grep -qE '__(asan|tsan)_' <<<"$(objdump -t "$lib")"; then
	echo "skipped: sanitizer-instrumented build"
	exit 0
fi
arch=$(uname -m)
case "$arch" in
x86_64 | aarch64) ;;
*)
	echo "skipped: no width table for $arch"
	exit 0
	;;
esac

dis=$(objdump -d --no-show-raw-insn "$lib")
fail=0
for op in load store; do
	for bits in 8 16 32 64; do
		fn="mapped_${op}${bits}"
		body=$(awk -v fn="<$fn>:" '$2 == fn { on = 1; next } on && /^$/ { exit } on' <<<"$dis")
		if [ -z "$body" ]; then
			echo "FAIL $fn: not found in $lib"
			fail=1
			continue
		fi
		if [ "$arch" = x86_64 ]; then
			# The device access: the one mov with a memory operand.
			accesses=$(grep -E '\smov[a-z]*\s' <<<"$body" | grep -F '(' || true)
			case $bits in
			8) reg='%(al|bl|cl|dl|sil|dil|r[0-9]+b)' ;;
			16) reg='%(ax|bx|cx|dx|si|di|r[0-9]+w)' ;;
			32) reg='%(eax|ebx|ecx|edx|esi|edi|r[0-9]+d)' ;;
			64) reg='%(rax|rbx|rcx|rdx|rsi|rdi|r[0-9]+)' ;;
			esac
		else
			accesses=$(grep -E '\s(ldr|str)[bh]?\s' <<<"$body" || true)
			case $bits in
			8) reg="$([ "$op" = load ] && echo ldrb || echo strb)\s+w" ;;
			16) reg="$([ "$op" = load ] && echo ldrh || echo strh)\s+w" ;;
			32) reg="$([ "$op" = load ] && echo ldr || echo str)\s+w" ;;
			64) reg="$([ "$op" = load ] && echo ldr || echo str)\s+x" ;;
			esac
		fi
		count=$(grep -c . <<<"$accesses" || true)
		if [ "$count" -ne 1 ]; then
			echo "FAIL $fn: $count device accesses, want exactly 1:"
			echo "$body"
			fail=1
		elif ! grep -Eq "$reg([,)]|\s*$)" <<<"$accesses"; then
			echo "FAIL $fn: not a $bits-bit access: $accesses"
			fail=1
		else
			echo "ok   $fn: $(sed -E 's/^\s*[0-9a-f]+:\s*//' <<<"$accesses")"
		fi
	done
done
exit $fail
