#!/bin/bash
# Install what nexus needs from Debian's packages (Debian 12, as root).
# Installs only what is missing, so a second run costs a second.
set -eu
packages=(
  make gcc clang libclang-rt-14-dev pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron
  libcurl4-openssl-dev libjansson-dev libhiredis-dev libssl-dev
  curl ca-certificates
)
# The marketplace simulator (test/sim) runs on Node.js: Debian's, unless one is there.
command -v node >/dev/null || packages+=(nodejs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's pg_config is the client's; make sure the server-dev one is used.
command -v pg_config >/dev/null || { echo "deps: pg_config not found" >&2; exit 1; }
