#!/usr/bin/env bash
# CTest smoke run of mmio-bench --quick: it exits 0 and prints every row, as a
# table and as JSON. Durations and targets are never checked here.
set -euo pipefail
bench=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$bench" --quick >"$out" || { cat "$out"; echo "mmio-bench --quick exited $?" >&2; exit 1; }
cat "$out"

placements=(one-cpu)
[ "$(nproc)" -ge 2 ] && placements+=(spread)
missing=0
expect() { # CASE PLACEMENT: one table row starts with them
	if ! grep -Eq "^$1 +$2 " "$out"; then
		echo "missing row: $1 ($2)" >&2
		missing=1
	fi
}
expect "volatile load32" in-process
expect "volatile store32" in-process
for p in "${placements[@]}"; do
	for c in "raw ping-pong" "raw shm ping-pong" "mmiod load32" "mmiod store32" \
		"ring load32" "ring store32" "daemon idle" "batch 16" "batch 256" "batch 4096" \
		"1 client" "8 clients" "64 clients" "1 ring client" "8 ring clients" \
		"64 ring clients" "mmioctl read" "daemon RSS" "traced load32" "traced store32" \
		"traced ring load32" "traced ring store32" "ring batch 16" \
		"batch 16 all-or-nothing" "ring batch 16 all-or-nothing" "posted store32"; do
		expect "$c" "$p"
	done
done
[ "$missing" -eq 0 ]

"$bench" --quick --json >"$out"
rows=$((2 + 26 * ${#placements[@]}))
if command -v python3 >/dev/null; then
	python3 - "$out" "$rows" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == int(sys.argv[2]), f"{len(rows)} JSON rows, expected {sys.argv[2]}"
for r in rows:
    assert r["case"] and r["placement"], r
print(f"JSON: {len(rows)} rows")
PY
else
	[ "$(grep -c '"case": ' "$out")" -eq "$rows" ]
fi
