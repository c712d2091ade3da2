#!/usr/bin/env bash
# Second-tier boot test: boots the Debian packages in a QEMU (TCG) virtual
# machine with Debian's cloud kernel, no network device and QEMU's "edu" PCI
# device, to check what systemd-nspawn does not enforce, the device cgroup
# (DevicePolicy=closed, DeviceAllow=) of mmiod.service, and every hardware
# backend on a real PCI device under a real kernel (tests/system/
# qemu_edu_checks.sh). About a minute of TCG boot, checks and power-off, plus
# the per-run image build; .ci/run runs it after the nspawn boot test.
# Method: TCG only (nested KVM can hang, so it is never tried, and qemu runs
# under timeout); the guest boots the kernel of its own package (the host may
# have none to boot) from an image opened snapshot=on; a unit inside the guest
# runs the checks and the verdict comes back on the serial console.
#
#   tests/system/boot_test_qemu.sh [DEBDIR]
#
# DEBDIR holds mmiod_*.deb, libmmio-client0_*.deb and libmmio-client-dev_*.deb
# (packaging/build-debs.sh writes them); without it they are built first, into
# a temporary directory.
#
# In the guest (checks run by a unit, mmiod-boottest.service):
#   - user "alice" (group mmio) writes and reads back a register of sim0 with
#     mmioctl (socket activation of mmiod.service); "bob" is refused;
#   - with a devmem region whose path= is a character device node of an
#     unused major (240, "local/experimental": no driver, no hardware) the
#     service fails to start and its journal shows "Operation not permitted":
#     the device cgroup refused the open. The same open as plain root in the
#     guest fails with ENXIO (no driver), which shows that the EPERM came from
#     DeviceAllow=, not from the device;
#   - QEMU's edu device through the pci, devmem and uio backends, its
#     factorial unit driven by tests/system/edu_factorial.c and its interrupt
#     by tests/system/edu_irq.c (compiled here, on the host, against the
#     header and library of the libmmio-client-dev and libmmio-client0 .debs
#     in DEBDIR, and copied in: the guest has no compiler).
# A check that cannot run (QEMU without the edu device, a kernel without
# uio_pci_generic, no C compiler or no libmmio-client-dev .deb here) is
# reported as SKIP with the reason, never as PASS.
# The verdict (number of failed checks) comes back on the serial console as
# "MMIOD-QEMU-VERDICT N" (skipped checks do not count); the guest then powers
# off. qemu is killed after $MMIOD_BOOTTEST_TIMEOUT seconds (default 300).
#
# Needs root (mmdebstrap --mode=root, chroot dpkg -i), qemu-system-x86_64
# (qemu-system-x86), mmdebstrap, zstd and mkfs.ext4 (e2fsprogs); the first
# time also the Debian mirror of the host's apt sources. Never uses KVM.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped, 2 the test
# failed to run, 3 the base system could not be bootstrapped.
#
# The VM base tree (minbase + systemd, linux-image-cloud-amd64,
# initramfs-tools and mmiod's run-time dependencies) is cached as a tarball
# in $MMIOD_BOOTTEST_CACHE (default /var/cache/mmiod-boottest);
# MMIOD_BOOTTEST_REBUILD=1 rebuilds it. MMIOD_BOOTTEST_SOURCES names the apt
# deb822 sources file; MMIOD_BOOTTEST_KEEP=1 keeps the work directory;
# MMIOD_BOOTTEST_EDU=0 leaves the edu device out (its checks then report SKIP).
set -euo pipefail

skip() { echo "boot_test_qemu: SKIP: $*" >&2; exit 77; }
die() { echo "boot_test_qemu: ERROR: $*" >&2; exit 2; }
cannot_bootstrap() { echo "boot_test_qemu: CANNOT BOOTSTRAP: $*" >&2; exit 3; }

for tool in qemu-system-x86_64 mmdebstrap; do
	command -v "$tool" >/dev/null || skip "$tool is missing (apt-get install qemu-system-x86 mmdebstrap)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (mmdebstrap --mode=root and chroot dpkg -i)"
for tool in zstd dpkg-deb mkfs.ext4; do
	command -v "$tool" >/dev/null || skip "$tool is missing (apt-get install zstd e2fsprogs)"
done

