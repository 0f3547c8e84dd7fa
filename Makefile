# CoucheStor: entry points. Each target that needs packages installs them
# first (scripts/install-deps.sh; as root on Debian 12).
#   make          build (build/release)
#   make check    the house rules (format, module dependencies, clang-tidy), then
#                 every test, twice: normal build (gcc) and ASan+UBSan (clang)
#   make bench    benchmarks (Release build), each with its baseline and ratio
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS each
#   make demo     the operator moving volumes between tiers on the test world
#   make soak     the SIGKILL invariant test with SOAK_KILLS (default 200) kill points
#   make image    the OCI image archive build/image/couchestor-VERSION.oci.tar, from Debian packages
#                 (mmdebstrap, no container engine; downloads them: not part of make check)
#   make image-check  builds the image twice, requires the same digest, checks it (runs it in a chroot)
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 60
BUILD       := build
CMAKE       := cmake -G Ninja -Wno-dev

.PHONY: all deps build check check-normal check-asan check-tsan bench fuzz demo soak image image-check clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@$(CMAKE) -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release -DCS_TESTS=OFF -DCS_BENCH=OFF >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)
	@echo "built $(BUILD)/release/couchestor"

check: deps
	@bash scripts/check.sh

check-normal check-asan check-tsan: deps
	@bash scripts/check.sh $(subst check-,,$@)

bench: deps
	@bash scripts/bench.sh

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

demo: deps
	@bash scripts/demo.sh

SOAK_KILLS ?= 200
soak: deps
	@cmake -G Ninja -Wno-dev -S . -B $(BUILD)/normal >/dev/null && cmake --build $(BUILD)/normal
	@cd $(BUILD)/normal && CS_SIGKILL_KILLS=$(SOAK_KILLS) ctest --output-on-failure -R '^operator\.sigkill$$'

image: build
	@bash scripts/install-deps.sh image
	@bash scripts/image.sh $(BUILD)/image

image-check: build
	@bash scripts/install-deps.sh image
	@bash scripts/image.sh $(BUILD)/image
	@bash scripts/image.sh $(BUILD)/image-again
	@python3 tests/integration/image/check_image.py $(BUILD)/image/couchestor-*.oci.tar \
	  --digest-of $$(ls $(BUILD)/image-again/couchestor-*.oci.tar)

clean:
	rm -rf $(BUILD)
