# guestkit — plain GNU make with pkg-config.
#
#   make            build lib/, fs/, the tools, gfsh and the unit tests into $(B)/
#   make deps       install what is missing with apt-get (Debian)
#   make check      deps, build, the unit and bad-input tests under ASan+UBSan,
#                   a short fuzz run, then every test through prove
#   make demo       deps, build, make a demo image and run the tools on it
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       libFuzzer targets (clang)

PREFIX ?= /usr/local
DESTDIR ?=
B ?= build
CC ?= cc
CFLAGS ?= -O2 -g
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
VERSION = 0.1.0

PKGS = ext2fs com_err blkid zlib libdeflate libzstd libxml-2.0 libcrypto sqlite3 lzo2 libxxhash libb2 libntfs-3g hivex libarchive libmagic e2p libargon2 json-c libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libnbd libcurl 2>/dev/null)
# Loaded with dlopen on first use (lib/ossl.h): headers only at build time.
DLOPEN_PKGS = libargon2
PKG_LIBS := $(shell pkg-config --libs $(filter-out $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null) -ldl
# A tool is a short process (gcat answers in milliseconds), and loading and
# relocating a dozen shared libraries cost more than the work itself (bench/
# RESULTS.md, "gcat on the compressed chain").  The libraries Debian ships
# as .a archives are linked statically (STATIC_DEPS=0: all shared);
# libxml2 and libarchive stay shared (their static forms need ICU and C++,
# or archives Debian does not ship), loaded only by the tools using them;
# so does libargon2 (its archive defines blake2b again, as libb2.a does).
STATIC_DEPS ?= 1
STATIC_PKGS = ext2fs com_err blkid zlib libdeflate libzstd libcrypto sqlite3 lzo2 libxxhash libb2 libntfs-3g \
	hivex libmagic e2p libseccomp json-c
# The static libblkid's read() and lseek() calls go to lib/probe.c's
# __wrap_read and __wrap_lseek, which answer a probe's descriptor from the
# device being probed (libblkid then reads only what it asks for instead of
# a copy of the device's ends).  -u pulls lib/probe.o into every program,
# also those that never probe (the wrapped calls of libext2fs need it).
# The static hivex's iconv calls go to lib/recode-wrap.c (UTF-8, LATIN1 and
# UTF-16LE without glibc's gconv modules, which the sandbox cannot load).
ifeq ($(STATIC_DEPS),1)
SYS_LIBS = -lm -ldl -lpthread -pthread -lrt
ICONV_WRAP = -Wl,--wrap=iconv_open,--wrap=iconv,--wrap=iconv_close,-u,__wrap_iconv_open,-u,__wrap_iconv,-u,__wrap_iconv_close
WRAP_LIBS = -Wl,--wrap=read,--wrap=lseek,-u,__wrap_read,-u,__wrap_lseek $(ICONV_WRAP)
STATIC_PKG_LIBS := $(filter-out $(SYS_LIBS),$(shell pkg-config --libs --static $(STATIC_PKGS) 2>/dev/null)) -lgomp
PKG_LIBS := $(WRAP_LIBS) -Wl,-Bstatic $(STATIC_PKG_LIBS) -Wl,-Bdynamic $(shell pkg-config --libs \
	$(filter-out $(STATIC_PKGS) $(DLOPEN_PKGS),$(PKGS)) 2>/dev/null) -ldl
endif
# The short read-only tools are static PIEs, libc included: no libc.so to
# map and relocate, no lazy binding, only the libc they use next to their
# own code (HACKING.md, "Linking and start-up").  A static program cannot
# load the threaded client libraries of the remote protocols, so each also
# gets a dynamic twin, $(B)/libexec/guestkit/NAME, that it runs instead
# when it needs one (lib/twin.c).  STATIC_TOOLS= links every tool
# dynamically (the sanitizer build: ASan needs the dynamic loader).
STATIC_TOOLS ?= gcat gls gdf gfilesystems
ifneq ($(STATIC_DEPS),1)
STATIC_TOOLS :=
endif
RL_LIBS := $(shell pkg-config --libs readline 2>/dev/null || echo -lreadline)
# libfuse3 for gmount only (its objects and its link)
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)

