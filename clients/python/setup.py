"""Generates the ``consent.v1`` types from ../../proto before the build
(everything else is in pyproject.toml)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

import build_proto


class GenerateThenBuild(build_py):
    def run(self) -> None:
        build_proto.generate(Path(__file__).resolve().parent / "src")
        super().run()


setup(cmdclass={"build_py": GenerateThenBuild})
