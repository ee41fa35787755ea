#!/bin/sh
# Packs a staging tree made by `make install PREFIX=/usr DESTDIR=STAGE`
# into a .deb without debhelper: what dh would add (stripped binaries,
# compressed man pages, copyright, changelog, md5sums, conffiles,
# maintainer scripts, shlibs Depends, Installed-Size) is added here with
# dpkg-dev's own tools.  Run from the top of the tree by `make deb`.
# usage: sh debian/build-deb.sh STAGE OUT.deb
set -eu
[ $# -eq 2 ] || { echo "usage: $0 STAGE OUT.deb" >&2; exit 2; }
STAGE=$1
OUT=$2
PKG=declared
[ -f debian/control ] || { echo "build-deb: run from the top of the tree" >&2; exit 2; }
[ -x "$STAGE/usr/sbin/declared" ] || { echo "build-deb: $STAGE is not staged" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# binaries: debug information stays in the build tree
case ${DEB_BUILD_OPTIONS:-} in
*nostrip*) ;;
*)
	for f in "$STAGE/usr/sbin/declared" "$STAGE/usr/bin/declctl"; do
		strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
	done
	;;
esac

# documentation as Debian policy wants it
find "$STAGE/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} + 2>/dev/null || true
DOC=$STAGE/usr/share/doc/$PKG
install -d -m 0755 "$DOC"
install -m 0644 debian/copyright "$DOC/copyright"
gzip -9nc debian/changelog >"$DOC/changelog.gz"
chmod 0644 "$DOC/changelog.gz"

# control data
CTL=$STAGE/DEBIAN
install -d -m 0755 "$CTL"
for s in postinst prerm postrm; do
	[ -f "debian/$PKG.$s" ] || continue
	sed '/^#DEBHELPER#$/d' "debian/$PKG.$s" >"$CTL/$s"
	chmod 0755 "$CTL/$s"
done
if [ -d "$STAGE/etc" ]; then
	(cd "$STAGE" && find etc -type f | sort | sed 's#^#/#') >"$CTL/conffiles"
	[ -s "$CTL/conffiles" ] || rm -f "$CTL/conffiles"
	[ ! -f "$CTL/conffiles" ] || chmod 0644 "$CTL/conffiles"
fi
# dpkg-shlibdeps wants the ELF files as paths; -e for each
set --
for f in "$STAGE/usr/sbin/declared" "$STAGE/usr/bin/declctl"; do set -- "$@" "-e$f"; done
dpkg-shlibdeps -T"$TMP/substvars" "$@"
echo "misc:Depends=" >>"$TMP/substvars"
dpkg-gencontrol -p"$PKG" -P"$STAGE" -T"$TMP/substvars" -f"$TMP/files"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print | sed 's#^\./##' |
	LC_ALL=C sort | xargs md5sum) >"$CTL/md5sums"
chmod 0644 "$CTL/md5sums" "$CTL/control"

# every path root-owned in the archive, modes as staged
find "$STAGE" -type d -exec chmod 0755 {} +
mkdir -p "$(dirname "$OUT")"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT" >/dev/null
echo "build-deb: $OUT"
