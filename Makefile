# declared: build, test and demo.  `make`, `make check`, `make demo`, `make bench`.
CC      ?= cc
PKGS    := libevent libevent_openssl libevent_pthreads libxml-2.0 xmlsec1-openssl libpq openssl libsystemd jansson
CLIPKGS := libxml-2.0 xmlsec1-openssl openssl libcurl jansson
SANITIZE ?=
PREFIX  ?= /usr/local
DESTDIR ?=
B       := build

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wno-unused-parameter -Wno-deprecated-declarations
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDHARD  := -pie -Wl,-z,relro,-z,now
ifneq ($(SANITIZE),)
  B       := build-san
  HARDEN  := -fPIE
  SANFL   := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif
ifeq ($(WERROR),1)
  WARN += -Werror
endif
OPT     ?= -O2 -g
# The daemon (and the benchmark's ceiling, which measures the same work) use
# mimalloc instead of glibc's malloc: libxml2, xmlsec and OpenSSL allocate a
# node, a string or a buffer at every step, and under three threads glibc's
# arenas cost ~12 % of the daemon's CPU (docs/performance.md).  Not with the
# sanitizers, which bring their own allocator.  ALLOC= builds without it.
ALLOC   ?= mimalloc
ifneq ($(SANITIZE),)
  ALLOC :=
endif
ALLOCLIB :=
ifneq ($(ALLOC),)
  ALLOCLIB := -Wl,--push-state,--no-as-needed -l$(ALLOC) -Wl,--pop-state
endif
CFLAGS  += -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(SANFL) -pthread -Ilib -Idaemon
DEPCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CLICFLAGS = $(shell pkg-config --cflags $(CLIPKGS) 2>/dev/null)
CLILIBS   = $(shell pkg-config --libs $(CLIPKGS) 2>/dev/null)
LDFLAGS += $(LDHARD) $(SANFL) -pthread
LDLIBS  := -lm

LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(B)/%)

.PHONY: all deps check check-unit check-integration demo demo-stop bench bench-tools clean install unit-bins
all: $(B)/declared $(B)/declctl $(TOOL_BIN)

$(B)/libdeclared.a: $(LIB_OBJ)
	@mkdir -p $(@D); rm -f $@; ar rcs $@ $^

$(B)/declared: $(DAEMON_OBJ) $(B)/libdeclared.a
	$(CC) -o $@ $^ $(LDFLAGS) $(ALLOCLIB) $(DEPLIBS) $(LDLIBS)

$(B)/declctl: $(CLI_OBJ) $(B)/libdeclared.a
	$(CC) -o $@ $^ $(LDFLAGS) $(CLILIBS) $(DEPLIBS) $(LDLIBS)

# load generator and in-process ceiling of make bench (also used by the
# fault and cluster suites)
LOADGEN_SRC := $(wildcard tests/bench/loadgen*.c)
CEILING_SRC := $(wildcard tests/bench/ceiling*.c)
$(B)/loadgen: $(LOADGEN_SRC) tests/bench/loadgen.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bench $(DEPCFLAGS) -o $@ $(LOADGEN_SRC) $(LDFLAGS) $(DEPLIBS) $(LDLIBS)
$(B)/ceiling: $(CEILING_SRC) tests/bench/ceiling.h $(B)/libdeclared.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bench $(DEPCFLAGS) -o $@ $(CEILING_SRC) $(B)/libdeclared.a $(LDFLAGS) $(ALLOCLIB) $(DEPLIBS) $(LDLIBS)
bench-tools: $(B)/loadgen $(B)/ceiling

$(B)/%: $(B)/tests/tools/%.o $(B)/libdeclared.a
	$(CC) -o $@ $^ $(LDFLAGS) $(DEPLIBS) $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/libdeclared.a
	$(CC) -o $@ $^ $(LDFLAGS) $(DEPLIBS) $(LDLIBS) -lcunit

$(B)/cli/%.o: cli/%.c $(wildcard lib/*.h cli/*.h)
	@mkdir -p $(@D); $(CC) $(CFLAGS) $(CLICFLAGS) $(DEPCFLAGS) -Icli -c -o $@ $<

$(B)/%.o: %.c $(wildcard lib/*.h daemon/*.h)
	@mkdir -p $(@D); $(CC) $(CFLAGS) $(DEPCFLAGS) -c -o $@ $<

.SECONDARY:

deps:
	@sh scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory WERROR=1 all unit-bins
	@sh tests/run.sh $(B)

unit-bins: $(UNIT_BIN)

check-unit: all unit-bins
	@sh tests/run.sh $(B) unit

check-integration: all
	@sh tests/run.sh $(B) integration

demo: deps all
	@sh scripts/demo.sh $(B)

demo-stop:
	@sh scripts/demo-stop.sh

bench: deps all
	@sh tests/bench/run.sh $(B)

clean:
	rm -rf build build-san var

-include $(wildcard mk/*.mk)
