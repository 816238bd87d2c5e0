#!/usr/bin/env bash
# Make sure a program from Debian's packages is installed:
#
#   scripts/ensure-debian.sh PROGRAM PACKAGE [PACKAGE...]
#
# Nothing happens when PROGRAM (a name on PATH or an absolute path) is there;
# otherwise, as root, apt-get installs the packages. The browser tests need
# /usr/bin/chromium (Playwright drives Debian's build: `playwright install`
# needs the internet); `make bench` needs `hey`, its HTTP load client.
set -euo pipefail

program=$1
shift
present() { [ -x "$program" ] || command -v "$program" >/dev/null; }

present && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "$program is missing: install Debian's package(s) $* (apt-get install $*) as root." >&2
  exit 1
fi
echo "Installing $* ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
present
