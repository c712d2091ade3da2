#!/usr/bin/env bash
# Checks the systemd integration files in systemd/ without starting anything:
#   1. systemd-analyze verify on mmiod.socket + mmiod.service
#   2. systemd-analyze security --offline=yes --threshold=15 (exposure <= 1.5)
#   3. sysusers.d and tmpfiles.d fragments parse, in an empty --root
#   4. the files agree with each other (socket group, daemon user, socket dir)
#
# usage: test_units.sh MMIOD_BINARY [SYSTEMD_DIR]
#   MMIOD_BINARY  the freshly built mmiod ($<TARGET_FILE:mmiod> under CTest).
#                 verify insists that ExecStart= exists, so the units are
#                 checked as copies whose ExecStart= points at it.
#   SYSTEMD_DIR   the directory holding the units (default: ../../systemd
#                 relative to this script).
#
# Exit 0 on success or when systemd-analyze is missing (prints "skipped: ..."),
# 1 on any failure.
set -euo pipefail

THRESHOLD=15 # systemd-analyze security counts tenths: 15 is an exposure of 1.5

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

if [[ $# -lt 1 || $# -gt 2 ]]; then
	printf 'usage: %s MMIOD_BINARY [SYSTEMD_DIR]\n' "$0" >&2
	exit 2
fi
mmiod_bin=$1
unit_dir=${2:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../../systemd" && pwd)"}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "skipped: systemd-analyze not found"
	exit 0
fi

[[ -x $mmiod_bin ]] || fail "mmiod binary '$mmiod_bin' is not executable"
mmiod_bin=$(cd "$(dirname "$mmiod_bin")" && pwd)/$(basename "$mmiod_bin")
for f in mmiod.service mmiod.socket mmiod.sysusers mmiod.tmpfiles; do
	[[ -f $unit_dir/$f ]] || fail "$unit_dir/$f not found"
done

# No colours, no pager: the output is parsed below.
export SYSTEMD_COLORS=0 SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER=cat

# "mmiod" in the name, so every message verify prints about a file in here
# mentions mmiod and is caught by the filter below.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmiod-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
units=$tmp/units
mkdir "$units"
cp "$unit_dir/mmiod.socket" "$units/"
# set_exec_start IN OUT BINARY: copy unit IN to OUT with the program of
# "ExecStart=/usr/sbin/mmiod ARGS" replaced by BINARY (plain bash, so no
# character of BINARY is special); fails if there is no such line.
set_exec_start() {
	local line found=0
	while IFS= read -r line; do
		if [[ $line == "ExecStart=/usr/sbin/mmiod "* ]]; then
			line="ExecStart=$3 ${line#"ExecStart=/usr/sbin/mmiod "}"
			found=1
		fi
		printf '%s\n' "$line"
	done <"$1" >"$2"
	((found)) || fail "$1: no 'ExecStart=/usr/sbin/mmiod ARGS' line to point at $3"
}
set_exec_start "$unit_dir/mmiod.service" "$units/mmiod.service" "$mmiod_bin"
echo "units: $unit_dir (checked as copies with ExecStart=$mmiod_bin)"

# run_verify UNIT_FILE...: systemd-analyze verify; sets verify_rc, verify_out.
run_verify() {
	verify_rc=0
	verify_out=$(systemd-analyze --no-pager verify "$@" 2>&1) || verify_rc=$?
}

# --- 1. verify -----------------------------------------------------------
# verify exits 0 even on unknown keys or unparsable values, so its messages
# count too: any line that mentions mmiod (our file names, our unit names, the
# temp dir) is a failure. Other lines are about the host's own units (verify
# loads sockets.target, sysinit.target, ... from the host) and are shown but
# ignored.
run_verify "$units/mmiod.socket" "$units/mmiod.service"
ours=$(grep -i 'mmiod' <<<"$verify_out" || true)
host=$(grep -vi 'mmiod' <<<"$verify_out" || true)
if [[ -n $host ]]; then
	printf 'verify: ignored (about host units, not ours):\n%s\n' "$host"
fi
if [[ $verify_rc -ne 0 || -n $ours ]]; then
	printf '%s\n' "$ours" >&2
	fail "systemd-analyze verify mmiod.socket mmiod.service (exit $verify_rc)"
fi
echo "ok: systemd-analyze verify mmiod.socket mmiod.service: clean"

# The check above is only worth something if verify really looks at the
# files here: it must reject the same service with a missing ExecStart binary.
mkdir "$tmp/bad"
cp "$units/mmiod.socket" "$tmp/bad/"
set_exec_start "$unit_dir/mmiod.service" "$tmp/bad/mmiod.service" "$tmp/bad/no-such-mmiod"
run_verify "$tmp/bad/mmiod.socket" "$tmp/bad/mmiod.service"
if [[ $verify_rc -eq 0 ]] || ! grep -q 'no-such-mmiod' <<<"$verify_out"; then
	fail "systemd-analyze verify accepted a missing ExecStart binary; it checks nothing here"
fi
echo "ok: systemd-analyze verify rejects a missing ExecStart binary (so the check above is real)"

# --- 2. security ---------------------------------------------------------
sec_rc=0
sec_out=$(systemd-analyze --no-pager security --offline=yes --threshold="$THRESHOLD" \
	"$units/mmiod.service" 2>"$tmp/security.err") || sec_rc=$?
sec_err=$(<"$tmp/security.err")
score=$(sed -n 's/.*Overall exposure level for mmiod\.service: \([0-9][0-9.]*\).*/\1/p' \
	<<<"$sec_out")
if [[ -n $sec_err ]]; then
	printf 'security: stderr:\n%s\n' "$sec_err"
fi
[[ -n $score ]] || {
	printf '%s\n' "$sec_out" >&2
	fail "systemd-analyze security printed no exposure level for mmiod.service"
}
if [[ $sec_rc -ne 0 ]]; then
	# Show what is exposed, so the failure says which setting to look at.
	grep '✗' <<<"$sec_out" >&2 || true
	fail "mmiod.service exposure $score is above $((THRESHOLD / 10)).$((THRESHOLD % 10)) (exit $sec_rc)"
fi
if grep -qi 'mmiod' <<<"$sec_err"; then
	fail "systemd-analyze security complained about mmiod.service"
fi
echo "ok: systemd-analyze security --offline=yes --threshold=$THRESHOLD: exposure $score"

# --- 3. sysusers.d and tmpfiles.d ----------------------------------------
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir "$tmp/sysroot"
	# An empty --root: every entry must be created, nothing is written.
	su_out=$(systemd-sysusers --dry-run --root="$tmp/sysroot" - \
		<"$unit_dir/mmiod.sysusers" 2>&1) ||
		{
			printf '%s\n' "$su_out" >&2
			fail "systemd-sysusers rejects mmiod.sysusers"
		}
	for want in "group 'mmio' " "group 'mmio-admin' " "user 'mmiod' "; do
		grep -q "Creating $want" <<<"$su_out" ||
			fail "mmiod.sysusers does not create $want"
	done
	echo "ok: mmiod.sysusers creates user mmiod, groups mmio and mmio-admin"
else
	echo "skipped: systemd-sysusers not found"
fi

if ! command -v systemd-tmpfiles >/dev/null 2>&1; then
	echo "skipped: systemd-tmpfiles not found"
elif [[ $(id -u) -ne 0 ]]; then
	# It would chown to root inside the temp root, which only root may do.
	echo "skipped: systemd-tmpfiles check needs root"
else
	mkdir -p "$tmp/tmproot"
	tf_out=$(systemd-tmpfiles --root="$tmp/tmproot" --create - \
		<"$unit_dir/mmiod.tmpfiles" 2>&1) ||
		{
			printf '%s\n' "$tf_out" >&2
			fail "systemd-tmpfiles rejects mmiod.tmpfiles"
		}
	[[ -d $tmp/tmproot/run/mmiod ]] || fail "mmiod.tmpfiles does not create /run/mmiod"
	mode=$(stat -c %a "$tmp/tmproot/run/mmiod")
	[[ $mode == 755 ]] || fail "mmiod.tmpfiles makes /run/mmiod mode $mode, not 755"
	echo "ok: mmiod.tmpfiles creates /run/mmiod 0755 (in an empty --root)"
fi

# --- 4. the files agree --------------------------------------------------
# value FILE KEY: the last KEY= of a unit file.
value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
sock=$(value "$unit_dir/mmiod.socket" ListenSequentialPacket)
[[ $sock == /run/mmiod/mmiod.sock ]] ||
	fail "mmiod.socket listens on '$sock', not /run/mmiod/mmiod.sock"
[[ $(value "$unit_dir/mmiod.socket" SocketMode) == 0660 ]] ||
	fail "mmiod.socket: SocketMode is not 0660"
group=$(value "$unit_dir/mmiod.socket" SocketGroup)
grep -Eq "^g[[:space:]]+${group}[[:space:]]" "$unit_dir/mmiod.sysusers" ||
	fail "mmiod.socket: SocketGroup=$group is not created by mmiod.sysusers"
grep -Eq "^u[[:space:]]+mmiod[[:space:]]" "$unit_dir/mmiod.sysusers" ||
	fail "mmiod.sysusers does not create the daemon's user mmiod"
grep -Eq "^d[[:space:]]+$(dirname "$sock")[[:space:]]" "$unit_dir/mmiod.tmpfiles" ||
	fail "mmiod.tmpfiles does not create $(dirname "$sock")"
grep -Eq '^Requires=.*mmiod\.socket' "$unit_dir/mmiod.service" ||
	fail "mmiod.service does not Require mmiod.socket"
echo "ok: socket $sock (0660, group $group) matches sysusers.d and tmpfiles.d"

# A config error (exit status 2) must not restart-loop; file regions live in
# the state directory, the only one ProtectSystem=strict leaves writable for them.
[[ $(value "$unit_dir/mmiod.service" RestartPreventExitStatus) == 2 ]] ||
	fail "mmiod.service: no RestartPreventExitStatus=2 (a config error would restart every RestartSec)"
state=$(value "$unit_dir/mmiod.service" StateDirectory)
[[ $state == mmiod ]] || fail "mmiod.service: StateDirectory is '$state', not mmiod"
conf=$unit_dir/../etc/mmiod.conf
if [[ -f $conf ]]; then
	# Every file path of the example config, commented out or not.
	while IFS= read -r p; do
		[[ $p == /var/lib/$state/* ]] ||
			fail "$conf: region path $p is not under /var/lib/$state (StateDirectory=), so mmiod could not open it read-write"
	done < <(sed -n 's/^[#[:space:]]*path = "\([^"]*\)".*/\1/p' "$conf" | grep -v '^/run/')
fi
echo "ok: RestartPreventExitStatus=2; StateDirectory=$state holds the example config's file region"

echo "PASS: mmiod units verified; exposure $score (threshold $((THRESHOLD / 10)).$((THRESHOLD % 10)))"
