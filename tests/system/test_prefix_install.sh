#!/usr/bin/env bash
# An install from source into a prefix of one's own: `cmake --install build
# --prefix P` must write only under P, its mmiod.service must start P's mmiod
# with P's config, libmmio-client must be usable from P with pkg-config and
# with find_package(MmioClient), and P's mmioctl must run with P's library
# (no LD_LIBRARY_PATH), as must its Python module where the build has one, even
# after P has been moved. No daemon is
# needed, and nothing is written outside a temporary directory: every install
# is first staged with DESTDIR and only installed for real once the stage
# showed it stays under its prefix.
#
# The build is configured with the default prefix (/usr/local) and installed
# elsewhere with --prefix, then reconfigured with -DCMAKE_INSTALL_PREFIX=P2
# and installed without --prefix: both must give the same layout. Last, the
# system directories: -DMMIO_INSTALL_SYSTEM_DIRS=ON and an explicit
# -DMMIO_SYSTEMD_UNITDIR are honoured (staged only).
#
# usage: test_prefix_install.sh SOURCE_DIR
set -euo pipefail

src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmiod-prefix.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
build=$tmp/build
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# Stop here when an earlier step failed: what follows depends on it.
stop_on_failure() {
	if [ "$fail" -ne 0 ]; then
		echo "FAIL: $1" >&2
		exit 1
	fi
}

configure() {
	cmake -S "$src" -B "$build" -DMMIO_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" \
		>"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
}

# staged_install STAGE PREFIX [cmake --install args]: install into DESTDIR=STAGE.
staged_install() {
	local stage=$1 prefix=$2
	shift 2
	rm -rf "$stage"
	DESTDIR=$stage cmake --install "$build" "$@" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; exit 1; }
}

# only_under STAGE PREFIX: every file and link of the stage lies under PREFIX.
only_under() {
	local outside
	outside=$(find "$1" ! -type d -printf '/%P\n' | grep -v "^$2/" || true)
	if [ -n "$outside" ]; then
		bad "installing into $2 wrote outside it:"$'\n'"$outside"
	else
		echo "ok: the staged install of prefix $2 is all under it ($(find "$1" ! -type d | wc -l) files)"
	fi
}

# manifest_under PREFIX: every path install_manifest.txt lists lies under PREFIX.
manifest_under() {
	local outside
	outside=$(grep -v "^$1/" "$build/install_manifest.txt" || true)
	if [ -n "$outside" ]; then
		bad "install_manifest.txt lists paths outside $1:"$'\n'"$outside"
	else
		echo "ok: install_manifest.txt: $(grep -c '' "$build/install_manifest.txt") paths, all under $1"
	fi
}

expect_file() {
	if [ -f "$1" ]; then
		echo "ok: $1"
	else
		bad "$1 not installed"
	fi
}

# check_layout ROOT PREFIX: what an install into PREFIX put under ROOT (ROOT is
# a DESTDIR stage, or empty for a real install).
check_layout() {
	local root=$1 p=$2 unit want
	expect_file "$root$p/sbin/mmiod"
	expect_file "$root$p/bin/mmioctl"
	expect_file "$root$p/etc/mmiod/mmiod.conf"
	expect_file "$root$p/etc/mmiod/maps/uart16550.yaml"
	expect_file "$root$p/etc/mmiod/maps/timer.yaml"
	expect_file "$root$p/etc/mmiod/models/uart16550.lua"
	expect_file "$root$p/etc/mmiod/models/timer.lua"
	expect_file "$root$p/lib/systemd/system/mmiod.socket"
	expect_file "$root$p/lib/sysusers.d/mmiod.conf"
	expect_file "$root$p/lib/tmpfiles.d/mmiod.conf"
	expect_file "$root$p/lib/systemd/catalog/mmiod.catalog"
	expect_file "$root$p/share/bash-completion/completions/mmioctl"
	expect_file "$root$p/share/doc/mmiod/LICENSE"
	unit=$root$p/lib/systemd/system/mmiod.service
	expect_file "$unit"
	[ -f "$unit" ] || return 0
	want="ExecStart=$p/sbin/mmiod --config $p/etc/mmiod/mmiod.conf --fd-store"
	if grep -qxF "$want" "$unit"; then
		echo "ok: mmiod.service: $want"
	else
		bad "mmiod.service does not say '$want': $(grep '^ExecStart=' "$unit")"
	fi
	if grep -n '/etc/mmiod/mmiod.conf' "$unit" | grep -vF "$p/etc/mmiod/mmiod.conf" | grep -q .; then
		bad "mmiod.service still names /etc/mmiod/mmiod.conf: $(grep -n '/etc/mmiod' "$unit")"
	fi
}

# --- 1. configured for /usr/local, installed with --prefix P ------------------
configure
targets=(mmio-client mmiod mmioctl)
if command -v scdoc >/dev/null; then
	targets+=(man)
fi
# The Python module too, where the build has one (Python's development headers found).
build_targets=$(cmake --build "$build" --target help 2>/dev/null || true)
if grep -q 'mmio-python' <<<"$build_targets"; then
	targets+=(mmio-python)
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; exit 1; }
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
echo "CMAKE_INSTALL_LIBDIR=$libdir"

