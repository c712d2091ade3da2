# shellcheck shell=bash
# The QEMU boot tier's checks on QEMU's "edu" PCI device (QEMU's
# docs/specs/edu.rst), sourced by the guest's checks.sh after its own checks,
# with say/pass/fail/skip/check/as from there; runs as root in the VM, never
# on a host. tests/system/boot_test_qemu.sh copies it into the guest.
#
# edu's BAR0 (1 MiB): 0x00 identification (reads 0x010000ed), 0x04 liveness
# (reads the inverse of what was stored), 0x08 factorial, 0x20 status (bit 0
# busy), 0x24 interrupt status, 0x60 raise, 0x64 acknowledge. Below 0x80 the
# device decodes 4-byte accesses only; from 0x80 (DMA) 4 and 8 bytes.
#
# Through each backend, from the installed packages under the real
# mmiod.service (its DevicePolicy=closed and DeviceAllow= as shipped):
#   pci     the BAR's resource0, no driver bound;
#   devmem  /dev/mem at the BAR's physical address; what STRICT_DEVMEM and
#           IO_STRICT_DEVMEM refuse fails the start with the reason;
#   uio     uio_pci_generic bound: its interrupt, end to end.
# The drivers edu_factorial and edu_irq (tests/system/*.c, compiled on the
# host against the .debs) run as "alice", a member of group mmio.

drivers=/usr/local/lib/mmiod-boottest
conf=/etc/mmiod/mmiod.conf

# edu_conf REGION-LINES: mmiod.conf with these regions, all granted to group mmio.
edu_conf() {
	cat >"$conf" <<EOF
# Written by tests/system/qemu_edu_checks.sh.
user = "mmiod";
admin_group = "mmio-admin";
regions = (
$1
);
EOF
	chmod 0644 "$conf"
}

# start_mmiod: (re)starts mmiod.service on the config; 0 if it is running.
start_mmiod() {
	systemctl stop mmiod.service 2>/dev/null
	systemctl reset-failed mmiod.service 2>/dev/null
	journal_since=$(date '+%Y-%m-%d %H:%M:%S')
	systemctl start mmiod.socket mmiod.service 2>/dev/null
}

# mmiod_journal: what mmiod.service logged since the last start_mmiod.
mmiod_journal() {
	journalctl --no-pager -o cat -u mmiod.service --since "$journal_since" 2>&1
}

# show_journal PATTERN: journal lines of the last start that match, for the log.
show_journal() {
	mmiod_journal | grep -E "$1" | head -n 3 | sed 's/^/BOOTTEST   journal: /' >/dev/ttyS0
}

# refused_start WHAT PATTERN: mmiod did not start, exited (no crash) and logged PATTERN.
refused_start() {
	local what=$1 pattern=$2 result
	result=$(systemctl show -P Result mmiod.service)
	show_journal "region '"
	check "$what: mmiod.service exits with an error, not a signal (Result=$result)" \
		test "$result" = exit-code
	check "$what: the journal says why ($pattern)" grep -q -E "$pattern" <<<"$(mmiod_journal)"
}

