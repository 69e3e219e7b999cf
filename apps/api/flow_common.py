"""What the task and flow routes share: the inbox facade, JSON of its answers, the body of an action."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Mapping, Optional

from flask import request

from apps.api.context import json_body, platform
from apps.api.errors import ApiError, locale
from engine import i18n
from engine.errors import ValidationError
from engine.forms.coltypes import ID_MAX

if TYPE_CHECKING:
    from engine.inbox import Inbox

#: the words of these routes' own refusals, zh-CN first
TEXTS: dict[str, dict[str, str]] = {
    "must_be_text": {"zh-CN": "必须是文本", "en": "must be text"},
    "too_long": {"zh-CN": "不能超过 {n} 个字符", "en": "must be at most {n} characters"},
    "must_be_object": {"zh-CN": "必须是对象 (字段 -> 值)", "en": "must be an object (field -> value)"},
    "before_or_after": {"zh-CN": "只能是 before 或 after", "en": "must be before or after"},
    "must_be_ids": {"zh-CN": "必须是文件编号的列表", "en": "must be a list of file ids"},
    "must_be_task_ids": {"zh-CN": "必须是任务编号的列表 (1 到 {n} 个)", "en": "must be a list of 1 to {n} task ids"},
    "comment_required": {"zh-CN": "退回时必须填写意见", "en": "a comment is required to reject"},
    "user_required": {"zh-CN": "必须指定用户", "en": "name the user"},
    "flow_required": {"zh-CN": "必须指定流程", "en": "name the flow"},
    "unknown_keys": {"zh-CN": "不认识的键: {keys}", "en": "unknown keys: {keys}"},
    "bad_param": {
        "zh-CN": "'{name}' 必须是 {low} 到 {high} 之间的整数",
        "en": "'{name}' must be a whole number from {low} to {high}",
    },
    "bad_status": {"zh-CN": "'status' 只能是 open 或 done", "en": "'status' is open or done"},
}
COMMENT_MAX = 4000
NAME_MAX = 200
BATCH_MAX = 200
#: the keys an action's body may hold
ACTION_KEYS = ("comment", "values", "to_node", "to_user", "where", "attachments")


def said(key: str, **params: Any) -> str:
    """This module's text ``key`` in the caller's language."""
    return i18n.render(TEXTS, key, locale(), "en", **params)


def inbox() -> "Inbox":
    from engine.inbox import Inbox

    return Inbox(platform())


def plain(value: Any) -> Any:
    """An answer of the inbox as JSON: date-times as ISO text, tuples and sets as lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def optional_body() -> dict[str, Any]:
    """The JSON body; an empty body is ``{}`` (an approve needs nothing else)."""
    if not request.get_data(cache=True) and not request.mimetype:
        return {}
    body: dict[str, Any] = json_body()
    return body


def text_of(body: Mapping[str, Any], name: str, errors: dict[str, list[str]], limit: int) -> Optional[str]:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = [said("must_be_text")]
        return None
    if len(value) > limit:
        errors[name] = [said("too_long", n=limit)]
        return None
    return value.strip() or None


def whole_ids(value: Any, most: int) -> Optional[list[int]]:
    """``value`` as a list of ids (none when it is not one)."""
    if not isinstance(value, list) or len(value) > most:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= ID_MAX for v in value):
        return None
    return list(value)


def action_args(body: Mapping[str, Any], action: str) -> dict[str, Any]:
    """The keyword arguments of ``Inbox.act`` from an action's body; every bad key at once (422)."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - set(ACTION_KEYS))
    if unknown:
        errors["body"] = [said("unknown_keys", keys=", ".join(unknown))]
    comment = text_of(body, "comment", errors, COMMENT_MAX)
    to_node = text_of(body, "to_node", errors, NAME_MAX)
    to_user = text_of(body, "to_user", errors, NAME_MAX)
    values = body.get("values")
    if values is not None and not isinstance(values, dict):
        errors["values"] = [said("must_be_object")]
    where = body.get("where")
    if where is not None and where not in ("before", "after"):
        errors["where"] = [said("before_or_after")]
    attachments = whole_ids(body.get("attachments", []) or [], 50)
    if attachments is None:
        errors["attachments"] = [said("must_be_ids")]
    if action == "reject" and comment is None and "comment" not in errors:
        errors["comment"] = [said("comment_required")]
    if action in ("transfer", "add_approver") and to_user is None and "to_user" not in errors:
        errors["to_user"] = [said("user_required")]
    if errors:
        raise ValidationError(errors)
    return {
        "comment": comment,
        "values": values,
        "to_node": to_node,
        "to_user": to_user,
        "where": where if action == "add_approver" else None,
        "attachments": tuple(attachments or ()),
    }


def query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        message = said("bad_param", name=name, low=low, high=high)
        raise ApiError(400, "bad_request", message, fields={name: [message]})
    return int(raw)
