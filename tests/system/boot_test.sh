#!/usr/bin/env bash
# Boot test: installs the Debian packages into a minimal Debian 12 root file
# system, boots it with systemd as PID 1 in systemd-nspawn, and checks mmiod
# as an administrator would meet it. nspawn because it boots a real systemd in
# about a second with no VM; what it does not enforce (the device cgroup) is
# left to boot_test_qemu.sh.
#
#   tests/system/boot_test.sh [DEBDIR]
#
# DEBDIR holds mmiod_*.deb and libmmio-client0_*.deb (packaging/build-debs.sh
# writes them); without it they are built first, into a temporary directory.
#
# In the guest (tests run by a unit, mmiod-boottest.service):
#   - mmiod.socket is active, mmiod.service is not until the first connect;
#   - the socket is 0660 root:mmio;
#   - user "alice" (group mmio) writes and reads a register of the simulated
#     region sim0 with mmioctl, which starts mmiod.service;
#   - the shipped config's example file region "regs" (uncommented, its file
#     created as its comment says, in /var/lib/mmiod): "gpio-daemon" stores
#     through its rw grant, alice reads the value back, her store is refused,
#     and the value is in the file; /var/lib/mmiod is the unit's 0700 state
#     directory;
#   - a lease alice holds shows up in alice's "mmioctl leases";
#   - a script of alice's runs through the shared-memory ring (MMIO_FAST_PATH=on)
#     and mmiod's journal shows the ring opened;
#   - a script of alice's holding a lease and a ring keeps both across
#     "systemctl restart mmiod", a reinstall of the .deb and a SIGKILL of mmiod
#     (Restart=on-failure recovers them from the fd store); with the kept state
#     corrupted, a SIGKILL closes her connection and mmiod starts clean;
#   - user "bob" (not in mmio) is refused;
#   - after a narrowed policy (sim0 read-only) and "systemctl reload mmiod",
#     alice's store fails with PERMISSION_DENIED, her load still works, and
#     mmiod kept its PID;
#   - "systemctl stop mmiod" leaves no mmiod process, "systemctl stop
#     mmiod.socket" no socket node;
#   - with a config error mmiod.service fails with exit status 2 and is not
#     restarted (RestartPreventExitStatus=2).
# The guest's verdict (the number of failed checks) comes back as nspawn's
# exit status through "systemctl exit N".
#
# Needs root, systemd-nspawn (systemd-container), mmdebstrap and zstd, and the
# first time the Debian mirror of the host's apt sources. Exit status: 0 all
# checks passed, 1 a check failed, 77 skipped (not root or tools missing), 2
# the test failed to run (install or boot failure), 3 the base system could not
# be bootstrapped (no Debian mirror reachable): nothing about mmiod was tested.
#
# The base root file system (mmdebstrap minbase + systemd, systemd-sysv, dbus,
# libpam-systemd and mmiod's run-time dependencies) is cached as a tarball in
# $MMIOD_BOOTTEST_CACHE (default /var/cache/mmiod-boottest), keyed on that
# package list; MMIOD_BOOTTEST_REBUILD=1 rebuilds it (e.g. after a Debian
# point release). MMIOD_BOOTTEST_SOURCES names the apt deb822 sources file to
# bootstrap from (default: the host's Debian one). MMIOD_BOOTTEST_KEEP=1
# keeps the guest tree and log.
set -euo pipefail

skip() {
	echo "boot_test: SKIP: $*" >&2
	exit 77
}

die() {
	echo "boot_test: ERROR: $*" >&2
	exit 2
}

# The base system could not be fetched (no mirror, no network): nothing about mmiod was tested.
cannot_bootstrap() {
	echo "boot_test: CANNOT BOOTSTRAP: $*" >&2
	exit 3
}

[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn and mmdebstrap --mode=root)"
for tool in systemd-nspawn mmdebstrap zstd dpkg-deb; do
	command -v "$tool" >/dev/null || skip "$tool is missing (apt-get install systemd-container mmdebstrap zstd)"
done

src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MMIOD_BOOTTEST_CACHE:-/var/cache/mmiod-boottest}
t_start=$(date +%s.%N)

