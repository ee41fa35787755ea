#!/bin/sh
# `make install` and `make deb`: the installed tree is complete, a real
# configuration is never overwritten, PREFIX reaches the unit and the
# example configuration, the installed daemon runs from its installed
# data (the shipped example configuration, pointed at a throwaway
# PostgreSQL and a demo PKI, accepts a signed declaration), and the .deb
# holds the same tree with sane metadata.  Uses the binaries already in
# $BUILD (it never rebuilds them).
. "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/declared-inst.XXXXXX)
chmod 755 "$WORK"
cleanup() {
	if [ -n "${TDIR:-}" ]; then teardown_all; fi
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -x "$DECLARED" ] || [ ! -x "$DECLCTL" ]; then
	not_ok "daemon and declctl are built ($BUILD)"
	finish; exit
fi
# mk LOG ARGS...: make from the top of the tree into LOG, without the
# caller's make state, treating the built binaries as up to date
mk() {
	log=$1; shift
	(cd "$ROOT" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
		B="$BUILD" -o "$BUILD/declared" -o "$BUILD/declctl" "$@") >"$log" 2>&1 ||
		{ tail -n 20 "$log" | sed 's/^/# /'; return 1; }
}
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
ARCH=$(dpkg --print-architecture 2>/dev/null)

# ------------------------------------------------------ make install /usr
D=$WORK/dest
check "make install PREFIX=/usr DESTDIR=... succeeds" \
	mk "$WORK/install.log" PREFIX=/usr DESTDIR="$D" install
mode() { stat -c '%a' "$1" 2>/dev/null; }
eq "daemon in /usr/sbin, 0755" 755 "$(mode "$D/usr/sbin/declared")"
eq "declctl in /usr/bin, 0755" 755 "$(mode "$D/usr/bin/declctl")"
eq "unit in /lib/systemd/system, 0644" 644 "$(mode "$D/lib/systemd/system/declared.service")"
eq "sysusers snippet, 0644" 644 "$(mode "$D/usr/lib/sysusers.d/declared.conf")"
eq "tmpfiles snippet, 0644" 644 "$(mode "$D/usr/lib/tmpfiles.d/declared.conf")"
eq "example configuration, 0644" 644 "$(mode "$D/etc/declared/declared.conf.example")"
check "no real configuration installed" [ ! -e "$D/etc/declared/declared.conf" ]
for dir in xsd sql data; do
	n_src=$(find "$ROOT/$dir" -type f ! -name '*~' ! -name '.*' | wc -l)
	n_dst=$(find "$D/usr/share/declared/$dir" -type f 2>/dev/null | wc -l)
	eq "every file of $dir/ installed ($n_src)" "$n_src" "$n_dst"
	check "$dir/ installed byte for byte" diff -r "$ROOT/$dir" "$D/usr/share/declared/$dir"
done
check "installed files are not writable by group or others" \
	sh -c "[ -z \"\$(find '$D' -perm /022 ! -type l -print -quit)\" ]"
for p in "$ROOT"/man/*.[158]; do
	[ -f "$p" ] || continue
	b=${p##*/}
	check "man page $b in man${b##*.}" cmp -s "$p" "$D/usr/share/man/man${b##*.}/$b"
done
for p in declared.8 declared.conf.5 declctl.1; do
	check "man page $p exists in the tree" [ -f "$ROOT/man/$p" ]
done
check "unit runs /usr/sbin/declared" \
	grep -qx 'ExecStart=/usr/sbin/declared -c /etc/declared/declared.conf' "$D/lib/systemd/system/declared.service"
eq "example configuration points at /usr/share/declared" \
	"/usr/share/declared/xsd/declaration.xsd|/usr/share/declared/sql" \
	"$(sed -n 's/^schema = //p' "$D/etc/declared/declared.conf.example" | head -n 1)|$(sed -n 's/^sql_dir = //p' "$D/etc/declared/declared.conf.example")"

# the installed unit passes verify, with the installed man pages
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s#/usr/sbin/declared#$D/usr/sbin/declared#g" "$D/lib/systemd/system/declared.service" \
		>"$WORK/declared.service"
	out=$(cd "$WORK" && MANPATH=$D/usr/share/man systemd-analyze verify declared.service 2>&1)
	eq "systemd-analyze verify of the installed unit and man pages" "" "$out"
else
	echo "skip: systemd-analyze missing"
fi

# a real configuration survives a second install; the example is refreshed
echo "# mine" >"$D/etc/declared/declared.conf"
echo "# stale" >"$D/etc/declared/declared.conf.example"
check "second install succeeds" mk "$WORK/install2.log" PREFIX=/usr DESTDIR="$D" install
eq "second install keeps the real declared.conf" "# mine" "$(cat "$D/etc/declared/declared.conf")"
check "second install refreshes the example" \
	cmp -s "$ROOT/systemd/declared.conf" "$D/etc/declared/declared.conf.example"
rm -f "$D/etc/declared/declared.conf"

