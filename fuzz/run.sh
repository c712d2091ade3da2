#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, -DMMIO_FUZZ=ON, in build-fuzz/) and runs each one for
# SECONDS (default 60), all at once, on a copy of its seed corpus (fuzz/corpus/<target>/) plus
# its regression inputs (fuzz/regressions/<target>-*). Prints, per target, exec/s, edges (cov:),
# the corpus size and the findings (crash-, leak-, timeout-, oom- files, with the end of the
# log); exits 1 if any target found anything. CI runs it short (tools/test.sh); run it longer
# by hand. Everything stays in build-fuzz/fuzz-run/<target>/ for a look afterwards; new inputs
# worth keeping go into the seed corpus with
#   build-fuzz/fuzz/fuzz_<target> -merge=1 fuzz/corpus/<target> build-fuzz/fuzz-run/<target>/corpus
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${MMIO_FUZZ_BUILD:-$root/build-fuzz}
targets=(frame session ring svd)

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
	echo "usage: $0 [SECONDS]" >&2
	exit 2
fi

echo "== fuzz: build ($build)"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DMMIO_FUZZ=ON -DMMIO_BUILD_TESTS=OFF \
	>/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

work=$build/fuzz-run
rm -rf "$work"
echo "== fuzz: ${targets[*]} for ${seconds} s each"
pids=()
for t in "${targets[@]}"; do
	mkdir -p "$work/$t/corpus" "$work/$t/findings"
	cp "$root/fuzz/corpus/$t/"* "$work/$t/corpus/"
	for f in "$root/fuzz/regressions/$t-"*; do
		[ -e "$f" ] && cp "$f" "$work/$t/corpus/"
	done
	opts=()
	# A frame of a batch over the op limit (4097 ops) takes some 20 KiB; libFuzzer's default is 4 KiB.
	[ "$t" = frame ] && opts+=(-max_len=32768)
	# SVD files: the seeds go up to ARM_Example.svd's 38 KiB; the tags come from a dictionary.
	[ "$t" = svd ] && opts+=(-max_len=65536 -dict="$root/fuzz/svd.dict")
	(cd "$work/$t" && exec "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$work/$t/findings/" "${opts[@]}" corpus \
		>"$work/$t/log" 2>&1) &
	pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
	wait "${pids[$i]}" || true
done

for t in "${targets[@]}"; do
	log=$work/$t/log
	if [ ! -f "$log" ]; then
		echo "fuzz_$t: no log at $log (did something else use $work meanwhile?)"
		status=1
		continue
	fi
	# The last status line: "#N DONE cov: E ft: F corp: C/SIZE ..." (or the last before a crash).
	line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -n 1 || true)
	runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
	corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]+).*/\1/p' <<<"$line")
	execs=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]*([0-9]+).*/\1/p' "$log")
	mapfile -t found < <(find "$work/$t/findings" -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
	printf 'fuzz_%-8s %8s exec/s  edges %-5s features %-6s corpus %-14s runs %-10s findings %d\n' \
		"$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${runs:-?}" "${#found[@]}"
	if [ "${#found[@]}" -gt 0 ] || ! grep -q '^stat::average_exec_per_sec' "$log"; then
		status=1
		for f in "${found[@]}"; do
			echo "  finding: $f"
		done
		echo "  --- end of $log:"
		grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" | tail -n 40 | sed 's/^/  /'
	fi
done
exit $status
