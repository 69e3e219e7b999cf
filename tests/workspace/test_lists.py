"""The list page over HTTP: sorting by a column, filters per column type kept in the URL, the
export of what is shown, money and numbers as a person reads them, the menu of forms, flags."""

from __future__ import annotations

import re
from html import unescape
from typing import Any, Callable

from apps import create_app
from tests.workspace.conftest import OMS, csrf_of, make_platform
from tests.workspace.test_pages import order_form

ORDERS = (  # po, order date, deliver by (Shanghai time), delivery, client
    ("PO-A", "2026-11-01", "2026-11-05T09:30", "pickup", "c1"),
    ("PO-B", "2026-11-03", "2026-11-04T23:30", "ship", "c2"),
    ("PO-C", "2026-11-02", "", "pickup", "c2"),
)


def seed_orders(client: Any, token: str, ids: dict[str, int]) -> None:
    for po, day, deliver_by, delivery, who in ORDERS:
        extra = {"address": "宁波"} if delivery == "ship" else {}
        resp = client.post(
            "/w/order/new",
            data=order_form(
                token,
                ids,
                po=po,
                order_date=day,
                deliver_by=deliver_by,
                delivery=delivery,
                client=str(ids[who]),
                **extra,
            ),
        )
        assert resp.status_code == 302, resp.text


def pos(html: str) -> list[str]:
    """The PO numbers the list shows, in its order."""
    results = html[html.index('<div id="results">') :]
    return re.findall(r">(PO-[A-Z])</a>", results)


