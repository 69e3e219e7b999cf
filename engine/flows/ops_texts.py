"""The words of the flow operations (handover, migration), in Chinese and English.

They join :data:`engine.error_texts.TEXTS` like :mod:`engine.flows.words` (so
``ValidationError.said``/``NotFound.said`` read in the caller's language); :func:`say` renders
one for a field error or a report line.
"""

from __future__ import annotations

from typing import Any

from engine import i18n
from engine.error_texts import TEXTS

OPS_TEXTS: dict[str, dict[str, str]] = {
    "ops_no_user": {"en": "user {id} not found", "zh-CN": "用户 {id} 不存在"},
    "ops_not_a_user": {"en": "user '{name}' does not exist", "zh-CN": "用户 '{name}' 不存在"},
    "ops_user_disabled": {"en": "user '{name}' is disabled", "zh-CN": "用户 '{name}' 已停用"},
    "ops_same_user": {"en": "is the user handing over", "zh-CN": "不能交接给本人"},
    "ops_admins_only": {
        "en": "only an administrator may hand over another user's tasks",
        "zh-CN": "只有管理员可以交接他人的任务",
    },
    "ops_handed_over": {"en": "handed over from {from_} to {to}", "zh-CN": "由 {from_} 交接给 {to}"},
    # migration
    "mig_no_flow": {"en": "no flow named '{flow}'", "zh-CN": "没有名为 '{flow}' 的流程"},
    "mig_no_revision": {
        "en": "pack '{pack}' has no revision {revision} (published: {known})",
        "zh-CN": "包 '{pack}' 没有修订版 {revision}（已发布：{known}）",
    },
    "mig_flow_missing": {
        "en": "revision {revision} of pack '{pack}' has no flow '{flow}'",
        "zh-CN": "包 '{pack}' 的修订版 {revision} 中没有流程 '{flow}'",
    },
    "mig_bad_map": {"en": "--map takes old=new, not '{item}'", "zh-CN": "--map 的格式是 旧=新，而不是 '{item}'"},
    "mig_map_unknown_old": {
        "en": "--map {old}={new}: '{old}' is no node of '{flow}' revision {revision}{hint}",
        "zh-CN": "--map {old}={new}：'{old}' 不是流程 '{flow}' 修订版 {revision} 的节点{hint}",
    },
    "mig_node_gone": {
        "en": "instance {id} waits at '{node}', which revision {revision} does not have{hint}: map it (--map {node}=NEW)",
        "zh-CN": "实例 {id} 停在 '{node}'，修订版 {revision} 没有这个节点{hint}：请用 --map {node}=新节点 映射",
    },
    "mig_kind_changed": {
        "en": "instance {id}: '{node}' ({kind}) maps to '{new}', a {new_kind} node: the kinds do not match",
        "zh-CN": "实例 {id}：'{node}'（{kind}）映射到 '{new}'（{new_kind}），节点类型不一致",
    },
    "mig_task_gone": {
        "en": "instance {id}: task {task} is open at '{node}', which revision {revision} does not have: map it",
        "zh-CN": "实例 {id}：任务 {task} 在节点 '{node}' 上未完成，修订版 {revision} 没有这个节点：请映射",
    },
}
TEXTS.update(OPS_TEXTS)


def say(key: str, locale: str, **params: Any) -> str:
    return i18n.render(OPS_TEXTS, key, locale, **params)
