"""shim/typedparams.c against the real libvirt.

tests/c/typedparams_test.c is built twice: linked with the system's libvirt,
and compiled together with shim/typedparams.c and tests/c/error_stub.c (no
libvirt at all).  Both builds must exit 0 and print exactly the same.
"""

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIM_SOURCE = ROOT / "shim" / "typedparams.c"
TEST_SOURCE = ROOT / "tests" / "c" / "typedparams_test.c"
STUB_SOURCE = ROOT / "tests" / "c" / "error_stub.c"

WARNINGS = ["-Wall", "-Wextra", "-Werror"]
SHIM_FLAGS = ["-I/usr/include", f"-I{ROOT / 'shim'}", "-pthread"]
SANITIZERS = ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]

# Inputs on which libvirt 9.0 itself crashes (so only the shim build runs
# them, with --extra): the shim reports an error in libvirt's wording instead.
EXTRA_EXPECTED = """\
== extra: arguments libvirt does not check
AddInt(params=NULL) -> -1 (n=0 max=0)
  error: code=8 domain=0 level=2 message=params in virTypedParamsAddInt must not be NULL
AddInt(nparams=NULL) -> -1 (n=0 max=0)
  error: code=8 domain=0 level=2 message=nparams in virTypedParamsAddInt must not be NULL
AddString(maxparams=NULL) -> -1 (n=0 max=0)
  error: code=8 domain=0 level=2 message=maxparams in virTypedParamsAddString must not be NULL
AddInt(name=NULL) -> -1 (n=0 max=1)
  error: code=8 domain=0 level=2 message=name in virTypedParamsAddInt must not be NULL
AddFromString(name=NULL) -> -1 (n=0 max=1)
  error: code=8 domain=0 level=2 message=name in virTypedParamsAddFromString must not be NULL
AddStringList(name=NULL) -> -1 (n=0 max=1)
  error: code=8 domain=0 level=2 message=name in virTypedParamsAddStringList must not be NULL
AddInt(*nparams=-1) -> -1 (n=-1 max=1)
  error: code=8 domain=0 level=2 message=*nparams in virTypedParamsAddInt must be zero or greater
AddInt(*maxparams=-1) -> -1 (n=0 max=-1)
  error: code=8 domain=0 level=2 message=*maxparams in virTypedParamsAddInt must be zero or greater
AddInt(*params=NULL, *maxparams=5) -> 0 (n=1 max=1)
  error: none
GetInt(nparams=-1) -> 0
"""


def _libvirt_flags() -> list[str]:
    if not shutil.which("gcc") or not shutil.which("pkg-config"):
        pytest.skip("gcc and pkg-config are needed")
    result = subprocess.run(["pkg-config", "--cflags", "--libs", "libvirt"],
                            capture_output=True, text=True)
    if result.returncode != 0 or not Path("/usr/include/libvirt/libvirt.h").exists():
        pytest.skip("libvirt-dev is not installed")
    return shlex.split(result.stdout)


def _compile(output: Path, sources: list[Path], flags: list[str]) -> Path:
    command = ["gcc", *WARNINGS, "-o", str(output), *map(str, sources), *flags]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{shlex.join(command)}\n{result.stderr}"
    return output


def _run(binary: Path, *args: str) -> str:
    result = subprocess.run([str(binary), *args], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, (
        f"{binary.name} {' '.join(args)} exited with {result.returncode}\n{result.stderr}")
    return result.stdout


def _split_extra(output: str) -> tuple[str, str]:
    common, marker, extra = output.partition("== extra")
    assert marker, "the --extra section is missing"
    return common, marker + extra


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("typedparams")


@pytest.fixture(scope="module")
def libvirt_output(build_dir: Path) -> str:
    binary = _compile(build_dir / "with_libvirt", [TEST_SOURCE], _libvirt_flags())
    output = _run(binary)
    assert "== growth to 100 params" in output
    return output


@pytest.fixture(scope="module")
def shim_binary(build_dir: Path, libvirt_output: str) -> Path:
    return _compile(build_dir / "with_shim", [TEST_SOURCE, STUB_SOURCE, SHIM_SOURCE],
                    SHIM_FLAGS)


def test_shim_prints_what_libvirt_prints(shim_binary: Path, libvirt_output: str) -> None:
    assert _run(shim_binary).splitlines() == libvirt_output.splitlines()


def test_shim_rejects_what_crashes_libvirt(shim_binary: Path, libvirt_output: str) -> None:
    common, extra = _split_extra(_run(shim_binary, "--extra"))
    assert common.splitlines() == libvirt_output.splitlines()
    assert extra.splitlines() == EXTRA_EXPECTED.splitlines()


def test_shim_is_clean_under_sanitizers(build_dir: Path, libvirt_output: str) -> None:
    probe = build_dir / "sanitizer_probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    if subprocess.run(["gcc", *SANITIZERS, "-o", str(build_dir / "probe"), str(probe)],
                      capture_output=True).returncode != 0:
        pytest.skip("gcc cannot build with AddressSanitizer here")

    binary = _compile(build_dir / "with_shim_asan", [TEST_SOURCE, STUB_SOURCE, SHIM_SOURCE],
                      SHIM_FLAGS + SANITIZERS)
    common, extra = _split_extra(_run(binary, "--extra"))
    assert common.splitlines() == libvirt_output.splitlines()
    assert extra.splitlines() == EXTRA_EXPECTED.splitlines()


def test_our_library_prints_what_libvirt_prints(build_dir: Path, libvirt_output: str) -> None:
    """The binary linked with the system's libvirt, run on build/lib/libvirt.so.0."""
    lib = Path(__file__).resolve().parents[1] / "build" / "lib"
    if not (lib / "libvirt.so.0").exists():
        pytest.skip("run `make build` first")
    result = subprocess.run([str(build_dir / "with_libvirt"), "--extra"], capture_output=True,
                            text=True, timeout=120, env={"LD_LIBRARY_PATH": str(lib)})
    assert result.returncode == 0, result.stderr
    common, extra = _split_extra(result.stdout)
    assert common.splitlines() == libvirt_output.splitlines()
    assert extra.splitlines() == EXTRA_EXPECTED.splitlines()
