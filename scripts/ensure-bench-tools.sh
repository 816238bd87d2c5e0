#!/usr/bin/env bash
# Make sure `hey`, the HTTP load client of `make bench` (Debian's package), is on PATH.
set -euo pipefail

if command -v hey >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "hey is missing: install Debian's package (apt-get install hey) as root." >&2
  exit 1
fi
echo "Installing hey for the benchmark..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends hey >/dev/null
command -v hey >/dev/null
