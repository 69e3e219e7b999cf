"""The comments of a form drafted from an Excel template, in zh-CN and en."""

from __future__ import annotations

from typing import Any

from engine import i18n

MESSAGES: dict[str, dict[str, str]] = {
    "generated": {
        "zh-CN": "由 {file} 生成 (表头在第 {row} 行): 发布前请检查字段名、类型和选项",
        "en": "Generated from {file} (header row {row}): review names, types and options before publishing",
    },
    "a_spreadsheet": {"zh-CN": "电子表格", "en": "a spreadsheet"},
    "hint_required": {
        "zh-CN": "提示: 样例每一行都填了; 若必须填写, 去掉本行开头的 #",
        "en": "hint: every sample row fills it; remove the # if it must always be filled",
    },
    "hint_unique": {
        "zh-CN": "提示: 样例中没有重复值; 若是唯一编号, 去掉本行开头的 #",
        "en": "hint: no value repeats in the samples; remove the # if it is a key",
    },
    "input_instead": {
        "zh-CN": "按输入字段生成: 公式 {formula} 无法转换 ({reason})",
        "en": "an input field: the formula {formula} was not translated ({reason})",
    },
    "drop_down": {"zh-CN": "下拉列表: {source}", "en": "drop-down list: {source}"},
    "drop_down_open": {
        "zh-CN": "下拉列表 {source} 随其他单元格变化, 选项按样例推测",
        "en": "the drop-down list {source} depends on other cells; options guessed from the samples",
    },
    "total_field": {
        "zh-CN": "Excel 第 {row} 行 {formula} 合计所有行; 这里是每条记录自己明细的合计",
        "en": "Excel row {row}: {formula} totals every row; here each record totals its own lines",
    },
    "total_report": {
        "zh-CN": "第 {row} 行是跨记录的合计 ({formulas}): 这属于报表, 未生成字段",
        "en": "row {row} totals over records ({formulas}): that belongs in a report, no field made",
    },
    # why a formula stayed an input field
    "function": {"zh-CN": "没有对应的函数 {name}", "en": "no counterpart of the function {name}"},
    "operator": {"zh-CN": "没有对应的运算符 {op}", "en": "no counterpart of the operator {op}"},
    "other_row": {"zh-CN": "{ref} 不在公式所在的第 {row} 行", "en": "{ref} is not in the formula's row {row}"},
    "other_sheet": {"zh-CN": "{ref} 在另一个工作表上", "en": "{ref} is on another sheet"},
    "itself": {"zh-CN": "{ref} 是公式自己所在的单元格", "en": "{ref} is the formula's own cell"},
    "no_column": {"zh-CN": "{ref} 所在的列没有表头", "en": "{ref} is in a column without a header"},
    "range_rows": {"zh-CN": "{ref} 跨了多行", "en": "{ref} spans several rows"},
    "range_value": {"zh-CN": "区域 {ref} 被当作一个值", "en": "the range {ref} is used as one value"},
    "defined_name": {"zh-CN": "名称 {name} 不是本行的一列", "en": "the name {name} is not a column of the row"},
    "error_value": {"zh-CN": "错误值 {value}", "en": "the error value {value}"},
    "arguments": {"zh-CN": "{name} 的参数个数不对", "en": "{name} has an unexpected number of arguments"},
    "syntax": {"zh-CN": "无法解析", "en": "it could not be read"},
    "rows_differ": {"zh-CN": "各行的公式不一样 ({other})", "en": "the rows have different formulas ({other})"},
    "line_columns": {"zh-CN": "主表字段引用了明细列 {ref}", "en": "a record field reads the sub-table column {ref}"},
    "does_not_check": {"zh-CN": "转换结果未通过检查: {error}", "en": "the translation does not check: {error}"},
}


def render(key: str, locale: str, **params: Any) -> str:
    """Message ``key`` in ``locale`` (zh-CN or en)."""
    return i18n.render(MESSAGES, key, locale, **params)
