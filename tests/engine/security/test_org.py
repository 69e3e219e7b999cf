"""Departments, the heads chain and delegations, on the database (SQLite, or PostgreSQL with
DATABASE_URL): what a flow's chain approval climbs and whom a delegated task goes to."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.errors import ValidationError
from engine.security import org
from engine.security.delegation import delegations_table
from engine.security.org_errors import OrgConflict, OrgNotFound
from engine.security.users import Users
from engine.store.db import Database
from engine.store.system import users as lc_user

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=UTC)


@pytest.fixture
def conn(db: Database) -> Iterator[Any]:
    with db.begin() as connection:
        yield connection


@pytest.fixture
def people(conn: Any) -> dict[str, int]:
    accounts = Users(FixedClock(NOW))
    return {name: accounts.add(conn, name, None, []).id for name in ("ceo", "vp", "boss", "li", "wang", "zhao")}


@pytest.fixture
def tree(conn: Any, people: dict[str, int]) -> dict[str, int]:
    """office (ceo) > sales (vp) > east (boss: members li, wang, boss)."""
    office = org.add_department(conn, {"name": "office", "label": {"zh-CN": "总经办"}, "head_id": people["ceo"]})
    sales = org.add_department(conn, {"name": "sales", "parent_id": office.id, "head_id": people["vp"]})
    east = org.add_department(conn, {"name": "east", "parent_id": sales.id, "head_id": people["boss"]})
    for name in ("li", "wang", "boss"):
        org.set_user_department(conn, people[name], east.id)
    return {"office": office.id, "sales": sales.id, "east": east.id}


# ---- departments and the heads chain -------------------------------------------------


def test_the_chain_climbs_heads_up_to_the_levels_asked(conn: Any, people: dict[str, int], tree: Any) -> None:
    li = people["li"]
    assert org.heads_above(conn, li, 1) == [people["boss"]]
    assert org.heads_above(conn, li, 2) == [people["boss"], people["vp"]]
    assert org.heads_above(conn, li, 3) == [people["boss"], people["vp"], people["ceo"]]
    assert org.heads_above(conn, li, 9) == [people["boss"], people["vp"], people["ceo"]]  # stops at the root
    assert org.heads_above(conn, li, 0) == [] and org.heads_above(conn, li, -1) == []


def test_a_head_skips_themself_and_one_person_heading_two_levels_counts_once(
    conn: Any, people: dict[str, int], tree: Any
) -> None:
    assert org.heads_above(conn, people["boss"], 2) == [people["vp"], people["ceo"]]
    org.update_department(conn, tree["sales"], {"head_id": people["ceo"]})
    assert org.heads_above(conn, people["li"], 3) == [people["boss"], people["ceo"]]
    org.update_department(conn, tree["east"], {"head_id": people["ceo"]})
    assert org.heads_above(conn, people["li"], 3) == [people["ceo"]]
    assert org.heads_above(conn, people["ceo"], 3) == []  # heads every level: nobody above


def test_a_department_without_a_head_or_with_a_disabled_one_is_passed_over(
    conn: Any, people: dict[str, int], tree: Any
) -> None:
    org.update_department(conn, tree["east"], {"head_id": None})
    assert org.heads_above(conn, people["li"], 2) == [people["vp"], people["ceo"]]
    conn.execute(lc_user.update().where(lc_user.c.id == people["vp"]).values(active=False))
    assert org.heads_above(conn, people["li"], 2) == [people["ceo"]]


def test_no_department_no_heads_and_an_unknown_user_none(conn: Any, people: dict[str, int], tree: Any) -> None:
    assert org.heads_above(conn, people["zhao"], 3) == []
    assert org.heads_above(conn, 999, 3) == []
    org.set_user_department(conn, people["li"], None)
    assert org.heads_above(conn, people["li"], 3) == []


def test_a_parent_loop_written_around_the_checks_ends_the_climb(conn: Any, people: dict[str, int], tree: Any) -> None:
    conn.execute(
        org.departments_table.update()
        .where(org.departments_table.c.id == tree["office"])
        .values(parent_id=tree["east"])
    )
    assert org.heads_above(conn, people["li"], 9) == [people["boss"], people["vp"], people["ceo"]]


def test_a_department_cannot_sit_under_itself_or_below_it(conn: Any, people: dict[str, int], tree: Any) -> None:
    for parent in (tree["office"], tree["east"]):
        with pytest.raises(ValidationError) as caught:
            org.update_department(conn, tree["office"], {"parent_id": parent}, locale="zh-CN")
        assert list(caught.value.fields) == ["parent_id"]
        assert "不能挂在自己之下" in caught.value.fields["parent_id"][0]
    moved = org.update_department(conn, tree["east"], {"parent_id": tree["office"]})
    assert moved.parent_id == tree["office"]
    assert org.heads_above(conn, people["li"], 2) == [people["boss"], people["ceo"]]


def test_bad_department_values_are_named_field_by_field(conn: Any, people: dict[str, int], tree: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        org.add_department(
            conn, {"label": {"zh-CN": ""}, "parent_id": 999, "head_id": "boss", "colour": "red"}, locale="en"
        )
    assert caught.value.fields == {
        "colour": ["unknown field"],
        "name": ["is required"],
        "label": ['must be texts by language, e.g. {"zh-CN": "销售部", "en": "Sales"}'],
        "head_id": ["must be a record id"],
        "parent_id": ["department 999 does not exist"],
    }
    with pytest.raises(ValidationError) as caught:
        org.add_department(conn, {"name": "x" * 65, "head_id": True}, locale="zh-CN")
    assert caught.value.fields == {"name": ["长度不能超过 64 个字符"], "head_id": ["必须是记录编号"]}
    with pytest.raises(OrgConflict) as taken:
        org.add_department(conn, {"name": " sales "})
    assert taken.value.text("zh-CN") == "已有名为 'sales' 的部门" and taken.value.fields == {
        "name": ["a department named 'sales' exists already"]
    }
    with pytest.raises(OrgConflict):
        org.update_department(conn, tree["east"], {"name": "sales"})
    assert org.update_department(conn, tree["east"], {"name": "east"}).name == "east"  # its own name


def test_departments_read_back_with_heads_and_members(conn: Any, people: dict[str, int], tree: Any) -> None:
    listed = {d.name: d.to_dict() for d in org.departments(conn)}
    assert listed["office"] == {
        "id": tree["office"],
        "name": "office",
        "label": {"zh-CN": "总经办"},
        "parent_id": None,
        "head_id": people["ceo"],
        "head": "ceo",
    }
    assert org.members(conn, tree["east"]) == [people["boss"], people["li"], people["wang"]]
    assert Users(FixedClock(NOW)).get(conn, people["li"]).department_id == tree["east"]
    east = org.department_of(conn, people["li"])
    assert east is not None and (east.name, east.head) == ("east", "boss")
    assert org.department_of(conn, people["zhao"]) is None and org.department_of(conn, 999) is None
    with pytest.raises(OrgNotFound) as caught:
        org.department_by_name(conn, "eats")
    assert caught.value.text("zh-CN") == "没有名为 'eats' 的部门 (east?)"
    with pytest.raises(OrgNotFound):
        org.set_user_department(conn, 999, tree["east"])
    with pytest.raises(ValidationError) as bad:
        org.set_user_department(conn, people["li"], 999)
    assert bad.value.fields == {"department_id": ["department 999 does not exist"]}


# ---- delegations -------------------------------------------------------------------------


def _delegate(conn: Any, giver: int, taker: int, starts: Any, ends: Any, flows: Any = None) -> org.Delegation:
    values = {"from_id": giver, "to_id": taker, "starts_at": starts, "ends_at": ends, "flows": flows}
    return org.add_delegation(conn, values, now=NOW, created_by="test", timezone="Asia/Shanghai")


def test_a_delegation_covers_its_window_in_the_packs_time_zone(conn: Any, people: dict[str, int]) -> None:
    made = _delegate(conn, people["li"], people["wang"], "2026-12-03", "2026-12-05")
    # Shanghai is UTC+8: 3 Dec 00:00 there is 2 Dec 16:00 UTC; "to 5 Dec" includes all of the 5th
    assert made.starts_at == dt.datetime(2026, 12, 2, 16, tzinfo=UTC)
    assert made.ends_at == dt.datetime(2026, 12, 5, 16, tzinfo=UTC)
    li, wang = people["li"], people["wang"]
    assert org.delegate_for(conn, li, "order_approval", made.starts_at - dt.timedelta(seconds=1)) is None
    assert org.delegate_for(conn, li, "order_approval", made.starts_at) == wang
    assert org.delegate_for(conn, li, "anything", at(5, 15)) == wang
    assert org.delegate_for(conn, li, "order_approval", made.ends_at) is None
    assert org.delegate_for(conn, wang, "order_approval", at(4)) is None  # the delegate did not delegate


def test_a_delegation_for_some_flows_leaves_the_others_with_the_user(conn: Any, people: dict[str, int]) -> None:
    _delegate(conn, people["li"], people["wang"], "2026-12-01", "2026-12-10", ["order_approval", "refund"])
    _delegate(conn, people["li"], people["zhao"], "2026-12-01", "2026-12-10", ["work_order"])
    assert org.delegate_for(conn, people["li"], "refund", at(4)) == people["wang"]
    assert org.delegate_for(conn, people["li"], "work_order", at(4)) == people["zhao"]
    assert org.delegate_for(conn, people["li"], "purchase", at(4)) is None


def test_delegations_chain_and_a_loop_stops_before_it_comes_round(conn: Any, people: dict[str, int]) -> None:
    li, wang, zhao, boss = people["li"], people["wang"], people["zhao"], people["boss"]
    _delegate(conn, li, wang, "2026-12-01", "2026-12-10")
    _delegate(conn, wang, zhao, "2026-12-03", "2026-12-10", ["order_approval"])
    assert org.delegate_for(conn, li, "order_approval", at(2)) == wang  # zhao's part not begun
    assert org.delegate_for(conn, li, "order_approval", at(4)) == zhao
    assert org.delegate_for(conn, li, "refund", at(4)) == wang  # wang passes on only order_approval
    _delegate(conn, zhao, li, "2026-12-01", "2026-12-10")
    assert org.delegate_for(conn, li, "order_approval", at(4)) == zhao  # zhao -> li would come round
    assert org.delegate_for(conn, zhao, "order_approval", at(4)) == wang  # zhao -> li -> wang -> (zhao)
    _delegate(conn, boss, li, "2026-12-01", "2026-12-10")
    assert org.delegate_for(conn, boss, "refund", at(4)) == wang  # boss -> li -> wang (wang -> zhao: refund not)


def test_a_chain_stops_after_the_most_hops(conn: Any) -> None:
    accounts = Users(FixedClock(NOW))
    ids = [accounts.add(conn, f"u{i}", None, []).id for i in range(org.MAX_HOPS + 3)]
    for giver, taker in zip(ids, ids[1:]):
        _delegate(conn, giver, taker, "2026-12-01", "2026-12-10")
    assert org.delegate_for(conn, ids[0], "f", at(4)) == ids[org.MAX_HOPS]
    assert org.delegate_for(conn, ids[-3], "f", at(4)) == ids[-1]


def test_revoked_and_disabled_delegates_take_nothing(conn: Any, people: dict[str, int]) -> None:
    made = _delegate(conn, people["li"], people["wang"], "2026-12-01", "2026-12-10")
    revoked = org.revoke_delegation(conn, made.id, at(3))
    assert revoked.revoked_at == at(3)
    assert org.delegate_for(conn, people["li"], "f", at(4)) is None
    with pytest.raises(OrgConflict) as twice:
        org.revoke_delegation(conn, made.id, at(4))
    assert twice.value.text("zh-CN") == f"委托 {made.id} 已撤销"
    with pytest.raises(OrgNotFound):
        org.revoke_delegation(conn, 999, at(4))
    again = _delegate(conn, people["li"], people["zhao"], "2026-12-01", "2026-12-10")  # the window is free again
    assert org.delegate_for(conn, people["li"], "f", at(4)) == people["zhao"]
    conn.execute(lc_user.update().where(lc_user.c.id == people["zhao"]).values(active=False))
    assert org.delegate_for(conn, people["li"], "f", at(4)) is None
    assert [d.id for d in org.delegations(conn, user_id=people["li"])] == [made.id, again.id]
    assert [d.id for d in org.delegations(conn, user_id=people["li"], at=at(4))] == [again.id]
    assert org.delegations(conn, user_id=people["li"], at=at(20)) == []


def test_overlapping_delegations_for_a_shared_flow_are_refused(conn: Any, people: dict[str, int]) -> None:
    li, wang, zhao = people["li"], people["wang"], people["zhao"]
    first = _delegate(conn, li, wang, "2026-12-01", "2026-12-05", ["order_approval"])
    with pytest.raises(OrgConflict) as caught:
        _delegate(conn, li, zhao, "2026-12-05", "2026-12-08")
    assert caught.value.text("en") == (
        f"li has delegated the flows order_approval to wang from 2026-12-01 00:00 to 2026-12-06 00:00 already "
        f"(delegation {first.id}): revoke it first or choose another time or other flows"
    )
    assert "的流程 order_approval委托给 wang" in caught.value.text("zh-CN")
    _delegate(conn, li, zhao, "2026-12-01", "2026-12-05", ["refund"])  # another flow
    _delegate(conn, li, zhao, "2026-12-06", "2026-12-08")  # after it
    _delegate(conn, wang, li, "2026-12-01", "2026-12-05")  # another user


def test_bad_delegation_values_are_named_field_by_field(conn: Any, people: dict[str, int]) -> None:
    li = people["li"]
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        ({}, {k: ["is required"] for k in ("from_id", "to_id", "starts_at", "ends_at")}),
        (
            {"from_id": li, "to_id": li, "starts_at": "tomorrow", "ends_at": "2026-13-01", "flows": [], "x": 1},
            {
                "x": ["unknown field"],
                "to_id": ["cannot be the user who delegates"],
                "starts_at": ["must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not 'tomorrow'"],
                "ends_at": ["must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not '2026-13-01'"],
                "flows": ["must be a list of flow names, or null for every flow"],
            },
        ),
        (
            {"from_id": 999, "to_id": "wang", "starts_at": "2026-12-05", "ends_at": "2026-12-04T10:00"},
            {
                "from_id": ["user 999 does not exist"],
                "to_id": ["must be a record id"],
                "ends_at": ["must be after starts_at (2026-12-05 00:00)"],
            },
        ),
        (
            {"from_id": li, "to_id": 2**40, "starts_at": 5, "ends_at": "0001-01-01", "flows": ["Bad Name"]},
            {
                "to_id": ["user 1099511627776 does not exist"],
                "starts_at": ["must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not 5"],
                "ends_at": ["must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not '0001-01-01'"],
                "flows": ["must be a list of flow names, or null for every flow"],
            },
        ),
    ]
    for values, fields in cases:
        with pytest.raises(ValidationError) as caught:
            org.add_delegation(conn, values, now=NOW, created_by="t", timezone="Asia/Shanghai")
        assert caught.value.fields == fields, values
    conn.execute(lc_user.update().where(lc_user.c.id == people["wang"]).values(active=False))
    with pytest.raises(ValidationError) as caught:
        values = {"from_id": li, "to_id": people["wang"], "starts_at": "2026-12-01", "ends_at": "2026-12-02"}
        org.add_delegation(conn, values, now=NOW, created_by="t", locale="zh-CN")
    assert caught.value.fields == {"to_id": ["用户 wang 已停用"]}
    assert conn.execute(sa.select(sa.func.count()).select_from(delegations_table)).scalar() == 0


def test_date_times_with_and_without_a_zone(conn: Any, people: dict[str, int]) -> None:
    made = _delegate(conn, people["li"], people["wang"], "2026-12-01T09:30", "2026-12-01T18:00:00Z")
    assert made.starts_at == dt.datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert made.ends_at == dt.datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert made.to_dict()["flows"] is None and made.to_dict()["from"] == "li" and made.created_by == "test"
    assert org.parse_when(dt.date(2026, 12, 1), "UTC", end=True) == dt.datetime(2026, 12, 2, tzinfo=UTC)
