# tlab — the two commands in README.md are `make run` and `make test`; both run `make setup` first.
SWIFT_BUILD := swift build -c release
TLAB := .build/release/tlab

.PHONY: setup build run test bench bench-c clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT_BUILD) --product tlab

run: build
	$(TLAB) demo

# Tests run in release: the numeric kernels are 10-50x slower in debug builds.
test: setup
	swift build -c release --build-tests
	swift test -c release --skip-build

bench: build
	$(TLAB) bench gemm --json
	$(TLAB) bench conv --json

# The C ceiling for `tlab bench gemm`: the same OpenBLAS sgemm called from C.
bench-c: setup
	cc -O2 bench/sgemm_reference.c $$(pkg-config --cflags --libs openblas) -o bench/sgemm_reference
	bench/sgemm_reference 2048

clean:
	rm -rf .build
