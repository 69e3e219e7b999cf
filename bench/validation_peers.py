"""The peers of bench_validation.py: the same sales-order payload shape as JSON Schema (for
jsonschema and fastjsonschema) and as pydantic v2 models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Literal, Optional

#: the payload's options and text patterns, shared with the limit (bench_validation.hand_written)
OPTIONS = {
    "status": ["draft", "submitted", "approved", "shipped"],
    "channel": ["manual", "api", "excel", "webhook"],
    "currency": ["CNY", "USD", "EUR"],
    "warehouse": ["WH1", "WH2", "WH3"],
    "incoterm": ["EXW", "FOB", "CIF", "DDP"],
    "tier": ["A", "B", "C"],
}
MONEY = r"^[0-9]+(\.[0-9]{1,2})?$"
PERCENT = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9][0-9 \-()]{4,30}$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def json_schema(draft: str) -> dict[str, Any]:
    def text(n: int) -> dict[str, Any]:
        return {"type": "string", "maxLength": n}

    money = {"type": "string", "pattern": MONEY}
    percent = {"type": "string", "pattern": PERCENT}
    date = {"type": "string", "pattern": DATE, "format": "date"}
    line = {
        "type": "object",
        "additionalProperties": False,
        "required": ["sku", "qty", "unit_price"],
        "properties": {
            "sku": text(32),
            "qty": {"type": "integer", "minimum": 1},
            "unit_price": money,
            "discount": percent,
            "note": text(100),
        },
    }
    customer = {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "name"],
        "properties": {
            "code": text(16),
            "name": text(200),
            "tier": {"enum": OPTIONS["tier"]},
            "email": {"type": "string", "pattern": EMAIL},
        },
    }
    props = {
        "po_number": text(32),
        "order_date": date,
        "due_date": date,
        "status": {"enum": OPTIONS["status"]},
        "channel": {"enum": OPTIONS["channel"]},
        "currency": {"enum": OPTIONS["currency"]},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "discount": percent,
        "freight": money,
        "credit_limit": money,
        "remark": text(500),
        "contact_email": {"type": "string", "pattern": EMAIL},
        "contact_phone": {"type": "string", "pattern": PHONE},
        "sales_rep": {"type": "integer", "minimum": 1},
        "warehouse": {"enum": OPTIONS["warehouse"]},
        "urgent": {"type": "boolean"},
        "payment_days": {"type": "integer", "minimum": 0, "maximum": 180},
        "incoterm": {"enum": OPTIONS["incoterm"]},
        "project": text(64),
        "region": text(32),
        "customer": customer,
        "lines": {"type": "array", "minItems": 1, "items": line},
    }
    return {
        "$schema": draft,
        "type": "object",
        "additionalProperties": False,
        "required": ["po_number", "order_date", "lines"],
        "properties": props,
    }


def jsonschema_validator() -> Optional[Callable[[Any], bool]]:
    try:
        from jsonschema import Draft202012Validator, FormatChecker
    except ImportError:  # pragma: no cover
        return None
    v = Draft202012Validator(
        json_schema("https://json-schema.org/draft/2020-12/schema"), format_checker=FormatChecker()
    )
    return lambda p: not list(v.iter_errors(p))


def fastjsonschema_validator() -> Optional[Callable[[Any], bool]]:
    try:
        import fastjsonschema
    except ImportError:  # pragma: no cover
        return None
    check = fastjsonschema.compile(json_schema("http://json-schema.org/draft-07/schema#"))

    def run(p: Any) -> bool:
        try:
            check(p)
            return True
        except fastjsonschema.JsonSchemaException:
            return False

    return run


def pydantic_validator() -> Optional[Callable[[Any], bool]]:
    try:
        from pydantic import BaseModel, ConfigDict, Field
        from pydantic import ValidationError as PydanticError
    except ImportError:  # pragma: no cover
        return None
    strict = ConfigDict(extra="forbid")
    Money = Decimal

    class Line(BaseModel):
        model_config = strict
        sku: str = Field(max_length=32)
        qty: int = Field(ge=1)
        unit_price: Money = Field(ge=0, decimal_places=2)
        discount: Optional[Decimal] = Field(default=None, ge=0, le=1, decimal_places=4)
        note: Optional[str] = Field(default=None, max_length=100)

    class Customer(BaseModel):
        model_config = strict
        code: str = Field(max_length=16)
        name: str = Field(max_length=200)
        tier: Optional[Literal["A", "B", "C"]] = None
        email: Optional[str] = Field(default=None, pattern=EMAIL)

    class Order(BaseModel):
        model_config = strict
        po_number: str = Field(max_length=32)
        order_date: dt.date
        due_date: Optional[dt.date] = None
        status: Optional[Literal["draft", "submitted", "approved", "shipped"]] = None
        channel: Optional[Literal["manual", "api", "excel", "webhook"]] = None
        currency: Optional[Literal["CNY", "USD", "EUR"]] = None
        priority: Optional[int] = Field(default=None, ge=1, le=5)
        discount: Optional[Decimal] = Field(default=None, ge=0, le=1, decimal_places=4)
        freight: Optional[Money] = Field(default=None, ge=0, decimal_places=2)
        credit_limit: Optional[Money] = Field(default=None, ge=0, decimal_places=2)
        remark: Optional[str] = Field(default=None, max_length=500)
        contact_email: Optional[str] = Field(default=None, pattern=EMAIL)
        contact_phone: Optional[str] = Field(default=None, pattern=PHONE)
        sales_rep: Optional[int] = Field(default=None, ge=1)
        warehouse: Optional[Literal["WH1", "WH2", "WH3"]] = None
        urgent: Optional[bool] = None
        payment_days: Optional[int] = Field(default=None, ge=0, le=180)
        incoterm: Optional[Literal["EXW", "FOB", "CIF", "DDP"]] = None
        project: Optional[str] = Field(default=None, max_length=64)
        region: Optional[str] = Field(default=None, max_length=32)
        customer: Optional[Customer] = None
        lines: list[Line] = Field(min_length=1)

    names = {
        "dt": dt,
        "Decimal": Decimal,
        "Money": Money,
        "Optional": Optional,
        "Literal": Literal,
        "Line": Line,
        "Customer": Customer,
    }
    for model in (Line, Customer, Order):
        model.model_rebuild(_types_namespace=names)

    def run(p: Any) -> bool:
        try:
            Order.model_validate(p)
            return True
        except PydanticError:
            return False

    return run
