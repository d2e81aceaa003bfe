# ustack - top-level build. Plain GNU make; every .c under src/ is part of
# the library, every tests/unit/test_*.c, tests/sim/sim_*.c and
# tests/tsan/tsan_*.c is a test.
#
#   make            library, tools and the packetdrill plug-in into build/
#   make test       the whole suite under ASan+UBSan (see TESTING.md tiers),
#                   the threads tests under ThreadSanitizer (build/tsan/)
#   make test-packetdrill  the packetdrill corpus, ustack and Linux sides
#   make test-linux the packetdrill corpus against this kernel only (root)
#   make demo       the demo in a private network namespace
#   make bench      benchmarks, each ustack figure beside Linux's (ICMP;
#                   nginx, redis, iperf3 through the shim)
#   make install    headers, libraries, pkg-config file and the ustack program

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC -pthread $(WARN)
LDLIBS   += -pthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
TSAN     := -fsanitize=thread -fno-omit-frame-pointer

LIB_SRC  := $(sort $(filter-out src/preload/% src/packetdrill/%,\
                $(wildcard src/*/*.c src/*/*/*.c)))
# The packetdrill plug-in: its own shared object, not part of the library.
PD_SRC   := src/packetdrill/packetdrill_so.c
PD_MAP   := src/packetdrill/exports.map
# The LD_PRELOAD shim: its own shared object (libustack-preload.so). The
# library's own calls to the names it interposes are linked to libc
# (__wrap_* in preload.c), never back into the shim.
PRELOAD_SRC  := $(sort $(wildcard src/preload/*.c))
PRELOAD_MAP  := src/preload/exports.map
PRELOAD_WRAP := socket close read write readv writev ioctl fcntl poll \
                epoll_create1 epoll_ctl epoll_wait
# tools/common.c is not a program: it is linked into every tool.
TOOL_COMMON := tools/common.c
TOOL_SRC := $(sort $(filter-out $(TOOL_COMMON),$(wildcard tools/*.c)))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
SIM_SRC  := $(sort $(wildcard tests/sim/sim_*.c))
TSAN_SRC := $(sort $(wildcard tests/tsan/tsan_*.c))
TEST_LIB_SRC := $(sort $(wildcard tests/lib/*.c))
# libFuzzer targets (tests/fuzz/fuzz_*.c): always built with clang.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC  := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined

# Release objects.
OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# Sanitizer objects, for the test suite.
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TEST_LIB_OBJ := $(TEST_LIB_SRC:%.c=$(BUILD)/asan/%.o)
TOOL_COMMON_OBJ := $(TOOL_COMMON:%.c=$(BUILD)/obj/%.o)
ASAN_TOOL_COMMON_OBJ := $(TOOL_COMMON:%.c=$(BUILD)/asan/%.o)
# ThreadSanitizer objects, for the threads tests (TSan and ASan do not mix).
TSAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/tsan/%.o)
# Coverage-instrumented objects for the fuzz targets.
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/%.o) $(BUILD)/fuzz/tests/lib/testnet.o

TOOLS      := $(TOOL_SRC:tools/%.c=$(BUILD)/%)
ASAN_TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/asan/bin/%)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/asan/tests/%)
SIM_BIN    := $(SIM_SRC:tests/sim/%.c=$(BUILD)/asan/tests/%)
TSAN_BIN   := $(TSAN_SRC:tests/tsan/%.c=$(BUILD)/tsan/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/tests/%)
# Plain programs the integration tests run under the shim (no ustack).
INTEG_PROG := $(BUILD)/integ/epoll_mix $(BUILD)/integ/sig_shim

.PHONY: all test test-unit test-sim test-tsan test-integ demo bench install \
        clean deps test-build build-clang test-packetdrill test-linux \
        test-fuzz fuzz bench-build

all: $(BUILD)/libustack.a $(BUILD)/libustack.so $(TOOLS) $(BUILD)/ustack.pc \
     $(BUILD)/libustack-packetdrill.so $(BUILD)/bench/bench_tcp \
     $(BUILD)/libustack-preload.so

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TSAN) -MMD -MP -c $< -o $@

$(BUILD)/libustack.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libustack.so: $(OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

# packetdrill's plug-in (tests/packetdrill/): the library objects and the
# plug-in in one shared object that exports only packetdrill_interface_init.
$(BUILD)/libustack-packetdrill.so: $(PD_SRC) $(PD_MAP) $(OBJ) \
	    $(BUILD)/pd-preload.so
	$(CC) $(CPPFLAGS) $(CFLAGS) -shared -Wl,--version-script=$(PD_MAP) \
	    -o $@ $(PD_SRC) $(OBJ) $(LDLIBS)

$(BUILD)/libustack-preload.so: $(PRELOAD_SRC) src/preload/preload.h \
	    $(PRELOAD_MAP) $(OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -shared -Wl,--version-script=$(PRELOAD_MAP) \
	    $(PRELOAD_WRAP:%=-Wl,--wrap=%) -o $@ $(PRELOAD_SRC) $(OBJ) \
	    $(LDLIBS) -ldl

# The same under ASan+UBSan, for `make test` (packetdrill then runs with
# libasan preloaded; see tests/packetdrill/run.sh).
$(BUILD)/asan/libustack-packetdrill.so: $(PD_SRC) $(PD_MAP) $(ASAN_OBJ) \
	    $(BUILD)/pd-preload.so
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -shared \
	    -Wl,--version-script=$(PD_MAP) -o $@ $(PD_SRC) $(ASAN_OBJ) $(LDLIBS)

# Preloaded on the ustack side (before libasan): packetdrill's RTLD_DEEPBIND
# dlopen, which the sanitizer runtime refuses, can load the ASan plug-in, and
# a script's code events read TCP_INFO from the plug-in.
$(BUILD)/pd-preload.so: tests/packetdrill/lib/pd_preload.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $< -ldl

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests $(CFLAGS) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/tests/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer \
	    $< -o $@ $(FUZZ_OBJ) $(LDLIBS)

$(BUILD)/asan/libustack.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tsan/libustack.a: $(TSAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: tools/%.c tools/common.h $(TOOL_COMMON_OBJ) $(BUILD)/libustack.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(TOOL_COMMON_OBJ) \
	    $(BUILD)/libustack.a $(LDLIBS)

$(BUILD)/asan/bin/%: tools/%.c tools/common.h $(ASAN_TOOL_COMMON_OBJ) \
	    $(BUILD)/asan/libustack.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) $< -o $@ $(ASAN_TOOL_COMMON_OBJ) \
	    $(BUILD)/asan/libustack.a $(LDLIBS)

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libustack.a $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SAN) $< -o $@ $(TEST_LIB_OBJ) \
	    $(BUILD)/asan/libustack.a -lcmocka $(LDLIBS)

# test_tcp_mem makes the stack's calloc fail (the SACK blocks' ENOMEM).
$(BUILD)/asan/tests/test_tcp_mem: LDLIBS += -Wl,--wrap=calloc

$(BUILD)/asan/tests/%: tests/sim/%.c $(BUILD)/asan/libustack.a $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SAN) $< -o $@ $(TEST_LIB_OBJ) \
	    $(BUILD)/asan/libustack.a -lcmocka $(LDLIBS)

$(BUILD)/tsan/tests/%: tests/tsan/%.c tests/lib/netns.c $(BUILD)/tsan/libustack.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(TSAN) $< tests/lib/netns.c -o $@ \
	    $(BUILD)/tsan/libustack.a -lcmocka $(LDLIBS)

# The benchmark programs (bench/, run by scripts/bench.sh): bench_tcp is
# part of `all` so that it never rots, bench_lwip needs liblwip-dev and is
# built by `make bench-build`; the integration tier runs both briefly.
BENCH_CORE := bench/bench_core.c bench/bench_core.h

$(BUILD)/bench/bench_tcp: bench/bench_tcp.c $(BENCH_CORE) $(BUILD)/libustack.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $< bench/bench_core.c -o $@ \
	    $(BUILD)/libustack.a $(LDLIBS)

$(BUILD)/asan/bench/bench_tcp: bench/bench_tcp.c $(BENCH_CORE) \
	    $(BUILD)/asan/libustack.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(SAN) $< bench/bench_core.c \
	    -o $@ $(BUILD)/asan/libustack.a $(LDLIBS)

# lwIP's headers come first: its lwipopts.h, not ustack's include path.
$(BUILD)/bench/bench_lwip: bench/bench_lwip.c $(BENCH_CORE)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -Ibench $$(pkg-config --cflags lwip) $(CFLAGS) \
	    $< bench/bench_core.c -o $@ \
	    $$(pkg-config --libs lwip) $(LDLIBS)

bench-build: all $(BUILD)/bench/bench_lwip

$(BUILD)/integ/%: tests/integ/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(CFLAGS) $< -o $@

$(BUILD)/ustack.pc: ustack.pc.in
	@mkdir -p $(BUILD)
	sed 's|@PREFIX@|$(PREFIX)|g' $< > $@

deps:
	@scripts/install-deps.sh

test-build: $(UNIT_BIN) $(SIM_BIN) $(TSAN_BIN) $(FUZZ_BIN) $(ASAN_TOOLS) all \
	    $(BUILD)/asan/libustack-packetdrill.so $(BUILD)/asan/bench/bench_tcp \
	    $(BUILD)/bench/bench_lwip \
	    $(INTEG_PROG)

# The library and tools once more with clang (no sanitizers), so that both
# compilers stay warning-free; part of `make test`.
build-clang:
	@$(MAKE) --no-print-directory CC=clang BUILD=$(BUILD)-clang all

test: deps
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory build-clang
	@BUILD=$(BUILD) scripts/run-tests.sh all

test-unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@BUILD=$(BUILD) scripts/run-tests.sh unit

test-sim: deps
	@$(MAKE) --no-print-directory $(SIM_BIN)
	@BUILD=$(BUILD) scripts/run-tests.sh sim

test-tsan: deps
	@$(MAKE) --no-print-directory $(TSAN_BIN)
	@BUILD=$(BUILD) scripts/run-tests.sh tsan

# The fuzz targets as regression tests (seed corpus + a fixed number of
# runs); `make fuzz` builds them for longer runs by hand.
test-fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@BUILD=$(BUILD) scripts/run-tests.sh fuzz

fuzz: $(FUZZ_BIN)

test-integ: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) scripts/run-tests.sh integ

# The packetdrill corpus against ustack (ASan plug-in, virtual time) and,
# when root, against the Linux kernel of this machine.
test-packetdrill: deps
	@$(MAKE) --no-print-directory $(BUILD)/asan/libustack-packetdrill.so
	@BUILD=$(BUILD) scripts/run-tests.sh packetdrill

# The packetdrill corpus against the Linux kernel only (root, in network
# namespaces the runner makes): checks the scripts themselves.
test-linux:
	@tests/packetdrill/run.sh --linux

# deps first, then the build: the packages must be there before compiling.
demo: deps
	@$(MAKE) --no-print-directory all
	@USTACK_BIN=$(BUILD)/ustack scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory bench-build
	@BUILD=$(BUILD) scripts/bench.sh $(BENCH_OUT)
	@USTACK_BIN=$(BUILD)/ustack scripts/bench-shim.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/include/ustack $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ustack/*.h $(DESTDIR)$(PREFIX)/include/ustack/
	install -m 644 $(BUILD)/libustack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libustack.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libustack-preload.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILD)/ustack.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BUILD)/ustack $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD) $(BUILD)-clang

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(TEST_LIB_OBJ:.o=.d) $(TSAN_OBJ:.o=.d) \
         $(TOOL_COMMON_OBJ:.o=.d) $(ASAN_TOOL_COMMON_OBJ:.o=.d) \
         $(FUZZ_OBJ:.o=.d)
