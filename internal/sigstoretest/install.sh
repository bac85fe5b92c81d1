#!/bin/sh
# Installs the Sigstore servers that sigstoretest starts for tests (Fulcio,
# Rekor v1 and Trillian's log server and signer) into $1/bin, and MariaDB
# from Debian when no mariadbd or mysqld is on PATH. Does nothing when $1/bin
# already holds exactly these versions. make deps passes .cache/tools/sigstore.
#
# Pins: the newest releases that build with Go 1.26.8 (GOTOOLCHAIN=local).
# Rekor v1.5.5 needs Go 1.27, so Rekor stays at v1.5.4. Trillian is the
# version Rekor v1.5.4 itself requires, so the server and Rekor's client
# agree. The modules are built with `go install module/pkg@version`: none
# of them has replace directives, and the builds go through the normal
# module and build caches, so CI can cache them.
#
# Trillian keeps its log in MySQL or MariaDB, as Rekor's own deployments
# do. Its PostgreSQL backend is marked beta (Trillian's changelog), and its
# memory storage cannot be shared by the log server and signer, which are
# separate processes; so the tests use MariaDB, with a throwaway data
# folder per test.
set -eu

FULCIO=v1.8.8
REKOR=v1.5.4
TRILLIAN=v1.7.3
dir=${1:?usage: install.sh TARGET_DIR}
bin=$dir/bin

# has BINARY MODULE VERSION: BINARY was built from MODULE at VERSION.
has() {
	[ -x "$bin/$1" ] || return 1
	go version -m "$bin/$1" 2>/dev/null | awk -v m="$2" -v v="$3" '
		$1 == "mod" && $2 == m && $3 == v { ok = 1 }
		END { exit !ok }'
}

build() { # BINARY MODULE VERSION PACKAGE...
	b=$1 m=$2 v=$3
	shift 3
	if has "$b" "$m" "$v"; then
		echo "$b: $m@$v at $bin/$b"
		return
	fi
	echo "building $b from $m@$v"
	start=$(date +%s)
	for p in "$@"; do set -- "$@" "$p@$v"; shift; done
	# GOFLAGS from the caller (say -mod=vendor) would not apply to
	# another module; -trimpath keeps the binaries independent of the
	# cache's location.
	GOBIN=$bin GOTOOLCHAIN=local GOFLAGS=-trimpath go install "$@"
	has "$b" "$m" "$v" || { echo "$b did not build from $m@$v" >&2; exit 1; }
	echo "$b: built in $(($(date +%s) - start))s"
}

mkdir -p "$bin"
build fulcio github.com/sigstore/fulcio "$FULCIO" github.com/sigstore/fulcio
build rekor-server github.com/sigstore/rekor "$REKOR" github.com/sigstore/rekor/cmd/rekor-server
# The server and the signer come from one module: one go install builds both.
if ! has trillian_log_signer github.com/google/trillian "$TRILLIAN"; then
	rm -f "$bin/trillian_log_server"
fi
build trillian_log_server github.com/google/trillian "$TRILLIAN" \
	github.com/google/trillian/cmd/trillian_log_server \
	github.com/google/trillian/cmd/trillian_log_signer
has trillian_log_signer github.com/google/trillian "$TRILLIAN" ||
	{ echo "trillian_log_signer did not build from github.com/google/trillian@$TRILLIAN" >&2; exit 1; }
echo "trillian_log_signer: github.com/google/trillian@$TRILLIAN at $bin/trillian_log_signer"

# Trillian's schema, from the same module, for the harness to load.
schema=$(GOTOOLCHAIN=local GOFLAGS= go mod download -json "github.com/google/trillian@$TRILLIAN" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/storage/mysql/schema/storage.sql
[ -f "$schema" ] || { echo "no Trillian schema at $schema" >&2; exit 1; }
if ! cmp -s "$schema" "$dir/trillian-storage.sql"; then
	cp "$schema" "$dir/trillian-storage.sql"
	chmod 644 "$dir/trillian-storage.sql"
fi
echo "trillian schema at $dir/trillian-storage.sql"

if command -v mariadbd >/dev/null || command -v mysqld >/dev/null ||
	[ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; then
	echo "mariadb: $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version 2>/dev/null || mysqld --version)"
else
	echo "installing mariadb-server from Debian"
	if [ "$(id -u)" != 0 ]; then
		echo "mariadb-server is missing; run: sudo apt-get install -y mariadb-server" >&2
		exit 1
	fi
	# Only the binaries are wanted: a policy-rc.d that says no keeps the
	# package from starting a system-wide server (an existing one stays).
	created=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created=1
	fi
	status=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server; } ||
		status=$?
	[ -z "$created" ] || rm -f /usr/sbin/policy-rc.d
	[ "$status" = 0 ] || exit "$status"
	echo "mariadb: $(/usr/sbin/mariadbd --version)"
fi
