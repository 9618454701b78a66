"""Generates the ``consent.v1`` types from ../../proto before anything is
built (everything else is in pyproject.toml): setuptools looks for the
``consent`` package as soon as it reads the metadata, so the generation
runs when this file is read, with the build requirements of
pyproject.toml (grpcio-tools, mypy-protobuf) installed."""

import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_proto  # noqa: E402  (beside this file)

build_proto.generate(HERE / "src")
setup()
