#!/usr/bin/env bash
# Installs the system packages the test suite needs on Debian or Ubuntu, skipping what is
# there already; apt-get through sudo when not root. Only Node.js (>= 20) is assumed.
#   git, mercurial, mercurial-git  real repositories, Mercurial sources and their git mirrors
#   openssl                         certificates made by the TLS tests
#   systemd                         systemd-analyze, which checks the unit autopull systemd prints
#   chromium                        the dashboard's browser tests
#   redis-server                    the fleet's tests (each starts its own redis on a free port)
#   webhook                         adnanh/webhook, the reference the webhook benchmarks compare with
#   wrk                             the HTTP load generator of the ingest benchmark (npm run bench:ingest)
#   coreutils (mkfifo), ca-certificates
#   python3, make, g++              node-gyp, for npm ci to build better-sqlite3 where no
#                                   prebuilt binary can be downloaded
# --dry-run prints the packages it would install and changes nothing.
set -euo pipefail

dry=0
[ "${1:-}" = "--dry-run" ] && dry=1

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
have git || missing+=(git)
have python3 || missing+=(python3)
have make || missing+=(make)
have g++ || missing+=(g++)
have mkfifo || missing+=(coreutils)
have hg || missing+=(mercurial)
# hg-git: `hg --config extensions.hggit=` fails while the extension is missing.
if ! have hg || ! hg --config extensions.hggit= version >/dev/null 2>&1; then missing+=(mercurial-git); fi
have openssl || missing+=(openssl)
have systemd-analyze || missing+=(systemd)
have redis-server || missing+=(redis-server)
have webhook || missing+=(webhook)
have wrk || missing+=(wrk)
[ -d /etc/ssl/certs ] && [ -n "$(ls -A /etc/ssl/certs 2>/dev/null)" ] || missing+=(ca-certificates)
chromium_missing=0
have chromium || have chromium-browser || have google-chrome || chromium_missing=1

if [ ${#missing[@]} -eq 0 ] && [ $chromium_missing -eq 0 ]; then
  echo "setup-system: everything the tests need is installed"
  exit 0
fi

if ! have apt-get; then
  echo "setup-system: no apt-get here; install by hand: ${missing[*]}$([ $chromium_missing -eq 1 ] && echo ' chromium')" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! have sudo; then
    echo "setup-system: not root and no sudo; as root run: apt-get install ${missing[*]}$([ $chromium_missing -eq 1 ] && echo ' chromium')" >&2
    exit 1
  fi
  sudo=(sudo)
fi

if [ $dry -eq 1 ]; then
  echo "setup-system: would install: ${missing[*]}$([ $chromium_missing -eq 1 ] && echo ' chromium')"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if [ $chromium_missing -eq 1 ]; then
  # Debian ships `chromium`; Ubuntu only a snap wrapper (`chromium-browser`), which does not
  # work without snapd: the first one that apt can really install wins.
  if apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    missing+=(chromium)
  elif apt-cache policy chromium-browser 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    missing+=(chromium-browser)
  else
    echo "setup-system: no chromium package in this distribution's archive; the browser tests need one (Debian: chromium)" >&2
  fi
fi
echo "setup-system: installing ${missing[*]}"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
