#!/usr/bin/env bash
# Renders every docs/man/*.scd with scdoc (and, if groff is there, to text at 80 columns) and
# fails on what scdoc's markup left behind instead of formatting:
#   - an underscore right after bold or italic text ("load_W_" from *load*_W_: scdoc opens
#     _..._ only after a blank or punctuation it passes through, not after *...*);
#   - a _WORD_ or *WORD* shown literally ("A+_LENGTH_": not after a '+' either);
#   - italics opened on a blank or a closing mark ("letters, digits, )": a lone '_'
#     opened italics and ate itself);
#   - any message of scdoc or groff (a line groff cannot break, ...).
# usage: check_man_pages.sh DOCS_MAN_DIR    exit 0 clean, 1 findings, 77 without scdoc
set -euo pipefail
dir=${1:?usage: check_man_pages.sh DOCS_MAN_DIR}
if ! command -v scdoc >/dev/null; then
	echo "SKIP: no scdoc"
	exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
found=0
report() { # file, what, lines
	echo "$1: $2:"
	while IFS= read -r line; do
		echo "    $line"
	done <<<"$3"
	found=1
}
pages=0
for src in "$dir"/*.scd; do
	page=$(basename "$src" .scd)
	pages=$((pages + 1))
	if ! scdoc <"$src" >"$out/$page" 2>"$out/$page.err" || [ -s "$out/$page.err" ]; then
		report "$src" "scdoc failed" "$(cat "$out/$page.err")"
		continue
	fi
	roff="$out/$page"
	# Text as man shows it, without bold or underlining; else the roff without font changes.
	if command -v groff >/dev/null; then
		groff -man -Tutf8 -rLL=80n -P-cbou "$roff" >"$out/$page.txt" 2>"$out/$page.gerr" || true
		if [ -s "$out/$page.gerr" ]; then
			report "$src" "groff says" "$(cat "$out/$page.gerr")"
		fi
	else
		sed -e 's/\\f[BIR]//g' -e 's/\\&//g' "$roff" >"$out/$page.txt"
	fi
	txt="$out/$page.txt"
	if hits=$(grep -n '\\fR_[A-Za-z0-9]' "$roff"); then
		report "$src" "an underscore after bold or italic text (scdoc opened no italics)" "$hits"
	fi
	if hits=$(grep -nE '\\fI([ ),.;:]|\\fR|$)' "$roff"); then
		report "$src" "italics opened on a blank or a closing mark" "$hits"
	fi
	if hits=$(grep -nE '(^|[^A-Za-z0-9_])_[A-Za-z0-9][A-Za-z0-9.]*_([^A-Za-z0-9_]|$)' "$txt"); then
		report "$src" "a _WORD_ shown literally" "$hits"
	fi
	if hits=$(grep -nE '(^|[^A-Za-z0-9*])\*[A-Za-z][A-Za-z0-9_-]*\*([^A-Za-z0-9*]|$)' "$txt"); then
		report "$src" "a *WORD* shown literally" "$hits"
	fi
	if hits=$(grep -nE ', \)|\( ,' "$txt"); then
		report "$src" "a character missing before a closing parenthesis" "$hits"
	fi
done
if [ "$pages" -eq 0 ]; then
	echo "no pages in $dir"
	exit 1
fi
if [ "$found" -ne 0 ]; then
	exit 1
fi
echo "man pages: $pages rendered, no markup artifacts"
