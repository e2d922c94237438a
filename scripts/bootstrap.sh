#!/usr/bin/env bash
# Creates .venv with Python 3.13 and installs requirements-dev.txt. Idempotent: reinstalls only when
# a requirements file changed. Used by every Makefile target, so a fresh clone needs nothing preinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which downloads a
# browser from outside the package registries). Install it by package name when it is missing and we may.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the browser tests" >&2
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
      || { echo "could not install chromium: the browser tests need it" >&2; exit 1; }
  else
    echo "warning: chromium is not installed (apt-get install chromium); the browser tests will fail" >&2
  fi
fi
find_python() {
  for cand in "PYENV_VERSION=3.13.0 python3.13" "python3.13"; do
    if env $cand -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then echo "$cand"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local v; v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.|$)' | tail -n1 || true)
    if [ -n "$v" ]; then echo "PYENV_VERSION=$v python3.13"; return 0; fi
  fi
  return 1
}
# The IaC scan (`make scan`) runs checkov from a venv of its own: checkov pins boto3/botocore 1.35, packaging
# 23.2 and networkx 2.6, older than aws-sam-cli, moto and boto3-stubs in .venv need (requirements-scan.txt).
SCAN_VENV=.venv-scan
SCAN_STAMP=$SCAN_VENV/.installed
scan_want=$(sha256sum requirements-scan.txt | cut -d' ' -f1)
if [ ! -f "$SCAN_STAMP" ] || [ "$(cat "$SCAN_STAMP")" != "$scan_want" ]; then
  if [ ! -x "$SCAN_VENV/bin/python" ]; then
    py=$(find_python) || { echo "Python 3.13 is required (pyenv 3.13.x or python3.13 on PATH)" >&2; exit 1; }
    echo "creating $SCAN_VENV with: $py" >&2
    env $py -m venv "$SCAN_VENV"
  fi
  "$SCAN_VENV/bin/python" -m pip install --quiet --upgrade pip
  "$SCAN_VENV/bin/python" -m pip install --quiet -r requirements-scan.txt
  echo "$scan_want" > "$SCAN_STAMP"
fi
VENV=.venv
STAMP=$VENV/.installed
want=$(cat requirements-dev.txt layers/deps/requirements.txt | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then exit 0; fi
if [ ! -x "$VENV/bin/python" ]; then
  py=$(find_python) || { echo "Python 3.13 is required (pyenv 3.13.x or python3.13 on PATH)" >&2; exit 1; }
  echo "creating $VENV with: $py" >&2
  env $py -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r requirements-dev.txt
# The shared layer and the local runtime are importable from the venv, as the layer is on Lambda.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n%s\n' "$PWD/layers/shop" "$PWD" > "$site/serverless-shop-dev.pth"
echo "$want" > "$STAMP"