def test_a_column_header_sorts_ascending_then_descending(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    seed_orders(client, login("sales1"), shop_ids)
    page = client.get("/w/order").text
    assert pos(page) == ["PO-C", "PO-B", "PO-A"]  # newest first
    assert re.search(r'<th scope="col" aria-sort="descending"><a class="sort" href="/w/order\?sort=id"', page)
    link = re.search(
        r'<a class="sort" href="([^"]+)" title="按下单日期排序">下单日期<span class="arrow" '
        r'aria-hidden="true">↕</span>',
        page,
    )
    assert link and link[1] == "/w/order?sort=order_date"
    page = client.get(link[1]).text
    assert pos(page) == ["PO-A", "PO-C", "PO-B"]
    assert '<th scope="col" aria-sort="ascending"><a class="sort" href="/w/order?sort=-order_date"' in page
    assert '下单日期<span class="arrow" aria-hidden="true">▲</span>' in page
    page = client.get("/w/order?sort=-order_date").text
    assert pos(page) == ["PO-B", "PO-C", "PO-A"]
    assert '下单日期<span class="arrow" aria-hidden="true">▼</span>' in page
    assert 'name="sort" value="-order_date"' in page  # kept when the filters change
    assert "按客户排序" not in page  # a link column does not sort
    for ignored in ("cost", "-cost", "nosuch", "client"):  # hidden, unknown, a link: newest first
        assert pos(client.get(f"/w/order?sort={ignored}").text) == ["PO-C", "PO-B", "PO-A"], ignored


def test_filters_per_column_type_combine_with_the_search(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    seed_orders(client, login("sales1"), shop_ids)
    page = client.get("/w/order").text
    assert '<input type="text" name="po__contains" id="flt-po__contains"' in page  # text
    assert re.search(r'<select name="client" id="flt-client"[^>]*><option value="">全部</option>', page)  # link
    assert 'name="order_date__gte"' in page and 'name="order_date__lte"' in page  # date
    assert re.search(
        r'<select name="delivery" id="flt-delivery"[^>]*><option value="">全部</option>'
        r'<option value="pickup">自提</option>',
        page,
    )  # choice
    assert '<details class="filters">' in page  # closed while nothing is filtered

    assert pos(client.get("/w/order?delivery=pickup").text) == ["PO-C", "PO-A"]
    assert pos(client.get(f"/w/order?client={shop_ids['c2']}").text) == ["PO-C", "PO-B"]
    assert pos(client.get("/w/order?po__contains=-b").text) == ["PO-B"]
    assert pos(client.get("/w/order?order_date__gte=2026-11-02").text) == ["PO-C", "PO-B"]
    assert pos(client.get("/w/order?order_date__gte=2026-11-02&order_date__lte=2026-11-02").text) == ["PO-C"]
    page = client.get(f"/w/order?q=po-&delivery=pickup&client={shop_ids['c2']}&sort=po").text
    assert pos(page) == ["PO-C"]
    assert '<details class="filters" open>' in page and "<summary>筛选 · 2</summary>" in page
    assert '<option value="pickup" selected>' in page and f'<option value="{shop_ids["c2"]}" selected>' in page
    assert 'name="q" id="list-q" value="po-"' in page
    assert href(page, "清除筛选") == "/w/order?q=po-&sort=po"  # the search and sort stay


def test_a_date_time_column_is_filtered_by_whole_days_in_the_packs_time_zone(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    seed_orders(client, login("sales1"), shop_ids)
    # PO-B: 2026-11-04 23:30 in Shanghai, 15:30 UTC; PO-A: 2026-11-05 09:30 (01:30 UTC)
    assert pos(client.get("/w/order?deliver_by__gte=2026-11-05").text) == ["PO-A"]
    assert pos(client.get("/w/order?deliver_by__lte=2026-11-04").text) == ["PO-B"]
    assert pos(client.get("/w/order?deliver_by__gte=2026-11-04&deliver_by__lte=2026-11-05").text) == ["PO-B", "PO-A"]


def test_a_value_that_does_not_read_is_explained_next_to_its_filter(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    seed_orders(client, login("sales1"), shop_ids)
    resp = client.get("/w/order?order_date__gte=11/31&delivery=pickup")
    assert resp.status_code == 200
    assert '<p class="error" id="e-flt-order_date__gte">必须是日期 (YYYY-MM-DD)</p>' in resp.text
    assert 'name="order_date__gte" id="flt-order_date__gte" value="11/31"' in resp.text  # kept to correct
    assert pos(resp.text) == ["PO-C", "PO-A"]  # the rest applies
    page = client.get("/w/order?delivery=by-air&lang=en").text
    assert "is not one of the options: by-air" in page and pos(page) == ["PO-C", "PO-B", "PO-A"]


def test_filters_never_reach_past_the_users_permissions(client: Any, login: Callable[..., str], shop_ids: Any) -> None:
    token = login("admin")
    client.post("/w/order/new", data=order_form(token, shop_ids, po="PO-X", cost="99.00"))
    seed_orders(client, login("sales1"), shop_ids)
    page = client.get("/w/order?cost__gte=50&cost=99.00").text  # cost is hidden from sales
    assert pos(page) == ["PO-C", "PO-B", "PO-A"] and "cost" not in page
    login("sales2")  # rows: owner == me
    assert pos(client.get(f"/w/order?client={shop_ids['c2']}").text) == []
    login("admin")
    assert pos(client.get("/w/order?po__contains=x").text) == ["PO-X"]


def test_paging_and_the_export_keep_the_filters(
    client: Any, login: Callable[..., str], shop_ids: Any, monkeypatch: Any
) -> None:
    from apps.workspace import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 4)
    token = login("admin")
    for n in range(10):
        client.post(
            "/w/order/new",
            data=order_form(token, shop_ids, po=f"PO-{n:02}", delivery="ship" if n % 2 else "pickup", address="宁波"),
        )
    page = client.get("/w/order?delivery=pickup&sort=-po").text  # PO-08, 06, 04, 02, 00
    assert "共 5 条" in page and "<span>1 / 2</span>" in page
    assert re.findall(r">(PO-\d\d)</a>", page) == ["PO-08", "PO-06", "PO-04", "PO-02"]
    nxt = href(page, "下一页")
    assert nxt == "/w/order?delivery=pickup&sort=-po&page=2"
    second = client.get(nxt).text
    assert re.findall(r">(PO-\d\d)</a>", second) == ["PO-00"]
    assert href(second, "上一页") == "/w/order?delivery=pickup&sort=-po"
    export = unescape(re.search(r'<a class="button" href="([^"]+)" download>导出 CSV</a>', second)[1])
    assert export == "/w/order/export?format=csv&delivery=pickup&sort=-po"
    csv = client.get(export).data.decode("utf-8-sig").splitlines()
    numbers = list(dict.fromkeys(line.split(",")[2] for line in csv[1:]))  # one line per order line
    assert numbers == ["PO-08", "PO-06", "PO-04", "PO-02", "PO-00"]  # every page, in the list's order


def href(page: str, text: str) -> str:
    """The address of the button link ``text`` on ``page``."""
    found = re.search(r'<a class="button" href="([^"]+)">' + re.escape(text) + "</a>", page)
    assert found, text
    return unescape(found[1])


def test_money_and_numbers_read_as_a_person_reads_them(client: Any, login: Callable[..., str], shop: Any) -> None:
    from engine.service import Records

    Records(shop).create(shop.system_context(), "item", {"name": "Press", "price": "1234567.5"})
    login("admin")
    page = client.get("/w/item").text
    assert '<span class="num">¥1,234,567.50</span>' in page
    assert 'name="price__gte"' in page and 'inputmode="decimal" name="price__lte"' in page  # number: min/max
    assert "¥1,234,567.50" in client.get("/w/item/1").text
    assert "CN¥1,234,567.50" in client.get("/w/item/1?lang=en").text
    edit = client.get("/w/item/1/edit").text
    assert 'name="price" id="f-price" value="1234567.50"' in edit  # an editable number stays a number
    assert 'data-money="CN¥"' in edit
    assert "Press" in client.get("/w/item?price__gte=1,000,000&lang=zh-CN").text
    assert "Press" not in client.get("/w/item?price__lte=999.99").text


def test_the_menu_lists_the_forms_the_user_may_read_and_marks_the_current_one(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    assert "forms-nav" not in client.get("/login").text
    login("sales1")
    for url in ("/w/", "/w/order", "/w/order/new"):
        page = client.get(url).text
        menu = page[page.index('<nav class="forms-nav"') : page.index("</nav>", page.index('<nav class="forms-nav"'))]
        assert re.findall(r'<a href="/w/(\w+)"', menu) == ["client", "item", "order"], url
        current = re.findall(r'<a href="/w/(\w+)" aria-current="page">', menu)
        assert current == ([] if url == "/w/" else ["order"]), url
    page = client.get("/w/client?lang=en").text
    assert '<a href="/w/client" aria-current="page">Client</a>' in page and ">Order</a>" in page
    assert 'aria-controls="forms-menu"><span aria-hidden="true">☰</span> Client</button>' in page


def test_flags_set_by_rules_show_on_the_list_and_the_record(db_url: str) -> None:
    """The OMS rule "超出信用额度" flags an order red; sales see it on their own orders only."""
    from engine.service import Records

    platform = make_platform(db_url, OMS)
    try:
        records, system = Records(platform), platform.system_context()
        small = records.create(system, "customer", {"code": "C1", "name": "恒达", "tier": "B", "credit_limit": "100"})
        product = records.create(system, "product", {"sku": "P1", "name": "合页", "price": "80.00"})
        client = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "s"}).test_client()

        def sign_in(name: str) -> str:
            client.post(
                "/login",
                data={"username": name, "password": "sales123", "csrf_token": csrf_of(client.get("/login").text)},
            )
            return csrf_of(client.get("/w/sales_order/new").text)

        token = sign_in("sales1")
        for qty in ("1", "2"):  # 80.00 is within the limit, 160.00 is not
            resp = client.post(
                "/w/sales_order/new",
                data={
                    "csrf_token": token,
                    "customer": str(small["id"]),
                    "order_date": "2026-11-02",
                    "lines": "",
                    "lines[0].product": str(product["id"]),
                    "lines[0].qty": qty,
                },
            )
            assert resp.status_code == 302, resp.text
        flagged = int(resp.headers["Location"].split("/")[-1].split("?")[0])
        badge = (
            '<li class="flag flag-red" data-colour="red" title="由规则 超出信用额度 于 2026-11-02 16:00 设置">'
            '<span class="sr-only">红色标记: </span>超出信用额度 / over credit limit</li>'
        )
        view = client.get(f"/w/sales_order/{flagged}").text
        assert '<ul class="flags" aria-label="标记">' + badge in view
        assert "flag-" not in client.get(f"/w/sales_order/{flagged - 1}").text
        listing = client.get("/w/sales_order").text
        assert listing.count(badge) == 1 and listing.count('<tr class="flagged">') == 1
        assert "Red flag: </span>超出信用额度" in client.get(f"/w/sales_order/{flagged}?lang=en").text
        sign_in("sales2")  # not their order: neither the flag nor the row
        assert "flag-red" not in client.get("/w/sales_order").text
        assert client.get(f"/w/sales_order/{flagged}").status_code == 404
        assert (
            records.flags(platform.context(platform_user(platform, "sales2"), "zh-CN"), "sales_order", [flagged]) == {}
        )
        (flag,) = records.flags(system, "sales_order", [flagged, flagged - 1])[flagged]
        assert flag["colour"] == "red" and flag["rule"] == "超出信用额度"
    finally:
        platform.db.dispose()


def platform_user(platform: Any, username: str) -> Any:
    with platform.db.connect() as conn:
        return next(u for u in platform.users.all(conn) if u.username == username)


def test_pages_carry_no_inline_event_handlers_and_no_scripts_of_their_own(
    client: Any, login: Callable[..., str], shop_ids: Any
) -> None:
    """Scripts come from static files (a Content-Security-Policy may forbid inline ones); at
    most the base template's one line that sets the ``lc-js`` class is inline."""
    seed_orders(client, login("sales1"), shop_ids)
    for url in ("/w/", "/w/order", "/w/order?delivery=ship&sort=-po", "/w/order/new", "/w/order/1", "/w/order/1/edit"):
        page = client.get(url).text
        assert not re.search(r"<[^>]+\son[a-z]+=", page), url
        inline = [s for s in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S) if "src=" not in s[0]]
        assert inline in ([], [("", 'document.documentElement.classList.add("lc-js")')]), url
        assert "/w/static/nav.js" in page, url


def test_a_flags_tag_that_shows_a_hidden_column_is_withheld(db_url: str) -> None:
    """The depot pack flags each line "{qty} x {unit_price} @ {bin}"; the packer may not see
    unit prices, the clerk may not see bins: both see the flags, neither sees those tags."""
    from engine.service import Records
    from tests.workspace.test_subtable_access import DEPOT, seed_depot

    platform = make_platform(db_url, DEPOT)
    try:
        order = seed_depot(platform)["order"]
        client = create_app({"TESTING": True, "PLATFORM": platform, "SECRET_KEY": "s"}).test_client()
        seen = {}
        for name, password in (("admin", "admin123"), ("packer1", "packer1-pw"), ("clerk1", "clerk1-pw")):
            client.post(
                "/login",
                data={"username": name, "password": password, "csrf_token": csrf_of(client.get("/login").text)},
            )
            page = client.get(f"/w/order/{order}").text
            seen[name] = re.findall(
                r'<li class="flag flag-yellow"[^>]*><span class="sr-only">[^<]*</span>([^<]*)</li>', page
            )
            if name == "packer1":
                assert "12.50" not in page
        assert seen["admin"] == ["2 x 12.50 @ A-01", "1 x 30 @ B-02"]
        assert seen["packer1"] == seen["clerk1"] == ["黄色标记"]  # each colour and tag once
        with platform.db.connect() as conn:
            packer = platform.context(platform.users.by_name(conn, "packer1"), "zh-CN")
        assert [f["tag"] for f in Records(platform).flags(packer, "order", [order])[order]] == [None, None]
    finally:
        platform.db.dispose()
