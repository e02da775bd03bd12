#!/bin/sh
# Fetch the terminal emulator used by the web console from the npm registry and copy the
# browser files into the server's static directory (no build step, no CDN at run time).
#
#   scripts/vendor_xterm.sh            # the pinned versions below
#
# Files copied: lib/*.mjs (ES modules), css/xterm.css and each package's LICENSE.
set -eu

XTERM_VERSION=6.0.0
FIT_VERSION=0.11.0

here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/src/rampart/server/static/vendor/xterm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@xterm/xterm@$XTERM_VERSION" "@xterm/addon-fit@$FIT_VERSION" >/dev/null
mkdir xterm fit
tar -xzf "xterm-xterm-$XTERM_VERSION.tgz" -C xterm
tar -xzf "xterm-addon-fit-$FIT_VERSION.tgz" -C fit

rm -rf "$dest"
mkdir -p "$dest"
cp xterm/package/lib/xterm.mjs xterm/package/css/xterm.css "$dest/"
cp xterm/package/LICENSE "$dest/LICENSE.xterm"
cp fit/package/lib/addon-fit.mjs "$dest/"
cp fit/package/LICENSE "$dest/LICENSE.addon-fit"
printf '@xterm/xterm %s\n@xterm/addon-fit %s\n' "$XTERM_VERSION" "$FIT_VERSION" >"$dest/VERSIONS"
(cd "$dest" && sha256sum xterm.mjs xterm.css addon-fit.mjs >SHA256SUMS)
echo "vendored into $dest"
