"""Generates the client's types from proto/: `consent/v1/*_pb2.py` (Google's
protobuf runtime) and their typed stubs `*_pb2.pyi` (mypy-protobuf), into
`src/` by default.

    python build_proto.py [OUT_DIR]

setup.py runs it when the package is built, and the tests run it before
they import the package, so the types are always those of proto/ as it is.
Needs grpcio-tools (a bundled protoc, with the well-known types) and
mypy-protobuf (its `protoc-gen-mypy` plugin).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"


def _mypy_plugin() -> str:
    """The protoc-gen-mypy of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "protoc-gen-mypy"
    if beside.exists():
        return str(beside)
    found = shutil.which("protoc-gen-mypy")
    if found is None:
        raise SystemExit("protoc-gen-mypy not found: pip install mypy-protobuf")
    return found


def generate(out_dir: Path) -> list[Path]:
    """Writes the generated modules under `out_dir`; returns the .proto files."""
    from grpc_tools import protoc  # build-time only
    import grpc_tools

    protos = sorted(PROTO_ROOT.glob("consent/v1/*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT}/consent/v1")
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    package = out_dir / "consent" / "v1"
    if package.exists():
        shutil.rmtree(package)
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={_mypy_plugin()}",
        f"--python_out={out_dir}",
        f"--mypy_out={out_dir}",
        *[str(p.relative_to(PROTO_ROOT)) for p in protos],
    ]
    status = protoc.main(args)
    if status != 0:
        raise SystemExit(f"protoc failed ({status}) on {PROTO_ROOT}")
    for directory in (out_dir / "consent", package):
        (directory / "__init__.py").touch()
    (out_dir / "consent" / "py.typed").touch()
    return protos


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "src"
    written = generate(target)
    print(f"generated {len(written)} proto files into {target}")
