"""Import and export messages in zh-CN and en."""

from __future__ import annotations

from typing import Any

from engine import i18n

MESSAGES: dict[str, dict[str, str]] = {
    "no_header": {
        "zh-CN": "找不到表头行: 没有一行的单元格与表单字段的名称或标签相符",
        "en": "no header row: no row has cells matching the form's field names or labels",
    },
    "no_link": {"zh-CN": "找不到{form}: {value}", "en": "no {form} matches {value}"},
    "no_user": {"zh-CN": "找不到用户: {value}", "en": "no user named {value}"},
    "ambiguous_link": {
        "zh-CN": "{value} 对应多条{form}记录, 请填写编码或编号",
        "en": "{value} matches several {form} records: use a code or id",
    },
    "key_repeated": {
        "zh-CN": "键 {key} 在文件中重复 (第 {row} 行已有)",
        "en": "the key {key} repeats an earlier row ({row})",
    },
    "not_permitted": {"zh-CN": "无权{action}此记录", "en": "you may not {action} this record"},
    "key_not_in_file": {"zh-CN": "文件中没有键列 {key}", "en": "the key column {key} is not in the file"},
    "key_missing": {"zh-CN": "键列 {key} 为空", "en": "the key column {key} is empty"},
    "conflict": {"zh-CN": "{message}", "en": "{message}"},
    "totals_row": {"zh-CN": "第 {row} 行是合计行, 已跳过", "en": "row {row} is a totals row, skipped"},
    "same_record": {
        "zh-CN": "与 {other} 是同一条记录 ({form} {id}): 一批中每条记录只能修改一次",
        "en": "names the same record as {other} ({form} {id}): a batch may change a record once",
    },
    "not_written": {
        "zh-CN": "未写入: 文件中有错误 (全部或全不模式)",
        "en": "not written: the file has errors (all-or-nothing)",
    },
}

ACTIONS = {"create": {"zh-CN": "新建", "en": "create"}, "update": {"zh-CN": "修改", "en": "update"}}


def render(message: str, locale: str, **params: Any) -> str:
    return i18n.render(MESSAGES, message, locale, **params)


def action_word(action: str, locale: str) -> str:
    words = ACTIONS.get(action)
    return i18n.pick(words, locale) if words else action
