"""`run.py serve` under gunicorn with several worker processes: concurrent writers, shared state.

Which process answered a request is read from gunicorn's access log (``%(p)s``, the pid), each
request carrying a ``probe`` number in its query string.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from engine.store.db import normalise_url
from tests.api.serving import ROOT, run_py, serving

CLIENTS, EACH = 20, 10


@pytest.fixture
def demo_env(db_url):
    env = {**os.environ, "DATABASE_URL": db_url}
    run_py(env, "demo")
    return env


def _login(base, username, password):
    resp = requests.post(base + "/auth/login", json={"username": username, "password": password}, timeout=30)
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def _wait_for_log(server, probes):
    """``{probe: pid}`` for the given probe numbers (a request is logged just after its answer)."""
    deadline = time.monotonic() + 30
    while True:
        seen = {int(m[1]): pid for pid, _, path, _ in server.answered() if (m := re.search(r"probe=(\d+)", path))}
        if all(p in seen for p in probes) or time.monotonic() > deadline:
            return seen


def test_200_concurrent_order_creates_from_20_clients_are_each_stored_once(demo_env, db_url, tmp_path):
    with serving(db_url, tmp_path, "--workers", "2") as server:
        tokens = [_login(server.base, name, "sales123") for name in ("sales1", "sales2")]
        customer = requests.get(server.base + "/records/customer?limit=1", headers=tokens[0], timeout=30).json()
        product = requests.get(server.base + "/records/product?limit=1", headers=tokens[0], timeout=30).json()
        cid, pid = customer["items"][0]["id"], product["items"][0]["id"]
        start = threading.Barrier(CLIENTS)

        def client(n):
            answers = []
            # one client, its own stream of orders; a connection per order, so that each order
            # is accepted by whichever worker process is free (a kept-alive one sticks to one)
            with requests.Session() as http:
                http.headers["Connection"] = "close"
                start.wait(timeout=60)
                for i in range(EACH):
                    probe = n * EACH + i
                    resp = http.post(
                        f"{server.base}/records/sales_order?probe={probe}",
                        headers=tokens[n % 2],
                        timeout=120,
                        json={
                            "customer": cid,
                            "order_date": "2026-11-22",
                            "po_number": f"LOAD-{probe:03}",
                            "lines": [{"product": pid, "qty": 1 + i, "unit_price": "2.50"}],
                        },
                    )
                    answers.append((probe, resp.status_code, resp.json()))
            return answers

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for result in pool.map(client, range(CLIENTS)) for a in result]
        failed = [(probe, status, body) for probe, status, body in answers if status != 201]
        assert not failed, failed[:5]
        pids = _wait_for_log(server, [probe for probe, _, _ in answers])
    assert len(set(pids.values())) == 2  # both worker processes took orders
    by_po = {body["po_number"]: (body["id"], body["number"]) for _, _, body in answers}
    engine = sa.create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT id, po_number, number FROM f_sales_order WHERE po_number LIKE 'LOAD-%'")
            ).all()
            lines = conn.execute(
                sa.text(
                    "SELECT count(*) FROM f_sales_order__lines l JOIN f_sales_order o "
                    "ON o.id = l.parent_id WHERE o.po_number LIKE 'LOAD-%'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert len(stored) == CLIENTS * EACH == len(by_po) and lines == CLIENTS * EACH
    assert {row.po_number: (row.id, row.number) for row in stored} == by_po  # each stored once, as answered
    seqs = sorted(int(row.number.rsplit("-", 1)[1]) for row in stored)
    assert seqs == list(range(seqs[0], seqs[0] + CLIENTS * EACH))  # unique, and no gaps


def _changed_pack(tmp_path):
    pack = tmp_path / "oms"
    shutil.copytree(os.path.join(ROOT, "definitions", "oms"), pack)
    form = pack / "forms" / "customer.yaml"
    text = form.read_text(encoding="utf-8")
    field = "  - name: wechat\n    type: text\n    label: {zh-CN: 微信号, en: WeChat ID}\n"
    form.write_text(text.replace("fields:\n", "fields:\n" + field, 1), encoding="utf-8")
    return pack


def test_a_pack_published_from_the_command_line_reaches_every_worker_process(demo_env, db_url, tmp_path):
    # --threads 1: gunicorn's sync workers take one connection at a time, so concurrent
    # requests are answered by both processes
    with serving(db_url, tmp_path, "--workers", "2", "--threads", "1") as server:
        admin = _login(server.base, "admin", "admin123")
        url = server.base + "/records/customer/1"
        answers: dict[int, bool] = {}  # probe -> whether the answer has the new field
        probes = iter(range(1_000_000))

        def ask(probe):
            resp = requests.get(f"{url}?probe={probe}", headers=admin, timeout=30)
            assert resp.status_code == 200, resp.text
            return probe, "wechat" in resp.json()

        def round_of(pool):
            answers.update(pool.map(ask, [next(probes) for _ in range(4)]))
            return _wait_for_log(server, list(answers))

        with ThreadPoolExecutor(4) as pool:
            deadline = time.monotonic() + 60
            while len(set((pids := round_of(pool)).values())) < 2:  # both processes, the old pack
                assert time.monotonic() < deadline, "one process answered every request"
            workers = set(pids.values())
            assert not any(answers.values())
            published = max(answers)
            out = run_py(demo_env, "import", "oms", str(_changed_pack(tmp_path)))
            assert re.search(r"oms \S+: revision 2 published", out), out
            while True:  # until the latest answer of each process has the field
                pids = round_of(pool)
                latest = {
                    pid: max(p for p, q in pids.items() if q == pid and p > published)
                    for pid in workers
                    if any(q == pid and p > published for p, q in pids.items())
                }
                if len(latest) == 2 and all(answers[p] for p in latest.values()):
                    break
                assert time.monotonic() < deadline, f"not every process uses the new pack: {latest}"
    for pid in workers:  # and once a process had it, it kept it
        seen = [answers[p] for p in sorted(pids) if pids[p] == pid and p > published]
        assert seen == sorted(seen), seen
    assert set(pids.values()) == workers


def test_dev_serves_one_process_with_werkzeugs_reloader(db_url, tmp_path):
    with serving(db_url, tmp_path, "--dev") as server:
        assert requests.get(server.base.removesuffix("/api/v1") + "/", timeout=30).json()["api"] == "/api/v1"
        deadline = time.monotonic() + 30
        while "Debugger is active" not in (log := server.log.read_text(encoding="utf-8")):
            assert time.monotonic() < deadline, log
    assert "Restarting with" in log and "gunicorn" not in log
