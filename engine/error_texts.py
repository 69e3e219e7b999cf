"""The words of the errors a caller meets most, in every language (see ``LowcodeError.said``).

An error made with ``NotFound.said("not_found", form=..., id=...)`` reads in English as
``str(exc)`` and in the caller's language as ``exc.text(locale)``; the API and the workspace
answer with the latter, so that the top-level message speaks the language its field errors do.
"""

from __future__ import annotations

from typing import Any

from engine import i18n

TEXTS: dict[str, dict[str, str]] = {
    "not_found": {"en": "{form} {id} not found", "zh-CN": "{form} {id} 不存在"},
    "not_in_revision": {
        "en": "revision {revision} of pack '{pack}' has no form '{form}'",
        "zh-CN": "包 '{pack}' 的第 {revision} 修订版没有表单 '{form}'",
    },
    "no_revision": {"en": "pack '{pack}' has no revision {revision}", "zh-CN": "包 '{pack}' 没有第 {revision} 修订版"},
    "bad_revision": {
        "en": "revision must be a whole number from 1 on, not {sent}",
        "zh-CN": "revision 必须是从 1 起的整数，而不是 {sent}",
    },
    "stale": {
        "en": "{form} {id} was changed by someone else (version {current}, you have {sent}); reload and try again",
        "zh-CN": "{form} {id} 已被他人修改（当前版本 {current}，你的是 {sent}），请刷新后重试",
    },
    "stale_now": {
        "en": "{form} {id} was changed by someone else; reload and try again",
        "zh-CN": "{form} {id} 刚被他人修改，请刷新后重试",
    },
    "invalid": {"en": "the data is not valid: {detail}", "zh-CN": "数据有误：{detail}"},
    "login_first": {
        "en": "log in first: send 'Authorization: Bearer <token>' (POST /api/v1/auth/login gives one)",
        "zh-CN": "请先登录：发送 'Authorization: Bearer <token>'（POST /api/v1/auth/login 可取得）",
    },
    "wrong_password": {"en": "wrong username or password", "zh-CN": "用户名或密码错误"},
    "bad_token": {"en": "invalid, expired or revoked token", "zh-CN": "令牌无效、已过期或已注销，请重新登录"},
    "user_disabled": {"en": "this user is disabled", "zh-CN": "该用户已停用"},
    "body_not_json": {
        "en": "the body must be JSON (Content-Type: application/json)",
        "zh-CN": "请求体必须是 JSON（Content-Type: application/json）",
    },
    "body_not_object": {"en": "the body must be a JSON object", "zh-CN": "请求体必须是 JSON 对象"},
    "not_json_type": {
        "en": "send the body as JSON with 'Content-Type: application/json', not {sent}",
        "zh-CN": "请以 'Content-Type: application/json' 发送 JSON 请求体，而不是 {sent}",
    },
    "not_multipart": {
        "en": "send the file as multipart/form-data, not {sent}",
        "zh-CN": "请以 multipart/form-data 上传文件，而不是 {sent}",
    },
    "version_required": {
        "en": "send the version you are changing (If-Match header or 'version' in the body), "
        "so that nobody's change is overwritten silently",
        "zh-CN": "请发送你要修改的版本（If-Match 请求头或请求体中的 'version'），以免覆盖他人的修改",
    },
    "version_not_number": {
        "en": "version must be a whole number, not {sent}",
        "zh-CN": "版本必须是整数，而不是 {sent}",
    },
    "key_too_long": {
        "en": "Idempotency-Key is longer than {max} characters",
        "zh-CN": "Idempotency-Key 超过 {max} 个字符",
    },
    "key_other_request": {
        "en": "the Idempotency-Key '{key}' was already used for {request}",
        "zh-CN": "Idempotency-Key '{key}' 已用于 {request}",
    },
    "key_other_body": {
        "en": "the Idempotency-Key '{key}' was already used with a different body; use a new key for a new request",
        "zh-CN": "Idempotency-Key '{key}' 已用于内容不同的请求；新的请求请用新的 key",
    },
    "bad_datetime": {
        "en": "'{name}' must be an ISO date-time such as 2026-11-08T14:30:00+08:00, not {sent}",
        "zh-CN": "'{name}' 必须是 ISO 日期时间，例如 2026-11-08T14:30:00+08:00，而不是 {sent}",
    },
    "out_of_range": {
        "en": "a value is out of the database's range (ids and links go up to {max})",
        "zh-CN": "有值超出了数据库的范围（编号和关联最大为 {max}）",
    },
    "no_hook": {"en": "no webhook named '{hook}'", "zh-CN": "没有名为 '{hook}' 的 webhook"},
    "hook_no_secret": {
        "en": "webhook '{hook}' has no secret: set {env} (or LOWCODE_WEBHOOK_SECRET)",
        "zh-CN": "webhook '{hook}' 没有密钥：请设置 {env}（或 LOWCODE_WEBHOOK_SECRET）",
    },
    "hook_signature": {
        "en": "bad or missing signature: send '{header}: sha256=<hex HMAC-SHA256 of the raw body>'",
        "zh-CN": "签名错误或缺失：请发送 '{header}: sha256=<原始请求体的 HMAC-SHA256 十六进制>'",
    },
}


def render(key: str, locale: str, /, **params: Any) -> str:
    """Error ``key`` in ``locale`` (English where it has no words in that language); a value
    in several languages (a form's label) is read in ``locale`` too."""
    return i18n.render(
        TEXTS, key, locale, **{k: v.get(locale) if isinstance(v, i18n.Localized) else v for k, v in params.items()}
    )
