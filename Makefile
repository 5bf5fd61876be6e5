# Makefile — the two front-door commands (`make demo`, `make check`) and helpers.
# The real build is CMake; this file only sequences set-up, build and tests.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
CMAKE_FLAGS ?=

.PHONY: all setup build demo check test asan fuzz bench clean explorer explorer-build explorer-test

all: build

setup:
	@bash scripts/setup

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The main job: check the theory holds on this machine, solve an HJ problem,
# and reproduce the paper's claims (quick mode) into an HTML report.
demo: build
	@echo "== hjdl verify: the exact HJ <-> LSE correspondence, checked independently =="
	./$(BUILD)/hjdl verify
	@echo
	@echo "== hjdl solve: Hopf-Cole solution of 3 atoms at 5 points (t = 0.5, eps = 0.1) =="
	./$(BUILD)/hjdl solve --atoms examples/atoms.csv --x examples/points.csv --t 0.5 --eps 0.1
	@echo
	@echo "== hjdl reproduce --quick: every experiment, checks and claims, figures =="
	./$(BUILD)/hjdl reproduce --quick --out hjdl-out
	@echo "open hjdl-out/report.html in a browser"
	@echo
	@echo "== Python binding: .venv with hjdl (then: source .venv/bin/activate) =="
	@$(MAKE) --no-print-directory python
	$(VENV)/bin/python3 examples/quickstart.py --no-plot

# Python binding: a venv that sees Debian's numpy, the package installed from ./python with
# this build's libhjdl.so inside it, offline (no build isolation, no index), then a check.
PYTHON_SYSTEM ?= /usr/bin/python3
VENV          ?= .venv
.PHONY: python
python: build
	@test -x $(VENV)/bin/python3 || $(PYTHON_SYSTEM) -m venv --system-site-packages $(VENV)
	HJDL_BUILD_DIR=$(abspath $(BUILD)) $(VENV)/bin/pip install --quiet --no-index --no-build-isolation --no-deps --force-reinstall ./python
	cd / && $(abspath $(VENV))/bin/python3 -c "import hjdl; print('hjdl', hjdl.__version__, 'from', hjdl.library_path())"

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHJDL_SANITIZE=ON -DHJDL_OPENMP=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS)

# The explorer (explorer/index.html): libhjdl compiled to WebAssembly by Debian's
# emscripten (explorer/wasm/CMakeLists.txt says why and what is switched off).
# Debian's emscripten finds node-acorn through NODE_PATH.
WASM_BUILD ?= build-wasm
EM_NODE_PATH ?= /usr/share/nodejs
explorer:
	@bash scripts/setup --explorer
	@$(MAKE) --no-print-directory explorer-build
	@echo "explorer built: open explorer/index.html (or run: hjdl explore)"

explorer-build:
	@test -f $(WASM_BUILD)/CMakeCache.txt || NODE_PATH=$(EM_NODE_PATH) emcmake cmake -S explorer/wasm -B $(WASM_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	NODE_PATH=$(EM_NODE_PATH) cmake --build $(WASM_BUILD) -j$(JOBS)

# The page in headless chromium against the CLI (tests/explorer/). `make check`
# installs the explorer's parts too; where that is impossible the test says it skipped.
explorer-test: build
	@bash scripts/setup --explorer || echo "scripts/setup --explorer failed: the browser test skips what is missing"
	@if command -v emcc >/dev/null 2>&1; then $(MAKE) --no-print-directory explorer-build; fi
	bash tests/explorer/run.sh $(BUILD)/hjdl

check: test asan explorer-test

fuzz: setup
	bash fuzzing/run.sh $${FUZZ_SECONDS:-60}

# hjdl vs NumPy vs PyTorch, roofline fractions: bench-out/bench.csv, bench.png
# (BENCH_QUICK=1 skips the minutes-long full `scaling` run; see bench/run.sh).
bench: build
	bash scripts/setup --bench
	BUILD=$(BUILD) bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz $(WASM_BUILD) explorer/hjdl-wasm.js
