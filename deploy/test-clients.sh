#!/usr/bin/env bash
# Installs the real client libraries that tests/it/real_clients.rs drives: a
# Python virtual environment at <repo>/.tools/clients-venv (azure-core, httpx,
# httpx-sse, pinned in tests/clients/python/requirements.txt) and the
# JavaScript clients' node_modules (`npm ci` from tests/clients/js's lock file),
# and Debian's chromium and chromium-driver for the console's browser tests.
# Both git-ignored. Node.js and npm come from Debian when missing. Safe to run
# again: quick when already done.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo/.tools/clients-venv"
python_dir="$repo/tests/clients/python"
js_dir="$repo/tests/clients/js"

log() { echo "test-clients: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root for: $*"; return 1
  fi
}

apt_updated=no
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get to install $*"; return 1; }
  if [ "$apt_updated" = no ]; then as_root apt-get update -q >&2; apt_updated=yes; fi
  log "installing $* (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

# A python3 that can create a venv with pip (as deploy/setup.sh finds it).
find_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  if [ -x /usr/bin/python3 ]; then
    apt_install python3-venv || return 1
    /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null && echo /usr/bin/python3 && return 0
  fi
  return 1
}

# --- Python: .tools/clients-venv -----------------------------------------------
# The venv records the requirements it was installed from; the same ones again
# install nothing.
python_clients() {
  local py stamp="$venv/.requirements.txt"
  if [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv" # moved checkout or removed interpreter
  fi
  if [ ! -e "$venv" ]; then
    py=$(find_python) || { log "no python3 with venv/pip"; return 1; }
    log "creating $venv"
    "$py" -m venv "$venv" || { rm -rf "$venv"; return 1; }
  fi
  if ! cmp -s "$python_dir/requirements.txt" "$stamp"; then
    log "pip install -r tests/clients/python/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$python_dir/requirements.txt" >&2
    cp "$python_dir/requirements.txt" "$stamp"
  fi
}

# --- JavaScript: tests/clients/js/node_modules ---------------------------------
# npm records the installed tree in node_modules/.package-lock.json; when it is
# newer than the lock file, `npm ci` has nothing to do.
js_clients() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  # @azure/core-lro 3.3 (the newest for Node.js 20) declares node >= 20; Debian 12's
  # own nodejs is 18, which npm ci accepts with a warning.
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || log "node $(node --version) is older than the clients' node >= 20"
  local installed="$js_dir/node_modules/.package-lock.json"
  if [ ! -e "$installed" ] || [ "$js_dir/package-lock.json" -nt "$installed" ]; then
    log "npm ci in tests/clients/js"
    (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# --- the browser tests: Debian's Chromium and its WebDriver ------------------
# The console's tests drive /usr/bin/chromium through /usr/bin/chromedriver;
# fonts-dejavu-core gives its screenshots readable text.
ensure_browser() {
  [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ] && return 0
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get to install chromium"; return 1; }
  apt_install chromium chromium-driver fonts-dejavu-core
}

python_clients
js_clients
ensure_browser
echo "clients: python $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')," \
  "node $(node --version), in $venv and $js_dir/node_modules"
