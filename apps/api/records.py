"""``/records/<form>``: list, create, read, update, delete, history."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from zoneinfo import ZoneInfo

from flask import jsonify, request

from apps.api import bp
from apps.api.context import caller, expected_version, idempotency_key, json_body, platform
from apps.api.errors import ApiError
from engine.flows.changes import ChangeRequested
from engine.forms.coltypes import ID_MAX
from engine.listing import ListQuery
from engine.service import Records


def _records() -> Records:
    return Records(platform())


def _with_etag(data: dict[str, Any], status: int = 200) -> Any:
    resp = jsonify(data)
    resp.status_code = status
    if "version" in data:
        resp.headers["ETag"] = f'"{data["version"]}"'
    return resp


@bp.get("/records/<form>")
def list_records(form: str) -> Any:
    query = ListQuery.from_params(request.args.to_dict(flat=True))
    return jsonify(_records().list_records(caller(), form, query))


@bp.post("/records/<form>")
def create_record(form: str) -> Any:
    body = json_body()
    record = _records().create(caller(), form, body, source="api", idem=idempotency_key())
    resp = _with_etag(record, 201)
    resp.headers["Location"] = f"/api/v1/records/{form}/{record['id']}"
    return resp


def _revision() -> Optional[int]:
    """``?revision=N``: the revision of the form's pack to read by (none: the active one)."""
    raw = request.args.get("revision")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        raise ApiError(400, "bad_request", key="bad_revision", sent=repr(raw))
    return int(raw)


@bp.get("/records/<form>/<id:record_id>")
def get_record(form: str, record_id: int) -> Any:
    return _with_etag(_records().get(caller(), form, record_id, revision=_revision()))


@bp.post("/records/<form>/<id:record_id>/preview")
def preview_record(form: str, record_id: int) -> Any:
    """The record with the body's changes as a revision would store it; nothing is written."""
    body = json_body()
    body.pop("id", None)
    body.pop("version", None)
    return _with_etag(_records().preview(caller(), form, record_id, body, revision=_revision()))


@bp.patch("/records/<form>/<id:record_id>")
def update_record(form: str, record_id: int) -> Any:
    body = json_body()
    if isinstance(body, dict):
        body.pop("id", None)
    version = expected_version(body, required=True)
    answer = _records().update(caller(), form, record_id, body, version=version, idem=idempotency_key())
    if isinstance(answer, ChangeRequested):  # under a flow's change control: nothing written yet
        return jsonify(answer), 202
    return _with_etag(answer)


@bp.delete("/records/<form>/<id:record_id>")
def delete_record(form: str, record_id: int) -> Any:
    version = expected_version(request.get_json(silent=True) or {}, required=False)
    _records().delete(caller(), form, record_id, version=version, idem=idempotency_key())
    return "", 204


@bp.get("/records/<form>/<id:record_id>/history")
def record_history(form: str, record_id: int) -> Any:
    at = request.args.get("at")
    if at is not None:  # given, even empty: it must be a date-time
        try:
            when = dt.datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(
                422,
                "invalid",
                fields={"at": ["must be an ISO date-time"]},
                key="bad_datetime",
                name="at",
                sent=repr(at),
            ) from None
        if when.tzinfo is None:  # a wall-clock time: the pack's, as a user means it
            when = when.replace(tzinfo=ZoneInfo(platform().definitions().timezone))
        return jsonify({"at": when.isoformat(), "record": _records().as_of(caller(), form, record_id, when)})
    hist = _records().history(caller(), form, record_id)
    for entry in hist["audit"] + hist["versions"]:
        entry["at"] = entry["at"].isoformat()
    return jsonify(hist)
