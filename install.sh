#!/usr/bin/env bash
# Install rampart from this checkout into its own virtualenv and put `rampart` on the PATH.
#   PREFIX (default ~/.local/share/rampart or /opt/rampart as root) holds the virtualenv;
#   BINDIR (default ~/.local/bin or /usr/local/bin as root) gets the `rampart` link.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ]; then sudo=""; default_prefix=/opt/rampart; default_bindir=/usr/local/bin
else sudo="sudo"; default_prefix="$HOME/.local/share/rampart"; default_bindir="$HOME/.local/bin"; fi
PREFIX=${PREFIX:-$default_prefix}
BINDIR=${BINDIR:-$default_bindir}

if ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "rampart: installing python3 and python3-venv (needs Python 3.11 or newer)" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet --upgrade pip
"$PREFIX/venv/bin/pip" install --quiet .
mkdir -p "$BINDIR"
ln -sf "$PREFIX/venv/bin/rampart" "$BINDIR/rampart"
echo "rampart installed: $BINDIR/rampart ($("$BINDIR/rampart" --version))" >&2
