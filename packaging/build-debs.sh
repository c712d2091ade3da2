#!/usr/bin/env bash
# Builds the Debian packages of mmiod (mmiod, libmmio-client0, libmmio-client-dev,
# python3-mmio)
# and checks them with lintian.
#
#   packaging/build-debs.sh [--head] OUTDIR
#
# Copies the source tree (tracked and untracked files, .gitignore honoured; with
# --head the committed HEAD only) to a temporary directory, puts
# packaging/debian/ at its root, runs dpkg-buildpackage -us -uc -b with
# DPKG_GENSYMBOLS_CHECK_LEVEL=4, copies the .debs, .changes and .buildinfo to
# OUTDIR and runs lintian --pedantic on the .changes. Exits non-zero on a build
# failure, a symbols mismatch, or any lintian error or warning.
# Needs: dpkg-dev debhelper fakeroot lintian, and the Build-Depends of
# packaging/debian/control (dpkg-checkbuilddeps says which are missing).
set -euo pipefail

usage() {
	echo "usage: $0 [--head] OUTDIR" >&2
	exit 2
}

head_only=0
if [ "${1:-}" = "--head" ]; then
	head_only=1
	shift
fi
[ $# -eq 1 ] || usage
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/mmiod-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/mmiod"
mkdir "$tree"

if [ "$head_only" -eq 1 ]; then
	git -C "$src" archive --format=tar HEAD | tar -C "$tree" -xf -
else
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -
fi
# debian/ comes from the same tree that is built.
cp -a "$tree/packaging/debian" "$tree/debian"

(
	cd "$tree"
	dpkg-checkbuilddeps
	DPKG_GENSYMBOLS_CHECK_LEVEL=4 dpkg-buildpackage -us -uc -b
)

changes=("$work"/mmiod_*.changes)
[ -f "${changes[0]}" ] || { echo "$0: no .changes file was produced" >&2; exit 1; }
# Everything the .changes lists (the .debs, .buildinfo), then the .changes itself.
awk '/^Files:/{f=1; next} /^[^ ]/{f=0} f{print $5}' "${changes[0]}" |
	while read -r file; do
		cp "$work/$file" "$outdir/"
	done
cp "${changes[0]}" "$outdir/"

echo "== lintian --pedantic"
lintian --pedantic --display-info --fail-on error,warning "$outdir/$(basename "${changes[0]}")"
echo "== packages in $outdir:"
ls -1 "$outdir"/*.deb
