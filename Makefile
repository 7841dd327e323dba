# lkvm: native build on arm64, static cross build elsewhere.
#   make            build ./lkvm
#   make check      install what is missing, build, check the man pages, completion and Debian
#                   package, run the unit, fuzz and system tests
#   make check-stress  the system tests that storm, stall or kill lkvm for minutes (CI runs it)
#   make fuzz       build the libFuzzer targets (native clang; see Documentation/testing.md)
#   make fuzz-long  every fuzz target to FUZZ_LONG_RUNS (10 million) runs (FUZZ_LONG_TIME: a cap)
#   make soak       the system tests RUNS times (default 5), then each test's failure count
#   make check-sanitize  unit tests under ASan+UBSan and TSan, system tests with an ASan lkvm
#   make kill-loop  SIGKILL of lkvm during heavy disk writes, 20 times per transport
#   make demo       boot a Linux guest under lkvm and show its console
#   make bench      benchmarks (see Documentation/benchmarks.md)
#   make man        the man pages, into build/man/man1 (from --help: scripts/gen-man.sh)
#   make install    PREFIX=/usr/local DESTDIR=: lkvm, its man pages, bash completion and docs

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),aarch64)
CROSS_COMPILE ?=
STATIC ?= 0
RUN_TARGET :=
else
CROSS_COMPILE ?= aarch64-linux-gnu-
STATIC ?= 1
RUN_TARGET := qemu-aarch64-static -L /usr/aarch64-linux-gnu
endif

CC := $(CROSS_COMPILE)gcc
AR := $(CROSS_COMPILE)ar
PKG_CONFIG ?= $(if $(CROSS_COMPILE),PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig pkg-config,pkg-config)

# Warnings are errors for development and CI; packagers may build with WERROR=0.
WERROR ?= 1
WARNINGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef
# Hardening by default (HARDEN= turns it off): fortified libc calls and stack canaries always;
# a dynamic lkvm is also position-independent with a read-only GOT (RELRO, BIND_NOW). A static
# one keeps RELRO and BIND_NOW but not PIE: glibc's static-pie start-up is not worth its cost.
HARDEN ?= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HARDEN_LD := -Wl,-z,relro -Wl,-z,now
ifneq ($(filter 1,$(STATIC)),1)
HARDEN += -fPIE
HARDEN_LD += -pie
endif
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -pthread -Iinclude $(WARNINGS) $(HARDEN) \
	-DLKVM_VERSION='"$(VERSION)"'
LDFLAGS += -pthread $(if $(filter 1,$(STATIC)),-static) $(if $(HARDEN),$(HARDEN_LD))
# SANITIZE=address,undefined or SANITIZE=thread: a sanitizer build (make check-sanitize).
SANITIZE ?=
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
# TSan does not model lone fences (gcc warns); the virtqueue's pair with the guest's, not a thread.
CFLAGS += $(if $(filter thread,$(SANITIZE)),-Wno-tsan)
endif
# KVM_UAPI=DIR: arm64's KVM headers for a native build elsewhere (the sanitized unit tests on
# x86_64: they need no KVM, and the sanitizers do not run under qemu-user); LIBDIR=DIR: one more
# place for libraries.
KVM_UAPI ?=
LIBDIR ?=
CFLAGS += $(if $(KVM_UAPI),-isystem $(KVM_UAPI))
LDFLAGS += $(if $(LIBDIR),-L$(LIBDIR))
LIBS := -lfdt -lz

# libslirp, for -n mode=user. Debian's libslirp-dev has only the shared library: a static lkvm
# builds libslirp itself from Debian's source of the same version (scripts/libslirp-source.sh
# fetches it into build/libslirp) and links glib statically; a dynamic one links the packages.
GLIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags glib-2.0 2>/dev/null)
ifeq ($(STATIC),1)
SLIRP_DIR := build/libslirp
SLIRP_LIB := build/slirp/libslirp.a
SLIRP_CFLAGS := -I$(SLIRP_DIR)/src -Ibuild/slirp $(GLIB_CFLAGS)
SLIRP_LIBS := $(SLIRP_LIB) $(shell $(PKG_CONFIG) --static --libs glib-2.0 2>/dev/null)
else
SLIRP_LIB :=
SLIRP_CFLAGS := $(shell $(PKG_CONFIG) --cflags slirp 2>/dev/null)
SLIRP_LIBS := $(shell $(PKG_CONFIG) --libs slirp 2>/dev/null)
endif
LIBS += $(SLIRP_LIBS)

