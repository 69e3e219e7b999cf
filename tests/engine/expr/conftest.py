"""Fixtures: a small pack scope (sales_order with lines, customer, region) and real databases.

``db`` runs on SQLite always and on PostgreSQL when DATABASE_URL is set; each run creates
uniquely named tables and drops them afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from decimal import Decimal
from typing import Any, Iterator, Mapping, Optional

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from engine.context import FixedClock, RunContext
from engine.expr import FieldInfo, Scope
from engine.expr.sql_dialect import ExprDecimal
from engine.expr.types import ExprType as T

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _f(name: str, t: T, *labels: str, **kw: Any) -> FieldInfo:
    return FieldInfo(name, t, labels=tuple(labels), **kw)


def make_scopes() -> dict[str, Scope]:
    forms: dict[str, Scope] = {}
    line = Scope(
        "sales_order_line",
        {f.name: f for f in [_f("qty", T.INTEGER, "数量"), _f("unit_price", T.DECIMAL, "单价"), _f("sku", T.STRING)]},
        "1",
        forms,
    )
    order = Scope(
        "sales_order",
        {
            f.name: f
            for f in [
                _f("status", T.STRING, "状态"),
                _f("total", T.DECIMAL, "总额"),
                _f("qty", T.INTEGER),
                _f("stock", T.INTEGER, "库存"),
                _f("safety_stock", T.INTEGER, "安全库存"),
                _f("discount", T.DECIMAL),
                _f("approved", T.BOOLEAN),
                _f("due", T.DATE, "交期"),
                _f("shipped", T.DATE),
                _f("created", T.DATETIME),
                _f("opens", T.TIME),
                _f("wait", T.DURATION),
                _f("note", T.STRING, "备注"),
                _f("code", T.STRING, column="code_col"),
                _f("tags", T.LIST, element_type=T.STRING),
                _f("owner", T.RECORD),
                _f("customer", T.RECORD, "客户", link_form="customer"),
                _f("lines", T.TABLE, "明细", children=line),
            ]
        },
        "1",
        forms,
    )
    customer = Scope(
        "customer",
        {
            f.name: f
            for f in [
                _f("name", T.STRING),
                _f("tier", T.STRING, "等级"),
                _f("credit", T.DECIMAL),
                _f("region", T.RECORD, link_form="region"),
            ]
        },
        "1",
        forms,
    )
    region = Scope("region", {"name": _f("name", T.STRING)}, "1", forms)
    forms.update({s.form: s for s in (order, customer, region, line)})
    return forms


SCOPES = make_scopes()


@pytest.fixture
def scope() -> Scope:
    return SCOPES["sales_order"]


@pytest.fixture
def ctx() -> RunContext:
    return RunContext(
        user_id=7,
        username="li",
        roles=frozenset({"sales", "manager"}),
        customer_id=1,
        clock=FixedClock(NOW),
        timezone="Asia/Shanghai",
    )


_SQL_TYPES = {
    T.STRING: sa.String,
    T.INTEGER: sa.BigInteger,
    T.RECORD: sa.BigInteger,
    T.DECIMAL: ExprDecimal,
    T.BOOLEAN: sa.Boolean,
    T.DATE: sa.Date,
    T.DATETIME: lambda: sa.DateTime(timezone=True),
    T.DURATION: ExprDecimal,
    T.LIST: sa.JSON,
    T.TIME: sa.Time,
}


class Db:
    """SqlTables + DataAccess over one SQLAlchemy connection."""

    def __init__(self, engine: sa.Engine, suffix: str) -> None:
        self.engine, self.meta = engine, sa.MetaData()
        self.tables = self  # DataAccess.tables
        self._tables: dict[str, sa.Table] = {}
        self._children: dict[tuple[str, str], sa.Table] = {}
        for form in ("sales_order", "customer", "region"):
            scope = SCOPES[form]
            cols = [sa.Column(f.sql_column, _SQL_TYPES[f.type]()) for f in scope.fields.values() if f.type != T.TABLE]
            self._tables[form] = sa.Table(
                f"{form}_{suffix}", self.meta, sa.Column("id", sa.BigInteger, primary_key=True), *cols
            )
            for f in scope.fields.values():
                if f.type == T.TABLE and f.children is not None:
                    ccols = [sa.Column(c.sql_column, _SQL_TYPES[c.type]()) for c in f.children.fields.values()]
                    self._children[(form, f.name)] = sa.Table(
                        f"{form}_{f.name}_{suffix}",
                        self.meta,
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("parent_id", sa.BigInteger, index=True),
                        sa.Column("pos", sa.Integer),
                        *ccols,
                    )
        self.meta.create_all(engine)
        self.conn = engine.connect()
        self.fetches = 0

    # SqlTables
    def table(self, form: str) -> sa.Table:
        return self._tables[form]

    def child_table(self, form: str, field: str) -> sa.Table:
        return self._children[(form, field)]

    # DataAccess
    def fetch(self, form: str, id: int) -> Optional[Mapping[str, Any]]:
        self.fetches += 1
        t = self._tables[form]
        row = self.conn.execute(sa.select(t).where(t.c.id == id)).mappings().first()
        if row is None:
            return None
        return {f.name: from_db(f.type, row[f.sql_column]) for f in SCOPES[form].fields.values() if f.type != T.TABLE}

    def scalar(self, statement: Any) -> Any:
        return self.conn.execute(statement).scalar()

    # test helpers
    def insert(self, form: str, record: Mapping[str, Any], id: int) -> None:
        scope, t = SCOPES[form], self._tables[form]
        values: dict[str, Any] = {"id": id}
        for name, value in record.items():
            if name == "id":
                continue
            f = scope.resolve(name)
            assert f is not None, name
            if f.type == T.TABLE:
                ct = self._children[(form, f.name)]
                for pos, child in enumerate(value or ()):
                    self.conn.execute(
                        ct.insert().values(
                            parent_id=id,
                            pos=pos,
                            **{
                                f.children.fields[k].sql_column: to_db(f.children.fields[k].type, v)  # type: ignore[union-attr]
                                for k, v in child.items()
                            },
                        )
                    )
            else:
                values[f.sql_column] = to_db(f.type, value)
        self.conn.execute(t.insert().values(**values))

    def delete(self, form: str, id: int) -> None:
        for (owner, _field), ct in self._children.items():
            if owner == form:
                self.conn.execute(ct.delete().where(ct.c.parent_id == id))
        self.conn.execute(self._tables[form].delete().where(self._tables[form].c.id == id))

    @contextlib.contextmanager
    def record(self, record: Mapping[str, Any], id: int = 10_000) -> Iterator[int]:
        self.insert("sales_order", record, id)
        try:
            yield id
        finally:
            self.delete("sales_order", id)

    def close(self) -> None:
        self.conn.close()
        self.meta.drop_all(self.engine)
        self.engine.dispose()


def to_db(t: T, value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return Decimal(str(value.total_seconds()))
    return value


def from_db(t: T, value: Any) -> Any:
    if value is None:
        return None
    if t == T.DECIMAL:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if t == T.DATETIME and isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if t == T.DURATION:
        return dt.timedelta(seconds=float(value))
    return value


FIXED = {
    "region": [(1, {"name": "华东"}), (2, {"name": "North"})],
    "customer": [
        (1, {"name": "ACME", "tier": "gold", "credit": Decimal("5000.00"), "region": 1}),
        (2, {"name": "Beta", "tier": "silver", "credit": Decimal("100"), "region": 2}),
        (3, {"name": "Nobody", "tier": None, "region": None}),
    ],
    "sales_order": [
        (100, {"customer": 1, "status": "approved", "total": Decimal("100.50")}),
        (101, {"customer": 1, "status": "approved", "total": Decimal("20")}),
        (102, {"customer": 1, "status": "draft", "total": Decimal("7")}),
        (103, {"customer": 2, "status": "approved", "total": None}),
    ],
}


def backends() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("DATABASE_URL"):
        urls.append("postgresql")
    return urls


def make_db(kind: str) -> Db:
    if kind == "sqlite":
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = sa.create_engine(os.environ["DATABASE_URL"])
    db = Db(engine, uuid.uuid4().hex[:8])
    for form in ("region", "customer", "sales_order"):
        for id_, rec in FIXED[form]:
            db.insert(form, rec, id_)
    db.conn.commit()
    return db


@pytest.fixture(scope="session", params=backends())
def db(request: pytest.FixtureRequest) -> Iterator[Db]:
    database = make_db(request.param)
    yield database
    database.close()
