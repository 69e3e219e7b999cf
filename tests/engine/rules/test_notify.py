"""notify: recipients from a role, a name or an expression, found with one SELECT over the users."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine.definitions.loader import read_pack_files
from engine.errors import DefinitionErrors
from tests.engine.rules.conftest import PACK, outbox_rows


def sent(platform: Any) -> list[tuple[str, str]]:
    return [(r["payload"]["to"], r["payload"]["body"]) for r in outbox_rows(platform) if r["kind"] == "notify"]


def user_id(platform: Any, name: str) -> int:
    with platform.db.connect() as conn:
        return int(conn.execute(sa.text("SELECT id FROM lc_user WHERE username = :u"), {"u": name}).scalar_one())


def tie(platform: Any, username: str, customer: int) -> None:
    with platform.db.begin() as conn:
        conn.execute(sa.text("UPDATE lc_user SET customer_id = :c WHERE username = :u"), {"c": customer, "u": username})


def test_a_link_to_the_portal_form_reaches_its_portal_users(platform, publish, records, ctx):
    publish(
        'on node\nrule "n" when created then notify customer "dear {customer}"\n'
        'on customer\nrule "c" when updated then notify customer "account {name}"\n'
    )
    cu = records.create(ctx, "customer", {"name": "c"})
    other = records.create(ctx, "customer", {"name": "d"})
    tie(platform, "cust1", cu["id"])
    records.create(ctx, "node", {"n": 1, "customer": cu["id"]})
    records.create(ctx, "node", {"n": 2, "customer": other["id"]})  # nobody's account
    records.update(ctx, "customer", cu["id"], {"name": "c2"}, version=None)
    assert sent(platform) == [("cust1", f"dear {cu['id']}"), ("cust1", "account c2")]


def test_a_user_field_through_a_link(platform, publish, records, ctx, runs):
    publish('on node\nrule "am" when created then notify customer.account_manager "order {n}"\n')
    cu = records.create(ctx, "customer", {"name": "c", "account_manager": user_id(platform, "sales1")})
    records.create(ctx, "node", {"n": 5, "customer": cu["id"]})
    records.create(ctx, "node", {"n": 6})  # no customer: nobody
    assert sent(platform) == [("sales1", "order 5")]
    assert [r["actions"][0]["summary"] for r in runs("am")] == ["notified sales1: order 5", "notified nobody: order 6"]


def test_names_ids_lists_roles_and_the_owner(platform, publish, records, ctx):
    publish(
        'on node\nrule "all" when created then notify ["buyer2", "sales1"] "a"\n'
        '  notify user sales1 "b"\n  notify role buyer "c"\n  notify buyer "d"\n  notify owner "e"\n'
        '  notify if(n > 1, "sales1", "buyer1") "f"\n'
    )
    records.create(ctx, "node", {"n": 2})
    assert sent(platform) == [
        ("buyer2", "a"),
        ("sales1", "a"),
        ("sales1", "b"),
        ("buyer1", "c"),
        ("buyer2", "c"),
        ("buyer1", "d"),
        ("buyer2", "d"),
        ("admin", "e"),
        ("sales1", "f"),
    ]


def test_inactive_users_are_not_notified(platform, publish, records, ctx):
    publish('on node\nrule "r" when created then notify role buyer "x"\n')
    with platform.db.begin() as conn:
        conn.execute(sa.text("UPDATE lc_user SET active = :f WHERE username = 'buyer1'"), {"f": False})
    records.create(ctx, "node", {"n": 1})
    assert sent(platform) == [("buyer2", "x")]


def test_the_lookup_is_one_statement_whatever_the_number_of_users(platform, publish, records, ctx):
    publish('on node\nrule "r" when created then notify role buyer "x"\n  notify customer.account_manager "y"\n')
    cu = records.create(ctx, "customer", {"name": "c", "account_manager": user_id(platform, "sales1")})

    def lookups() -> int:
        seen: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "FROM lc_user" in statement:
                seen.append(statement)

        sa.event.listen(platform.db.engine, "before_cursor_execute", count)
        try:
            records.create(ctx, "node", {"n": 1, "customer": cu["id"]})
        finally:
            sa.event.remove(platform.db.engine, "before_cursor_execute", count)
        return len(seen)

    assert lookups() == 2  # one per notify action
    with platform.db.begin() as conn:
        for i in range(60):
            platform.users.add(conn, f"b{i:02d}", None, ["buyer"])
    assert lookups() == 2
    assert len([to for to, body in sent(platform) if body == "x"]) == 2 + 62


def errors_of(publish: Any, text: str, **files: str) -> list[str]:
    with pytest.raises(DefinitionErrors) as exc:
        publish(text, **files)
    return [str(e).splitlines()[0] for e in exc.value.errors]


def test_targets_that_are_not_users_are_errors_at_their_position(publish):
    assert errors_of(
        publish, 'on node\nrule "a" then notify n\n  notify next "x"\n  notify buyr\n  notify due > created_at\n'
    ) == [
        "stock/rules/stock.rules:2:22: notify n: n is an integer field, not a user "
        "(notify a user field, owner, a user name, a list of them, or a link to customer)",
        "stock/rules/stock.rules:3:10: notify next: 'next' is a link to node, not to customer (the pack's "
        "portal_form) (name a user field, or a link to customer)",
        "stock/rules/stock.rules:4:10: notify buyr: 'buyr' is neither a field of node nor a role "
        "(did you mean 'buyer'?)",
        "stock/rules/stock.rules:5:10: notify due > created_at: 'due > created_at' is a boolean, not a user "
        "(notify a user field, owner, a user name, a list of them, or a link to customer)",
    ]


def test_a_link_needs_the_packs_portal_form(publish):
    pack = read_pack_files(PACK)["pack.yaml"].replace("portal_form: customer\n", "")
    assert errors_of(publish, 'on node\nrule "a" then notify customer\n', **{"pack.yaml": pack}) == [
        "stock/rules/stock.rules:2:22: notify customer: a link reaches the portal users of a record of the "
        "pack's portal form, and stock/pack.yaml names none (declare it in pack.yaml, e.g. portal_form: customer)"
    ]
    wrong = read_pack_files(PACK)["pack.yaml"].replace("portal_form: customer", "portal_form: custmer")
    (err,) = errors_of(publish, 'on node\nrule "a" then notify owner\n', **{"pack.yaml": wrong})
    assert err == f"{PACK}/pack.yaml:8:14: portal_form: unknown form 'custmer' (did you mean 'customer'?)"


def test_the_docs_example_fires(platform, publish, records, ctx):
    import re

    from tests.engine.rules.test_docs import DOC

    text = DOC.read_text(encoding="utf-8").split("### Who is notified", 1)[1]
    publish(re.search(r"```rules\n(.*?)```", text, re.S).group(1))
    cu = records.create(ctx, "customer", {"name": "ACME", "account_manager": user_id(platform, "sales1")})
    tie(platform, "cust1", cu["id"])
    records.create(ctx, "node", {"n": 3, "customer": cu["id"]})
    assert sent(platform) == [
        ("cust1", "Order 3 is in"),
        ("sales1", f"New order 3 of {cu['id']}"),
        ("admin", "You entered order 3"),
        ("buyer1", "Order 3: check the stock"),
        ("buyer2", "Order 3: check the stock"),
        ("buyer1", "Order 3"),
        ("sales1", "Order 3"),
    ]