src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MMIOD_BOOTTEST_CACHE:-/var/cache/mmiod-boottest}
timeout_s=${MMIOD_BOOTTEST_TIMEOUT:-300}
t_start=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) ${1:-$t_start}" | awk '{printf "%.1f", $1 - $2}'; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mmiod-boottest-qemu.XXXXXX")
cleanup() {
	if [ "${MMIOD_BOOTTEST_KEEP:-0}" = 1 ]; then
		echo "boot_test_qemu: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- The packages ------------------------------------------------------------
if [ $# -ge 1 ]; then
	debdir=$(cd "$1" && pwd)
else
	debdir="$work/debs"
	echo "boot_test_qemu: building the packages (packaging/build-debs.sh)" >&2
	"$src/packaging/build-debs.sh" "$debdir" >"$work/build-debs.log" 2>&1 ||
		{ tail -n 30 "$work/build-debs.log" >&2; die "packaging/build-debs.sh failed (log above)"; }
fi
debs=()
for p in mmiod libmmio-client0; do
	f=$(ls "$debdir/${p}_"*.deb 2>/dev/null | grep -v dbgsym | head -n 1) || true
	[ -n "$f" ] || die "no ${p}_*.deb in $debdir"
	debs+=("$f")
done

# --- The cached VM base --------------------------------------------------------
deps=$(for f in "${debs[@]}"; do dpkg-deb -f "$f" Depends; done |
	tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
	grep -v -E '^(|mmiod|libmmio-client0)$' | paste -sd, -)
include=$(echo "systemd,systemd-sysv,dbus,libpam-systemd,linux-image-cloud-amd64,initramfs-tools,$deps" |
	tr ',' '\n' | sort -u | paste -sd, -)
key=$(echo "bookworm minbase vm $include" | sha256sum | cut -c1-16)
base="$cache/vm-base-$key.tar.zst"

if [ ! -f "$base" ] || [ "${MMIOD_BOOTTEST_REBUILD:-0}" = 1 ]; then
	sources=${MMIOD_BOOTTEST_SOURCES:-}
	if [ -z "$sources" ]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			if grep -q -E '^Types:.*\bdeb(\s|$)' "$f" && grep -q -E '^Suites:.*\bbookworm\b' "$f"; then
				sources=$f
				break
			fi
		done
	fi
	[ -n "$sources" ] || cannot_bootstrap "no deb822 apt sources file for bookworm; set MMIOD_BOOTTEST_SOURCES"
	echo "boot_test_qemu: bootstrapping the VM base ($include) from $sources" >&2
	mkdir -p "$cache"
	# No fstab line here: it is written into the per-run copy only, so this
	# tarball can never be booted by nspawn with a "/" line (which would
	# remount the host's root).
	mmdebstrap --mode=root --variant=minbase --include="$include" \
		--customize-hook='systemctl --root="$1" mask e2scrub_reap.service' \
		--customize-hook='echo mmiod-boottest > "$1"/etc/hostname' \
		--customize-hook=': > "$1"/etc/fstab' \
		bookworm "$work/base" "$sources" >"$work/mmdebstrap.log" 2>&1 ||
		{ tail -n 30 "$work/mmdebstrap.log" >&2; cannot_bootstrap "mmdebstrap failed (log above)"; }
	tar -C "$work/base" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$work/base"
	echo "boot_test_qemu: cached $base ($(elapsed) s)" >&2
fi

# --- The guest tree: base + packages + checks ----------------------------------
tree="$work/tree"
mkdir "$tree"
zstd -q -dc "$base" | tar -C "$tree" --numeric-owner -xf -
kernel=$(ls "$tree"/boot/vmlinuz-* 2>/dev/null | head -n 1)
initrd=$(ls "$tree"/boot/initrd.img-* 2>/dev/null | head -n 1)
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initrd in the VM base (rebuild with MMIOD_BOOTTEST_REBUILD=1)"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"

mkdir -p "$tree/tmp/debs"
cp "${debs[@]}" "$tree/tmp/debs/"
chroot "$tree" dpkg -i "/tmp/debs/$(basename "${debs[1]}")" "/tmp/debs/$(basename "${debs[0]}")" \
	>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -i in the guest failed"; }
rm -rf "$tree/tmp/debs"
chroot "$tree" useradd --no-create-home --groups mmio alice
chroot "$tree" useradd --no-create-home bob
echo '/dev/vda / ext4 defaults 0 1' >"$tree/etc/fstab"
# Keep the serial console for the checks' output: no getty on it.
ln -sf /dev/null "$tree/etc/systemd/system/serial-getty@ttyS0.service"

policy() { # policy [EXTRA-REGION-LINE]
	cat <<EOF
# Written by tests/system/boot_test_qemu.sh.
user = "mmiod";
admin_group = "mmio-admin";
regions = (
  {
    name = "sim0";
    type = "mem";
    size = 0x10000;
    grants = ( { group = "mmio"; access = "rw"; } );
  }$1
);
EOF
}
policy "" >"$tree/etc/mmiod/mmiod.conf"
# A devmem region on a device node the unit's DeviceAllow= does not list.
policy ',
  { name = "blocked"; type = "devmem"; phys = 0x100000; size = 0x1000; path = "/dev/mmiod-boottest-c240"; }' \
	>"$tree/etc/mmiod/mmiod.conf.blocked"
chmod 0644 "$tree/etc/mmiod/mmiod.conf" "$tree/etc/mmiod/mmiod.conf.blocked"

mkdir -p "$tree/usr/local/lib/mmiod-boottest"
cat >"$tree/usr/local/lib/mmiod-boottest/checks.sh" <<'GUEST'
#!/bin/bash
# Runs in the VM as mmiod-boottest.service; prints the verdict (number of
# failed checks) on the serial console and powers off.
say() { echo "BOOTTEST $*" >/dev/ttyS0; }
fails=0
pass() { say "PASS: $*"; }
fail() { say "FAIL: $*"; fails=$((fails + 1)); }
skip() { say "SKIP: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

state=$(timeout 180 systemctl is-system-running --wait)
check "system is running (is-system-running: $state)" test "$state" = running
[ "$state" = running ] || systemctl --failed --no-pager >/dev/ttyS0 2>&1

check "cgroup v2 only (device cgroup through BPF)" test "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs
check "mmiod.socket is active" test "$(systemctl is-active mmiod.socket)" = active
check "alice (group mmio) writes sim0" as alice mmioctl write sim0 0x10 0xdeadbeef
v=$(as alice mmioctl read sim0 0x10 2>&1)
check "alice reads back 0xdeadbeef (got '$v')" test "$v" = 0xdeadbeef
check "mmiod.service is active after the first connect" \
	test "$(systemctl is-active mmiod.service)" = active
out=$(as bob mmioctl regions 2>&1)
rc=$?
check "bob (not in mmio) is refused (rc $rc)" test "$rc" -ne 0

# DeviceAllow=: a character device of major 240 (no driver) is not allowed.
node=/dev/mmiod-boottest-c240
mknod -m 0600 "$node" c 240 0
out=$( (exec 5<>"$node") 2>&1)
check "as plain root, opening $node fails with ENXIO, not EPERM ($out)" \
	grep -q 'No such device or address' <<<"$out"
systemctl stop mmiod.service
cp /etc/mmiod/mmiod.conf.blocked /etc/mmiod/mmiod.conf
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start mmiod.service 2>/dev/null
rc=$?
check "mmiod.service refuses to start with the blocked region (systemctl start rc $rc)" test "$rc" -ne 0
journal=$(journalctl --no-pager -u mmiod.service --since "$since" 2>&1)
grep -i -E 'blocked|mmiod-boottest-c240|not permitted' <<<"$journal" | head -n 5 | sed 's/^/BOOTTEST   journal: /' >/dev/ttyS0
check "its journal shows EPERM on $node" \
	grep -q -E 'mmiod-boottest-c240.*Operation not permitted|Operation not permitted.*mmiod-boottest-c240' <<<"$journal"
systemctl stop mmiod.service mmiod.socket 2>/dev/null

# QEMU's edu device through each hardware backend.
. /usr/local/lib/mmiod-boottest/qemu_edu_checks.sh
systemctl stop mmiod.service mmiod.socket 2>/dev/null

if [ "$fails" -ne 0 ]; then
	journalctl -b --no-pager -u mmiod.service -u mmiod.socket | tail -n 30 |
		sed 's/^/BOOTTEST   journal: /' >/dev/ttyS0
fi
echo "MMIOD-QEMU-VERDICT $fails" >/dev/ttyS0
systemctl --no-block poweroff
GUEST
chmod 0755 "$tree/usr/local/lib/mmiod-boottest/checks.sh"
install -m 0644 "$src/tests/system/qemu_edu_checks.sh" "$tree/usr/local/lib/mmiod-boottest/"

# The edu drivers, built against the packages' header and library (the guest
# has the library from libmmio-client0, and no compiler). Without them the
# guest reports their checks as skipped, with the reason in drivers.skip.
drivers_skip=
dev_deb=$(ls "$debdir"/libmmio-client-dev_*.deb 2>/dev/null | head -n 1) || true
cc=$(command -v cc || command -v gcc || true)
if [ -z "$cc" ]; then
	drivers_skip="no C compiler on the host to build the edu drivers"
elif [ -z "$dev_deb" ]; then
	drivers_skip="no libmmio-client-dev_*.deb in $debdir to build the edu drivers against"
else
	sdk="$work/sdk"
	dpkg-deb -x "$dev_deb" "$sdk"
	dpkg-deb -x "${debs[1]}" "$sdk"
	libdir=$(dirname "$(ls "$sdk"/usr/lib/*/libmmio-client.so | head -n 1)")
	for driver in edu_factorial edu_irq; do
		"$cc" -std=c11 -O2 -Wall -Wextra -Werror -I"$sdk/usr/include" \
			-o "$tree/usr/local/lib/mmiod-boottest/$driver" "$src/tests/system/$driver.c" \
			-L"$libdir" -lmmio-client >>"$work/drivers.log" 2>&1 ||
			{ cat "$work/drivers.log" >&2; die "building $driver against $(basename "$dev_deb") failed"; }
	done
fi
if [ -n "$drivers_skip" ]; then
	echo "boot_test_qemu: $drivers_skip (their checks will be skipped)" >&2
	echo "$drivers_skip" >"$tree/usr/local/lib/mmiod-boottest/drivers.skip"
fi

cat >"$tree/etc/systemd/system/mmiod-boottest.service" <<'EOF'
[Unit]
Description=mmiod boot test checks (QEMU)
After=basic.target

[Service]
Type=exec
ExecStart=/usr/local/lib/mmiod-boottest/checks.sh
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -s ../mmiod-boottest.service "$tree/etc/systemd/system/multi-user.target.wants/"

mkfs.ext4 -q -F -L root -d "$tree" "$work/root.img" 1G >"$work/mkfs.log" 2>&1 ||
	{ cat "$work/mkfs.log" >&2; die "mkfs.ext4 -d failed"; }
rm -rf "$tree"
echo "boot_test_qemu: image ready ($(elapsed) s); booting under TCG" >&2

# --- Boot --------------------------------------------------------------------------
# QEMU's educational PCI device (docs/specs/edu.rst in QEMU): without it the
# guest finds no 1234:11e8 and skips the hardware checks, saying so.
edu=()
if [ "${MMIOD_BOOTTEST_EDU:-1}" = 0 ]; then
	echo "boot_test_qemu: MMIOD_BOOTTEST_EDU=0: no edu device, the hardware checks will be skipped" >&2
elif qemu-system-x86_64 -device help 2>/dev/null | grep -q '^name "edu"'; then
	edu=(-device edu)
else
	echo "boot_test_qemu: this QEMU has no edu device: the hardware checks will be skipped" >&2
fi
t_boot=$(date +%s.%N)
rc=0
timeout "$timeout_s" qemu-system-x86_64 -machine q35 -accel tcg,tb-size=256 -cpu max -smp 2 -m 512 \
	-nographic -nic none -no-reboot "${edu[@]}" \
	-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 quiet" \
	-drive "file=$work/root.img,format=raw,if=virtio,snapshot=on,cache=unsafe" \
	</dev/null >"$work/serial.log" 2>&1 || rc=$?
boot_s=$(elapsed "$t_boot")
tr -d '\r' <"$work/serial.log" >"$work/serial.txt"
# The console's escape sequences may precede a line: match anywhere in it.
grep -a -o 'BOOTTEST .*' "$work/serial.txt" | sed 's/^BOOTTEST //' || true
verdict=$(grep -a -o 'MMIOD-QEMU-VERDICT [0-9]*' "$work/serial.txt" | head -n 1 | cut -d' ' -f2) || true
if [ -z "$verdict" ]; then
	tail -n 60 "$work/serial.txt" >&2
	[ "$rc" -eq 124 ] && die "no verdict within $timeout_s s (qemu killed)"
	die "the guest did not report a verdict (qemu exit status $rc)"
fi
skipped=$(grep -a -c 'BOOTTEST SKIP: ' "$work/serial.txt") || true
echo "boot_test_qemu: verdict $verdict failed check(s), $skipped skipped; boot + checks + power-off $boot_s s, total $(elapsed) s" >&2
[ "$verdict" -eq 0 ] || exit 1
echo "boot_test_qemu: PASS" >&2
