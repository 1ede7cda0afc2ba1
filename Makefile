# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
OUTPUT ?= $(abspath .output)
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
ifeq ($(filter clean help,$(MAKECMDGOALS)),)
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

SANITIZE ?=
CFLAGS ?= -O2
CFLAGS += -g -Wall -Wextra -std=gnu11 -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
INCLUDES := -I$(OUTPUT) -Isrc -Ibpf $(LIBBPF_CFLAGS)
LDLIBS := $(LIBBPF_LIBS) $(ELF_LIBS) -lstdc++

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/main.o,$(OBJS))

# BPF programs see the architecture's own register names and the kernel's types.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
	-I$(dir $(VMLINUX_H)) $(LIBBPF_CFLAGS) -Wall -Wno-unused-function

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test demo bench fuzz format help

all: leaktrace

help:
	@echo "make [V=1] [SANITIZE=1]   build ./leaktrace"
	@echo "make demo                 trace the bundled demo program"
	@echo "make test                 run the test suite (root, real BPF)"
	@echo "make bench                run the overhead benchmark"

$(OUTPUT)/vmlinux.h: $(VMLINUX_H) | $(OUTPUT)
	$(call msg,VMLINUX,$<)
	$(Q)cp $< $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/leaktrace.h $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp
	$(Q)mv $@.tmp $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/main.o $(OUTPUT)/kmode.o: $(SKELS)

$(OUTPUT)/%.o: src/%.c $(wildcard src/*.h) bpf/leaktrace.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

leaktrace: $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT):
	$(Q)mkdir -p $@

# Tests: ground-truth programs, unit tests, and the integration suite.
TEST_PROGS_SRC := $(wildcard tests/progs/*.c)
TEST_PROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(TEST_PROGS_SRC))
BENCH_BINS := $(OUTPUT)/bench/malloc_bench $(OUTPUT)/bench/scale $(OUTPUT)/bench/uprobe_session
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

# The same ground truth served by other allocators, statically linked, and in C++.
LEAKER_LIBS_jemalloc := -ljemalloc
LEAKER_LIBS_tcmalloc := -ltcmalloc
LEAKER_LIBS_static := -static
VARIANT_PROGS := $(OUTPUT)/tests/leaker-jemalloc $(OUTPUT)/tests/leaker-tcmalloc \
	$(OUTPUT)/tests/leaker-static $(OUTPUT)/tests/cxxnew-jemalloc

$(OUTPUT)/tests/leaker-%: tests/progs/leaker.c tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< $(LEAKER_LIBS_$*) -o $@

$(OUTPUT)/tests/cxxnew-jemalloc: tests/progs/cxxnew.cc tests/progs/progs.h
	$(call msg,TESTPROG,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CXX) $(PROG_CFLAGS) $< -ljemalloc -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS)
	$(call msg,UNIT,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the bench programs are built (not run) so that an API change cannot break make bench unseen
test: leaktrace $(TEST_PROGS) $(VARIANT_PROGS) $(UNIT_BINS) $(BENCH_BINS)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh

demo: leaktrace $(OUTPUT)/tests/demo
	$(Q)scripts/demo.sh $(OUTPUT)/tests/demo

$(OUTPUT)/bench/malloc_bench: tests/bench/malloc_bench.c tests/progs/progs.h
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@ -lm

$(OUTPUT)/bench/scale: tests/bench/scale.c $(LIB_OBJS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/bench/uprobe_session: tests/bench/uprobe_session.c
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(LIBBPF_LIBS) -ldl -o $@

bench: leaktrace $(BENCH_BINS)
	$(Q)OUTPUT=$(OUTPUT) LT=$(abspath leaktrace) scripts/bench.sh

format:
	$(Q)clang-format -i src/*.c src/*.h bpf/*.c bpf/*.h tests/progs/*.c tests/unit/*.c

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) leaktrace
