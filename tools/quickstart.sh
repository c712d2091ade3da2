#!/usr/bin/env bash
# Builds mmiod and runs it in the foreground on a simulated device, sim0
# (64 KiB of memory), ready for mmioctl. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)" >/dev/null

socket=${MMIOD_SOCKET:-${XDG_RUNTIME_DIR:-/tmp}/mmiod.sock}
cat <<MSG
mmiod is starting on $socket with one simulated region, sim0 (64 KiB).
In another terminal:
  export MMIOD_SOCKET=$socket
  $root/build/tools/mmioctl regions
  $root/build/tools/mmioctl write sim0 0x10 0xdeadbeef
  $root/build/tools/mmioctl read sim0 0x10
Ctrl-C stops mmiod (every lease is revoked and the socket removed).
MSG
exec "$root/build/daemon/mmiod" --foreground --socket "$socket" --region sim0,type=mem,size=0x10000
