# The two commands of the quick start are `make up` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
CTEST_ARGS ?= --output-on-failure -j $(JOBS)
CONFIG     ?= examples/hotdash/opsdeck.yaml
STATE      ?= var

.PHONY: all build deps up test test-asan unit bench fuzz format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

up: deps build
	@scripts/up $(BUILD)/opsdeck $(CONFIG) $(STATE)

FUZZ_SMOKE ?= 15

test: build
	cd $(BUILD) && ctest $(CTEST_ARGS)
	$(MAKE) test-asan
	scripts/fuzz $(FUZZ_SMOKE)

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DOPSDECK_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_ARGS) \
	    --label-exclude plain-only

unit: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -R '^unit/'

bench: build
	bench/run

fuzz:
	scripts/fuzz

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
