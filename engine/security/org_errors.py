"""The words of the organisation's errors (departments, delegations), in zh-CN and English.

An error raised here carries its key and values, so that each caller reads it in their own
language (``exc.text(locale)``, as every :class:`~engine.errors.LowcodeError` made by ``said``);
a refused value is a :class:`~engine.errors.ValidationError` whose messages, by field, are in
the language the caller asked for.
"""

from __future__ import annotations

from typing import Any, TypeVar

from engine import i18n
from engine.errors import Conflict, LowcodeError, NotFound, PermissionDenied, ValidationError
from engine.field_errors import render as field_text

TEXTS: dict[str, dict[str, str]] = {
    "no_department": {"en": "department {id} not found", "zh-CN": "部门 {id} 不存在"},
    "no_department_named": {
        "en": "no department named '{name}'{hint}",
        "zh-CN": "没有名为 '{name}' 的部门{hint}",
    },
    "no_user": {"en": "user {id} not found", "zh-CN": "用户 {id} 不存在"},
    "no_user_named": {"en": "no user named '{name}'{hint}", "zh-CN": "没有名为 '{name}' 的用户{hint}"},
    "no_delegation": {"en": "delegation {id} not found", "zh-CN": "委托 {id} 不存在"},
    "department_exists": {
        "en": "a department named '{name}' exists already",
        "zh-CN": "已有名为 '{name}' 的部门",
    },
    "revoked_already": {"en": "delegation {id} is revoked already", "zh-CN": "委托 {id} 已撤销"},
    "overlaps": {
        "en": "{user} has delegated {flows} to {to} from {starts} to {ends} already (delegation {id}): "
        "revoke it first or choose another time or other flows",
        "zh-CN": "{user} 已将 {starts} 至 {ends} 的{flows}委托给 {to}（委托 {id}），请先撤销，或换一个时间段或流程",
    },
    "every_flow": {"en": "every flow", "zh-CN": "全部流程"},
    "the_flows": {"en": "the flows {flows}", "zh-CN": "流程 {flows}"},
    "admins_only": {
        "en": "only an administrator may change departments or a user's department",
        "zh-CN": "只有管理员可以修改部门或用户所属部门",
    },
    "others_delegation": {
        "en": "only an administrator may delegate for another user: leave out from_id or send your own ({id})",
        "zh-CN": "只有管理员可以替他人设置委托：请不填 from_id，或填你自己的 ({id})",
    },
    "not_your_delegation": {
        "en": "delegation {id} is {user}'s: only they or an administrator may see or revoke it",
        "zh-CN": "委托 {id} 属于 {user}：只有本人或管理员可以查看或撤销",
    },
    "staff_only": {
        "en": "the organisation is for staff: a portal user cannot see it",
        "zh-CN": "组织架构仅供内部员工查看，门户用户无权访问",
    },
    # messages by field (read beside the field's name)
    "not_a_department": {"en": "department {id} does not exist", "zh-CN": "部门 {id} 不存在"},
    "not_a_user": {"en": "user {id} does not exist", "zh-CN": "用户 {id} 不存在"},
    "user_disabled": {"en": "user {name} is disabled", "zh-CN": "用户 {name} 已停用"},
    "parent_cycle": {
        "en": "'{parent}' is '{name}' itself or one of its sub-departments: a department cannot sit under itself",
        "zh-CN": "'{parent}' 是 '{name}' 自己或它的下级部门：部门不能挂在自己之下",
    },
    "bad_label": {
        "en": 'must be texts by language, e.g. {{"zh-CN": "销售部", "en": "Sales"}}',
        "zh-CN": '必须是按语言给出的文字，如 {{"zh-CN": "销售部", "en": "Sales"}}',
    },
    "to_self": {"en": "cannot be the user who delegates", "zh-CN": "不能委托给自己"},
    "ends_first": {"en": "must be after starts_at ({starts})", "zh-CN": "必须晚于开始时间 starts_at（{starts}）"},
    "bad_flows": {
        "en": "must be a list of flow names, or null for every flow",
        "zh-CN": "必须是流程名称的列表，或 null 表示全部流程",
    },
    "bad_when": {
        "en": "must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not {sent}",
        "zh-CN": "必须是日期 (YYYY-MM-DD) 或日期时间 (ISO 8601)，而不是 {sent}",
    },
}

E = TypeVar("E", bound=LowcodeError)


def text(key: str, locale: str, /, **params: Any) -> str:
    """Message ``key`` of the organisation's catalogue, or of the field messages, in ``locale``
    (a value that is a :class:`Phrase`, or any text in several languages, read in it too)."""
    params = {k: v.get(locale) if isinstance(v, i18n.Localized) else v for k, v in params.items()}
    if key in TEXTS:
        return i18n.render(TEXTS, key, locale, **params)
    return field_text(key, locale, **params)


class Phrase:
    """A message of the catalogue kept unrendered, to be read inside another in its language."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params

    def get(self, locale: str = "en") -> str:
        return text(self.key, locale, **self.params)

    def all(self) -> tuple[str, ...]:
        return tuple(self.get(locale) for locale in i18n.LOCALES)


class _Said:
    """Reads its key in the organisation's catalogue (the platform's catalogue does not have it)."""

    key: str | None
    params: dict[str, Any]

    def text(self, locale: str) -> str:
        return text(self.key, locale, **self.params) if self.key else str(self)


class OrgNotFound(_Said, NotFound):
    """A department, user or delegation that does not exist (404)."""


class OrgConflict(_Said, Conflict):
    """A department name taken, a delegation that overlaps another, one revoked already (409)."""


class OrgDenied(_Said, PermissionDenied):
    """Work on the organisation the caller may not do (403)."""


def said(cls: type[E], key: str, /, field: str | None = None, **params: Any) -> E:
    """``cls`` with the message ``key`` (English as ``str()``, any language by ``text``); a
    conflict on one ``field`` names it too."""
    message = text(key, "en", **params)
    exc = cls(message, {field: [message]}) if field else cls(message)  # type: ignore[call-arg]
    exc.key, exc.params = key, params
    return exc


class Refusals:
    """The field errors of one request, gathered to be raised at once, in the caller's language."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, key: str, **params: Any) -> None:
        self.fields.setdefault(field, []).append(text(key, self.locale, **params))

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)
