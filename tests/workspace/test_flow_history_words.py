"""Every action a flow's history records has its words on the task page, in zh-CN and en
(the page shows them instead of the raw action name)."""

from __future__ import annotations

import re
from pathlib import Path

from apps.workspace.i18n import TEXTS, text

FLOWS = Path(__file__).resolve().parents[2] / "engine" / "flows"
#: how the flow engine names a history event: ``self.event("approved", ...)``,
#: ``EVENT = "handed_over"``, ``_event(conn, id, "change_requested", ...)``
PATTERNS = (
    re.compile(r"\bevent\(\s*\"([a-z_]+)\""),
    re.compile(r"^EVENT = \"([a-z_]+)\"", re.M),
    re.compile(r"_event\(conn, [^,]+, \"([a-z_]+)\""),
)


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in FLOWS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in PATTERNS:
            found.update(pattern.findall(source))
    return found


def test_the_engine_records_the_actions_the_scan_expects() -> None:
    actions = recorded_actions()
    assert {"started", "approved", "action", "handed_over", "migrated", "change_requested"} <= actions


def test_every_recorded_action_has_words_in_both_languages() -> None:
    missing = sorted(a for a in recorded_actions() if f"act_{a}" not in TEXTS)
    assert missing == []
    for action in recorded_actions():
        assert set(TEXTS[f"act_{action}"]) >= {"zh-CN", "en"}, action
    assert text("act_handed_over", "zh-CN") == "工作交接"
    assert text("act_migrated", "en") == "moved to a new revision"
