"""The words of the flow engine's errors, in Chinese and English.

They join :data:`engine.error_texts.TEXTS` (so ``Conflict.said("flow_task_done", ...)`` reads
in the caller's language); :func:`say` renders one for a field error.
"""

from __future__ import annotations

from typing import Any

from engine import i18n
from engine.error_texts import TEXTS

FLOW_TEXTS: dict[str, dict[str, str]] = {
    "flow_task_done": {
        "en": "task {id} was already acted on ({status}); reload to see who did",
        "zh-CN": "任务 {id} 已被处理（{status}），请刷新查看处理人",
    },
    "flow_instance_moved": {
        "en": "flow instance {id} moved on meanwhile; reload and try again",
        "zh-CN": "流程实例 {id} 已被他人推进，请刷新后重试",
    },
    "flow_not_running": {"en": "flow instance {id} is {status}", "zh-CN": "流程实例 {id} 已{status}"},
    "flow_running": {
        "en": "{form} {id} already has flow '{flow}' running",
        "zh-CN": "{form} {id} 已有进行中的流程 '{flow}'",
    },
    "flow_no_flow": {"en": "no flow named '{flow}'", "zh-CN": "没有名为 '{flow}' 的流程"},
    "flow_no_instance": {"en": "{form} {id} has no running flow", "zh-CN": "{form} {id} 没有进行中的流程"},
    "flow_no_task": {"en": "task {id} not found", "zh-CN": "任务 {id} 不存在"},
    "flow_not_yours": {"en": "task {id} is not yours to act on", "zh-CN": "任务 {id} 不归你处理"},
    "flow_bad_action": {
        "en": "'{action}' is not an action of this task (use: {actions})",
        "zh-CN": "'{action}' 不是此任务的操作（可用：{actions}）",
    },
    "flow_comment_required": {"en": "a rejection needs a comment", "zh-CN": "退回必须填写意见"},
    "flow_bad_return": {
        "en": "'{node}' is not an earlier node of this instance's path (use: {nodes})",
        "zh-CN": "'{node}' 不是此实例已走过的节点（可选：{nodes}）",
    },
    "flow_not_editable": {"en": "is not editable at this node", "zh-CN": "在此节点不可修改"},
    "flow_user_required": {"en": "name the user (to_user)", "zh-CN": "请指定用户 (to_user)"},
    "flow_no_user": {"en": "no user '{name}'", "zh-CN": "用户 '{name}' 不存在"},
    "flow_withdraw_never": {"en": "flow '{flow}' cannot be withdrawn", "zh-CN": "流程 '{flow}' 不允许撤回"},
    "flow_withdraw_approved": {
        "en": "flow '{flow}' cannot be withdrawn after the first approval",
        "zh-CN": "流程 '{flow}' 已有人审批，不能撤回",
    },
    "flow_withdraw_starter": {
        "en": "only the starter can withdraw flow '{flow}'",
        "zh-CN": "只有发起人可以撤回流程 '{flow}'",
    },
    "flow_role_refused": {
        "en": "'{action}' needs one of the roles {roles}",
        "zh-CN": "'{action}' 需要以下角色之一：{roles}",
    },
    "flow_no_assignee": {"en": "node '{node}' has nobody to assign to", "zh-CN": "节点 '{node}' 找不到处理人"},
    "flow_owned": {"en": "flow '{flow}'", "zh-CN": "流程 '{flow}'"},
}
TEXTS.update(FLOW_TEXTS)


def say(key: str, locale: str, **params: Any) -> str:
    return i18n.render(FLOW_TEXTS, key, locale, **params)
