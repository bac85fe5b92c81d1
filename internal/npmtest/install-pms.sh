#!/bin/sh
# Installs the pinned pnpm and yarn that the workspace differential tests
# pack with, into the folder given as $1 (make test passes .cache/tools):
# $1/pnpm and $1/yarn, each with bin/pnpm or bin/yarn. Does nothing for a
# tool already installed at exactly its pinned version.
#
# Pins: pnpm 10.34.9 is the newest 10.x the registry serves (pnpm 11 wants
# Node 22.13); @yarnpkg/cli-dist 4.18.1 is the newest yarn 4. Both are
# single-file bundles with no dependencies, so no install script runs.
set -eu

PNPM_VERSION=10.34.9
YARN_VERSION=4.18.1
dir=${1:?usage: install-pms.sh TOOLS_DIR}

# install NAME PACKAGE VERSION BIN_JS: npm-installs PACKAGE@VERSION into
# $dir/NAME and writes $dir/NAME/bin/NAME running BIN_JS with node.
install() {
	name=$1 pkg=$2 version=$3 js=$4
	target=$dir/$name
	want='{
  "name": "airlock-test-'"$name"'",
  "private": true,
  "description": "'"$name"' for airlock tests; written by internal/npmtest/install-pms.sh",
  "dependencies": {
    "'"$pkg"'": "'"$version"'"
  }
}'
	if [ -f "$target/package.json" ] && [ "$(cat "$target/package.json")" = "$want" ] &&
		[ -x "$target/bin/$name" ] &&
		[ "$("$target/bin/$name" --version 2>/dev/null)" = "$version" ]; then
		echo "$name $version at $target/bin/$name"
		return 0
	fi
	echo "installing $pkg@$version into $target"
	mkdir -p "$target"
	rm -rf "${target:?}/node_modules" "${target:?}/package-lock.json" "${target:?}/bin"
	printf '%s\n' "$want" >"$target/package.json"
	(cd "$target" && npm install --no-audit --no-fund --ignore-scripts --no-update-notifier --loglevel=warn)
	mkdir -p "$target/bin"
	printf '#!/bin/sh\nexec node "%s" "$@"\n' "$target/node_modules/$pkg/$js" >"$target/bin/$name"
	chmod 755 "$target/bin/$name"
	v=$("$target/bin/$name" --version) || { echo "$name did not run from $target" >&2; exit 1; }
	[ "$v" = "$version" ] || { echo "$target/bin/$name is $v, want $version" >&2; exit 1; }
	echo "$name $version at $target/bin/$name"
}

install pnpm pnpm "$PNPM_VERSION" bin/pnpm.cjs
install yarn @yarnpkg/cli-dist "$YARN_VERSION" bin/yarn.js
