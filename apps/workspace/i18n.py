"""The workspace's own words (field labels come from the definitions) in zh-CN and en."""
from __future__ import annotations

from engine import i18n

LOCALES = ("zh-CN", "en")
DEFAULT = "zh-CN"

TEXTS: dict[str, dict[str, str]] = {
    "app": {"zh-CN": "工作台", "en": "Workspace"},
    "login": {"zh-CN": "登录", "en": "Log in"},
    "logout": {"zh-CN": "退出", "en": "Log out"},
    "username": {"zh-CN": "用户名", "en": "Username"},
    "password": {"zh-CN": "密码", "en": "Password"},
    "bad_login": {"zh-CN": "用户名或密码错误", "en": "Wrong username or password"},
    "forms": {"zh-CN": "表单", "en": "Forms"},
    "new": {"zh-CN": "新建", "en": "New"},
    "edit": {"zh-CN": "编辑", "en": "Edit"},
    "save": {"zh-CN": "保存", "en": "Save"},
    "cancel": {"zh-CN": "取消", "en": "Cancel"},
    "back": {"zh-CN": "返回列表", "en": "Back to the list"},
    "search": {"zh-CN": "搜索", "en": "Search"},
    "search_hint": {"zh-CN": "输入关键字搜索", "en": "Type to search"},
    "no_matches": {"zh-CN": "没有匹配的记录", "en": "No matching records"},
    "search_failed": {"zh-CN": "搜索失败, 请重试", "en": "The search failed; try again"},
    "no_records": {"zh-CN": "暂无记录", "en": "No records"},
    "total": {"zh-CN": "共 {n} 条", "en": "Total: {n}"},
    "prev": {"zh-CN": "上一页", "en": "Previous"},
    "next": {"zh-CN": "下一页", "en": "Next"},
    "add_row": {"zh-CN": "添加一行", "en": "Add a row"},
    "remove_row": {"zh-CN": "删除", "en": "Remove"},
    "row": {"zh-CN": "第 {n} 行", "en": "Row {n}"},
    "choose": {"zh-CN": "请选择", "en": "Choose"},
    "yes": {"zh-CN": "是", "en": "Yes"},
    "no": {"zh-CN": "否", "en": "No"},
    "required": {"zh-CN": "必填", "en": "required"},
    "saved": {"zh-CN": "已保存", "en": "Saved"},
    "invalid": {"zh-CN": "请检查标出的字段", "en": "Please check the fields marked below"},
    "conflict": {"zh-CN": "保存失败: 此记录已被他人修改。请重新打开记录, 再次修改。",
                 "en": "Not saved: someone else changed this record. Reopen it and make your change again."},
    "forbidden": {"zh-CN": "没有权限执行此操作", "en": "You are not allowed to do this"},
    "not_found": {"zh-CN": "找不到此记录", "en": "This record was not found"},
    "bad_csrf": {"zh-CN": "页面已过期, 请刷新后重试", "en": "The page has expired; reload it and try again"},
    "version": {"zh-CN": "版本", "en": "Version"},
    "bad_json": {"zh-CN": "不是有效的 JSON", "en": "is not valid JSON"},
    "files_remove": {"zh-CN": "移除", "en": "Remove"},
    "files_add": {"zh-CN": "添加文件", "en": "Add files"},
    "sign_here": {"zh-CN": "请在此处签名", "en": "Sign here"},
    "sign_clear": {"zh-CN": "清除", "en": "Clear"},
    "sign_kept": {"zh-CN": "已签名; 重新签名将替换", "en": "Signed; signing again replaces it"},
    "latitude": {"zh-CN": "纬度", "en": "Latitude"},
    "longitude": {"zh-CN": "经度", "en": "Longitude"},
    "place": {"zh-CN": "地址 (可选)", "en": "Address (optional)"},
    "my_position": {"zh-CN": "使用我的位置", "en": "Use my position"},
    "no_position": {"zh-CN": "无法获取位置", "en": "Could not get the position"},
    "province": {"zh-CN": "省", "en": "Province"},
    "city": {"zh-CN": "市", "en": "City"},
    "district": {"zh-CN": "区/县", "en": "District"},
    "detail": {"zh-CN": "详细地址", "en": "Street address"},
    "tags_hint": {"zh-CN": "用逗号分隔", "en": "Separate with commas"},
    "duration_hint": {"zh-CN": "如 2h30m、1d、01:30", "en": "e.g. 2h30m, 1d, 01:30"},
    "no_rating": {"zh-CN": "不评", "en": "None"},
    "language": {"zh-CN": "English", "en": "中文"},
}


def text(key: str, locale: str, **params: object) -> str:
    """The workspace text ``key`` in ``locale`` (falls back to zh-CN)."""
    return i18n.render(TEXTS, key, locale, DEFAULT, **params)
