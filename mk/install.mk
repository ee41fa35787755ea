# Install and package rules; included by the top-level Makefile.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   binaries, data, units, man pages
#   make deb                                      $(B)/declared_VERSION_ARCH.deb
#
# PREFIX=/usr puts the systemd unit in /lib/systemd/system (Debian); any
# other prefix puts it in $(PREFIX)/lib/systemd/system, which systemd also
# searches for /usr/local.  The configuration always lives in /etc/declared:
# an existing declared.conf is never touched; the example is installed as
# declared.conf.example.

PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build

SBINDIR     := $(PREFIX)/sbin
BINDIR      := $(PREFIX)/bin
DATADIR     := $(PREFIX)/share/declared
MANDIR      := $(PREFIX)/share/man
DOCDIR      := $(PREFIX)/share/doc/declared
SYSCONFDIR  := /etc/declared
UNITDIR     := $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
TMPFILESDIR := $(PREFIX)/lib/tmpfiles.d

INSTALL     ?= install
# the package version comes from debian/changelog, first line
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE    := $(B)/declared_$(DEB_VERSION)_$(DEB_ARCH).deb
MAN_PAGES   := $(wildcard man/*.1 man/*.5 man/*.8)

.PHONY: install install-bin install-data install-systemd install-conf install-man deb

install: install-bin install-data install-systemd install-conf install-man

install-bin: $(B)/declared $(B)/declctl
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(B)/declared $(DESTDIR)$(SBINDIR)/declared
	$(INSTALL) -m 0755 $(B)/declctl $(DESTDIR)$(BINDIR)/declctl

# xsd/, sql/ and data/ are copied with their subdirectories, files 0644
install-data:
	@set -e; for d in xsd sql data; do \
		[ -d $$d ] || { echo "install: $$d/ missing" >&2; exit 1; }; \
		$(INSTALL) -d -m 0755 $(DESTDIR)$(DATADIR)/$$d; \
		find $$d -type f ! -name '*~' ! -name '.*' | sort | while read -r f; do \
			echo "$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DATADIR)/$$f"; \
			$(INSTALL) -D -m 0644 "$$f" "$(DESTDIR)$(DATADIR)/$$f"; \
		done; \
	done

# the unit names the installed binary; the snippets are installed as is
install-systemd:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	sed 's#/usr/sbin/declared#$(SBINDIR)/declared#g' systemd/declared.service \
		>$(DESTDIR)$(UNITDIR)/declared.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/declared.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/declared.service.tmp $(DESTDIR)$(UNITDIR)/declared.service
	$(INSTALL) -m 0644 systemd/declared.sysusers $(DESTDIR)$(SYSUSERSDIR)/declared.conf
	$(INSTALL) -m 0644 systemd/declared.tmpfiles $(DESTDIR)$(TMPFILESDIR)/declared.conf

# the example points at the installed data; a real declared.conf is kept
install-conf:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SYSCONFDIR)
	sed 's#/usr/share/declared#$(DATADIR)#g' systemd/declared.conf \
		>$(DESTDIR)$(SYSCONFDIR)/declared.conf.example.tmp
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/declared.conf.example.tmp
	mv -f $(DESTDIR)$(SYSCONFDIR)/declared.conf.example.tmp \
		$(DESTDIR)$(SYSCONFDIR)/declared.conf.example
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/declared.conf ]; then \
		echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/declared.conf"; \
	fi

install-man:
	@set -e; for m in $(MAN_PAGES); do \
		s=$${m##*.}; \
		echo "$(INSTALL) -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}"; \
		$(INSTALL) -D -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$$s/$${m##*/}"; \
	done

# With debhelper: dpkg-buildpackage (it builds again in debian/build and
# writes to ..; the .deb is moved to $(B)).  Without: a staging tree made
# by `make install PREFIX=/usr`, packed by dpkg-deb (debian/build-deb.sh).
# DEB_TOOL=dpkg-deb forces the second way.
DEB_TOOL ?= $(if $(shell dpkg-query -W -f='$${Status}' debhelper 2>/dev/null | grep 'ok installed'),dpkg-buildpackage,dpkg-deb)

deb: $(B)/declared $(B)/declctl
	@[ -n "$(DEB_VERSION)" ] && [ -n "$(DEB_ARCH)" ] || \
		{ echo "deb: need debian/changelog and dpkg" >&2; exit 1; }
ifeq ($(DEB_TOOL),dpkg-buildpackage)
	dpkg-buildpackage -b -us -uc -nc
	@mkdir -p $(B)
	mv -f ../declared_$(DEB_VERSION)_$(DEB_ARCH).deb $(DEB_FILE)
	rm -f ../declared_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
		../declared_$(DEB_VERSION)_$(DEB_ARCH).changes \
		../declared-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb \
		../declared-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).ddeb
	debian/rules clean
else
	rm -rf $(B)/deb
	$(MAKE) --no-print-directory B=$(B) -o $(B)/declared -o $(B)/declctl \
		PREFIX=/usr DESTDIR=$(abspath $(B))/deb/root install
	sh debian/build-deb.sh $(B)/deb/root $(DEB_FILE)
endif
	@echo "deb: $(DEB_FILE)"
