"""The wheel's package list (pyproject.toml) names every package of the tree.

setuptools cannot discover packages that install under another name
(clearhall.server from server/), so they are listed by hand; a forgotten one
would be missing from a non-editable install. .ci/wheel-check installs the
real wheel and serves from it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_in_the_wheel() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {folder: name for name, folder in conf["package-dir"].items()}
    found = set()
    for folder, name in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            sub = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([name, *sub]))
    assert found == set(conf["packages"])