prefix=$tmp/prefix
staged_install "$tmp/stage" "$prefix" --prefix "$prefix"
only_under "$tmp/stage" "$prefix"
check_layout "$tmp/stage" "$prefix"
stop_on_failure "the staged install leaves its prefix or misses files; not installing for real"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
manifest_under "$prefix"
check_layout "" "$prefix"
# verify_units PREFIX: systemd-analyze verify of PREFIX's units; it insists
# that ExecStart='s program exists, and here that is PREFIX's mmiod.
verify_units() {
	local out rc=0
	command -v systemd-analyze >/dev/null || return 0
	out=$(systemd-analyze --no-pager verify "$1/lib/systemd/system/mmiod.socket" \
		"$1/lib/systemd/system/mmiod.service" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || grep -qi mmiod <<<"$out"; then
		bad "systemd-analyze verify of the units installed in $1 (exit $rc): $out"
	else
		echo "ok: systemd-analyze verify of the units installed in $1: clean"
	fi
}
verify_units "$prefix"

# check_mmioctl_runs PREFIX: PREFIX's mmioctl runs as it is, with PREFIX's libmmio-client (no
# LD_LIBRARY_PATH, no ldconfig: its RUNPATH is relative to itself).
check_mmioctl_runs() {
	local lib
	lib=$(env -u LD_LIBRARY_PATH ldd "$1/bin/mmioctl" | sed -n 's/^[[:space:]]*libmmio-client[^ ]* => \(\/[^ ]*\) .*/\1/p')
	case $lib in
	"$1"/*) echo "ok: $1/bin/mmioctl loads $lib" ;;
	*) bad "$1/bin/mmioctl loads libmmio-client from '${lib:-nowhere}', not from $1" ;;
	esac
	env -u LD_LIBRARY_PATH "$1/bin/mmioctl" --version >/dev/null 2>&1 ||
		bad "$1/bin/mmioctl --version does not run"
}
check_mmioctl_runs "$prefix"

# check_python_imports PREFIX: where PREFIX has the Python module, it imports with PREFIX's
# library, by the interpreter it was built for (no LD_LIBRARY_PATH either).
check_python_imports() {
	local dir=$1/lib/python3/dist-packages python lib
	compgen -G "$dir/mmio/_mmio*.so" >/dev/null || return 0
	python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
	lib=$(env -u LD_LIBRARY_PATH ldd "$dir"/mmio/_mmio*.so | sed -n 's/^[[:space:]]*libmmio-client[^ ]* => \(\/[^ ]*\) .*/\1/p')
	case $lib in
	"$1"/*) echo "ok: $1's Python module loads $lib" ;;
	*) bad "$1's Python module loads libmmio-client from '${lib:-nowhere}', not from $1" ;;
	esac
	env -u LD_LIBRARY_PATH PYTHONPATH="$dir" "${python:-python3}" -c 'import mmio' ||
		bad "import mmio from $dir fails"
}
check_python_imports "$prefix"

# --- 2. a consumer of P, with pkg-config and with find_package -----------------
cat >"$tmp/consumer.c" <<'C'
#include <errno.h>
#include <stdio.h>

#include <mmio/client.h>

int
main(int argc, char **argv)
{
	struct mmio_client *c = NULL;
	int r = mmio_connect(argc > 1 ? argv[1] : "/nonexistent/mmiod.sock", &c);

	/* No daemon: the connect(2) error, and the library's names for a status. */
	printf("connect %d, %s: %s\n", r, mmio_status_name(-ERANGE), mmio_strerror(-ERANGE));
	return r == -ENOENT && c == NULL ? 0 : 1;
}
C
cc=${CC:-cc}

# real_paths FLAG FLAGS: the existing directories named by FLAG (-I, -L) in FLAGS.
real_paths() {
	local w
	for w in $2; do
		case $w in
		"$1"*) realpath -e "${w#"$1"}" 2>/dev/null || echo "missing:${w#"$1"}" ;;
		esac
	done
}

run_consumer() { # BINARY WHAT PREFIX
	local out libs
	if out=$(LD_LIBRARY_PATH=$3/$libdir "$1" "$tmp/no-such.sock"); then
		echo "ok: $2 consumer: $out"
	else
		bad "$2 consumer failed: $out"
	fi
	libs=$(LD_LIBRARY_PATH=$3/$libdir ldd "$1")
	grep -q "=> $3/$libdir/libmmio-client.so.0 " <<<"$libs" ||
		bad "$2 consumer does not load $3/$libdir/libmmio-client.so.0: $libs"
}

# check_pkg_config PREFIX: pkg-config with P's pkgconfig dir names P's directories.
check_pkg_config() {
	local p=$1 flags
	flags=$(PKG_CONFIG_PATH=$p/$libdir/pkgconfig pkg-config --cflags --libs 'libmmio-client >= 0.1') ||
		{ bad "pkg-config libmmio-client from $p"; return; }
	echo "pkg-config: $flags"
	[ "$(real_paths -I "$flags")" = "$p/include" ] || bad "pkg-config --cflags is not -I$p/include: $flags"
	[ "$(real_paths -L "$flags")" = "$p/$libdir" ] || bad "pkg-config --libs is not -L$p/$libdir: $flags"
	pc_flags=$flags
}

