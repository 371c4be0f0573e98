#!/usr/bin/env bash
# Print the path of a Python interpreter of version $1 (e.g. 3.13): on PATH, or one pyenv installed.
set -euo pipefail
want="$1"
works() { "$1" -c "import sys, venv; assert sys.version.startswith('$want.')" >/dev/null 2>&1; }
if found="$(command -v "python$want" 2>/dev/null)" && works "$found"; then
  echo "$found"
  exit 0
fi
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for candidate in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do
  if works "$candidate/bin/python$want"; then
    echo "$candidate/bin/python$want"
    exit 0
  fi
done
echo "Python $want is needed (LocalStack runs in its own virtualenv) and none was found on PATH or under" \
     "$root/versions: install it (Debian: apt-get install python$want python$want-venv, or pyenv install $want)," \
     "or name one with LOCALSTACK_PYTHON=/path/to/python$want" >&2
exit 1
