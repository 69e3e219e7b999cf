"""The words of change requests (:mod:`engine.flows.changes`), in Chinese and English.

They join :data:`engine.error_texts.TEXTS`, so ``Conflict.said("change_pending", ...)`` reads in
the caller's language; :func:`say` renders one for a field error.
"""

from __future__ import annotations

from typing import Any

from engine import i18n
from engine.error_texts import TEXTS

CHANGE_TEXTS: dict[str, dict[str, str]] = {
    "change_pending": {
        "en": "{form} {id} has change request #{change} pending: it cannot be changed until that is decided",
        "zh-CN": "{form} {id} 有待审批的变更申请 #{change}，审批完成前不能修改",
    },
    "change_controlled": {
        "en": "{form} {id} is under change control (flow '{flow}'): edit it on its own to open a change request",
        "zh-CN": "{form} {id} 已受变更控制（流程「{flow}」），请单独编辑它以提交变更申请",
    },
    "change_frozen": {
        "en": "{form} {id} is frozen: change request #{change} of {target} {target_id} is pending",
        "zh-CN": "{form} {id} 已冻结：{target} {target_id} 的变更申请 #{change} 正在审批",
    },
    "change_paused": {
        "en": "task {task} is paused: change request #{change} of {target} {target_id} is pending",
        "zh-CN": "任务 {task} 已暂停：{target} {target_id} 的变更申请 #{change} 正在审批",
    },
    "change_stale": {
        "en": "change request #{change} was made on version {base} of {form} {id}, which is now at version "
        "{current}: reject it and request the change again",
        "zh-CN": "变更申请 #{change} 基于 {form} {id} 的第 {base} 版，而它现在是第 {current} 版：请驳回后重新申请",
    },
    "change_decided": {
        "en": "change request #{change} was already {status}",
        "zh-CN": "变更申请 #{change} 已被处理（{status}）",
    },
    "change_not_found": {"en": "change request #{change} not found", "zh-CN": "变更申请 #{change} 不存在"},
    "change_bad_action": {
        "en": "'{action}' is not an action of a change request (use: approve, reject, comment)",
        "zh-CN": "'{action}' 不是变更申请的操作（可用：approve、reject、comment）",
    },
    "change_comment_required": {"en": "a rejection needs a comment", "zh-CN": "驳回必须填写意见"},
    "change_task_label": {"en": "Change request #{change}", "zh-CN": "变更申请 #{change}"},
}
TEXTS.update(CHANGE_TEXTS)


def say(key: str, locale: str, **params: Any) -> str:
    return i18n.render(CHANGE_TEXTS, key, locale, **params)
