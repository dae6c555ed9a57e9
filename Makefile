# pyvirt: libvirt, rebuilt with a Python core.  See README.md.
#   make build   generate headers and the shim, build build/lib/libvirt.so.0
#   make demo    build, then run the demo in C and in Python on test:///default
#   make test    build, then run every test this machine can run
#   make test-bindings  generate bindings/go and build/bindings/{perl,ocaml}, run their own tests
#                (go test, prove, OCaml test executables)
#                and the shared examples on both libraries
#   make bench   pyvirt vs the system's libvirt, timed (QUICK=1: short; DOCS=1: refresh docs/)

SYSPY   := /usr/bin/python3
VENV    := .venv
PY      := $(VENV)/bin/python
BUILD   := build
SPECS   := apispec/libvirt.xml apispec/libvirt-qemu.xml apispec/libvirt-lxc.xml
GEN_SRC := $(shell find generator shim -name '*.py' -o -name '*.j2' -o -name '*.c' -o -name '*.h')
LIBS    := $(BUILD)/lib/libvirt.so.0 $(BUILD)/lib/libvirt-qemu.so.0 $(BUILD)/lib/libvirt-lxc.so.0

.PHONY: all build demo test test-bindings bench clean host-build host-test host-bench

all: build

host-build:
	@tools/setup-host.sh build

host-test:
	@tools/setup-host.sh test

host-bench:
	@tools/setup-host.sh bench

$(VENV)/.stamp: requirements.txt | host-build
	@echo "  venv  $(VENV)"
	@$(SYSPY) -m venv --system-site-packages $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(BUILD)/.generated: $(SPECS) $(GEN_SRC) $(wildcard bindings/*/overrides.toml) $(VENV)/.stamp
	@echo "  gen   $(BUILD)/include $(BUILD)/shim bindings/go $(BUILD)/bindings/{perl,ocaml}"
	@$(PY) -m generator --bindings bindings $(BUILD) $(SPECS)
	@mkdir -p $(BUILD)/shimpy $(BUILD)/python
	@ln -sfn ../../shim/pyvirt_shim $(BUILD)/shimpy/pyvirt_shim
	@ln -sfn ../../core $(BUILD)/shimpy/pyvirt
	@ln -sfn ../../core $(BUILD)/python/pyvirt
	@touch $@

$(BUILD)/.shimdeps: shim/requirements.txt $(VENV)/.stamp
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --upgrade \
	  --target $(BUILD)/shimpy -r shim/requirements.txt
	@touch $@

$(BUILD)/.shim: $(BUILD)/.generated $(BUILD)/.shimdeps
	@$(SYSPY) shim/build.py $(BUILD) > $(BUILD)/shim-build.log 2>&1 \
	  || { tail -40 $(BUILD)/shim-build.log; exit 1; }
	@touch $@

build: $(BUILD)/.shim
	@echo "  ok    $(LIBS)"

demo: build
	@examples/run-demo.sh $(BUILD)

test: build host-test
	@$(PY) -m pytest -q tests

# The generated bindings (bindings/<lang>/*_gen.*, build/bindings/coverage.txt) with their
# own tests and the shared examples; `make test` runs the same tests under tests/bindings.
test-bindings: build host-test
	@$(PY) -m pytest -q tests/bindings

# pyvirt against the system's libvirt on the same work (bench/run.py): a table on the
# terminal, build/bench/{results.json,table.md,bench.png}.  QUICK=1: about two minutes;
# DOCS=1: also refresh docs/bench.md and docs/bench.png.  Never part of `make test`.
# host-bench installs libvirt-daemon-system, for real libvirt's QEMU driver (the QEMU
# and migration rows run it as qemu:///embed and as two private libvirtd).
$(VENV)/.bench-stamp: bench/requirements.txt $(VENV)/.stamp
	@$(PY) -m pip install -q --disable-pip-version-check -r bench/requirements.txt
	@touch $@

bench: build host-bench $(VENV)/.bench-stamp
	@$(PY) bench/run.py $(if $(filter 1 yes,$(QUICK)),--quick) $(if $(filter 1 yes,$(DOCS)),--docs)

clean:
	rm -rf $(BUILD)