elapsed() {
	echo "$(date +%s.%N) $t_start" | awk '{printf "%.1f", $1 - $2}'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/mmiod-boottest.XXXXXX")
cleanup() {
	if [ "${MMIOD_BOOTTEST_KEEP:-0}" = 1 ]; then
		echo "boot_test: kept $work" >&2
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
	echo "boot_test: building the packages (packaging/build-debs.sh)" >&2
	"$src/packaging/build-debs.sh" "$debdir" >"$work/build-debs.log" 2>&1 ||
		{ tail -n 30 "$work/build-debs.log" >&2; die "packaging/build-debs.sh failed (log above)"; }
fi
debs=()
for p in mmiod libmmio-client0; do
	f=$(ls "$debdir/${p}_"*.deb 2>/dev/null | grep -v dbgsym | head -n 1) || true
	[ -n "$f" ] || die "no ${p}_*.deb in $debdir"
	debs+=("$f")
done

# --- The cached base -----------------------------------------------------------
# Run-time dependencies of the packages, taken from their Depends (first
# alternative, version constraints dropped, our own packages left out), so the
# guest needs no mirror at test time.
deps=$(for f in "${debs[@]}"; do dpkg-deb -f "$f" Depends; done |
	tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
	grep -v -E '^(|mmiod|libmmio-client0)$' | paste -sd, -)
include=$(echo "systemd,systemd-sysv,dbus,libpam-systemd,$deps" | tr ',' '\n' | sort -u | paste -sd, -)
key=$(echo "bookworm minbase $include" | sha256sum | cut -c1-16)
base="$cache/base-$key.tar.zst"

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
	echo "boot_test: bootstrapping the base ($include) from $sources" >&2
	mkdir -p "$cache"
	# The fstab stays empty: a "/" line would make the guest's
	# systemd-remount-fs remount the host's root.
	mmdebstrap --mode=root --variant=minbase --include="$include" \
		--customize-hook='systemctl --root="$1" mask e2scrub_reap.service' \
		--customize-hook='echo mmiod-boottest > "$1"/etc/hostname' \
		--customize-hook=': > "$1"/etc/fstab' \
		bookworm "$work/base" "$sources" >"$work/mmdebstrap.log" 2>&1 ||
		{ tail -n 30 "$work/mmdebstrap.log" >&2; cannot_bootstrap "mmdebstrap failed (log above)"; }
	tar -C "$work/base" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$work/base"
	echo "boot_test: cached $base ($(elapsed) s)" >&2
fi

# --- The guest tree: base + packages + test payload ------------------------------
tree="$work/tree"
mkdir "$tree"
zstd -q -dc "$base" | tar -C "$tree" --numeric-owner -xf -
[ ! -s "$tree/etc/fstab" ] || die "the guest's fstab is not empty"

mkdir -p "$tree/tmp/debs"
cp "${debs[@]}" "$tree/tmp/debs/"
# Maintainer scripts run in the chroot: systemd-sysusers creates mmiod, mmio
# and mmio-admin; deb-systemd-helper enables mmiod.socket (nothing is started:
# no systemd runs there).
chroot "$tree" dpkg -i "/tmp/debs/$(basename "${debs[1]}")" "/tmp/debs/$(basename "${debs[0]}")" \
	>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -i in the guest failed"; }
# The mmiod package again, for the upgrade check (installing the same version over itself
# runs the maintainer scripts of an upgrade).
mkdir -p "$tree/usr/local/lib/mmiod-boottest"
cp "${debs[0]}" "$tree/usr/local/lib/mmiod-boottest/mmiod.deb"
rm -rf "$tree/tmp/debs"
chroot "$tree" useradd --no-create-home --groups mmio alice
chroot "$tree" useradd --no-create-home bob
# The user of the rw grant in the shipped example file region.
chroot "$tree" useradd --no-create-home --groups mmio gpio-daemon

# The example file region of the shipped config, as an administrator enables
# it: the commented-out block, uncommented, and its file created with the
# commands its comment gives.
shipped="$tree/etc/mmiod/mmiod.conf"
regs=$(sed -n '/^  # {$/,/^  # }$/s/^  # //p' "$shipped")
grep -q '^  path = "/var/lib/mmiod/regs.bin";$' <<<"$regs" ||
	die "no commented-out region with path /var/lib/mmiod/regs.bin in the shipped /etc/mmiod/mmiod.conf"
if ! grep -qF 'install -d -m 0700 /var/lib/mmiod' "$shipped" ||
	! grep -qF 'truncate -s 4096 /var/lib/mmiod/regs.bin' "$shipped"; then
	die "the shipped /etc/mmiod/mmiod.conf no longer says how to create /var/lib/mmiod/regs.bin"
fi
chroot "$tree" install -d -m 0700 /var/lib/mmiod
chroot "$tree" truncate -s 4096 /var/lib/mmiod/regs.bin

# The policy under test: the simulated region, rw for group mmio, and the
# example file region; and the narrowed one the reload check switches to
# (sim0 read-only).
policy() {
	cat <<EOF
# Written by tests/system/boot_test.sh.
user = "mmiod";
admin_group = "mmio-admin";
regions = (
  {
    name = "sim0";
    type = "mem";
    size = 0x10000;
    grants = ( { group = "mmio"; access = "$1"; } );
  },
$regs
);
EOF
}
policy rw >"$tree/etc/mmiod/mmiod.conf"
policy ro >"$tree/etc/mmiod/mmiod.conf.narrow"
chmod 0644 "$tree/etc/mmiod/mmiod.conf" "$tree/etc/mmiod/mmiod.conf.narrow"

mkdir -p "$tree/usr/local/lib/mmiod-boottest"
cat >"$tree/usr/local/lib/mmiod-boottest/checks.sh" <<'GUEST'
#!/bin/bash
# Runs in the guest as mmiod-boottest.service; exit status = failed checks.
# Every result line also goes to a file, which the host reads after the
# guest has exited: console output can interleave with the getty's.
log=/var/log/mmiod-boottest.log
: >"$log"
say() { echo "BOOTTEST $*" | tee -a "$log"; }
fails=0
pass() { say "PASS: $*"; }
fail() { say "FAIL: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }
mmiod_pids() { # PIDs of processes named mmiod
	local d
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = mmiod ] && echo "${d#/proc/}"
	done
	return 0
}

state=$(timeout 120 systemctl is-system-running --wait)
check "system is running (is-system-running: $state)" test "$state" = running
[ "$state" = running ] || systemctl --failed --no-pager

check "mmiod.socket is active" test "$(systemctl is-active mmiod.socket)" = active
check "mmiod.service is not active before the first connect" \
	test "$(systemctl is-active mmiod.service)" = inactive
check "no mmiod process before the first connect" test -z "$(mmiod_pids)"
check "socket is 660 root:mmio" \
	test "$(stat -c '%a %U:%G' /run/mmiod/mmiod.sock 2>&1)" = "660 root:mmio"

check "alice (group mmio) writes sim0" as alice mmioctl write sim0 0x10 0xdeadbeef
v=$(as alice mmioctl read sim0 0x10 2>&1)
check "alice reads back 0xdeadbeef (got '$v')" test "$v" = 0xdeadbeef
check "mmiod.service is active after the first connect" \
	test "$(systemctl is-active mmiod.service)" = active
main_pid=$(systemctl show -P MainPID mmiod.service)
check "mmiod (pid $main_pid) runs as user mmiod" test "$(stat -c %U "/proc/$main_pid")" = mmiod

# The file region in /var/lib/mmiod: ProtectSystem=strict leaves it writable
# only as the unit's StateDirectory=; without that mmiod would not have started.
check "/var/lib/mmiod is 700 root:root" \
	test "$(stat -c '%a %U:%G' /var/lib/mmiod 2>&1)" = "700 root:root"
check "gpio-daemon writes regs 0x100 (its rw grant)" as gpio-daemon mmioctl write regs 0x100 0xcafef00d
v=$(as alice mmioctl read regs 0x100 2>&1)
check "alice reads regs 0x100 back as 0xcafef00d (got '$v')" test "$v" = 0xcafef00d
out=$(as alice mmioctl write regs 0x100 0x1 2>&1)
check "alice's store to regs is refused: her grant is ro ($out)" grep -q PERMISSION_DENIED <<<"$out"
v=$(od -An -tx4 -j256 -N4 /var/lib/mmiod/regs.bin | tr -d ' ')
check "the store is in /var/lib/mmiod/regs.bin (got '$v')" test "$v" = cafef00d

# A lease held on an open connection shows in "mmioctl leases".
rm -f /tmp/run.in /tmp/run.out
mkfifo /tmp/run.in
chmod 0666 /tmp/run.in
as alice mmioctl run /tmp/run.in >/tmp/run.out 2>&1 &
exec 3>/tmp/run.in
echo "acquire a sim0 0x100 16" >&3
for _ in $(seq 50); do grep -q '^ok' /tmp/run.out && break; sleep 0.1; done
check "alice acquires a lease in a script ($(head -c 200 /tmp/run.out))" grep -q '^ok' /tmp/run.out
leases=$(as alice mmioctl leases 2>&1)
say "mmioctl leases as alice:"
sed 's/^/BOOTTEST   /' <<<"$leases" | tee -a "$log"
alice_uid=$(id -u alice)
check "alice's lease appears in mmioctl leases" \
	awk -v uid="$alice_uid" '$0 ~ /sim0/ && $0 ~ /0x100/ { for (i = 1; i <= NF; i++) if ($i == uid) f = 1 } END { exit !f }' <<<"$leases"
exec 3>&-
wait

# The shared-memory fast path under the unit's sandbox (seccomp filter, no new
# privileges): what goes through the ring reads back, and mmiod logged the ring.
out=$(printf 'acquire r sim0 0x200 8\nstore32 r 0 0x600dcafe\nload32 r 0\n' |
	as alice env MMIO_FAST_PATH=on mmioctl run 2>&1)
check "alice's script through the ring reads back 0x600dcafe ($(tr '\n' ' ' <<<"$out"))" \
	grep -q '^ok 0x600dcafe$' <<<"$out"
journalctl --sync
check "mmiod opened a ring for it (journal)" \
	sh -c 'journalctl -b --no-pager -u mmiod.service | grep -q "ring of 64 entries open"'

# Restart without revoking (mmiod(8), RESTART): a client holding a lease and a ring keeps
# both across systemctl restart and across an upgrade of the package (the same .deb again).
rm -f /tmp/rs.in /tmp/rs.out
mkfifo /tmp/rs.in
chmod 0666 /tmp/rs.in
as alice env MMIO_FAST_PATH=on mmioctl run /tmp/rs.in >/tmp/rs.out 2>&1 &
rs_pid=$!
exec 4>/tmp/rs.in
seen() { # seen PATTERN COUNT: wait (5 s at most) until /tmp/rs.out has COUNT lines matching
	for _ in $(seq 50); do
		[ "$(grep -c -e "$1" /tmp/rs.out)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
printf 'acquire k sim0 0x300 16\nstore32 k 0 0x5eed0001\nload32 k 0\n' >&4
check "alice's script holds a lease and a ring ($(tr '\n' ' ' </tmp/rs.out))" seen '^ok 0x5eed0001$' 1
pid_before=$(systemctl show -P MainPID mmiod.service)
systemctl restart mmiod
pid_after=$(systemctl show -P MainPID mmiod.service)
check "systemctl restart started a new mmiod (pid $pid_before, now $pid_after)" \
	test "$pid_after" != "$pid_before" -a "$pid_after" != 0
echo 'load32 k 0' >&4
check "after systemctl restart, the client's next op (through its ring) succeeds ($(tr '\n' ' ' </tmp/rs.out))" \
	seen '^ok 0x5eed0001$' 2
journalctl --sync
check "the new mmiod restored the connection and its lease (journal)" \
	sh -c 'journalctl -b --no-pager -u mmiod.service | grep -q "restart: 1 connection and 1 lease restored"'
pid_before=$pid_after
dpkg -i /usr/local/lib/mmiod-boottest/mmiod.deb >/tmp/dpkg.out 2>&1
rc=$?
check "installing the mmiod package again succeeds (rc $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/BOOTTEST   dpkg: /' /tmp/dpkg.out | tail -n 20 | tee -a "$log"
pid_after=$(systemctl show -P MainPID mmiod.service)
say "after the upgrade: mmiod pid $pid_after (was $pid_before)"
printf 'store32 k 4 0x5eed0002\nload32 k 4\nload32 k 0\n' >&4
check "after the upgrade, the client's next ops succeed ($(tr '\n' ' ' </tmp/rs.out))" \
	sh -c 'seen() { for _ in $(seq 50); do [ "$(grep -c -e "$1" /tmp/rs.out)" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }; seen "^ok 0x5eed0002$" 1 && seen "^ok 0x5eed0001$" 3'
# A crash (mmiod(8), RESTART; docs/RESTART.md, "Crash"): SIGKILL, and Restart=on-failure
# starts a successor that recovers the connection, the lease and the ring from the state kept
# in systemd's store as it changed.
new_pid() { # new_pid OLD: wait (10 s at most) until systemd runs an mmiod other than OLD
	for _ in $(seq 100); do
		p=$(systemctl show -P MainPID mmiod.service)
		[ "$p" != "$1" ] && [ "$p" != 0 ] && systemctl -q is-active mmiod.service && return 0
		sleep 0.1
	done
	return 1
}
pid_before=$(systemctl show -P MainPID mmiod.service)
systemctl kill -s KILL mmiod.service
check "after SIGKILL, systemd started a new mmiod (was $pid_before)" new_pid "$pid_before"
printf 'store32 k 8 0x5eed0003\nload32 k 8\nload32 k 0\n' >&4
check "after a crash, the client's next ops succeed ($(tr '\n' ' ' </tmp/rs.out))" \
	sh -c 'seen() { for _ in $(seq 50); do [ "$(grep -c -e "$1" /tmp/rs.out)" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }; seen "^ok 0x5eed0003$" 1 && seen "^ok 0x5eed0001$" 4'
journalctl --sync
check "the new mmiod recovered the connection and its lease (journal)" \
	sh -c 'journalctl -b --no-pager -u mmiod.service | grep -q "recovered after a crash: 1 connection and 1 lease restored"'
echo 'release k' >&4
exec 4>&-
wait "$rs_pid"
rc=$?
check "the script ended without an error (rc $rc)" test "$rc" = 0

# A crash whose kept state is corrupted: refused, so every connection is closed (the client
# hears at once) and the successor starts clean.
rm -f /tmp/rs.in /tmp/rs.out
mkfifo /tmp/rs.in
chmod 0666 /tmp/rs.in
as alice mmioctl run /tmp/rs.in >/tmp/rs.out 2>&1 &
rs_pid=$!
exec 4>/tmp/rs.in
printf 'acquire k sim0 0x300 16\nload32 k 0\n' >&4
check "alice's script holds a lease again ($(tr '\n' ' ' </tmp/rs.out))" seen '^ok 0x' 1
pid_before=$(systemctl show -P MainPID mmiod.service)
live=""
for f in /proc/"$pid_before"/fd/*; do
	case "$(readlink "$f")" in *mmiod-live*) live=$f ;; esac
done
check "mmiod keeps its state in a memfd ($live)" test -n "$live"
# Everything after the header page: the slots, whichever is current.
size=$(stat -L -c %s "$live")
dd if=/dev/zero of="$live" bs=4096 seek=1 count=$((size / 4096)) conv=notrunc 2>/dev/null
systemctl kill -s KILL mmiod.service
check "after SIGKILL, systemd started a new mmiod (was $pid_before)" new_pid "$pid_before"
echo 'load32 k 0' >&4
exec 4>&-
wait "$rs_pid"
rc=$?
check "with the kept state corrupted, the client's connection is closed (rc $rc)" test "$rc" != 0
journalctl --sync
check "the new mmiod refused the state (journal)" \
	sh -c 'journalctl -b --no-pager -u mmiod.service | grep -q "state in systemd.s store is refused"'
out=$(printf 'acquire k sim0 0x300 16\nrelease k\n' | as alice mmioctl run 2>&1)
check "and started clean: the range is free again ($(tr '\n' ' ' <<<"$out"))" \
	grep -q '^ok' <<<"$out"

out=$(as bob mmioctl regions 2>&1)
rc=$?
check "bob (not in mmio) is refused (rc $rc: $out)" test "$rc" -ne 0

pid_before=$(systemctl show -P MainPID mmiod.service)
cp /etc/mmiod/mmiod.conf.narrow /etc/mmiod/mmiod.conf
systemctl reload mmiod
# systemd 252 returns from reload once the signal is sent: wait for the effect.
for _ in $(seq 50); do
	out=$(as alice mmioctl write sim0 0x10 0x1 2>&1) || break
	sleep 0.1
done
check "after reload, alice's store is refused with PERMISSION_DENIED ($out)" \
	grep -q PERMISSION_DENIED <<<"$out"
v=$(as alice mmioctl read sim0 0x10 2>&1)
check "after reload, alice still reads (got '$v')" grep -q -E '^0x[0-9a-f]+$' <<<"$v"
check "reload kept mmiod's PID ($pid_before)" \
	test "$(systemctl show -P MainPID mmiod.service)" = "$pid_before"

systemctl stop mmiod
check "after systemctl stop mmiod, the service is inactive" \
	test "$(systemctl is-active mmiod.service)" = inactive
check "after systemctl stop mmiod, no mmiod process is left" test -z "$(mmiod_pids)"
systemctl stop mmiod.socket
check "after systemctl stop mmiod.socket, the socket unit is inactive" \
	test "$(systemctl is-active mmiod.socket)" = inactive
check "after systemctl stop mmiod.socket, no socket node is left" test ! -e /run/mmiod/mmiod.sock
check "and still no mmiod process" test -z "$(mmiod_pids)"

# A config error is exit status 2, which must not make systemd restart mmiod
# every RestartSec (1 s) until the start limit.
cp /etc/mmiod/mmiod.conf /etc/mmiod/mmiod.conf.good
# The crashes above counted restarts; a start by hand may or may not zero the count first.
restarts_before=$(systemctl show -P NRestarts mmiod.service)
echo 'regions = (' >/etc/mmiod/mmiod.conf
check "with a config error, systemctl start mmiod fails" sh -c '! systemctl start mmiod.service 2>/dev/null'
sleep 3
v=$(systemctl show -P ExecMainStatus mmiod.service)
check "mmiod exited with status 2 (ExecMainStatus=$v)" test "$v" = 2
v=$(systemctl show -P NRestarts mmiod.service)
check "and was not restarted (NRestarts=$v, $restarts_before before)" \
	test "$v" = 0 -o "$v" = "$restarts_before"
v=$(systemctl show -P ActiveState mmiod.service)
check "mmiod.service stays failed (ActiveState=$v)" test "$v" = failed
journalctl --sync
check "the journal has mmiod's reason" \
	sh -c 'journalctl -b --no-pager -u mmiod.service | grep -q "mmiod.conf:2: syntax error"'
mv /etc/mmiod/mmiod.conf.good /etc/mmiod/mmiod.conf
systemctl reset-failed mmiod.service
systemctl stop mmiod.socket

if [ "$fails" -ne 0 ]; then
	journalctl -b --no-pager -u mmiod.service -u mmiod.socket | tail -n 40 |
		sed 's/^/BOOTTEST   journal: /' | tee -a "$log"
fi
say "EXIT $fails"
systemctl --no-block exit "$fails"
GUEST
chmod 0755 "$tree/usr/local/lib/mmiod-boottest/checks.sh"

# Type=exec, not oneshot: a oneshot's start job would keep
# is-system-running --wait at "starting" forever.
cat >"$tree/etc/systemd/system/mmiod-boottest.service" <<'EOF'
[Unit]
Description=mmiod boot test checks
After=basic.target

[Service]
Type=exec
ExecStart=/usr/local/lib/mmiod-boottest/checks.sh
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -s ../mmiod-boottest.service "$tree/etc/systemd/system/multi-user.target.wants/"
echo "boot_test: guest ready ($(elapsed) s); booting" >&2

# --- Boot --------------------------------------------------------------------------
t_boot=$(date +%s.%N)
rc=0
timeout 300 systemd-nspawn --quiet --directory="$tree" --boot \
	--register=no --keep-unit --console=read-only --private-network \
	--machine="mmiod-boottest-$$" --kill-signal=SIGRTMIN+3 \
	</dev/null >"$work/console.log" 2>&1 || rc=$?
tr -d '\r' <"$work/console.log" >"$work/console.txt"
boot_s=$(echo "$(date +%s.%N) $t_boot" | awk '{printf "%.1f", $1 - $2}')
result="$tree/var/log/mmiod-boottest.log"
[ -f "$result" ] && sed 's/^BOOTTEST //' "$result"
if ! grep -q "^BOOTTEST EXIT $rc\$" "$result" 2>/dev/null; then
	tail -n 60 "$work/console.txt" >&2
	die "the guest did not report a verdict (nspawn exit status $rc)"
fi
echo "boot_test: nspawn exit status $rc; boot + checks + power-off $boot_s s, total $(elapsed) s" >&2
[ "$rc" -eq 0 ] || exit 1
echo "boot_test: PASS" >&2
