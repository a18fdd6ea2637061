# The two README commands: `make run` and `make test`. Both install what is missing first.
.PHONY: deps build run test test-release test-asan test-fuzz fuzz-long asan bench clean

JOBS ?= $(shell nproc)
BIN := build/src/app/unified-connector

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake --preset default
	cmake --build --preset default -j $(JOBS)

# The demo: synthetic plant sources and the in-process OPC UA, Modbus and MQTT simulators
# read by their sources -> normalize -> file sink under ./data/records,
# API and metrics on http://127.0.0.1:8080. Ctrl-C stops it gracefully. A loopback
# mosquitto is started first unless one already answers on 127.0.0.1:1883.
run: build
	@bash scripts/demo-broker.sh 1883
	$(BIN) run --config config/demo.yaml

# Every test: the release build (unit, integration, e2e), then the unit tests again
# under AddressSanitizer + UBSan, then each fuzz target under libFuzzer for a bounded
# time (FUZZ_SECONDS each, fixed seed; clang build in build-fuzz). The ASan build
# compiles only the unit-test binaries (target unit_tests). `make fuzz-long` fuzzes
# each target for 5 minutes.
FUZZ_SECONDS ?= 10
test: test-release test-asan test-fuzz

test-release: build
	ctest --preset default -j $(JOBS) --timeout 600

test-asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS) --timeout 600

test-fuzz: deps
	cmake --preset fuzz -DUC_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz -j $(JOBS) --timeout 600

fuzz-long:
	$(MAKE) test-fuzz FUZZ_SECONDS=300

bench: build
	scripts/run-benchmarks.sh

clean:
	rm -rf build build-asan build-debug build-fuzz
