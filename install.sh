#!/bin/sh
# Installs an airlock release binary, and only the one whose checksum this
# commit of the repository records.
#
#   sh install.sh [--version vX.Y.Z] [--checksums FILE] [--base-url URL] [--dir DIR]
#
# It picks the archive for this machine, downloads it into a temporary
# folder, checks its sha256 against the checksums file (release/SHA256SUMS
# beside this script by default), unpacks the binary, moves it into DIR and
# prints its path. A failed download, a missing or different checksum or an
# unknown platform stops it with an error before anything is written to
# DIR. It needs a POSIX sh, curl or wget, sha256sum or shasum or openssl,
# gzip and tar (unzip on Windows); no Node, no Go.
set -eu

usage() {
	cat <<'EOF'
usage: sh install.sh [--version vX.Y.Z] [--checksums FILE] [--base-url URL] [--dir DIR]

  --version vX.Y.Z  release to install (default: release/VERSION beside this script)
  --checksums FILE  SHA256SUMS to check the archive against
                    (default: release/SHA256SUMS beside this script)
  --base-url URL    where the archives are (default: the version's GitHub release,
                    https://github.com/airlockdev/airlock/releases/download/<version>)
  --dir DIR         folder to put the binary in (default: .airlock/<version>)

Prints the path of the installed binary.
EOF
}

die() {
	printf 'install.sh: %s\n' "$1" >&2
	if [ -n "${2-}" ]; then printf 'hint: %s\n' "$2" >&2; fi
	exit 1
}

usage_error() {
	printf 'install.sh: %s\n' "$1" >&2
	usage >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
version=
checksums=$here/release/SHA256SUMS
base_url=
dir=

while [ $# -gt 0 ]; do
	case $1 in
	--version | --checksums | --base-url | --dir)
		[ $# -ge 2 ] || usage_error "$1 needs a value"
		case $1 in
		--version) version=$2 ;;
		--checksums) checksums=$2 ;;
		--base-url) base_url=$2 ;;
		--dir) dir=$2 ;;
		esac
		shift 2
		;;
	--version=*) version=${1#*=} && shift ;;
	--checksums=*) checksums=${1#*=} && shift ;;
	--base-url=*) base_url=${1#*=} && shift ;;
	--dir=*) dir=${1#*=} && shift ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown argument: $1" ;;
	esac
done

if [ -z "$version" ]; then
	[ -f "$here/release/VERSION" ] || die "no --version given and no release/VERSION beside this script"
	version=$(tr -d ' \t\r\n' <"$here/release/VERSION")
fi
# The same pattern as internal/release: v, three numbers, a pre-release.
if ! printf '%s\n' "$version" | grep -Eq '^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'; then
	die "version '$version' is not a release tag" "give it as vX.Y.Z, for example v0.1.0"
fi
[ -n "$base_url" ] || base_url=https://github.com/airlockdev/airlock/releases/download/$version
base_url=${base_url%/}
[ -n "$dir" ] || dir=.airlock/$version

uname_s=$(uname -s)
case $uname_s in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) die "no release archive for this operating system ($uname_s)" \
	"archives exist for Linux, macOS and Windows; elsewhere build from source with go install github.com/airlockdev/airlock/cmd/airlock@$version" ;;
esac
uname_m=$(uname -m)
case $uname_m in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no release archive for this processor ($uname_m)" \
	"archives exist for amd64 and arm64; elsewhere build from source with go install github.com/airlockdev/airlock/cmd/airlock@$version" ;;
esac

bin=airlock
archive=airlock_${version#v}_${os}_${arch}.tar.gz
if [ "$os" = windows ]; then
	bin=airlock.exe
	archive=airlock_${version#v}_${os}_${arch}.zip
fi

# The recorded checksum, before anything is downloaded.
[ -f "$checksums" ] || die "no checksums file at $checksums"
want=$(awk -v name="$archive" '
	$2 == name || $2 == ("*" name) { n++; sum = $1 }
	END { if (n == 1) print sum; exit n != 1 }' "$checksums") ||
	die "$checksums has no checksum for $archive (or more than one)" \
		"the checksums file records one release: use the version it records, or the install.sh and release/SHA256SUMS of the commit that records $version"
want=$(printf '%s' "$want" | tr 'A-F' 'a-f')
case $want in
*[!0-9a-f]*) die "the checksum of $archive in $checksums is not a sha256" ;;
esac
[ ${#want} -eq 64 ] || die "the checksum of $archive in $checksums is not a sha256"

tmp=
partial=
cleanup() {
	[ -z "$partial" ] || rm -f "$partial"
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/airlock-install.XXXXXX") || die "cannot make a temporary folder"

url=$base_url/$archive
printf 'install.sh: downloading %s\n' "$url" >&2
if command -v curl >/dev/null 2>&1; then
	curl -fsSL --proto '=https,http' --connect-timeout 30 --retry 3 -o "$tmp/$archive" "$url" ||
		die "downloading $url failed" "check --version and --base-url; the archive must be there under this name"
elif command -v wget >/dev/null 2>&1; then
	wget -q -O "$tmp/$archive" "$url" ||
		die "downloading $url failed" "check --version and --base-url; the archive must be there under this name"
else
	die "neither curl nor wget is installed"
fi

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | awk '{ print $1 }'
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | awk '{ print $NF }'
	else
		return 1
	fi
}
got=$(sha256 "$tmp/$archive") || die "cannot compute a sha256: install sha256sum, shasum or openssl"
got=$(printf '%s' "$got" | tr 'A-F' 'a-f')
if [ "$got" != "$want" ]; then
	die "$archive from $url has sha256 $got, but $checksums records $want; refusing it" \
		"the download is not the recorded release: a wrong --base-url, a tampered mirror, or a checksums file of another release"
fi

mkdir "$tmp/x"
case $archive in
*.tar.gz) gzip -dc "$tmp/$archive" | (cd "$tmp/x" && tar -xf - "$bin") ||
	die "unpacking $archive failed" ;;
*.zip)
	command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack $archive"
	unzip -q "$tmp/$archive" "$bin" -d "$tmp/x" || die "unpacking $archive failed"
	;;
esac
[ -f "$tmp/x/$bin" ] || die "$archive holds no $bin"
chmod 755 "$tmp/x/$bin"

# Into place: a copy beside the target, then a rename, so that DIR never
# holds a partial binary.
mkdir -p "$dir" || die "cannot create $dir"
partial=$dir/.$bin.partial.$$
cp "$tmp/x/$bin" "$partial" || die "cannot write into $dir"
mv -f "$partial" "$dir/$bin" || die "cannot write $dir/$bin"
partial=
dir_abs=$(cd "$dir" && pwd)
printf 'install.sh: airlock %s (%s/%s), sha256 %s of %s checked\n' "$version" "$os" "$arch" "$got" "$archive" >&2
printf '%s\n' "$dir_abs/$bin"