check_pkg_config "$prefix"
# shellcheck disable=SC2086 # the flags are words
$cc -Wall -Werror -o "$tmp/consumer-pc" "$tmp/consumer.c" $pc_flags
run_consumer "$tmp/consumer-pc" pkg-config "$prefix"

mkdir -p "$tmp/cmake-consumer"
cp "$tmp/consumer.c" "$tmp/cmake-consumer/"
cat >"$tmp/cmake-consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer LANGUAGES C)
find_package(MmioClient 0.1 REQUIRED)
message(STATUS "MmioClient_DIR=${MmioClient_DIR}")
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE MmioClient::mmio-client)
CM
# cmake_consumer PREFIX BUILD_DIR: configure and build it against PREFIX only.
cmake_consumer() {
	cmake -S "$tmp/cmake-consumer" -B "$2" -DCMAKE_PREFIX_PATH="$1" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
		>"$tmp/consumer-configure.log" 2>&1 ||
		{ cat "$tmp/consumer-configure.log"; bad "find_package(MmioClient 0.1) in $1"; return 1; }
	grep -qF "MmioClient_DIR=$1/" "$tmp/consumer-configure.log" ||
		{ grep MmioClient_DIR "$tmp/consumer-configure.log"; bad "find_package found MmioClient outside $1"; }
	cmake --build "$2" >"$tmp/consumer-build.log" 2>&1 ||
		{ cat "$tmp/consumer-build.log"; bad "CMake consumer build against $1"; return 1; }
}
if cmake_consumer "$prefix" "$tmp/cmake-consumer/build"; then
	run_consumer "$tmp/cmake-consumer/build/consumer" find_package "$prefix"
fi

# Relocatable: moved elsewhere, P still describes itself.
moved=$tmp/moved
mv "$prefix" "$moved"
check_pkg_config "$moved"
check_mmioctl_runs "$moved"
check_python_imports "$moved"
if cmake_consumer "$moved" "$tmp/cmake-consumer/build-moved"; then
	run_consumer "$tmp/cmake-consumer/build-moved/consumer" "find_package (moved prefix)" "$moved"
fi
stop_on_failure "prefix install"

# --- 3. configured with -DCMAKE_INSTALL_PREFIX=P2, installed without --prefix -----
prefix2=$tmp/prefix2
configure -DCMAKE_INSTALL_PREFIX="$prefix2"
staged_install "$tmp/stage2" "$prefix2"
only_under "$tmp/stage2" "$prefix2"
check_layout "$tmp/stage2" "$prefix2"
stop_on_failure "the staged install of a configured prefix leaves it; not installing for real"
cmake --install "$build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
manifest_under "$prefix2"
check_layout "" "$prefix2"
check_mmioctl_runs "$prefix2"

# A prefix with characters a unit file quotes (space) or escapes (%, $).
odd="$tmp/odd dir%n\$HOME"
cmake --install "$build" --prefix "$odd" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
manifest_under "$odd"
verify_units "$odd"
want="ExecStart=\"${odd//%/%%}/sbin/mmiod\" --config \"$(sed 's/%/%%/g; s/\$/$$/g' <<<"$odd")/etc/mmiod/mmiod.conf\" --fd-store"
grep -qxF "$want" "$odd/lib/systemd/system/mmiod.service" ||
	bad "mmiod.service in '$odd' does not say '$want': $(grep '^ExecStart=' "$odd/lib/systemd/system/mmiod.service")"

# --- 4. system directories when asked for (staged only) --------------------------
sys_unit_dir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
sys_unit_dir=${sys_unit_dir:-/usr/lib/systemd/system}
configure -DCMAKE_INSTALL_PREFIX=/usr/local -DMMIO_INSTALL_SYSTEM_DIRS=ON
staged_install "$tmp/stage3" /opt/mmiod --prefix /opt/mmiod
expect_file "$tmp/stage3$sys_unit_dir/mmiod.service"
expect_file "$tmp/stage3/opt/mmiod/etc/mmiod/mmiod.conf"
grep -qxF "ExecStart=/opt/mmiod/sbin/mmiod --config /opt/mmiod/etc/mmiod/mmiod.conf --fd-store" \
	"$tmp/stage3$sys_unit_dir/mmiod.service" 2>/dev/null ||
	bad "MMIO_INSTALL_SYSTEM_DIRS=ON: the unit in $sys_unit_dir does not start /opt/mmiod's mmiod with its config"
configure -DCMAKE_INSTALL_PREFIX=/usr/local -DMMIO_INSTALL_SYSTEM_DIRS=OFF \
	-DMMIO_SYSTEMD_UNITDIR=/etc/systemd/system
staged_install "$tmp/stage4" /opt/mmiod --prefix /opt/mmiod
expect_file "$tmp/stage4/etc/systemd/system/mmiod.service"
expect_file "$tmp/stage4/opt/mmiod/lib/tmpfiles.d/mmiod.conf"

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "all prefix install checks passed"