# iomem_start PATTERN MIN: the start of the first /proc/iomem range named PATTERN at or above MIN.
iomem_start() {
	local line range start
	while IFS= read -r line; do
		[[ $line == *" : "*$1* ]] || continue
		range=${line%% :*}
		range=${range#"${range%%[![:space:]]*}"} # nested ranges are indented
		start=$((16#${range%%-*}))
		if [ "$start" -ge $(($2)) ]; then
			printf '0x%x\n' "$start"
			return
		fi
	done </proc/iomem
}

# read_is REGION OFFSET WANT [WIDTH]: alice reads WANT.
read_is() {
	local v
	v=$(as alice mmioctl read "$1" "$2" -w "${4:-32}" 2>&1)
	check "$1: read $2 (${4:-32} bits) is $3 (got '$v')" test "$v" = "$3"
}

# liveness REGION VALUE: a store to 0x04 reads back as its bitwise inverse.
liveness() {
	local want
	want=$(printf '0x%08x' $((~$2 & 0xffffffff)))
	check "$1: store $2 to 0x04" as alice mmioctl write "$1" 0x4 "$2"
	read_is "$1" 0x4 "$want"
}

# factorial REGION N WANT: the driver edu_factorial prints "N! = WANT".
factorial() {
	if [ ! -x "$drivers/edu_factorial" ]; then
		skip "$1: edu_factorial: $(cat "$drivers/drivers.skip" 2>/dev/null)"
		return
	fi
	local out
	out=$(as alice "$drivers/edu_factorial" "$1" "$2" 2>&1)
	check "$1: edu_factorial $2 prints '$2! = $3' (got '$out')" test "$out" = "$2! = $3"
}

# The device, by vendor:device.
edu=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$d
		break
	fi
done
if [ -z "$edu" ]; then
	skip "edu: no PCI device 1234:11e8 in the guest (QEMU without -device edu): no pci, devmem or uio check ran"
	return 0
fi
bdf=$(basename "$edu")
read -r bar_start bar_end bar_flags <"$edu/resource"
bar_size=$((bar_end - bar_start + 1))
bar=$(printf '0x%x' "$bar_start")
say "edu: $bdf, BAR0 at $bar, $bar_size bytes (flags $bar_flags); driver: $(basename "$(readlink "$edu/driver" 2>/dev/null)" 2>/dev/null || echo none)"
check "edu: BAR0 is a 1 MiB memory BAR" test "$bar_size" -eq $((1 << 20)) -a $((bar_flags & 0x200)) -ne 0
check "edu: no driver is bound" test ! -e "$edu/driver"
# Memory decoding (PCI_COMMAND bit 1): the firmware set it; else every load reads all ones.
cmd=$(od -A n -t u2 -j 4 -N 2 "$edu/config" | tr -d ' ')
check "edu: memory decoding is on (PCI command 0x$(printf '%04x' "$cmd"))" test $((cmd & 2)) -ne 0

# --- pci: the BAR through sysfs -------------------------------------------------
edu_conf "  { name = \"edu\"; type = \"pci\"; device = \"$bdf\"; bar = 0; size = $bar_size;
    grants = ( { group = \"mmio\"; access = \"rw\"; } ); }"
start_mmiod
check "pci: mmiod.service starts with region edu (pci $bdf BAR 0)" \
	test "$(systemctl is-active mmiod.service)" = active
regions=$(as alice mmioctl regions -q 2>&1)
check "pci: region edu is 0x100000 bytes at $bar (${regions//$'\n'/; })" \
	grep -q -E "^edu +pci +0x0*100000 +$bar " <<<"$regions"
read_is edu 0x0 0x010000ed
liveness edu 0x12345678
liveness edu 0xa5a5a5a5
# Past the BAR's end: root, whose implicit grant is the whole region, gets
# OUT_OF_RANGE; alice's grant is checked first and does not cover it.
out=$(mmioctl dump edu 0xff000 0x2000 2>&1)
check "pci: a lease past the BAR's end (root: 0xff000 + 0x2000) is OUT_OF_RANGE ($out)" \
	grep -q OUT_OF_RANGE <<<"$out"
out=$(mmioctl read edu 0x100000 2>&1)
check "pci: a read at 0x100000 (root: the BAR's end) is OUT_OF_RANGE ($out)" \
	grep -q OUT_OF_RANGE <<<"$out"
out=$(as alice mmioctl read edu 0x100000 2>&1)
check "pci: alice's read at 0x100000 is PERMISSION_DENIED: no grant covers it ($out)" \
	grep -q PERMISSION_DENIED <<<"$out"
# Below 0x80 edu decodes 4-byte accesses only; mmiod makes exactly the access
# asked for, so the device's own answer comes back: an 8-byte load all ones,
# an 8-byte store ignored. From 0x80 (DMA registers) 8 bytes are decoded.
read_is edu 0x0 0xffffffffffffffff 64
check "pci: an 8-byte store to 0x0 (over 0x04) succeeds" \
	as alice mmioctl write edu 0x0 0x0123456789abcdef -w 64
read_is edu 0x4 0x5a5a5a5a
check "pci: an 8-byte store to 0x80 (DMA source)" \
	as alice mmioctl write edu 0x80 0x0000000012345678 -w 64
read_is edu 0x80 0x0000000012345678 64
for w in 8 16; do
	v=$(as alice mmioctl read edu 0x0 -w "$w" 2>&1)
	say "  edu 0x0 read with $w bits: $v (the device decodes 4-byte accesses there)"
done
read_is edu 0x0 0x00 8
read_is edu 0x0 0x0000 16
factorial edu 10 3628800
factorial edu 12 479001600

# --- devmem: the same registers through /dev/mem ----------------------------------
config=$(ls /boot/config-* 2>/dev/null | head -n 1)
strict=$(grep -h -E '^CONFIG_(IO_)?STRICT_DEVMEM=' "$config" 2>/dev/null | paste -sd' ')
say "devmem: kernel $(uname -r): ${strict:-no STRICT_DEVMEM}"
edu_conf "  { name = \"edu_mem\"; type = \"devmem\"; phys = ${bar}L; size = 0x1000;
    grants = ( { group = \"mmio\"; access = \"rw\"; } ); }"
start_mmiod
check "devmem: mmiod.service starts with edu_mem (/dev/mem at $bar, no driver bound)" \
	test "$(systemctl is-active mmiod.service)" = active
read_is edu_mem 0x0 0x010000ed
liveness edu_mem 0x0badf00d
v=$(as alice mmioctl read -a "$bar" 2>&1)
check "devmem: read -a $bar (the physical address) is 0x010000ed (got '$v')" test "$v" = 0x010000ed
factorial edu_mem 5 120

# STRICT_DEVMEM: RAM above the first MiB is refused.
ram=$(iomem_start "System RAM" 0x100000)
if ! grep -q '^CONFIG_STRICT_DEVMEM=y' "$config" 2>/dev/null; then
	skip "devmem: the guest kernel has no CONFIG_STRICT_DEVMEM=y ($config)"
elif [ -z "$ram" ]; then
	skip "devmem: no System RAM above 1 MiB in /proc/iomem"
else
	edu_conf "  { name = \"ram\"; type = \"devmem\"; phys = ${ram}L; size = 0x1000; }"
	start_mmiod
	refused_start "devmem: RAM at $ram (STRICT_DEVMEM)" \
		"mmap /dev/mem at $ram .*Operation not permitted.*STRICT_DEVMEM"
fi
# IO_STRICT_DEVMEM: MMIO a driver has claimed (virtio-blk's BAR, requested by virtio-pci) is refused.
busy=$(iomem_start virtio 0)
if ! grep -q '^CONFIG_IO_STRICT_DEVMEM=y' "$config" 2>/dev/null; then
	skip "devmem: the guest kernel has no CONFIG_IO_STRICT_DEVMEM=y ($config)"
elif [ -z "$busy" ]; then
	skip "devmem: no MMIO range claimed by a driver (virtio) in /proc/iomem"
else
	grep -E 'virtio' /proc/iomem | head -n 2 | sed 's/^/BOOTTEST   iomem: /' >/dev/ttyS0
	edu_conf "  { name = \"claimed\"; type = \"devmem\"; phys = ${busy}L; size = 0x1000; }"
	start_mmiod
	refused_start "devmem: virtio's claimed MMIO at $busy (IO_STRICT_DEVMEM)" \
		"mmap /dev/mem at $busy .*Operation not permitted.*STRICT_DEVMEM"
fi

# --- uio: uio_pci_generic and a real interrupt -------------------------------------
module=$(find /lib/modules/"$(uname -r)" -name 'uio_pci_generic.ko*' 2>/dev/null | head -n 1)
if [ -z "$module" ]; then
	skip "uio: the guest kernel $(uname -r) has no uio_pci_generic module: no uio check ran"
	return 0
fi
systemctl stop mmiod.service
modprobe uio_pci_generic
echo "1234 11e8" >/sys/bus/pci/drivers/uio_pci_generic/new_id
uio=$(ls "$edu/uio" 2>/dev/null | head -n 1)
check "uio: uio_pci_generic is bound to $bdf ($uio)" \
	test "$(basename "$(readlink "$edu/driver")")" = uio_pci_generic -a -n "$uio"
if [ -z "$uio" ]; then
	return 0
fi
# Since Linux 5.10 uio_pci_generic also gives the device's plain memory BARs
# as maps (before, only the interrupt: the BARs through type pci).
map0=/sys/class/uio/$uio/maps/map0
if [ ! -e "$map0/addr" ]; then
	skip "uio: uio_pci_generic of $(uname -r) gives no memory maps ($map0): no uio check ran"
	return 0
fi
map_addr=$(cat "$map0/addr")
map_size=$(cat "$map0/size")
say "uio: $uio map0: addr $map_addr size $map_size offset $(cat "$map0/offset")"
check "uio: $uio map 0 is BAR0 ($map_addr, $map_size bytes)" \
	test $((map_addr)) -eq $((bar)) -a $((map_size)) -eq "$bar_size"
edu_conf "  { name = \"edu_uio\"; type = \"uio\"; device = \"$uio\"; map = 0; size = $bar_size; irq = true;
    grants = ( { group = \"mmio\"; access = \"rw\"; } ); }"
start_mmiod
check "uio: mmiod.service starts with edu_uio (interrupt from /dev/$uio, allowed as char-uio)" \
	test "$(systemctl is-active mmiod.service)" = active
read_is edu_uio 0x0 0x010000ed
liveness edu_uio 0x5555aaaa
factorial edu_uio 7 5040
if [ -x "$drivers/edu_irq" ]; then
	out=$(as alice "$drivers/edu_irq" edu_uio 3 "$edu/config" 2>&1)
	rc=$?
	sed 's/^/BOOTTEST   edu_irq: /' <<<"$out" >/dev/ttyS0
	check "uio: edu_irq: 3 rounds of raise, one interrupt each, ack at 0x64, INTx re-enabled by mmio_irq_ack (rc $rc)" \
		test "$rc" -eq 0
else
	skip "uio: edu_irq: $(cat "$drivers/drivers.skip" 2>/dev/null)"
fi
# mmioctl wait-irq: an interrupt raised before it subscribes is still counted
# (mmiod's open /dev/uioN saw it), so nothing races the subscription.
check "uio: raise the interrupt (store 0x8 to 0x60)" as alice mmioctl write edu_uio 0x60 0x8
out=$(as alice mmioctl wait-irq edu_uio --timeout 20000 --count 1 2>&1)
check "uio: mmioctl wait-irq edu_uio prints 'irq 1' (got '$out')" test "$out" = "irq 1"
read_is edu_uio 0x24 0x00000008
check "uio: acknowledge at 0x64" as alice mmioctl write edu_uio 0x64 0x8
read_is edu_uio 0x24 0x00000000
systemctl stop mmiod.service
