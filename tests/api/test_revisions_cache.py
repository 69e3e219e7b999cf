"""The cache of compiled revisions: one compilation per key however many threads ask, bounded
with the active revision always kept, and nothing kept of a publish that failed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from engine import runtime
from engine.errors import SchemaChangeRefused
from engine.platform import Platform
from engine.revisions import RevisionCache
from engine.service import Records
from engine.store.db import Database
from tests.api.revision_packs import DROPS, PACK, QUOTE, files, make


def _together(n: int, work: Any) -> list[Any]:
    """``work()`` in ``n`` threads started at once; their results."""
    start, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        start.wait()
        results[i] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_threads_asking_for_one_key_wait_for_one_compilation() -> None:
    built: list[Any] = []

    def build(key: Any) -> Any:
        built.append(key)
        time.sleep(0.05)  # long enough for every thread to ask meanwhile
        return object()

    cache = RevisionCache(build)  # type: ignore[arg-type]
    found = _together(8, lambda: cache.get((("p", 1),)))
    assert built == [(("p", 1),)] and all(f is found[0] for f in found)
    assert cache.get((("p", 1),)) is found[0]


def test_a_failed_compilation_is_not_kept_and_is_tried_again() -> None:
    calls: list[int] = []

    def build(key: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("broken")
        return object()

    cache = RevisionCache(build)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cache.get((("p", 1),))
    assert cache.keys() == []
    assert cache.get((("p", 1),)) is not None and len(calls) == 2


def test_the_cache_is_bounded_and_keeps_the_active_key() -> None:
    cache = RevisionCache(lambda key: object(), kept=2)  # type: ignore[arg-type,return-value]
    active = (("p", 9),)
    cache.get(active)
    cache.activate(active)
    for r in range(1, 6):
        cache.get((("p", r),))
    assert cache.keys() == [active, (("p", 4),), (("p", 5),)]
    cache.get((("p", 4),))  # used again: the last to go
    cache.get((("p", 1),))
    assert cache.keys() == [active, (("p", 4),), (("p", 1),)]


def test_a_platform_compiles_a_pinned_revision_once_for_many_threads(db_url: str) -> None:
    first, _ = make(db_url)
    first.publish(PACK, files(2), migrations=DROPS)
    key1 = (("quotes", 1),)
    before = runtime.COMPILATIONS[key1]
    platform = Platform(Database(db_url), reload_seconds=0)  # a process that never ran revision 1
    found = _together(8, lambda: platform.definitions_at("quotes", 1))
    assert runtime.COMPILATIONS[key1] - before == 1
    assert all(f is found[0] for f in found) and found[0].key == key1
    assert found[0].forms["quote"].field("discount") is not None
    platform.db.dispose()


def test_older_revisions_leave_the_cache_and_come_back_compiled_again(db_url: str) -> None:
    platform, _ = make(db_url, revisions_kept=1)
    platform.publish(PACK, files(2), migrations=DROPS)
    third = {**files(2), "pack.yaml": 'name: quotes\nversion: "1.3.0"\nlabel: 报价三\n'}
    platform.publish(PACK, third)
    active = platform.definitions()
    assert active.key == (("quotes", 3),)
    one, two = platform.definitions_at("quotes", 1), platform.definitions_at("quotes", 2)
    assert platform.revisions.keys() == [(("quotes", 3),), (("quotes", 2),)]
    before = runtime.COMPILATIONS[(("quotes", 1),)]
    again = platform.definitions_at("quotes", 1)
    assert again is not one and again.key == one.key and runtime.COMPILATIONS[one.key] == before + 1
    assert platform.definitions() is active and platform.definitions_at("quotes", 3) is active
    assert two.key == (("quotes", 2),)


def test_a_publish_that_fails_leaves_no_compiled_revision(db_url: str) -> None:
    platform, _ = make(db_url)
    Records(platform).create(platform.system_context(), "quote", QUOTE)
    with pytest.raises(SchemaChangeRefused):
        platform.publish(PACK, files(2))  # the discount column holds data: no migration given
    assert platform.revisions.keys() == [(("quotes", 1),)]
    assert platform.definitions().key == (("quotes", 1),)
    # revision 2 is given again, other texts: what runs is what was published
    other = {
        **files(2),
        "forms/quote.yaml": files(2)["forms/quote.yaml"].replace("报价, en: Quote", "报价单, en: Quote"),
    }
    assert platform.publish(PACK, other, migrations=DROPS).revision == 2
    assert platform.definitions().forms["quote"].label.get("zh-CN") == "报价单"
