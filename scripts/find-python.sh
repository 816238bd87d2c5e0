#!/usr/bin/env bash
# Print a Python interpreter new enough for Django 6.1 (3.12+).
# Plain names on PATH first; then interpreters that pyenv keeps but has not activated.
set -u
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for name in python3.13 python3.12 python3.14 python3; do
  if command -v "$name" >/dev/null 2>&1 && ok "$name"; then command -v "$name"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.13* "$(pyenv root)"/versions/3.12* "$(pyenv root)"/versions/3.14*; do
    if [ -x "$dir/bin/python3" ] && ok "$dir/bin/python3"; then echo "$dir/bin/python3"; exit 0; fi
  done
fi
echo "No Python 3.12 or newer found (Django 6.1 needs it)." >&2
exit 1
