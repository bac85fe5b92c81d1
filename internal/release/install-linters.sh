#!/bin/sh
# Installs the linters the release tests run: actionlint, built from its Go
# module into $1 (make deps passes .cache/tools/actionlint), and ShellCheck
# from Debian when none is on PATH (actionlint runs it on every run: step,
# and the install.sh test runs it). Does nothing when both are there.
#
# Pin: actionlint v1.7.12, the newest version the Go module proxy lists
# (go list -m -versions github.com/rhysd/actionlint); its go.mod asks for
# Go 1.25.0, so it builds with the Go 1.26.8 go.mod names.
set -eu

ACTIONLINT=v1.7.12
dir=${1:?usage: install-linters.sh TARGET_DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd) # go install wants an absolute GOBIN

has_actionlint() {
	[ -x "$dir/actionlint" ] || return 1
	go version -m "$dir/actionlint" 2>/dev/null | awk -v v="$ACTIONLINT" '
		$1 == "mod" && $2 == "github.com/rhysd/actionlint" && $3 == v { ok = 1 }
		END { exit !ok }'
}

if has_actionlint; then
	echo "actionlint $ACTIONLINT at $dir/actionlint"
else
	echo "building actionlint from github.com/rhysd/actionlint@$ACTIONLINT"
	# GOFLAGS from the caller would not apply to another module.
	GOBIN=$dir GOTOOLCHAIN=local GOFLAGS=-trimpath go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT"
	has_actionlint || { echo "actionlint did not build from github.com/rhysd/actionlint@$ACTIONLINT" >&2; exit 1; }
	echo "actionlint $ACTIONLINT at $dir/actionlint"
fi

if command -v shellcheck >/dev/null; then
	echo "shellcheck $(shellcheck --version | awk '/^version:/ { print $2 }') at $(command -v shellcheck)"
else
	echo "installing shellcheck from Debian"
	if [ "$(id -u)" != 0 ]; then
		echo "shellcheck is missing; run: sudo apt-get install -y shellcheck" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends shellcheck ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends shellcheck; }
	echo "shellcheck $(shellcheck --version | awk '/^version:/ { print $2 }') at $(command -v shellcheck)"
fi
