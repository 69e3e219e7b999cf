"""Validation messages in every shipped language (zh-CN first, en)."""

from __future__ import annotations

from typing import Any, Sequence

from engine import i18n

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"zh-CN": "必填", "en": "is required"},
    "unknown_field": {"zh-CN": "未知字段", "en": "unknown field"},
    "not_text": {"zh-CN": "必须是文本", "en": "must be text"},
    "not_integer": {"zh-CN": "必须是整数", "en": "must be a whole number"},
    "not_number": {"zh-CN": "必须是数字", "en": "must be a number"},
    "not_boolean": {"zh-CN": "必须是是/否", "en": "must be true or false"},
    "not_date": {"zh-CN": "必须是日期 (YYYY-MM-DD)", "en": "must be a date (YYYY-MM-DD)"},
    "not_datetime": {"zh-CN": "必须是日期时间 (ISO 8601)", "en": "must be a date and time (ISO 8601)"},
    "not_time": {"zh-CN": "必须是时间 (HH:MM)", "en": "must be a time (HH:MM)"},
    "not_list": {"zh-CN": "必须是列表", "en": "must be a list"},
    "not_object": {"zh-CN": "必须是对象", "en": "must be an object"},
    "not_record": {"zh-CN": "必须是记录编号", "en": "must be a record id"},
    "too_small": {"zh-CN": "不能小于 {min}", "en": "must be at least {min}"},
    "too_large": {"zh-CN": "不能大于 {max}", "en": "must be at most {max}"},
    "too_short": {"zh-CN": "长度不能少于 {min} 个字符", "en": "must have at least {min} characters"},
    "too_long": {"zh-CN": "长度不能超过 {max} 个字符", "en": "must have at most {max} characters"},
    "too_many_digits": {
        "zh-CN": "整数部分最多 {max} 位",
        "en": "must have at most {max} digits before the decimal point",
    },
    "too_many_decimals": {"zh-CN": "最多 {scale} 位小数", "en": "must have at most {scale} decimal places"},
    "pattern": {"zh-CN": "格式不正确", "en": "has the wrong format"},
    "not_option": {"zh-CN": "不是可选值: {value}", "en": "is not one of the options: {value}"},
    "not_email": {"zh-CN": "不是有效的邮箱地址", "en": "is not a valid email address"},
    "not_phone": {"zh-CN": "不是有效的电话号码", "en": "is not a valid phone number"},
    "not_url": {"zh-CN": "不是有效的网址", "en": "is not a valid URL"},
    "no_such_record": {"zh-CN": "引用的记录 {id} 不存在", "en": "refers to record {id}, which does not exist"},
    "duplicate": {"zh-CN": "值重复: 已有{fields}相同的记录", "en": "duplicate: a record with the same {fields} exists"},
    "list_sep": {"zh-CN": "、", "en": ", "},
    "list_last": {"zh-CN": "、", "en": " and "},
    "readonly": {"zh-CN": "只读, 不能修改", "en": "is read-only"},
    "computed": {"zh-CN": "由系统计算, 不能填写", "en": "is computed and cannot be set"},
    "not_duration": {
        "zh-CN": "必须是时长 (秒数, 或如 2h30m、1d)",
        "en": "must be a duration (seconds, or like 2h30m, 1d)",
    },
    "not_path": {"zh-CN": "不是有效的层级选项: {value}", "en": "is not a valid choice at level {level}: {value}"},
    "path_too_long": {"zh-CN": "层级过多: 最多 {max} 级", "en": "has too many levels: at most {max}"},
    "path_too_short": {"zh-CN": "请选到第 {min} 级", "en": "must go down to level {min}"},
    "not_role": {"zh-CN": "不是已定义的角色: {value}", "en": "is not a defined role: {value}"},
    "not_location": {"zh-CN": "必须是位置 {{lat, lng}}", "en": "must be a location {{lat, lng}}"},
    "bad_latitude": {"zh-CN": "纬度必须在 -90 到 90 之间", "en": "latitude must be between -90 and 90"},
    "bad_longitude": {"zh-CN": "经度必须在 -180 到 180 之间", "en": "longitude must be between -180 and 180"},
    "bad_barcode": {"zh-CN": "不是有效的 {symbology} 条码", "en": "is not a valid {symbology} code"},
    "not_colour": {"zh-CN": "必须是颜色 #RRGGBB", "en": "must be a colour #RRGGBB"},
    "too_many": {"zh-CN": "最多 {max} 项", "en": "must have at most {max} items"},
    "too_few": {"zh-CN": "至少 {min} 项", "en": "must have at least {min} items"},
    "not_address": {
        "zh-CN": "必须是地址 {{province, city, district, detail}}",
        "en": "must be an address {{province, city, district, detail}}",
    },
    "unknown_key": {"zh-CN": "未知的键: {name}", "en": "unknown key: {name}"},
    "not_file": {"zh-CN": "必须是文件编号列表", "en": "must be a list of file ids"},
    "no_such_file": {"zh-CN": "文件 {id} 不存在", "en": "file {id} does not exist"},
    "file_too_large": {"zh-CN": "文件 {name} 超过 {max} 字节", "en": "file {name} is larger than {max} bytes"},
    "file_type": {
        "zh-CN": "文件 {name} 的类型 {type} 不允许 (允许: {accept})",
        "en": "file {name} has type {type}, which is not allowed (allowed: {accept})",
    },
    "not_signature": {
        "zh-CN": "必须是 PNG 签名 (data:image/png;base64,...)",
        "en": "must be a PNG signature (data:image/png;base64,...)",
    },
    "in_group": {"zh-CN": "{path}: {message}", "en": "{path}: {message}"},
    "readonly_now": {"zh-CN": "当前不可修改", "en": "cannot be changed now"},
    "owned_field": {"zh-CN": "由{owner}维护, 不能修改", "en": "is kept by {owner} and cannot be changed"},
    "not_number_or_lookup": {"zh-CN": "查找不到对应的值", "en": "no matching value was found"},
}


class FieldError(ValueError):
    """A value that a field type refuses; rendered in the reader's language."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return self.render("en")

    def render(self, locale: str) -> str:
        return render(self.key, locale, **self.params)


def render(key: str, locale: str, **params: Any) -> str:
    """The message ``key`` in ``locale`` (falls back to English)."""
    return i18n.render(MESSAGES, key, locale, **params)


def duplicate(labels: Sequence[str], locale: str) -> str:
    """The message for a unique key another record holds, naming its fields as the reader
    sees them: 值重复: 已有客户、客户采购单号相同的记录 / ... the same Customer and PO number exists."""
    names = list(labels)
    if len(names) > 1:
        names[-2:] = [render("list_last", locale).join(names[-2:])]
    return render("duplicate", locale, fields=render("list_sep", locale).join(names))
