"""crawlcore is the pure core: its modules import only the standard library (and each other).

One exception, `re2` (google-re2), in crawlcore.patterns only: users' regular expressions must match
in linear time (Python's `re` backtracks exponentially on patterns like `(a|a)*$` while holding the
GIL), and RE2 is pure computation on strings, no I/O, so the core stays pure.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import crawlcore

MODULES = sorted(Path(crawlcore.__file__).parent.glob("*.py"))
ALLOWED = {"patterns.py": {"re2"}}  # module -> the non-standard packages it may import (see above)


def top_level_imports(path: Path) -> list[tuple[int, str]]:
    """(level, top-level package) of every import in the module, nested ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name.partition(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, (node.module or "").partition(".")[0]))
    return found


def test_every_module_is_checked() -> None:
    names = {p.stem for p in MODULES}
    assert {"urls", "patterns", "scope", "definition", "status", "job", "report", "wire", "dedupe", "links",
            "errors"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_standard_library(path: Path) -> None:
    foreign = [
        name for level, name in top_level_imports(path)
        if level == 0 and name != "crawlcore" and name not in sys.stdlib_module_names
        and name not in ALLOWED.get(path.name, set())
    ]
    assert foreign == []


def test_re2_is_the_one_exception() -> None:
    importers = {p.name for p in MODULES if any(name == "re2" for _, name in top_level_imports(p))}
    assert importers == set(ALLOWED)


def test_import_walker_sees_third_party_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom . import x\ndef f():\n    import redis.client\nfrom scrapy import Spider\n"
    )
    assert sorted(top_level_imports(module)) == [(0, "os"), (0, "redis"), (0, "scrapy"), (1, "")]
