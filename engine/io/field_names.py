"""Field names for spreadsheet headers: ``Unit Price`` -> ``unit_price``, ``订单号`` -> ``order_no``.

Chinese headers are read word by word, longest first, against a table of the words shop and
factory sheets use (订单号, 客户, 数量, 单价, 金额, ...); what the table does not know is
written in pinyin (``颜色`` -> ``yan_se``) by pypinyin. Names are snake_case identifiers,
unique within their form or sub-table, never a system name nor a keyword of the expression
language.
"""

from __future__ import annotations

import re
from typing import Iterable

#: the words of shop and factory sheets, by the English word a form would use
WORDS: dict[str, str] = {
    "订单编号": "order_no",
    "订单号": "order_no",
    "单号": "doc_no",
    "单据编号": "doc_no",
    "合同号": "contract_no",
    "订单": "order",
    "销售": "sales",
    "采购": "purchase",
    "发货": "shipping",
    "收货": "receiving",
    "客户名称": "customer_name",
    "客户编码": "customer_code",
    "客户": "customer",
    "供应商": "supplier",
    "联系人": "contact",
    "电话": "phone",
    "手机": "mobile",
    "手机号": "mobile",
    "地址": "address",
    "收货地址": "ship_to",
    "邮箱": "email",
    "公司": "company",
    "产品名称": "product_name",
    "产品编码": "product_code",
    "产品": "product",
    "商品": "item",
    "物料编码": "material_code",
    "物料": "material",
    "品名": "item_name",
    "名称": "name",
    "编码": "code",
    "编号": "no",
    "代码": "code",
    "条码": "barcode",
    "型号": "model",
    "规格": "spec",
    "颜色": "color",
    "尺寸": "size",
    "尺码": "size",
    "材质": "material",
    "品牌": "brand",
    "类别": "category",
    "分类": "category",
    "单位": "unit",
    "重量": "weight",
    "毛重": "gross_weight",
    "净重": "net_weight",
    "数量": "qty",
    "件数": "pieces",
    "箱数": "cartons",
    "库存": "stock",
    "单价": "unit_price",
    "价格": "price",
    "售价": "price",
    "成本": "cost",
    "含税": "incl_tax",
    "税率": "tax_rate",
    "税额": "tax",
    "金额": "amount",
    "总额": "total",
    "合计": "total",
    "总价": "total_price",
    "小计": "subtotal",
    "折扣": "discount",
    "运费": "freight",
    "币种": "currency",
    "付款方式": "payment_method",
    "付款": "payment",
    "结算方式": "settlement",
    "定金": "deposit",
    "日期": "date",
    "下单日期": "order_date",
    "交货日期": "delivery_date",
    "交期": "due_date",
    "发货日期": "ship_date",
    "时间": "time",
    "状态": "status",
    "备注": "remark",
    "说明": "note",
    "负责人": "owner_name",
    "业务员": "salesperson",
    "仓库": "warehouse",
    "部门": "department",
    "审核": "approval",
    "是否": "is",
    "加急": "urgent",
    "等级": "tier",
    "区域": "region",
    "城市": "city",
    "省份": "province",
    "序号": "seq",
}

#: names a form field may not take (system columns, the sub-table), and expression keywords
RESERVED = frozenset({"id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by", "lines"})
CHILD_RESERVED = frozenset({"id", "parent_id", "pos"})
KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "contains",
        "startswith",
        "endswith",
        "between",
        "is",
        "empty",
        "true",
        "false",
        "null",
        "where",
        "this",
        "me",
        "my",
        "old",
        "parent",
    }
)

_CJK = re.compile(r"[\u3400-\u9fff]")
_PIECES = re.compile(r"[\u3400-\u9fff]+|[A-Za-z0-9]+")
_LONGEST = max(len(w) for w in WORDS)


def snake(text: str) -> str:
    """``Unit Price (USD)`` -> ``unit_price_usd``; '' when the text has no ASCII word."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text))
    words = re.findall(r"[A-Za-z0-9]+", spaced)
    name = "_".join(w.lower() for w in words)
    if name and name[0].isdigit():
        name = "f_" + name
    return name[:60]


def _chinese(run: str) -> list[str]:
    """A run of Chinese characters as words: table words, longest first, pinyin in between."""
    from pypinyin import lazy_pinyin

    out: list[str] = []
    i, unknown = 0, ""
    while i < len(run):
        for size in range(min(_LONGEST, len(run) - i), 0, -1):
            word = WORDS.get(run[i : i + size])
            if word:
                break
        else:
            unknown += run[i]
            i += 1
            continue
        if unknown:
            out.extend(lazy_pinyin(unknown))
            unknown = ""
        out.append(word)
        i += size
    if unknown:
        out.extend(lazy_pinyin(unknown))
    return out


def header_name(header: str) -> str:
    """A snake_case name for a header in any script ('' when it has no letter or digit)."""
    if not _CJK.search(header):
        return snake(header)
    words: list[str] = []
    for piece in _PIECES.findall(header):
        words.extend(_chinese(piece) if _CJK.match(piece) else [snake(piece)])
    name = "_".join(w for w in words if w)
    name = re.sub(r"[^a-z0-9_]", "", name.lower())
    if name and name[0].isdigit():
        name = "f_" + name
    return name[:60].rstrip("_")


class Namer:
    """Unique names within one form or sub-table: ``header_name``, else ``field_<n>``; a name
    taken, reserved or a keyword gets the column's number (``remark_9``)."""

    def __init__(self, reserved: Iterable[str] = RESERVED) -> None:
        self.used: set[str] = set()
        self.reserved = frozenset(reserved) | KEYWORDS

    def name(self, header: str, number: int) -> str:
        """The name of the ``number``-th column (1-based), headed ``header``."""
        name = header_name(header) or f"field_{number}"
        while name in self.used or name in self.reserved:
            name = f"{name}_{number}"
        self.used.add(name)
        return name
