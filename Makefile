# The two commands the README starts with: `make run` and `make test`.
# Everything else here is a step of those two.

BUILD         ?= build
ASAN_BUILD    ?= build-asan
RELEASE_BUILD ?= build-release
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build build-asan build-release setup run test test-quick bench clean

all: build

deps:
	@tools/install-deps.sh
	@tools/install-kubo.sh
	@tests/js/install.sh
	@tests/browser/install.sh
	@web/vendor/install.sh

# Warnings are errors in these builds (RADIO_WERROR), never in the one a
# user, a packager or the Dockerfile makes with plain cmake.
build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRADIO_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRADIO_SANITIZE=ON -DRADIO_WERROR=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# The optimisation level the Dockerfile and packagers use: -O3 finds
# warnings (maybe-uninitialized) that -O2 does not.
build-release: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DRADIO_WERROR=ON >/dev/null
	cmake --build $(RELEASE_BUILD) -j$(JOBS)

# Runs setup once before the first start: in the compose stack's setup
# container when that stack is up, natively otherwise (tools/setup.sh).
setup: build
	tools/setup.sh $(BUILD)

# Builds, starts a local IPFS node, and runs setup on music/ (or a generated
# demo library when music/ is empty).
run: build
	tools/run-station.sh $(BUILD)

# Everything: the normal build's whole suite, then the sanitizer build's,
# then the Release build's unit tests (the optimiser may change behaviour
# that relies on undefined behaviour). The browser listener test and the
# scale-out test (labels `browser`, `scale`: minutes of real time each) run
# in the normal build only: they load the same programs.
test: build build-asan build-release
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE 'browser|scale' $(CTEST_ARGS)
	cd $(RELEASE_BUILD) && ctest --output-on-failure -j$(JOBS) -L unit $(CTEST_ARGS)

# A quick local run: unit tests only, normal build.
test-quick: build
	cd $(BUILD) && ctest --output-on-failure -L unit

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD)