# ------------------------------------------------------ PREFIX=/usr/local
L=$WORK/local
check "make install PREFIX=/usr/local succeeds" \
	mk "$WORK/install3.log" PREFIX=/usr/local DESTDIR="$L" install
check "PREFIX=/usr/local: daemon in /usr/local/sbin" [ -x "$L/usr/local/sbin/declared" ]
check "PREFIX=/usr/local: unit in /usr/local/lib/systemd/system runs it" \
	grep -qx 'ExecStart=/usr/local/sbin/declared -c /etc/declared/declared.conf' \
	"$L/usr/local/lib/systemd/system/declared.service"
check "PREFIX=/usr/local: nothing under /usr outside /usr/local" \
	sh -c "[ -z \"\$(find '$L/usr' -mindepth 1 -maxdepth 1 ! -name local)\" ]"
check "PREFIX=/usr/local: example uses /usr/local/share/declared" \
	grep -qx 'sql_dir = /usr/local/share/declared/sql' "$L/etc/declared/declared.conf.example"
check "PREFIX=/usr/local: data in /usr/local/share/declared" \
	[ -f "$L/usr/local/share/declared/xsd/declaration.xsd" ]

# ------------------------------------------------------ the installed daemon
IDECLARED=$D/usr/sbin/declared
eq "declared -V matches debian/changelog" "declared $VERSION" "$("$IDECLARED" -V 2>&1)"

TDIR=$(mktemp -d /tmp/declared-it.XXXXXX)
chmod 755 "$TDIR"
pg_start "$TDIR/pg" || { not_ok "PostgreSQL starts"; finish; exit; }
DECLCTL=$D/usr/bin/declctl
"$DECLCTL" pki init "$TDIR/pki" >/dev/null || { not_ok "installed declctl pki init"; finish; exit; }
API_PORT=$(free_port)
ADMIN_PORT=$(free_port)

# the shipped example with its files moved: /etc/declared -> $TDIR/etc,
# /usr/share/declared -> the DESTDIR; listeners and database for this test
E=$TDIR/etc
mkdir -p "$E/tls" "$E/signing"
cp "$TDIR/pki/server.pem" "$E/tls/server.crt"
cp "$TDIR/pki/server.key" "$E/tls/server.key"
cp "$TDIR/pki/enterprise-ca.pem" "$E/tls/enterprise-ca.pem"
cp "$TDIR/pki/officer-ca.pem" "$E/tls/officer-ca.pem"
cp "$TDIR/pki/acksign.pem" "$E/signing/ack.crt"
cp "$TDIR/pki/acksign.key" "$E/signing/ack.key"
cp "$TDIR/pki/signing-ca.pem" "$E/signing/signers-ca.pem"
chmod 0600 "$E/tls/server.key" "$E/signing/ack.key"
# example_conf FILE DBUSER
example_conf() {
	sed -e "s#/etc/declared/#$E/#g" -e "s#/usr/share/declared/#$D/usr/share/declared/#g" \
		-e "s#^listen = .*#listen = 127.0.0.1:$API_PORT#" \
		-e "s#^admin_listen = .*#admin_listen = 127.0.0.1:$ADMIN_PORT#" \
		-e "s#^workers = .*#workers = 2#" \
		-e "s#^conninfo = .*#conninfo = host=$PGHOST port=$PGPORT dbname=declared user=$2 connect_timeout=5#" \
		"$D/etc/declared/declared.conf.example" >"$1"
	# the code lists default to /usr/share/declared/data
	grep -q '^data_dir = ' "$1" ||
		sed -i "s#^\\[customs\\]\$#[customs]\\ndata_dir = $D/usr/share/declared/data#" "$1"
}
example_conf "$TDIR/declared.conf" declared
example_conf "$TDIR/migrate.conf" postgres
# logged LOG CMD...: run, and show LOG when it fails
logged() {
	log=$1; shift
	"$@" >"$log" 2>&1 || { tail -n 20 "$log" | sed 's/^/# /'; return 1; }
}
check "installed daemon: -t accepts the shipped example (paths moved)" \
	logged "$TDIR/t.log" "$IDECLARED" -t -c "$TDIR/declared.conf"
check "installed daemon: --migrate from /usr/share/declared/sql" \
	logged "$TDIR/migrate.log" "$IDECLARED" --migrate -c "$TDIR/migrate.conf"
psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null
DECLARED=$IDECLARED
if daemon_start; then
	ok "installed daemon becomes ready"
	mkdir -p "$TDIR/docs"
	if [ -x "$BUILD/gendecl" ]; then
		"$BUILD/gendecl" --items 2 --lrn INST-1 --declarant GB000000000001 >"$TDIR/docs/i.xml"
	else
		sed 's/LRN-CFG-0001/INST-1/; s/GB123456789000/GB000000000001/g; s#<ID>24XX0000000000042A</ID>##; s#<FunctionCode>13<#<FunctionCode>9<#' \
			"$ROOT/tests/data/conf/declaration-sample.xml" >"$TDIR/docs/i.xml"
	fi
	sign_file "$TDIR/docs/i.xml" "$TDIR/docs/i.signed.xml"
	submit "$TDIR/docs/i.signed.xml"
	eq "installed daemon: signed declaration -> 202" 202 "$HTTP_CODE"
	check "installed daemon: receipt verifies with xmlsec1" \
		xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 "$BODY_FILE"
	check "installed daemon: receipt valid against the installed response.xsd" \
		xmllint --noout --schema "$D/usr/share/declared/xsd/response.xsd" "$BODY_FILE"
	eq "installed daemon: declaration stored" 1 \
		"$(psql_q "SELECT count(*) FROM declarations WHERE lrn = 'INST-1'")"
	daemon_stop
	eq "installed daemon: SIGTERM -> exit 0" 0 "$?"
else
	not_ok "installed daemon becomes ready"
fi

# ------------------------------------------------------ make deb
if ! command -v dpkg-deb >/dev/null 2>&1; then
	echo "skip: dpkg-deb missing, no package"
	finish; exit
fi
DEB=$BUILD/declared_${VERSION}_$ARCH.deb
rm -f "$DEB"
check "make deb succeeds" mk "$WORK/deb.log" deb
check "the package is $DEB" [ -f "$DEB" ]
dpkg-deb -c "$DEB" >"$WORK/deb.list" 2>&1
awk '{ print $6 }' "$WORK/deb.list" | sed 's#^\./#/#; s#/$##' | sort >"$WORK/deb.paths"
for p in /usr/sbin/declared /usr/bin/declctl /lib/systemd/system/declared.service \
	/usr/lib/sysusers.d/declared.conf /usr/lib/tmpfiles.d/declared.conf \
	/etc/declared/declared.conf.example /usr/share/declared/xsd/declaration.xsd \
	/usr/share/declared/xsd/response.xsd /usr/share/doc/declared/copyright \
	/usr/share/man/man8/declared.8.gz /usr/share/man/man5/declared.conf.5.gz \
	/usr/share/man/man1/declctl.1.gz; do
	check "package holds $p" grep -qx "$p" "$WORK/deb.paths"
done
for dir in sql data; do
	for f in "$ROOT/$dir"/*; do
		[ -f "$f" ] || continue
		check "package holds /usr/share/declared/$dir/${f##*/}" \
			grep -qx "/usr/share/declared/$dir/${f##*/}" "$WORK/deb.paths"
	done
done
check "package has no /etc/declared/declared.conf" sh -c "! grep -qx /etc/declared/declared.conf '$WORK/deb.paths'"
eq "every path in the package is root:root" "" "$(awk '$2 != "root/root"' "$WORK/deb.list" | head -n 3)"
field() { dpkg-deb -f "$DEB" "$1" 2>/dev/null; }
eq "Package" declared "$(field Package)"
eq "Version (debian/changelog)" "$VERSION" "$(field Version)"
eq "Architecture" "$ARCH" "$(field Architecture)"
for lib in libc6 libevent libpq5 libssl3 libxml2 libxmlsec1-openssl libsystemd0; do
	check "Depends names $lib" sh -c "dpkg-deb -f '$DEB' Depends | grep -q '$lib'"
done
check "Installed-Size is set" sh -c "[ \"\$(dpkg-deb -f '$DEB' Installed-Size)\" -gt 0 ]"
dpkg-deb -I "$DEB" >"$WORK/deb.info" 2>&1
for s in postinst prerm postrm md5sums conffiles; do
	check "control archive has $s" grep -q " $s" "$WORK/deb.info"
done
X=$WORK/deb-x
mkdir -p "$X/ctl"
dpkg-deb -x "$DEB" "$X/root"
dpkg-deb -e "$DEB" "$X/ctl/DEBIAN"
eq "conffiles is the example configuration" /etc/declared/declared.conf.example \
	"$(cat "$X/ctl/DEBIAN/conffiles" 2>/dev/null)"
check "postinst creates the user with systemd-sysusers" grep -q 'systemd-sysusers declared.conf' "$X/ctl/DEBIAN/postinst"
for s in postinst prerm postrm; do
	check "$s is valid sh" sh -n "$X/ctl/DEBIAN/$s"
done
check "md5sums match the files" sh -c "cd '$X/root' && md5sum --quiet -c '$X/ctl/DEBIAN/md5sums'"
eq "packaged daemon runs (-V)" "declared $VERSION" "$("$X/root/usr/sbin/declared" -V 2>&1)"
check "packaged unit runs /usr/sbin/declared" \
	grep -qx 'ExecStart=/usr/sbin/declared -c /etc/declared/declared.conf' \
	"$X/root/lib/systemd/system/declared.service"
if command -v lintian >/dev/null 2>&1; then
	lintian --no-tag-display-limit "$DEB" | sed 's/^/# lintian: /'
fi

finish
