"""Only the console's build step: everything else is in pyproject.toml.

The step is its own command, first among ``build``'s sub-commands, so both ``pip install .`` and
``pip install -e .`` run it, and a failure fails the install (setuptools silences errors of a
customised ``build_py`` in editable installs, so the step must not live there).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from setuptools import Command, setup
from setuptools.command.build import build

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_console import ensure_built


class BuildConsole(Command):
    """Builds console/ into src/deconflict/console_dist/ when it is missing or out of date."""

    description = "build the operator's console (npm ci, npm run build)"
    user_options: ClassVar[list[tuple[str, str | None, str]]] = []

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        ensure_built()


class BuildWithConsole(build):
    sub_commands: ClassVar[list[tuple[str, None]]] = [("build_console", None), *build.sub_commands]


setup(cmdclass={"build": BuildWithConsole, "build_console": BuildConsole})
