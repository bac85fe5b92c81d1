#!/bin/sh
# Installs the pinned Verdaccio that registrytest starts for tests, into the
# folder given as $1 (make test passes .cache/tools/verdaccio). Does nothing
# when that folder already holds exactly this install.
#
# Pins: Verdaccio 6.8.0 is the newest release that runs on Node 20 (6.9.0
# wants Node 22). node-fetch is overridden to 2.7.0 because a dependency asks
# for a dist-tag the reachable registry does not serve.
set -eu

VERSION=6.8.0
dir=${1:?usage: install.sh TARGET_DIR}

want='{
  "name": "airlock-test-verdaccio",
  "private": true,
  "description": "Verdaccio for airlock tests; written by internal/registrytest/install.sh",
  "dependencies": {
    "verdaccio": "'"$VERSION"'"
  },
  "overrides": {
    "node-fetch": "2.7.0"
  }
}'

installed() {
	[ -f "$dir/package.json" ] && [ -f "$dir/node_modules/verdaccio/package.json" ] || return 1
	[ "$(cat "$dir/package.json")" = "$want" ] || return 1
	v=$(node -p 'require(process.argv[1]).version' "$dir/node_modules/verdaccio/package.json" 2>/dev/null) || return 1
	[ "$v" = "$VERSION" ]
}

if installed; then
	echo "verdaccio $VERSION at $dir"
	exit 0
fi

echo "installing verdaccio@$VERSION into $dir"
mkdir -p "$dir"
rm -rf "$dir/node_modules" "$dir/package-lock.json"
printf '%s\n' "$want" >"$dir/package.json"
# No scripts: Verdaccio needs none, and tests should not run install hooks.
(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --no-update-notifier --loglevel=warn)
installed || { echo "verdaccio@$VERSION did not install into $dir" >&2; exit 1; }
echo "verdaccio $VERSION at $dir"