# Quiet by default: "  CC  lib/blk.c"; V=1 shows the commands.
V ?= 0
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

GK_CFLAGS = -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Ilib -Ifs -Itools -Itests/unit $(PKG_CFLAGS) -DGK_VERSION=\"$(VERSION)\" -MMD -MP
# Position-independent executables (ASLR: the tools parse hostile images)
# with their relative relocations packed (DT_RELR) when the toolchain links
# with it: HACKING.md, "Linking and start-up".
RELR_LDFLAGS := $(shell t=$$(mktemp) && printf 'int main(void) { return 0; }\n' | \
	$(CC) -x c - -o $$t -Wl,-z,pack-relative-relocs >/dev/null 2>&1 && \
	echo -Wl,-z,pack-relative-relocs; rm -f $$t)
# libm only where a static library needs it (sqlite's math functions in
# ginspect and gfsh): loading it costs every tool start ~12 page faults.
LDLIBS_ALL = $(RELR_LDFLAGS) $(PKG_LIBS) -Wl,--push-state,--as-needed -lm -Wl,--pop-state -lpthread
# ld warns that dlopen (lib/ossl.c) and ntfs-3g's getpwnam and the like
# need the shared libraries of the glibc linked with at run time: true of
# any static glibc program, and what lib/twin.c is about.  Its -w is
# binutils 2.40's.
LD_NOWARN := $(shell t=$$(mktemp) && printf 'int main(void) { return 0; }\n' | \
	$(CC) -x c - -o $$t -Wl,--no-warnings >/dev/null 2>&1 && echo -Wl,--no-warnings; rm -f $$t)
LDLIBS_STATIC = -static-pie $(RELR_LDFLAGS) $(LD_NOWARN) $(WRAP_LIBS) $(STATIC_PKG_LIBS) -lm -lpthread -ldl

