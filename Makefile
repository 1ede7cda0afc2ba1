# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
SANITIZE ?=
# A sanitized build keeps its objects and binary apart, so switching the flag never links
# objects of one kind into the other and the plain ./leaktrace stays as it was.
ifeq ($(SANITIZE),1)
OUTPUT ?= $(abspath .output-san)
LT_BIN := $(OUTPUT)/leaktrace
else
OUTPUT ?= $(abspath .output)
LT_BIN := leaktrace
endif
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= gcc
CXX ?= g++
OBJCOPY ?= objcopy
PKG_CONFIG ?= pkg-config
ARCH := x86
VMLINUX_H ?= vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# A fresh machine gets its build dependencies here, once, before anything needs them (again
# when scripts/deps.sh changes: the stamp is named after its checksum).
DEPS_STAMP := $(OUTPUT)/.deps-$(firstword $(shell cksum < scripts/deps.sh))
$(shell mkdir -p $(OUTPUT))
ifeq ($(filter clean help uninstall,$(MAKECMDGOALS)),)
ifneq ($(shell test $(DEPS_STAMP) -nt scripts/deps.sh && echo fresh),fresh)
$(info scripts/deps.sh: checking build dependencies)
DEPS_RESULT := $(shell scripts/deps.sh 1>&2 && touch $(DEPS_STAMP) && echo ok)
ifneq ($(DEPS_RESULT),ok)
$(error build dependencies missing, see scripts/deps.sh output above)
endif
endif
endif

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null)
ELF_LIBS := $(shell $(PKG_CONFIG) --libs libelf libdw zlib 2>/dev/null)

