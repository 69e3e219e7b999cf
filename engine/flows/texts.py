"""The words of flow definition errors, in English and Chinese (``FlowError.text(locale)``).

A :class:`FlowError` is a :class:`~engine.errors.DefinitionError` (``str()`` is English, with
``file:line:col`` and a caret) that also reads in the caller's language, like the errors of
:mod:`engine.error_texts`; the catalogue is kept here, beside the checks that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from engine import i18n
from engine.errors import DefinitionError, Position

TEXTS: dict[str, dict[str, str]] = {
    "name_not_stem": {
        "en": "the flow's name '{name}' must be its file name '{stem}'",
        "zh-CN": "流程名 '{name}' 必须与文件名 '{stem}' 相同",
    },
    "unknown_form": {"en": "unknown form '{form}'", "zh-CN": "未知表单 '{form}'"},
    "unknown_field": {"en": "unknown field '{field}' in {form}", "zh-CN": "表单 {form} 中没有字段 '{field}'"},
    "unknown_role": {"en": "unknown role '{role}'", "zh-CN": "未知角色 '{role}'"},
    "unknown_flow": {"en": "unknown flow '{flow}'", "zh-CN": "未知流程 '{flow}'"},
    "duplicate_node": {
        "en": "node id '{id}' is used twice (first on line {line})",
        "zh-CN": "节点 id '{id}' 重复（第一次在第 {line} 行）",
    },
    "duplicate_flow": {"en": "flow '{name}' is defined by two packs", "zh-CN": "流程 '{name}' 在两个包中都有定义"},
    "unknown_node": {"en": "unknown node '{id}'", "zh-CN": "未知节点 '{id}'"},
    "no_start": {"en": "the flow has no start node", "zh-CN": "流程没有开始节点（kind: start）"},
    "two_starts": {
        "en": "the flow has more than one start node ('{first}' and '{id}')",
        "zh-CN": "流程有多个开始节点（'{first}' 和 '{id}'）",
    },
    "no_end": {"en": "the flow has no end node", "zh-CN": "流程没有结束节点（kind: end）"},
    "key_not_for_kind": {
        "en": "'{key}' does not apply to {kind} nodes",
        "zh-CN": "'{key}' 不适用于 {kind} 节点",
    },
    "key_needed": {"en": "{kind} nodes need '{key}'", "zh-CN": "{kind} 节点需要 '{key}'"},
    "bad_duration": {
        "en": "'{text}' is not a duration: write e.g. 30m, 2h, 3d, 1d12h or 1w",
        "zh-CN": "'{text}' 不是时长：请写成 30m、2h、3d、1d12h 或 1w 这样的形式",
    },
    "not_date_field": {
        "en": "'{field}' is not a date or date-time field of {form}",
        "zh-CN": "'{field}' 不是表单 {form} 的日期或日期时间字段",
    },
    "bad_quorum": {
        "en": 'quorum must be a count from 1 (2) or a share below 100% ("60%"), not {value}',
        "zh-CN": 'quorum 必须是从 1 起的人数（2）或小于 100% 的比例（"60%"），而不是 {value}',
    },
    "mode_needs": {"en": "mode {mode} needs '{key}'", "zh-CN": "审批方式 {mode} 需要 '{key}'"},
    "escalation_order": {
        "en": "escalation steps must come in order of 'after' ({after} is not after the step before)",
        "zh-CN": "升级步骤须按 'after' 从早到晚排列（{after} 不晚于上一步）",
    },
    "no_status_field": {
        "en": "'state' needs the flow's status_field (state-machine mode)",
        "zh-CN": "'state' 需要流程设置 status_field（状态机模式）",
    },
    "status_not_select": {
        "en": "status_field '{field}' must be a select field of {form}",
        "zh-CN": "status_field '{field}' 必须是表单 {form} 的单选字段",
    },
    "state_not_option": {
        "en": "'{state}' is not an option of {form}.{field}",
        "zh-CN": "'{state}' 不是 {form}.{field} 的选项",
    },
    "action_not_state": {
        "en": "'{key}' on an edge applies only to an edge out of a node with a state (state-machine mode)",
        "zh-CN": "边上的 '{key}' 只适用于从状态节点出发的边（状态机模式）",
    },
    "set_computed": {
        "en": "'{field}' is computed (formula): a flow cannot set it",
        "zh-CN": "'{field}' 是计算字段（formula），流程不能设置它",
    },
    "bad_action": {"en": "{detail}", "zh-CN": "{detail}"},
    "unreachable": {
        "en": "node '{id}' cannot be reached from the start",
        "zh-CN": "节点 '{id}' 从开始节点无法到达",
    },
    "dead_end": {
        "en": "no end can be reached from node '{id}'",
        "zh-CN": "从节点 '{id}' 无法到达任何结束节点",
    },
    "no_way_out": {
        "en": "node '{id}' has no outgoing edge (only an end node may stop)",
        "zh-CN": "节点 '{id}' 没有出边（只有结束节点可以没有出边）",
    },
    "no_default": {
        "en": "{kind} gateway '{id}' has conditional edges but no default edge (default: true)",
        "zh-CN": "{kind} 网关 '{id}' 有条件边但没有默认边（default: true）",
    },
    "two_defaults": {
        "en": "gateway '{id}' has more than one default edge",
        "zh-CN": "网关 '{id}' 有多条默认边",
    },
    "condition_not_gateway": {
        "en": "an edge out of {kind} node '{id}' cannot have a condition: put an exclusive or inclusive gateway "
        "before the branches",
        "zh-CN": "{kind} 节点 '{id}' 的出边不能带条件：请在分支前放一个排他或包容网关",
    },
    "default_not_gateway": {
        "en": "only an edge out of an exclusive or inclusive gateway can be the default",
        "zh-CN": "只有排他或包容网关的出边才能是默认边",
    },
    "unconditional_branch": {
        "en": "edge {source} → {target} of gateway '{id}' has neither a condition nor default: true",
        "zh-CN": "网关 '{id}' 的边 {source} → {target} 既没有条件也不是默认边",
    },
    "join_not_split": {
        "en": "parallel join '{id}' joins branches that do not come from one parallel split (they meet after "
        "{kind} node '{split}'): it would wait forever",
        "zh-CN": "并行汇聚 '{id}' 汇聚的分支并非来自同一个并行拆分（它们在 {kind} 节点 '{split}' 之后汇合），会永远等待",
    },
    "join_exclusive": {
        "en": "parallel join '{id}' waits for both '{a}' and '{b}', but they are alternatives on one branch of "
        "split '{split}' (an exclusive branch into a parallel join): it would wait forever",
        "zh-CN": "并行汇聚 '{id}' 同时等待 '{a}' 和 '{b}'，但它们是拆分 '{split}' 同一分支上的二选一"
        "（排他分支进入并行汇聚），会永远等待",
    },
    "join_unmatched": {
        "en": "branch '{branch}' of parallel split '{split}' does not arrive at join '{id}' on an input of its own",
        "zh-CN": "并行拆分 '{split}' 的分支 '{branch}' 没有单独到达汇聚 '{id}'",
    },
    "unsynchronized": {
        "en": "node '{id}' is reached by parallel branches of split '{split}' without a parallel join: "
        "what follows would run once per branch",
        "zh-CN": "节点 '{id}' 由并行拆分 '{split}' 的多个分支直接到达而没有并行汇聚：其后的步骤会每个分支各执行一次",
    },
    "end_has_out": {
        "en": "end node '{id}' has an outgoing edge: an instance stops at an end",
        "zh-CN": "结束节点 '{id}' 有出边：流程实例在结束节点就停止了",
    },
    "into_start": {
        "en": "an edge leads into start node '{id}': to go back to the start, reject to it instead",
        "zh-CN": "有边指向开始节点 '{id}'：要回到开始，请用退回（reject）",
    },
    "many_out": {
        "en": "{kind} node '{id}' has {count} outgoing edges: branch with a gateway (exclusive, inclusive or parallel)",
        "zh-CN": "{kind} 节点 '{id}' 有 {count} 条出边：请用网关（排他、包容或并行）分支",
    },
    "unknown_child_field": {
        "en": "unknown field '{field}' in {form} (the form of sub-flow '{flow}')",
        "zh-CN": "子流程 '{flow}' 的表单 {form} 中没有字段 '{field}'",
    },
    "no_assignee": {
        "en": "{kind} node '{id}' has no assignee",
        "zh-CN": "{kind} 节点 '{id}' 没有处理人（assignee）",
    },
    "state_no_action": {
        "en": "state node '{id}' has an edge without an action: each way out of a state is a button",
        "zh-CN": "状态节点 '{id}' 有一条没有 action 的出边：状态的每个出口都是一个按钮",
    },
    "same_action": {
        "en": "node '{id}' has two edges with action '{action}' (to '{first}' and to '{target}')",
        "zh-CN": "节点 '{id}' 有两条 action 为 '{action}' 的出边（到 '{first}' 和到 '{target}'）",
    },
    "spin_cycle": {
        "en": "the cycle {cycle} has no human node or timer on it: it would spin",
        "zh-CN": "环 {cycle} 上没有人工节点或定时器，会无限循环",
    },
    "subflow_cycle": {
        "en": "flow '{flow}' starts itself through sub-flows ({cycle})",
        "zh-CN": "流程 '{flow}' 通过子流程启动了自己（{cycle}）",
    },
    "not_each_field": {
        "en": "each: '{field}' must be a sub-table or a link field of {form}",
        "zh-CN": "each: '{field}' 必须是表单 {form} 的子表或关联字段",
    },
    "freeze_link": {
        "en": "'{link}' of {form} is not a link to {target}",
        "zh-CN": "{form} 的 '{link}' 不是指向 {target} 的关联字段",
    },
    "two_status_owners": {
        "en": "{form}.{field} is already the status field of flow '{other}'",
        "zh-CN": "{form}.{field} 已是流程 '{other}' 的状态字段",
    },
}


@dataclass
class FlowError(DefinitionError):
    """A mistake in a flow file, readable in English (``str``) and in the caller's language."""

    def text(self, locale: str) -> str:
        return render(self.key or "", locale, **self.params) if self.key else self.message


def render(key: str, locale: str, /, **params: Any) -> str:
    """Message ``key`` in ``locale`` (English where it has no words in that language)."""
    return i18n.render(TEXTS, key, locale, **params)


def flow_error(
    key: str, position: Position, hint: Optional[str] = None, path: Optional[str] = None, /, **params: Any
) -> FlowError:
    """The error ``key`` of :data:`TEXTS` at ``position``, filled with ``params``."""
    err = FlowError(render(key, "en", **params), position, hint, path)
    err.key, err.params = key, params
    return err
