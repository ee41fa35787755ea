#!/bin/sh
# Installs the Debian packages that build, test and demo need.  As root it
# runs apt-get; otherwise it prints the exact command and fails if anything
# is missing.
set -u
PKGS="build-essential pkg-config libevent-dev libssl-dev libxml2-dev libxmlsec1-dev
libxmlsec1-openssl libpq-dev libcunit1-dev libsystemd-dev libcurl4-openssl-dev libjansson-dev
libmimalloc-dev postgresql postgresql-contrib xmlsec1 openssl curl libxml2-utils iso-codes procps
systemd strace clang libclang-rt-14-dev sslscan slowhttptest valgrind python3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "deps: apt-get install failed" >&2; exit 1; }
	# the postgresql package starts a cluster of its own; tests use their own
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: run: sudo apt-get install -y$missing" >&2
exit 1
