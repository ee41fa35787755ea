# The fault suite and the fuzz targets (issue #8); included by the Makefile.
#
#   make check-faults          the reliability and security suite: crash,
#                              database faults, hostile input, a short fuzz
#                              run; ends with the "faults: ..." line
#   make fuzz-build            the libFuzzer targets in build/fuzz/
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=1]
#                              the long run: every target FUZZ_SECONDS,
#                              corpus kept in build/fuzz/corpus/
#
# The fuzz targets are built with clang -fsanitize=fuzzer,address,undefined
# from tests/fuzz/fuzz_*.c and the lib/ (and the few daemon/) sources they
# exercise, compiled into each target directly.

FUZZ_CC      ?= clang
FB           := $(B)/fuzz
FUZZ_SECONDS ?= 600
FUZZ_JOBS    ?= 1
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -std=gnu11 -Ilib -Idaemon \
                -DFUZZ_ROOT=\"$(CURDIR)\" -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_PKGS    := libevent libevent_openssl libxml-2.0 xmlsec1-openssl openssl jansson
FUZZ_TARGETS := intake config http
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

.PHONY: check-faults fuzz fuzz-build

$(FB)/fuzz_intake: tests/fuzz/fuzz_intake.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(FUZZ_PKGS)) -o $@ \
		$< $(LIB_SRC) $(shell pkg-config --libs $(FUZZ_PKGS)) -lm

$(FB)/fuzz_config: tests/fuzz/fuzz_config.c daemon/config.c daemon/config_profile.c $(LIB_SRC) $(wildcard lib/*.h daemon/config.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(FUZZ_PKGS)) -o $@ \
		$< daemon/config.c daemon/config_profile.c $(LIB_SRC) $(shell pkg-config --libs $(FUZZ_PKGS)) -lm

$(FB)/fuzz_http: tests/fuzz/fuzz_http.c daemon/limit.c daemon/log.c lib/hash.c daemon/limit.h lib/hash.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(FUZZ_PKGS)) -o $@ \
		$< daemon/limit.c daemon/log.c lib/hash.c $(shell pkg-config --libs $(FUZZ_PKGS))

fuzz-build:
	@if command -v $(FUZZ_CC) >/dev/null; then \
		$(MAKE) --no-print-directory $(FUZZ_BIN); \
	else \
		echo "fuzz: $(FUZZ_CC) not found: apt-get install clang (the fuzz run is skipped)"; \
	fi

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_DIR=$(CURDIR)/$(FB) \
		bash tests/fuzz/run.sh $(FUZZ_TARGETS)

check-faults: deps
	@$(MAKE) --no-print-directory WERROR=1 all
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_DIR=$(CURDIR)/$(FB) bash tests/faults/run.sh $(B)