# Where a build goes: a sanitizer build has its own objects and binaries.
B ?= build/obj
LKVM_BIN ?= lkvm
UNIT_BIN ?= build/unit-tests
LIB_SRCS := kvm.c mmio.c hypercall.c firmware.c $(wildcard builtin-*.c util/*.c hw/*.c \
	hw/acpi/*.c arm/aarch64/*.c psci/*.c sdei/*.c hypercall/*.c virtio/*.c control/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)

.PHONY: all check hardening-check unit-check fuzz fuzz-check fuzz-long system-check soak demo bench install clean deps-build \
	deps-check check-sanitize check-stress kill-loop man man-check completion-check deb-check

all: $(LKVM_BIN)

# Every object includes only what it needs; the whole-lib archive lets the linker take just that.
$(LKVM_BIN): $(B)/main.o $(B)/liblkvm.a $(SLIRP_LIB)
	$(CC) $(LDFLAGS) -o $@ $(B)/main.o -Wl,--whole-archive $(B)/liblkvm.a -Wl,--no-whole-archive $(LIBS)

$(B)/liblkvm.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(B)/main.d

# The user network's backend is the only user of libslirp's header (and glib's, which it needs).
$(B)/virtio/net-user.o: CFLAGS += $(patsubst -I%,-isystem %,$(SLIRP_CFLAGS))
$(B)/virtio/net-user.o: | $(SLIRP_LIB)

# libslirp from source, as its meson.build builds it (src/*.c less none, G_LOG_DOMAIN "Slirp",
# the version header from its template); third-party code, so its own warnings are not ours.
SLIRP_SRCS := arp_table.c bootp.c cksum.c dhcpv6.c dnssearch.c if.c ip6_icmp.c ip6_input.c \
	ip6_output.c ip_icmp.c ip_input.c ip_output.c mbuf.c misc.c ncsi.c ndp_table.c sbuf.c \
	slirp.c socket.c state.c stream.c tcp_input.c tcp_output.c tcp_subr.c tcp_timer.c tftp.c \
	udp.c udp6.c util.c version.c vmstate.c
SLIRP_VERSION = $(shell sed -n "s/^ *version : '\([0-9.]*\)',$$/\1/p" $(SLIRP_DIR)/meson.build)

ifeq ($(STATIC),1)
$(SLIRP_DIR)/src/libslirp.h:
	scripts/libslirp-source.sh $(SLIRP_DIR)

$(SLIRP_LIB): $(SLIRP_DIR)/src/libslirp.h
	@mkdir -p build/slirp/obj
	@v=$(SLIRP_VERSION); set -- $$(echo $$v | tr . ' '); \
	sed -e "s/@SLIRP_MAJOR_VERSION@/$$1/; s/@SLIRP_MINOR_VERSION@/$$2/" \
	    -e "s/@SLIRP_MICRO_VERSION@/$$3/; s/@SLIRP_VERSION_STRING@/\"$$v\"/" \
	    $(SLIRP_DIR)/src/libslirp-version.h.in >build/slirp/libslirp-version.h
	@for f in $(SLIRP_SRCS); do \
		echo "  CC      libslirp/$$f"; \
		$(CC) -O2 -g -std=gnu99 -pthread -w -DG_LOG_DOMAIN='"Slirp"' $(GLIB_CFLAGS) \
			-Ibuild/slirp -c -o build/slirp/obj/$${f%.c}.o $(SLIRP_DIR)/src/$$f || exit 1; \
	done
	@rm -f $@
	$(AR) rcs $@ $(SLIRP_SRCS:%.c=build/slirp/obj/%.o)
endif

# Whole too: the tests see every self-registered part (firmware services) that lkvm has.
$(UNIT_BIN): $(UNIT_OBJS) $(B)/liblkvm.a $(SLIRP_LIB)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJS) -Wl,--whole-archive $(B)/liblkvm.a -Wl,--no-whole-archive \
		$(LIBS) $$($(PKG_CONFIG) --libs check) $(if $(filter 1,$(STATIC)),-lsubunit)

deps-build:
	@scripts/install-deps.sh build
deps-check:
	@scripts/install-deps.sh check

unit-check: build/unit-tests
	$(RUN_TARGET) build/unit-tests

# Fuzz targets: fuzz/fuzz-NAME.c, built natively with clang and libFuzzer, plus the sources
# FUZZ_SRCS_NAME lists (one line per target). fuzz-check runs each for FUZZ_TIME seconds.
FUZZ_CC ?= clang
FUZZ_TIME ?= 5
FUZZ_RUNS ?= 2000000
# clang's -Wformat=2 also flags util.c's va_list wrappers, which gcc's accepts.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread -Iinclude $(WARNINGS) -Wno-format-nonliteral \
	-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -DLKVM_VERSION='"fuzz"'
FUZZ_SRCS_virtqueue := virtio/virtqueue.c util/util.c fuzz/fake-kvm.c
FUZZ_SRCS_9p := virtio/9p-proto.c virtio/9p-fs.c
FUZZ_SRCS_kernel := arm/aarch64/kernel.c util/util.c
FUZZ_LIBS_kernel := -lz
FUZZ_SRCS_control := control/proto.c util/util.c util/events.c
FUZZ_SRCS_json := control/json.c util/util.c
FUZZ_SRCS_cmdline := util/devspec.c firmware.c util/util.c
FUZZ_SRCS_psci := psci/psci.c
FUZZ_SRCS_aml := hw/acpi/aml.c
FUZZ_SRCS_sdei := sdei/sdei.c
FUZZ_SRCS_timeline := util/timeline.c util/timeline-svg.c util/util.c
FUZZ_SRCS_hypercall := fuzz/native-hypercall.c fuzz/native-sdei-kvm.c firmware.c \
	hypercall/kvm-fixed.c hypercall/lkvm-calls.c hypercall/smccc-rules.c hypercall/trng.c psci/psci.c psci/psci-kvm.c \
	sdei/sdei.c util/util.c util/init.c
FUZZ_SRCS_virtio-mmio := fuzz/vguest.c fuzz/fake-worker.c virtio/worker-queue.c fuzz/fake-kvm.c fuzz/native-irq.c mmio.c \
	virtio/transport.c virtio/mmio.c virtio/pci.c virtio/virtqueue.c virtio/ioevent.c virtio/rng.c \
	virtio/blk.c virtio/net.c virtio/balloon.c hw/pci.c hw/io-thread.c hw/acpi/aml.c \
	hw/acpi/build.c hw/acpi/devices.c hw/acpi/efi.c hw/acpi/pci.c hw/acpi/tables.c util/util.c \
	util/init.c
# --wrap=madvise: the harness sees the balloon give pages back (fuzz/vguest.c).
FUZZ_LIBS_virtio-mmio := -l:libfdt.so.1 -lz -Wl,--wrap=madvise
FUZZ_SRCS_virtio-pci := $(FUZZ_SRCS_virtio-mmio)
FUZZ_LIBS_virtio-pci := $(FUZZ_LIBS_virtio-mmio)
FUZZ_SRCS_blk := $(FUZZ_SRCS_virtio-mmio)
FUZZ_LIBS_blk := $(FUZZ_LIBS_virtio-mmio)
FUZZ_SRCS_net := $(FUZZ_SRCS_virtio-mmio)
FUZZ_LIBS_net := $(FUZZ_LIBS_virtio-mmio)
FUZZ_SRCS_balloon := $(FUZZ_SRCS_virtio-mmio)
FUZZ_LIBS_balloon := $(FUZZ_LIBS_virtio-mmio)
FUZZ_TARGETS := $(patsubst fuzz/fuzz-%.c,%,$(wildcard fuzz/fuzz-*.c))
FUZZ_BINS := $(FUZZ_TARGETS:%=build/fuzz/fuzz-%)

fuzz: $(FUZZ_BINS)

# Each run's output goes to build/fuzz/NAME.log, a crash's input to build/fuzz/NAME-crash-*;
# fuzz/dict/NAME.dict, if there is one, is the target's dictionary.
fuzz-check: fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		seeds=; [ ! -d fuzz/corpus/$$t ] || seeds=fuzz/corpus/$$t; \
		dict=; [ ! -f fuzz/dict/$$t.dict ] || dict=-dict=fuzz/dict/$$t.dict; \
		echo "  FUZZ    $$t ($(FUZZ_TIME)s)"; \
		if ! build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -runs=$(FUZZ_RUNS) $$dict \
			-artifact_prefix=build/fuzz/$$t- build/fuzz/corpus-$$t $$seeds \
			>build/fuzz/$$t.log 2>&1; then \
			tail -n 40 build/fuzz/$$t.log; echo "fuzz-$$t: failed (build/fuzz/$$t.log)"; exit 1; \
		fi; \
		grep -E '^Done [0-9]+ runs' build/fuzz/$$t.log | sed "s/^/  fuzz-$$t: /"; \
	done

# Every target to FUZZ_LONG_RUNS executions, however long that takes, or for at most
# FUZZ_LONG_TIME seconds each if that is set (Documentation/testing.md).
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_TIME ?= 0
fuzz-long: fuzz
	$(MAKE) fuzz-check FUZZ_TIME=$(FUZZ_LONG_TIME) FUZZ_RUNS=$(FUZZ_LONG_RUNS)

# The stress tests (Documentation/testing.md) take 7 of the system tests' minutes: make check
# leaves them to make check-stress, which CI runs too.
STRESS_TESTS := ^(storm-.*|vsock-storm.*|hotplug-cycle-polled.*|chaos|chaos-pci|console-stalled-reader-.*|blk-kill-writes.*)$$

system-check: lkvm
	LKVM_TEST_SKIP='$(STRESS_TESTS)' tests/system-check.sh

check-stress: deps-check
	$(MAKE) lkvm
	LKVM_TEST='$(STRESS_TESTS)' tests/system-check.sh

# The build carries its hardening (skipped when a packager turned HARDEN off).
hardening-check: lkvm
	$(if $(HARDEN),tests/check-hardening.sh lkvm)

check: deps-check
	$(MAKE) lkvm build/unit-tests
	$(MAKE) hardening-check
	$(MAKE) man-check
	$(MAKE) completion-check
	$(MAKE) deb-check
	$(MAKE) unit-check
	$(MAKE) fuzz-check
	$(MAKE) system-check

# Sanitizers (Documentation/testing.md). The unit tests run natively, once under ASan+UBSan and
# once under TSan; elsewhere than arm64 they are built for the build machine against arm64's KVM
# headers (they use no KVM). Then the system tests SAN_TESTS selects run an ASan+UBSan lkvm (a
# dynamic one: lkvm-host stages its libraries) in the arm64 host. Sanitizers slow the tests
# down, so check's per-test timeouts are scaled.
SAN := build/san
SAN_NATIVE := CROSS_COMPILE= STATIC=0 HARDEN= \
	$(if $(CROSS_COMPILE),KVM_UAPI=$(SAN)/native/include LIBDIR=$(SAN)/native/lib)
SAN_TESTS ?= ^(psci-payload-user-.*|chaos|chaos-pci|json-control|sdei-payload-hvc|sdei-host|fw-services|fw-smccc|fw-exit|fw-log-flood|hotplug-payload|hotplug-linux|blk-write|blk-read|blk-fsync-kill|blk-full|blk-eio|9p-ops|9p-share-removed|net-user|vsock-echo|balloon-linux|console-virtio|console-stalled-reader-uart|ctl-flood|pci-console|its-pci-devices|reset-restart|signal-term|acpi-hotplug-gicv3)$$
UAPI_ARM64 := /usr/aarch64-linux-gnu/include

# The native build's arm64 KVM headers, and its libfdt (Debian's libfdt-dev is arm64's here).
$(SAN)/native/include/linux/kvm.h:
	@mkdir -p $(SAN)/native/include/linux $(SAN)/native/include/asm $(SAN)/native/lib
	ln -sf $(UAPI_ARM64)/linux/kvm.h $(SAN)/native/include/linux/kvm.h
	for h in kvm ptrace hwcap sve_context sigcontext; do \
		ln -sf $(UAPI_ARM64)/asm/$$h.h $(SAN)/native/include/asm/$$h.h || exit 1; \
	done
	ln -sf /usr/lib/$$(gcc -print-multiarch)/libfdt.so.1 $(SAN)/native/lib/libfdt.so

check-sanitize: deps-check $(if $(CROSS_COMPILE),$(SAN)/native/include/linux/kvm.h)
	$(MAKE) $(SAN_NATIVE) SANITIZE=address,undefined B=$(SAN)/asan UNIT_BIN=$(SAN)/asan/unit-tests \
		$(SAN)/asan/unit-tests
	CK_TIMEOUT_MULTIPLIER=10 ASAN_OPTIONS=detect_leaks=1 $(SAN)/asan/unit-tests
	$(MAKE) $(SAN_NATIVE) SANITIZE=thread B=$(SAN)/tsan UNIT_BIN=$(SAN)/tsan/unit-tests \
		$(SAN)/tsan/unit-tests
	CK_TIMEOUT_MULTIPLIER=10 TSAN_OPTIONS=halt_on_error=1 $(SAN)/tsan/unit-tests
	$(MAKE) STATIC=0 HARDEN= SANITIZE=address,undefined B=$(SAN)/lkvm LKVM_BIN=$(SAN)/lkvm/lkvm \
		$(SAN)/lkvm/lkvm
	LKVM_HOST_LKVM=$(SAN)/lkvm/lkvm ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
		LKVM_TEST='$(SAN_TESTS)' tests/system-check.sh

demo: deps-check
	$(MAKE) lkvm
	scripts/lkvm-host scripts/demo.sh $$(test -t 0 && echo interactive)

# The system tests RUNS times, then how often each failed (tests/soak.sh): flakiness hunting.
RUNS ?= 5
soak: deps-check
	$(MAKE) lkvm
	tests/soak.sh $(RUNS)

# SIGKILL during heavy disk writes, 20 times per transport (tests/system/t-blk.sh).
kill-loop: deps-check
	$(MAKE) lkvm
	LKVM_TEST='^blk-kill-writes' LKVM_TEST_KILL_LOOPS=20 tests/system-check.sh

bench: deps-check
	$(MAKE) lkvm
	LKVM_HOST_DISK=256 scripts/lkvm-host tests/bench/run.sh

# The man pages come from lkvm's own --help (run under qemu-user when cross-built) and the prose
# of Documentation/man: one source, so they cannot disagree with it.
MAN_DIR := build/man/man1
man: $(MAN_DIR)/lkvm.1
$(MAN_DIR)/lkvm.1: $(LKVM_BIN) scripts/gen-man.sh Documentation/exit-codes.md \
		$(wildcard Documentation/man/*.roff)
	scripts/gen-man.sh $(MAN_DIR) $(RUN_TARGET) ./$(LKVM_BIN)

# Every option --help lists is in the man page and the reverse, the pages render without a
# warning, README's option table and command list agree with --help (tests/check-man.sh).
man-check: man
	LKVM_RUN='$(RUN_TARGET) ./$(LKVM_BIN)' tests/check-man.sh $(MAN_DIR)

# completion/lkvm driven by a script, against this lkvm's --help (tests/check-completion.sh).
completion-check: $(LKVM_BIN)
	LKVM_RUN='$(RUN_TARGET) $(CURDIR)/$(LKVM_BIN)' tests/check-completion.sh

# The Debian package built from a copy of the tree, lintian, its contents against make install's
# (tests/check-deb.sh, Documentation/packaging.md).
deb-check: deps-check
	tests/check-deb.sh

DOC := $(DESTDIR)$(PREFIX)/share/doc/lkvm
install: lkvm man
	install -D -m 0755 lkvm $(DESTDIR)$(PREFIX)/bin/lkvm
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DOC)/Documentation
	install -m 0644 $(MAN_DIR)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 0644 completion/lkvm $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lkvm
	install -m 0644 README.md $(DOC)/
	install -m 0644 Documentation/*.md Documentation/*.svg $(DOC)/Documentation/

clean:
	rm -rf build lkvm

# Fuzz objects are built apart from lkvm's: natively, with the sanitizers.
FZ := build/fuzz/obj
fuzz_objs = $(FZ)/fuzz/fuzz-$(1).o $(patsubst %.c,$(FZ)/%.o,$(FUZZ_SRCS_$(1)))
FUZZ_OBJS := $(sort $(foreach t,$(FUZZ_TARGETS),$(call fuzz_objs,$(t))))

$(FZ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

-include $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(FUZZ_OBJS)

# A target's objects come from its FUZZ_SRCS_ line: the prerequisites need a second expansion.
.SECONDEXPANSION:
build/fuzz/fuzz-%: $$(call fuzz_objs,$$*)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LIBS_$*)
