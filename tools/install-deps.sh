#!/usr/bin/env bash
# Installs the Debian 12 packages mmiod needs to build and test, if any are missing.
set -euo pipefail

packages=(build-essential cmake pkg-config libevent-dev libprotobuf-c-dev protobuf-c-compiler
	libconfig-dev libfyaml-dev liblua5.4-dev libxml2-dev libsystemd-dev systemd
	libcmocka-dev clang libclang-rt-14-dev valgrind clang-tidy cppcheck scdoc
	python3-dev python3-pytest)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
echo "installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
