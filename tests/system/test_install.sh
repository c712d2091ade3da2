#!/usr/bin/env bash
# The installed tree, as a distribution package would stage it: configure this
# source tree with prefix /usr into a scratch build, install it with DESTDIR,
# check every file is where it belongs, then build and run a tiny consumer of
# libmmio-client against the stage both with pkg-config and with
# find_package(MmioClient). No daemon is needed.
#
# usage: test_install.sh SOURCE_DIR
set -euo pipefail

src=$1
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
stage=$tmp/stage
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

expect_file() {
	if [ -f "$stage$1" ]; then
		echo "ok: $1"
	else
		bad "$1 not installed"
	fi
}

# The bash-completion directory comes from bash-completion.pc when it is installed.
bash_dir=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null || true)
bash_dir=${bash_dir:-/usr/share/bash-completion/completions}
unit_dir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
unit_dir=${unit_dir:-/usr/lib/systemd/system}

cmake -S "$src" -B "$tmp/build" -DCMAKE_INSTALL_PREFIX=/usr -DMMIO_BUILD_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/configure.log" ||
	{ cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" -j"$(nproc)" --target mmio-client mmiod mmioctl \
	$(command -v scdoc >/dev/null && echo man) >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; exit 1; }
DESTDIR=$stage cmake --install "$tmp/build" >"$tmp/install.log" ||
	{ cat "$tmp/install.log"; exit 1; }

libdir=/usr/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$tmp/build/CMakeCache.txt")

# Programs, config (prefix /usr puts it in /etc, never /usr/etc), units.
expect_file /usr/sbin/mmiod
expect_file /usr/bin/mmioctl
expect_file /etc/mmiod/mmiod.conf
[ ! -e "$stage/usr/etc" ] || bad "/usr/etc exists"
expect_file "$unit_dir/mmiod.service"
expect_file "$unit_dir/mmiod.socket"
grep -qx 'ExecStart=/usr/sbin/mmiod .*' "$stage$unit_dir/mmiod.service" ||
	bad "mmiod.service does not start /usr/sbin/mmiod"

# The library: real file named for the release, soname link, namelink.
version=$(sed -n 's/^project(mmiod VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || bad "no project version in CMakeLists.txt"
expect_file "$libdir/libmmio-client.so.$version"
[ "$(readlink "$stage$libdir/libmmio-client.so.0")" = "libmmio-client.so.$version" ] ||
	bad "libmmio-client.so.0 is not a link to libmmio-client.so.$version"
[ "$(readlink "$stage$libdir/libmmio-client.so")" = libmmio-client.so.0 ] ||
	bad "libmmio-client.so is not a link to libmmio-client.so.0"
soname=$(objdump -p "$stage$libdir/libmmio-client.so.$version" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libmmio-client.so.0 ] || bad "SONAME is '$soname'"
expect_file /usr/include/mmio/client.h
[ "$(find "$stage/usr/include" -type f | wc -l)" -eq 1 ] || bad "more than one header installed"
expect_file "$libdir/pkgconfig/libmmio-client.pc"
for f in MmioClientConfig.cmake MmioClientConfigVersion.cmake MmioClientTargets.cmake; do
	expect_file "$libdir/cmake/MmioClient/$f"
done
if grep -rq "$src" "$stage$libdir/cmake/MmioClient" "$stage$libdir/pkgconfig"; then
	bad "the CMake package or .pc names the source tree"
fi
if [ "$(find "$stage" -name '*.a' | wc -l)" -ne 0 ]; then
	bad "a static library was installed"
fi

# Exports: mmio_* only, every one under a version node of libmmio-client.map.
nodes=$(sed -n 's/^\(MMIO_CLIENT_0\.[0-9]*\) {.*/\1/p' "$src/client/libmmio-client.map")
syms=$(nm -D --defined-only "$stage$libdir/libmmio-client.so.0" | awk '{ print $3 }')
others=$(grep -v '^mmio_' <<<"$syms" | grep -vxF "$nodes" || true)
[ -z "$others" ] || bad "exported besides mmio_*: $others"
[ "$(grep -c '^mmio_' <<<"$syms")" -ge 30 ] || bad "too few mmio_* exports: $syms"
unversioned=$(objdump -T "$stage$libdir/libmmio-client.so.0" |
	awk -v nodes="$(tr '\n' ' ' <<<"$nodes")" \
		'BEGIN { split(nodes, n, " "); for (i in n) ok[n[i]] = 1 }
		 $NF ~ /^mmio_/ && !($(NF-1) in ok) { print $NF }')
[ -z "$unversioned" ] || bad "not under a node of libmmio-client.map: $unversioned"
echo "ok: exports $(grep -c '^mmio_' <<<"$syms") mmio_* symbols only, under $(tr '\n' ' ' <<<"$nodes")"

# Man pages, when scdoc built them.
if command -v scdoc >/dev/null; then
	for p in man8/mmiod.8 man1/mmioctl.1 man5/mmiod.conf.5 man3/libmmio-client.3; do
		expect_file "/usr/share/man/$p"
	done
else
	echo "note: scdoc not found, man pages not checked"
fi

# Completions.
expect_file "$bash_dir/mmioctl"
expect_file /usr/share/zsh/vendor-completions/_mmioctl
bash -n "$stage$bash_dir/mmioctl" || bad "bash completion does not parse"

# A consumer, built against the stage only.
cat >"$tmp/consumer.c" <<'C'
#include <errno.h>
#include <stdio.h>

#include <mmio/client.h>

int
main(void)
{
	printf("%s: %s\n", mmio_status_name(-ERANGE), mmio_strerror(-ERANGE));
	return 0;
}
C
cc=${CC:-cc}
run_consumer() {
	local out
	out=$(LD_LIBRARY_PATH=$stage$libdir "$1") || {
		bad "$2 consumer failed"
		return
	}
	# The status name, then mmio_strerror()'s sentence for -ERANGE.
	if [[ $out == "OUT_OF_RANGE: "?* ]]; then
		echo "ok: $2 consumer: $out"
	else
		bad "$2 consumer printed '$out', not 'OUT_OF_RANGE: <sentence>'"
	fi
	# The loader resolves the versioned symbol from the staged library.
	local libs
	libs=$(LD_LIBRARY_PATH=$stage$libdir ldd "$1")
	grep -q "=> $stage$libdir/libmmio-client.so.0 " <<<"$libs" ||
		bad "$2 consumer does not load the staged libmmio-client.so.0: $libs"
}

# pkg-config: a build for prefix /usr (a distribution's package) names the system's own paths,
# which pkg-config leaves out of -I and -L; found in the stage under a sysroot, it names the
# stage. (Other prefixes compute theirs from ${pcfiledir}: test_prefix_install.sh.)
pc_include() { # FLAGS: the directory of the one -I, resolved
	local w
	for w in $1; do
		case $w in -I*) realpath -e "${w#-I}" 2>/dev/null || echo "missing:${w#-I}" ;; esac
	done
}
grep -q '^prefix=/usr$' "$stage$libdir/pkgconfig/libmmio-client.pc" ||
	bad "libmmio-client.pc: a /usr build's prefix is not /usr: $(grep '^prefix=' "$stage$libdir/pkgconfig/libmmio-client.pc")"
pc_flags=$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$stage$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage \
	pkg-config --cflags --libs 'libmmio-client >= 0.1')
echo "pkg-config (sysroot): $pc_flags"
[ "$(pc_include "$pc_flags")" = "$stage/usr/include" ] || bad "pkg-config --cflags with a sysroot: $pc_flags"
$cc -Wall -Werror -o "$tmp/consumer-pc" "$tmp/consumer.c" $pc_flags
run_consumer "$tmp/consumer-pc" pkg-config

# CMake: find_package(MmioClient 0.1) from the stage.
mkdir -p "$tmp/cmake-consumer"
cp "$tmp/consumer.c" "$tmp/cmake-consumer/"
cat >"$tmp/cmake-consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer LANGUAGES C)
find_package(MmioClient ${WANT_VERSION} REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE MmioClient::mmio-client)
CM
cmake -S "$tmp/cmake-consumer" -B "$tmp/cmake-consumer/build" -DWANT_VERSION=0.1 \
	-DCMAKE_PREFIX_PATH="$stage/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
	>"$tmp/consumer-configure.log" 2>&1 || { cat "$tmp/consumer-configure.log"; bad "find_package(MmioClient 0.1)"; }
cmake --build "$tmp/cmake-consumer/build" >"$tmp/consumer-build.log" 2>&1 ||
	{ cat "$tmp/consumer-build.log"; bad "CMake consumer build"; }
run_consumer "$tmp/cmake-consumer/build/consumer" find_package

# Version compatibility: 1.0 is a different major version and must be refused.
if cmake -S "$tmp/cmake-consumer" -B "$tmp/cmake-consumer/build-1.0" -DWANT_VERSION=1.0 \
	-DCMAKE_PREFIX_PATH="$stage/usr" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
	>"$tmp/consumer-1.0.log" 2>&1; then
	bad "find_package(MmioClient 1.0) succeeded against $version"
elif grep -q "version: $version" "$tmp/consumer-1.0.log"; then
	echo "ok: find_package(MmioClient 1.0) refused: installed $version"
else
	cat "$tmp/consumer-1.0.log"
	bad "find_package(MmioClient 1.0) failed for another reason"
fi

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "all install checks passed"
