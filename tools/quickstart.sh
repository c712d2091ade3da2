#!/usr/bin/env bash
# Builds mmiod and runs it in the foreground on simulated devices, ready for mmioctl:
# sim0 (64 KiB of plain memory), and the example devices of etc/ as type = "sim" regions
# with their models: uart0 (a 16550 UART) and timer0. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)" >/dev/null

socket=${MMIOD_SOCKET:-${XDG_RUNTIME_DIR:-/tmp}/mmiod.sock}
conf=$(mktemp "${TMPDIR:-/tmp}/mmiod-quickstart.XXXXXX.conf")
trap 'rm -f "$conf"' EXIT
# Paths inside a libconfig string: quote what the checkout's path may hold.
quote() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
cat >"$conf" <<CONF
socket = { path = "$(quote "$socket")"; };
regions = (
  { name = "sim0"; type = "mem"; size = 0x10000; },
  { name = "uart0"; type = "sim"; size = 0x20;
    map = "$(quote "$root/etc/maps/uart16550.yaml")";
    model = "$(quote "$root/etc/models/uart16550.lua")"; },
  { name = "timer0"; type = "sim"; size = 0x20;
    map = "$(quote "$root/etc/maps/timer.yaml")";
    model = "$(quote "$root/etc/models/timer.lua")"; }
);
CONF
cat <<MSG
mmiod is starting on $socket with simulated devices: sim0 (64 KiB of memory), and the
example UART uart0 and timer timer0 (type sim, with their register maps and models).
In another terminal:
  export MMIOD_SOCKET=$socket
  $root/build/tools/mmioctl regions
  $root/build/tools/mmioctl write sim0 0x10 0xdeadbeef
  $root/build/tools/mmioctl read sim0 0x10
  $root/build/tools/mmioctl regs uart0
  $root/build/tools/mmioctl read uart0 LSR --decode
Ctrl-C stops mmiod (every lease is revoked and the socket removed).
MSG
"$root/build/daemon/mmiod" --foreground --config "$conf"
