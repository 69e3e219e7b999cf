"""``changes.after``: a state-machine flow puts its orders under change control from a state on
(the state value resolves to its node); a flow-owned status field stays refused in a change
request; a bad ``after`` is a load error at its place (SQLite, and PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from typing import Iterator

import pytest

from engine.definitions import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors
from tests.api.change_site import PACK, Site, make_site

LIFECYCLE = """
name: approval
label: {zh-CN: 订单生命周期, en: Lifecycle}
form: order
start: {on: create}
status_field: status
withdraw: never
changes: {approver: {role: manager}, after: scheduled}
freezes: [{form: work_order, link: order}]
nodes:
  - {id: start, kind: start}
  - {id: review, kind: state, state: pending}
  - {id: planned, kind: state, state: scheduled}
  - {id: shipped, kind: end, state: shipped}
edges:
  - {from: start, to: review}
  - {from: review, to: planned, action: schedule, roles: [manager]}
  - {from: planned, to: shipped, action: ship, roles: [manager]}
"""


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    s = make_site(db_url, approval=LIFECYCLE)
    yield s
    s.platform.db.dispose()


def test_change_control_starts_at_the_state_named_by_after(site: Site) -> None:
    order = site.ok("sales1", "POST", "/records/order", 201, json={"number": "SO-9", "qty": 1, "price": "1.00"})
    first = site.get("order", order["id"])
    assert first["status"] == "pending"  # the flow's start wrote it
    edited = site.ok("sales1", "PATCH", f"/records/order/{order['id']}", json={"version": first["version"], "qty": 2})
    assert edited["qty"] == 2  # before 已排产: an ordinary edit
    task = site.open_task("order", order["id"], "review")
    site.inbox.act(site.platform.user_context("mgr1"), task["id"], "schedule")
    now = site.get("order", order["id"])
    assert now["status"] == "scheduled"
    status = site.api(
        "sales1", "PATCH", f"/records/order/{order['id']}", json={"version": now["version"], "status": "shipped"}
    )
    assert status.status_code == 403 and "status" in status.get_json()["error"]["fields"]  # still the flow's
    change = site.ok(
        "sales1", "PATCH", f"/records/order/{order['id']}", 202, json={"version": now["version"], "qty": 5}
    )
    assert change["diff"] == {"qty": [2, 5]}
    done = site.ok("mgr1", "POST", f"/changes/{change['id']}/approve")
    assert done["status"] == "approved"
    assert site.get("order", order["id"])["qty"] == 5
    # the lifecycle goes on: its state task was not touched by the change request's task
    planned = site.open_task("order", order["id"], "planned")
    site.inbox.act(site.platform.user_context("mgr1"), planned["id"], "ship")
    assert site.get("order", order["id"])["status"] == "shipped"


def test_a_bad_after_is_reported_where_it_is_written() -> None:
    files = read_pack_files(PACK)
    files["flows/approval.yaml"] = LIFECYCLE.lstrip("\n").replace("after: scheduled", "after: planed")
    with pytest.raises(DefinitionErrors) as bad:
        load_pack_files(files, "changetest")
    lines = [str(e).split("\n")[0] for e in bad.value.errors]
    assert lines == [
        "changetest/flows/approval.yaml:7:45: 'planed' is neither a node id nor a state of this flow "
        "(did you mean 'planned'?)"
    ]