LIB_SRC := $(sort $(wildcard lib/*.c))
FS_SRC := $(sort $(wildcard fs/*.c))
# A tool NAME is either one file, tools/NAME.c, or a directory tools/NAME/
# whose *.c files are all its own; tools/common*.c are shared by every tool.
TOOL_COMMON_SRC := $(sort $(wildcard tools/common*.c))
TOOL_MAINS := $(filter-out $(TOOL_COMMON_SRC),$(sort $(wildcard tools/g*.c)))
TOOL_DIRS := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/g*/*.c))))
TOOLS := $(patsubst tools/%.c,%,$(TOOL_MAINS)) $(TOOL_DIRS)
tool_objs = $(if $(wildcard tools/$(1)/*.c),$(patsubst %.c,$(B)/%.o,$(sort $(wildcard tools/$(1)/*.c))),$(B)/tools/$(1).o)
SHELL_SRC := $(sort $(wildcard shell/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
FS_OBJ := $(FS_SRC:%.c=$(B)/%.o)
TOOL_COMMON_OBJ := $(TOOL_COMMON_SRC:%.c=$(B)/%.o)
SHELL_OBJ := $(SHELL_SRC:%.c=$(B)/%.o)

LIBGK := $(B)/libguestkit-blk.a
LIBGKFS := $(B)/libguestkit-fs.a
# tools/common*.o as an archive: a tool links only the parts it calls (gcat
# needs neither libarchive nor the editor).
LIBGKTOOLS := $(B)/libguestkit-tools.a
BINS := $(TOOLS:%=$(B)/bin/%) $(if $(SHELL_SRC),$(B)/bin/gfsh)
TWINS := $(STATIC_TOOLS:%=$(B)/libexec/guestkit/%)
UNITS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit-%)
MANS := $(wildcard man/*.1)

.PHONY: all deps check check-build tests-build demo install clean fuzz images bench tags asan selftest
# The unit-test binaries too: tests/*.t run them (GK_UNIT), and one left
# stale by a make that skipped them fails against the new code.
all: $(BINS) $(TWINS) $(B)/man/gfsh.1 $(UNITS)

# Objects are kept between runs (make check after make demo rebuilds nothing).
.SECONDARY:

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(GK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBGK): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBGKTOOLS): $(TOOL_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBGKFS): $(FS_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# One link rule per tool, from its own objects (tool_objs) and the
# libraries; a static tool's dynamic twin from the same objects.
define tool_rule
$(B)/bin/$(1): $(call tool_objs,$(1)) $(LIBGKTOOLS) $(LIBGKFS) $(LIBGK)
	@mkdir -p $$(dir $$@)
	$$(say) LINK $$@
	$$(Q)$$(CC) $$(CFLAGS) -o $$@ $$^ $$(if $$(filter $(1),$$(STATIC_TOOLS)),$$(LDLIBS_STATIC),$$(LDLIBS_ALL))
$(B)/libexec/guestkit/$(1): $(call tool_objs,$(1)) $(LIBGKTOOLS) $(LIBGKFS) $(LIBGK)
	@mkdir -p $$(dir $$@)
	$$(say) LINK $$@
	$$(Q)$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS_ALL)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))
$(B)/tools/gmount/%.o: GK_CFLAGS += $(FUSE_CFLAGS)
$(B)/bin/gmount: LDLIBS_ALL += $(FUSE_LIBS)

$(B)/bin/gfsh: $(SHELL_OBJ) $(LIBGKTOOLS) $(LIBGKFS) $(LIBGK)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(RL_LIBS)

$(B)/tests/unit-%: $(B)/tests/unit/%.o $(LIBGKFS) $(LIBGK)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

# The sandbox's seccomp programs, made at build time from the profile table
# (tools/sandbox-bpfgen.c; only profiles that depend on the descriptors
# open at run time are still made by libseccomp then).
$(B)/gen/sandbox-bpfgen: tools/sandbox-bpfgen.c tools/common-sandbox-profile.c tools/sandbox-profile.h tools/sandbox.h
	@mkdir -p $(dir $@)
	$(say) GEN $@
	$(Q)$(CC) $(filter-out -MMD -MP,$(GK_CFLAGS)) $(CFLAGS) -o $@ tools/sandbox-bpfgen.c \
		tools/common-sandbox-profile.c $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp)
$(B)/gen/sandbox-bpf.inc: $(B)/gen/sandbox-bpfgen
	$(say) GEN $@
	$(Q)ASAN_OPTIONS=detect_leaks=0 $< $@.tmp && mv $@.tmp $@
$(B)/tools/common-sandbox.o $(B)/selftest/common-sandbox.o: $(B)/gen/sandbox-bpf.inc
$(B)/tools/common-sandbox.o $(B)/selftest/common-sandbox.o: GK_CFLAGS += -I$(B)/gen

# The sandbox's test binaries (tests/48-sandbox.t): every tool and gfsh
# linked with the attack hook of tools/sandbox-selftest.c, which exists only
# here, never in build/bin or what make install puts anywhere.
SELFTEST_BINS := $(TOOLS:%=$(B)/selftest-bin/%) $(if $(SHELL_SRC),$(B)/selftest-bin/gfsh)
SELFTEST_OBJ := $(B)/selftest/common-sandbox.o $(B)/selftest/sandbox-selftest.o
SELFTEST_COMMON := $(filter-out $(B)/tools/common-sandbox.o,$(TOOL_COMMON_OBJ)) $(SELFTEST_OBJ)
$(B)/selftest/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(say) CC "$< (selftest)"
	$(Q)$(CC) $(GK_CFLAGS) -DGK_SANDBOX_SELFTEST $(CFLAGS) -c -o $@ $<
define selftest_rule
$(B)/selftest-bin/$(1): $(call tool_objs,$(1)) $(SELFTEST_COMMON) $(LIBGKFS) $(LIBGK)
	@mkdir -p $$(dir $$@)
	$$(say) LINK $$@
	$$(Q)$$(CC) $$(CFLAGS) -o $$@ $$^ $$(LDLIBS_ALL)
endef
$(foreach t,$(TOOLS),$(eval $(call selftest_rule,$(t))))
$(B)/selftest-bin/gmount: LDLIBS_ALL += $(FUSE_LIBS)
$(B)/selftest-bin/gfsh: $(SHELL_OBJ) $(SELFTEST_COMMON) $(LIBGKFS) $(LIBGK)
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(RL_LIBS)
selftest: $(SELFTEST_BINS)

# The COMMANDS section of gfsh(1) comes from the command table itself.
$(B)/man/gfsh.1: man/gfsh.1.in $(if $(SHELL_SRC),$(B)/bin/gfsh)
	@mkdir -p $(dir $@)
	@if [ -x $(B)/bin/gfsh ]; then \
	  sed '/@COMMANDS@/,$$d' man/gfsh.1.in > $@.tmp && \
	  $(B)/bin/gfsh --man-commands >> $@.tmp && \
	  sed '1,/@COMMANDS@/d' man/gfsh.1.in >> $@.tmp && mv $@.tmp $@; \
	else cp man/gfsh.1.in $@; fi

# Debian packages: to build, and the oracles the tests compare against.
BUILD_DEPS = gcc make pkg-config libext2fs-dev libblkid-dev zlib1g-dev libdeflate-dev libzstd-dev \
	libreadline-dev libxml2-dev libssl-dev libsqlite3-dev liblzo2-dev libxxhash-dev libb2-dev \
	ntfs-3g-dev libhivex-dev libarchive-dev libmagic-dev libfuse3-dev libargon2-dev libjson-c-dev libseccomp-dev \
	libnbd-dev libcurl4-openssl-dev librbd-dev
TEST_DEPS = perl qemu-utils e2fsprogs gdisk fdisk lvm2 xxd util-linux libxml2-utils \
	clang libclang-rt-14-dev tmux rpm sqlite3 dpkg python3 jq time attr \
	cpio dosfstools mtools mdadm btrfs-progs ntfs-3g cryptsetup-bin xfsprogs acl strace \
	libhivex-bin libwin-hivex-perl libarchive-tools fuse3 python3-cryptography \
	nbdkit nginx-light ceph-mon ceph-osd ceph-common
deps:
	@missing=$$(for p in $(BUILD_DEPS) $(TEST_DEPS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -qq --no-install-recommends $$missing; \
	fi

check-build: tests-build selftest
# what the tests run (the sanitizer build needs no selftest binaries: it
# skips Landlock and seccomp)
tests-build: all

# The unit tests and the bad-input tests (tests/bad-*.t) with ASan+UBSan
# binaries, a bounded fuzz run, then every test through prove: its summary
# closes the output.
# The longest tests first: prove -j2 starts them in the order given, and
# a long one started last keeps one CPU busy while the other waits
# (HACKING.md, "CI time").  The bad-input tests keep that order under ASan.
# Ordered by their time in the CI run of stop 22 (stage 4; the bad-input
# ones by the ASan stage, where the first user of a fixture builds it).
SLOW_TESTS := tests/bad-ext-corpus.t tests/bad-qcow2.t tests/71-gfsh-write.t tests/bad-ext-write.t \
	tests/bad-btrfs.t tests/bad-ntfs.t tests/15-formats-damaged.t tests/bad-qcow2-crypt.t \
	tests/bad-xfs.t tests/19-gimg-rebase.t tests/16-gimg-convert-qcow2.t tests/23-md.t \
	tests/bad-vmdk.t tests/72-crash.t tests/18-gimg-snapshot-write.t tests/40-gcat.t \
	tests/19-gimg-commit.t tests/bad-luks.t tests/54-rbd.t tests/44-deep-trees.t \
	tests/19-gimg-check-repair.t tests/20-gimg-amend.t tests/15-gimg-damaged.t tests/15-vmdk.t \
	tests/30-ext-journal.t
TESTS := $(filter $(wildcard tests/*.t),$(SLOW_TESTS)) $(filter-out $(SLOW_TESTS),$(sort $(wildcard tests/*.t)))
# Bad-input tests that stage 4 does not run again without the sanitizers:
# nothing in them depends on GK_SAN (the same inputs and the same CPU
# bounds, which ASan's slowdown makes the tighter), so the ASan run checks
# all they check and more.  The other bad-input tests check more in their
# plain run (every input, memory limits, e2fsck's verdicts) and run in
# both stages.  HACKING.md, "CI time".
ASAN_ONLY_TESTS := tests/bad-backing-files.t tests/bad-copy-out-escape.t tests/bad-fat.t \
	tests/bad-fleet.t tests/bad-gfsh-ro.t tests/bad-gimg-write.t tests/bad-lvm.t tests/bad-md.t \
	tests/bad-parts.t tests/bad-qcow2-crypt.t tests/bad-qcow2.t tests/bad-tar-in.t \
	tests/bad-vhdx.t tests/bad-vmdk.t tests/bad-xfs.t
# The fuzz targets compile during stage 2, at the lowest priority, and
# their seeds are made there (mkfs and the like: ~40 s of CPU that would
# otherwise hold up stage 3 and take CPU from its time-bound fuzzers): the
# ASan tests leave part of the two CPUs idle (they wait on sync, loop
# mounts, servers), which that work fills.  Stage 3 runs make fuzz again:
# nothing to do, or the compile error shown in the open.
banner = @printf '\n==== make check: %s\n' $(1)
check: deps
	$(call banner,"1/4 build (tools$(,) gfsh$(,) unit tests)")
	$(Q)$(MAKE) --no-print-directory check-build
	$(call banner,"2/4 unit and bad-input tests under ASan+UBSan")
	$(Q)mkdir -p build-fuzz; \
	  (nice -n 19 $(MAKE) --no-print-directory fuzz && \
	   if command -v clang >/dev/null; then nice -n 19 ./tests/fuzz/run.sh --seeds build-fuzz; fi \
	  ) >build-fuzz/bg-make.log 2>&1 & \
	  $(MAKE) --no-print-directory asan; rc=$$?; wait; exit $$rc
	$(call banner,"3/4 fuzz targets$(,) $(FUZZ_SECONDS) s each")
	$(Q)$(MAKE) --no-print-directory fuzz-run
	$(call banner,"4/4 every test through prove")
	$(Q)GK_BIN=$(CURDIR)/$(B)/bin GK_UNIT=$(CURDIR)/$(B)/tests prove -j2 -f --timer \
	  $(filter-out $(ASAN_ONLY_TESTS),$(filter $(SLOW_TESTS),$(TESTS))) $(B)/tests/unit-* \
	  $(filter-out $(ASAN_ONLY_TESTS) $(SLOW_TESTS),$(TESTS))

, := ,
asan:
	$(Q)$(MAKE) --no-print-directory B=build-asan CC=gcc CFLAGS="$(SAN_FLAGS)" STATIC_TOOLS= tests-build
	$(Q)ASAN_OPTIONS=abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	GK_SAN=1 GK_BIN=$(CURDIR)/build-asan/bin GK_UNIT=$(CURDIR)/build-asan/tests \
	  prove -j2 -f --timer $(filter tests/bad-%,$(filter $(SLOW_TESTS),$(TESTS))) \
	  build-asan/tests/unit-* $(filter tests/bad-%,$(filter-out $(SLOW_TESTS),$(TESTS)))

# libFuzzer targets: tests/fuzz/NAME.c defines LLVMFuzzerTestOneInput.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
fuzz:
	@if command -v clang >/dev/null; then \
	  $(MAKE) --no-print-directory B=build-fuzz CC=clang CFLAGS="$(FUZZ_FLAGS)" $(patsubst %,build-fuzz/%,$(notdir $(FUZZ_SRC:.c=))) ; \
	else echo "clang not found: no fuzz targets"; fi

build-fuzz/%: tests/fuzz/%.c $(LIBGKFS) $(LIBGK)
	$(say) FUZZ $@
	$(Q)$(CC) $(GK_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.a,$^) $(LDLIBS_ALL)

# A bounded run of every fuzz target (seconds each), part of make check.
FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	@if command -v clang >/dev/null; then \
	  ./tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS); fi

images:
	./test-images/build-all.sh $(B)/images

demo: deps all
	./test-images/demo.sh $(B)

bench: all
	./bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/guestkit $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(TWINS),install -d $(DESTDIR)$(PREFIX)/libexec/guestkit && \
	  install -m 755 $(TWINS) $(DESTDIR)$(PREFIX)/libexec/guestkit/)
	install -m 644 $(LIBGK) $(LIBGKFS) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 lib/blk.h fs/fs.h fs/vfs.h fs/guest.h fs/inspect.h $(DESTDIR)$(PREFIX)/include/guestkit/
	install -m 644 $(filter-out man/gfsh.1,$(MANS)) $(B)/man/gfsh.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' lib/guestkit.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/guestkit.pc

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