CFLAGS ?= -O2
CFLAGS += -g -Wall -Wextra -std=gnu11 -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# One folder per stage of the data path (docs/architecture.md); headers are included by name.
SRC_DIRS := src src/lib src/target src/probe src/track src/syms src/report
SRC_HDRS := $(wildcard $(addsuffix /*.h,$(SRC_DIRS)))
INCLUDES := -I$(OUTPUT) $(addprefix -I,$(SRC_DIRS)) -Ibpf $(LIBBPF_CFLAGS)
LDLIBS := $(LIBBPF_LIBS) $(ELF_LIBS) -lstdc++
# probe placement decodes x86 with capstone (libcapstone-dev; <capstone/capstone.h>)
LDLIBS += $(shell $(PKG_CONFIG) --libs capstone 2>/dev/null || echo -lcapstone)

# Objects are rebuilt when the compiler or its flags change (also with an explicit OUTPUT).
FLAGS_STAMP := $(OUTPUT)/.build-flags
BUILD_FLAGS := $(CC) $(CFLAGS) $(LDFLAGS)
ifneq ($(BUILD_FLAGS),$(shell cat $(FLAGS_STAMP) 2>/dev/null))
$(shell mkdir -p $(OUTPUT) && echo '$(BUILD_FLAGS)' > $(FLAGS_STAMP))
endif

# BPF: one file per concern, compiled apart, then linked by bpftool into one object per mode
# (one skeleton each). User mode: allocator probes (ualloc, which defines what the others
# share), the mmap family, lifecycle and holds. Kernel mode: kalloc.
BPF_PARTS_ualloc := ualloc mmap lifecycle fds
BPF_PARTS_kalloc := kalloc
BPF_OBJS := ualloc kalloc
SKELS := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_OBJS))
SRCS := $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(notdir $(SRCS)))
vpath %.c $(SRC_DIRS)
LIB_OBJS := $(filter-out $(OUTPUT)/main.o,$(OBJS))

# BPF programs see the architecture's own register names and the kernel's types.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
	-I$(dir $(VMLINUX_H)) $(LIBBPF_CFLAGS) -Wall -Wno-unused-function

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test demo bench fuzz stress format help bench-unwind

all: $(LT_BIN)

help:
	@echo "make [V=1] [SANITIZE=1]   build ./leaktrace"
	@echo "make demo                 trace the bundled demo program"
	@echo "make test [TESTS=re] [JOBS=n] the test suite (root, real BPF); TESTS picks integration"
	@echo "                          tests by name, JOBS runs n files at once (default 3)"
	@echo "make bench                run the overhead benchmark"
	@echo "make test SANITIZE=1      the suite against an ASan+UBSan build (.output-san/)"
	@echo "make install [PREFIX=/usr/local] [DESTDIR=]  leaktrace(8), its manual, bash completion"
	@echo "make fuzz [FUZZ_SECONDS=N] each libFuzzer target for N seconds (default 30)"
	@echo "make stress [STRESS_SECONDS=N] the multi-threaded stress test, long (default 120)"

$(OUTPUT)/vmlinux.h: $(VMLINUX_H) | $(OUTPUT)
	$(call msg,VMLINUX,$<)
	$(Q)cp $< $@

$(OUTPUT)/bpf/%.o: bpf/%.bpf.c bpf/leaktrace.h bpf/events.bpf.h bpf/user.bpf.h bpf/unwind.bpf.h bpf/python.bpf.h \
		  $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

.SECONDEXPANSION:
$(OUTPUT)/%.bpf.o: $$(addprefix $(OUTPUT)/bpf/,$$(addsuffix .o,$$(BPF_PARTS_$$*))) | $(OUTPUT)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@.tmp $^
	$(Q)$(LLVM_STRIP) -g $@.tmp
	$(Q)mv $@.tmp $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/umode.o $(OUTPUT)/kmode.o $(OUTPUT)/probes.o: $(SKELS)

$(OUTPUT)/%.o: %.c $(SRC_HDRS) bpf/leaktrace.h $(FLAGS_STAMP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(LT_BIN): $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT):
	$(Q)mkdir -p $@

# Tests: ground-truth programs, unit tests, and the integration suite.
TEST_PROGS_SRC := $(wildcard tests/progs/*.c)
TEST_PROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(TEST_PROGS_SRC))
BENCH_BINS := $(OUTPUT)/bench/malloc_bench $(OUTPUT)/bench/scale $(OUTPUT)/bench/uprobe_session \
	$(OUTPUT)/bench/floor $(OUTPUT)/bench/detach $(OUTPUT)/bench/kernel_bench
TEST_PROGS_CXX_SRC := $(wildcard tests/progs/*.cc)
TEST_PROGS += $(patsubst tests/progs/%.cc,$(OUTPUT)/tests/%,$(TEST_PROGS_CXX_SRC))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

# Leak from named functions that keep their frames: no inlining, no tail calls.
PROG_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-inline -pthread

$(OUTPUT)/tests/%: tests/progs/%.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@

# C++ programs ship as distributions ship binaries: stripped, their DWARF in NAME.debug beside
# them, reached through .gnu_debuglink (name and CRC).
$(OUTPUT)/tests/%: tests/progs/%.cc tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CXX) $(PROG_CFLAGS) $< -o $@.full
	$(Q)$(OBJCOPY) --only-keep-debug $@.full $@.debug
	$(Q)$(OBJCOPY) --strip-all --add-gnu-debuglink=$@.debug $@.full $@
	$(Q)rm -f $@.full

# The same ground truth served by other allocators and C libraries (musl: its libc.so is its
# dynamic linker), statically linked, and in C++.
LEAKER_LIBS_jemalloc := -ljemalloc
LEAKER_LIBS_tcmalloc := -ltcmalloc
LEAKER_LIBS_mimalloc := -lmimalloc
LEAKER_LIBS_static := -static
LEAKER_CC_musl := musl-gcc
LEAKER_CC_musl-static := musl-gcc
LEAKER_LIBS_musl-static := -static
VARIANT_PROGS := $(OUTPUT)/tests/leaker-jemalloc $(OUTPUT)/tests/leaker-tcmalloc \
	$(OUTPUT)/tests/leaker-static $(OUTPUT)/tests/cxxnew-jemalloc \
	$(OUTPUT)/tests/leaker-mimalloc $(OUTPUT)/tests/leaker-musl \
	$(OUTPUT)/tests/leaker-musl-static $(OUTPUT)/tests/prefixleak-je \
	$(OUTPUT)/tests/prefixleak-mi

$(OUTPUT)/tests/leaker-%: tests/progs/leaker.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(or $(LEAKER_CC_$*),$(CC)) $(PROG_CFLAGS) $< $(LEAKER_LIBS_$*) -o $@

# Allocators called by prefixed names beside malloc: a je_-prefixed jemalloc (Debian's is not
# prefixed, so a small one of our own) and mimalloc's mi_* (aliases of its malloc family).
$(OUTPUT)/tests/libjeprefixed.so: tests/progs/prefix/jemalloc_prefixed.c
	$(call msg,TESTLIB,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -shared -fPIC $< -o $@

$(OUTPUT)/tests/prefixleak-je: tests/progs/prefix/prefixleak.c tests/progs/progs.h \
			       $(OUTPUT)/tests/libjeprefixed.so
	$(call msg,TESTPROG,$@)
	$(Q)$(CC) $(PROG_CFLAGS) -DPFX=je_ -DMALLOCX $< -L$(OUTPUT)/tests -ljeprefixed \
		-Wl,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/tests/prefixleak-mi: tests/progs/prefix/prefixleak.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -DPFX=mi_ $< -lmimalloc -o $@

$(OUTPUT)/tests/cxxnew-jemalloc: tests/progs/cxxnew.cc tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CXX) $(PROG_CFLAGS) $< -ljemalloc -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS)
	$(call msg,UNIT,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Every fuzz seed and every input that once crashed, replayed without libFuzzer.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAYS := $(patsubst %,$(OUTPUT)/tests/test_fuzz_%,$(FUZZ_TARGETS))

$(OUTPUT)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB_OBJS)
	$(call msg,REPLAY,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -DCORPUS='"$(abspath tests/fuzz/corpus/$*)"' $(LDFLAGS) \
		$(filter %.c %.o,$^) $(LDLIBS) -o $@

# The test programs stay unsanitized: they are the traced targets, not the code under test.
$(OUTPUT)/tests/libleaklib.so: tests/progs/lib/leaklib.c
	$(call msg,TESTLIB,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) -shared -fPIC $< -o $@

# Unwinding ground truth built the distribution way: -O2, no frame pointers (calls stay calls:
# their results are used after them), and a shared library built the same way.
UW_CFLAGS := -O2 -fomit-frame-pointer -pthread
UNWIND_PROGS := $(OUTPUT)/tests/libuwlib.so $(OUTPUT)/tests/uwchain $(OUTPUT)/tests/uwdlopen \
	$(OUTPUT)/tests/uwcxx $(OUTPUT)/tests/uwsignal $(OUTPUT)/tests/uwfirst $(OUTPUT)/tests/uwdbg

$(OUTPUT)/tests/libuwlib.so: tests/progs/unwind/uwlib.c
	$(call msg,TESTLIB,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UW_CFLAGS) -shared -fPIC $< -o $@

$(OUTPUT)/tests/uwchain: tests/progs/unwind/uwchain.c tests/progs/progs.h \
			 $(OUTPUT)/tests/libuwlib.so
	$(call msg,TESTPROG,$@)
	$(Q)$(CC) $(UW_CFLAGS) $< -L$(OUTPUT)/tests -luwlib -Wl,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/tests/uwfirst: tests/progs/unwind/uwfirst.c tests/progs/progs.h \
			 $(OUTPUT)/tests/libuwlib.so
	$(call msg,TESTPROG,$@)
	$(Q)$(CC) $(UW_CFLAGS) $< -L$(OUTPUT)/tests -luwlib -Wl,-rpath,'$$ORIGIN' -o $@

# CFI only in a separate debug file: no .eh_frame FDE (C without unwind tables), .debug_frame
# from -g, split off with a .gnu_debuglink
$(OUTPUT)/tests/libuwdbg.so: tests/progs/unwind/uwdbglib.c
	$(call msg,TESTLIB,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UW_CFLAGS) -fno-asynchronous-unwind-tables -fno-unwind-tables -g -shared -fPIC \
		$< -o $@
	$(Q)objcopy --only-keep-debug $@ $@.debug
	$(Q)objcopy --strip-debug --add-gnu-debuglink=$@.debug $@

$(OUTPUT)/tests/uwdbg: tests/progs/unwind/uwdbg.c tests/progs/progs.h $(OUTPUT)/tests/libuwdbg.so
	$(call msg,TESTPROG,$@)
	$(Q)$(CC) $(UW_CFLAGS) $< -L$(OUTPUT)/tests -luwdbg -Wl,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/tests/uwdlopen: tests/progs/unwind/uwdlopen.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UW_CFLAGS) $< -ldl -o $@

$(OUTPUT)/tests/uwsignal: tests/progs/unwind/uwsignal.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UW_CFLAGS) $< -o $@

$(OUTPUT)/tests/uwcxx: tests/progs/unwind/uwcxx.cc tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CXX) $(UW_CFLAGS) $< -o $@

test: $(UNWIND_PROGS)

# the bench programs are built (not run) so that an API change cannot break make bench unseen
test: $(LT_BIN) $(TEST_PROGS) $(VARIANT_PROGS) $(OUTPUT)/tests/libleaklib.so $(UNIT_BINS) \
	$(FUZZ_REPLAYS) $(BENCH_BINS)
	$(Q)OUTPUT=$(OUTPUT) LT=$(abspath $(LT_BIN)) tests/run.sh

stress: $(LT_BIN) $(OUTPUT)/tests/stress
	$(Q)OUTPUT=$(OUTPUT) LT=$(abspath $(LT_BIN)) TESTS=stress \
		LEAKTRACE_STRESS_SECONDS=$${STRESS_SECONDS:-120} tests/run.sh

# libFuzzer targets: clang, ASan+UBSan, coverage on the parsers only.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_OUT := $(OUTPUT)/fuzz
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fno-omit-frame-pointer $(addprefix -I,$(SRC_DIRS)) \
	$(LIBBPF_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS_elf := src/syms/elf_symtab.c src/syms/debuginfo.c src/syms/dwarf_lines.c \
	src/probe/elf_func.c src/lib/guard.c
FUZZ_SRCS_procmaps := src/syms/procmaps.c
FUZZ_SRCS_ksyms := src/syms/ksyms.c
FUZZ_SRCS_perfmap := src/syms/perfmap.c src/lib/guard.c
FUZZ_SRCS_cfi := src/syms/cfi.c src/syms/debuginfo.c src/lib/guard.c
$(FUZZ_OUT)/fuzz_cfi: FUZZ_CFLAGS += -Ibpf
FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))

.SECONDEXPANSION:
$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(SRC_HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter %.c,$^) $(ELF_LIBS) -o $@

fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_OUT=$(FUZZ_OUT) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

demo: $(LT_BIN) $(OUTPUT)/tests/demo
	$(Q)scripts/demo.sh $(OUTPUT)/tests/demo

$(OUTPUT)/bench/malloc_bench: tests/bench/malloc_bench.c tests/progs/progs.h
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@ -lm

$(OUTPUT)/bench/kernel_bench: tests/bench/kernel_bench.c tests/progs/progs.h
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@

$(OUTPUT)/bench/scale: tests/bench/scale.c $(LIB_OBJS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/bench/uprobe_session: tests/bench/uprobe_session.c
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(LIBBPF_LIBS) -ldl -o $@

$(OUTPUT)/bench/detach: tests/bench/detach.c $(OUTPUT)/uprobe_session.o
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $^ $(LIBBPF_LIBS) -o $@

# the trap floor: empty programs on leaktrace's probe sites
$(OUTPUT)/bench/%.bpf.o: tests/bench/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp
	$(Q)mv $@.tmp $@

$(OUTPUT)/bench/%.skel.h: $(OUTPUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# floor and detach make their uprobe_multi and session links with leaktrace's own code
$(OUTPUT)/bench/floor: tests/bench/floor.c $(OUTPUT)/uprobe_session.o $(OUTPUT)/bench/floor.skel.h
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -I$(OUTPUT)/bench $(filter %.c %.o,$^) $(LIBBPF_LIBS) -o $@

# the same benchmark served by each allocator leaktrace places probes in (make bench's rows)
BENCH_ALLOCS := $(OUTPUT)/bench/malloc_bench-jemalloc $(OUTPUT)/bench/malloc_bench-tcmalloc \
	$(OUTPUT)/bench/malloc_bench-mimalloc

$(OUTPUT)/bench/malloc_bench-%: tests/bench/malloc_bench.c tests/progs/progs.h
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@ -lm $(LEAKER_LIBS_$*)

bench: $(BENCH_ALLOCS)

# The unwinding benchmark: the same workload with and without frame pointers (scripts/bench-unwind.sh)
UWBENCH_BINS := $(OUTPUT)/bench/uwbench-fp $(OUTPUT)/bench/uwbench-nofp
UWBENCH_CFLAGS_fp := -O2 -fno-omit-frame-pointer
UWBENCH_CFLAGS_nofp := -O2 -fomit-frame-pointer

$(OUTPUT)/bench/libuwbench-%.so: tests/bench/unwind/uwbench_lib.c
	$(call msg,BENCHLIB,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UWBENCH_CFLAGS_$*) -shared -fPIC $< -o $@

$(OUTPUT)/bench/uwbench-%: tests/bench/unwind/uwbench.c tests/progs/progs.h \
			   $(OUTPUT)/bench/libuwbench-%.so
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(UWBENCH_CFLAGS_$*) $< -L$(OUTPUT)/bench -luwbench-$* -Wl,-rpath,'$$ORIGIN' -o $@

bench-unwind: $(LT_BIN) $(UWBENCH_BINS)
	$(Q)OUTPUT=$(OUTPUT) LT=$(abspath $(LT_BIN)) scripts/bench-unwind.sh

bench: $(LT_BIN) $(BENCH_BINS) $(UWBENCH_BINS) $(OUTPUT)/tests/reachable
	$(Q)OUTPUT=$(OUTPUT) LT=$(abspath $(LT_BIN)) scripts/bench.sh

format:
	$(Q)clang-format -i $(SRCS) $(SRC_HDRS) bpf/*.c bpf/*.h tests/progs/*.c tests/progs/*/*.c tests/unit/*.c

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) .output .output-san leaktrace

# Installed as a system administration tool: it needs root (CAP_BPF, CAP_PERFMON), as
# Debian's bpfcc-tools puts memleak in /usr/sbin; its manual is in section 8 for the same
# reason. PREFIX and DESTDIR as everywhere: make install DESTDIR=/tmp/pkg PREFIX=/usr
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
.PHONY: install uninstall

install: $(LT_BIN) man/leaktrace.8 completion/leaktrace.bash
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/leaktrace)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	$(Q)$(INSTALL) -m 0755 $(LT_BIN) $(DESTDIR)$(SBINDIR)/leaktrace
	$(Q)$(INSTALL) -m 0644 man/leaktrace.8 $(DESTDIR)$(MANDIR)/man8/leaktrace.8
	$(Q)$(INSTALL) -m 0644 completion/leaktrace.bash $(DESTDIR)$(BASHCOMPDIR)/leaktrace

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(SBINDIR)/leaktrace)
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/leaktrace $(DESTDIR)$(MANDIR)/man8/leaktrace.8 \
		$(DESTDIR)$(BASHCOMPDIR)/leaktrace
