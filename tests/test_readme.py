"""The README stays true: its configuration table is the settings, and its test command is CI's."""

from __future__ import annotations

import re
from pathlib import Path

from crawlbase.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _table_rows() -> dict[str, tuple[str, str]]:
    block = README.split("<!-- settings-table", 1)[1].split("<!-- /settings-table -->", 1)[0]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\| `([A-Z_]+)` \| (.*?) \| (.*) \|$", line)
        if match:
            rows[match[1]] = (match[2], match[3])
    return rows


def _default(value: object) -> str:
    return "(required)" if value is None else f"`{value}`"


def test_every_setting_is_documented_with_its_default_and_doc() -> None:
    rows = _table_rows()
    assert list(rows) == [s.env for s in SETTINGS]
    for setting in SETTINGS:
        assert rows[setting.env] == (_default(setting.default), setting.doc), setting.env


def test_ci_runs_the_readme_test_command() -> None:
    assert "scripts/test    # run the whole test suite" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec scripts/test$", ci, re.MULTILINE)


def test_readme_commands_exist() -> None:
    for script in ("scripts/up", "scripts/test", "scripts/bootstrap"):
        path = ROOT / script
        assert path.exists() and path.stat().st_mode & 0o111, script
