# ustack - top-level build. Plain GNU make; every .c under src/ is part of
# the library, every tests/unit/test_*.c and tests/sim/sim_*.c is a test.
#
#   make            library, tools and the packetdrill plug-in into build/
#   make test       the whole suite under ASan+UBSan (see TESTING.md tiers)
#   make demo       the demo in a private network namespace
#   make bench      benchmarks, each ustack figure beside Linux's
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

LIB_SRC  := $(sort $(filter-out src/preload/%,$(wildcard src/*/*.c src/*/*/*.c)))
TOOL_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
SIM_SRC  := $(sort $(wildcard tests/sim/sim_*.c))
TEST_LIB_SRC := $(sort $(wildcard tests/lib/*.c))

# Release objects.
OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# Sanitizer objects, for the test suite.
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TEST_LIB_OBJ := $(TEST_LIB_SRC:%.c=$(BUILD)/asan/%.o)

TOOLS      := $(TOOL_SRC:tools/%.c=$(BUILD)/%)
ASAN_TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/asan/bin/%)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/asan/tests/%)
SIM_BIN    := $(SIM_SRC:tests/sim/%.c=$(BUILD)/asan/tests/%)

.PHONY: all test test-unit test-sim test-integ demo bench install clean deps \
        test-build build-clang

all: $(BUILD)/libustack.a $(BUILD)/libustack.so $(TOOLS) $(BUILD)/ustack.pc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/libustack.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libustack.so: $(OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/asan/libustack.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%: tools/%.c $(BUILD)/libustack.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(BUILD)/libustack.a $(LDLIBS)

$(BUILD)/asan/bin/%: tools/%.c $(BUILD)/asan/libustack.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) $< -o $@ $(BUILD)/asan/libustack.a $(LDLIBS)

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libustack.a $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SAN) $< -o $@ $(TEST_LIB_OBJ) \
	    $(BUILD)/asan/libustack.a -lcmocka $(LDLIBS)

$(BUILD)/asan/tests/%: tests/sim/%.c $(BUILD)/asan/libustack.a $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SAN) $< -o $@ $(TEST_LIB_OBJ) \
	    $(BUILD)/asan/libustack.a -lcmocka $(LDLIBS)

$(BUILD)/ustack.pc: ustack.pc.in
	@mkdir -p $(BUILD)
	sed 's|@PREFIX@|$(PREFIX)|g' $< > $@

deps:
	@scripts/install-deps.sh

test-build: $(UNIT_BIN) $(SIM_BIN) $(ASAN_TOOLS) all

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

test-integ: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) scripts/run-tests.sh integ

# deps first, then the build: the packages must be there before compiling.
demo: deps
	@$(MAKE) --no-print-directory all
	@USTACK_BIN=$(BUILD)/ustack scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@USTACK_BIN=$(BUILD)/ustack scripts/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/include/ustack $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ustack/*.h $(DESTDIR)$(PREFIX)/include/ustack/
	install -m 644 $(BUILD)/libustack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libustack.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILD)/ustack.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BUILD)/ustack $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD) $(BUILD)-clang

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(TEST_LIB_OBJ:.o=.d)
