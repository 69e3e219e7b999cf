"""A generated form as a browser sees it, without a browser: the controls of the page's
``<form class="lc-form">`` (parsed with the standard library), filled by field, and posted
the way a browser encodes them (successful controls only, multipart with the files).

Sub-table rows are added from the table's ``<template>``, as ``workspace.js`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Optional

VOID = {"input", "img", "br", "hr", "meta", "link", "source", "col", "wbr"}
TEMPLATE = re.compile(r'<div class="subtable" data-table="([^"]+)">.*?<template>(.*?)</template>', re.S)


@dataclass
class Control:
    """One input, select or textarea, with the field (and sub-table cell) it belongs to."""

    tag: str
    attrs: dict[str, str]
    field: Optional[str]
    col: Optional[str] = None
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, label, selected
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # name, content, type

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")

    @property
    def kind(self) -> str:
        return self.attrs.get("type", "text") if self.tag == "input" else self.tag

    def choose(self, *labels_or_values: str) -> None:
        """Select the options with these labels (or values); only these when the select is multiple."""
        wanted = set(labels_or_values)
        if not any(v in wanted or label in wanted for v, label, _ in self.options):
            raise AssertionError(f"{self.name}: no option {labels_or_values} in {self.options}")
        self.options = [(v, label, v in wanted or label in wanted) for v, label, _ in self.options]

    def successful(self) -> list[tuple[str, str]]:
        """The (name, value) pairs a browser posts for this control."""
        if not self.name or "disabled" in self.attrs or self.attrs.get("form"):
            return []
        kind = self.kind
        if kind in ("checkbox", "radio"):
            return [(self.name, self.attrs.get("value", "on"))] if self.checked else []
        if kind in ("button", "submit", "file"):
            return []
        if self.tag == "select":
            chosen = [v for v, _, sel in self.options if sel]
            if not chosen and "multiple" not in self.attrs and self.options:
                chosen = [self.options[0][0]]
            return [(self.name, v) for v in chosen]
        if self.tag == "textarea":
            return [(self.name, self.value.replace("\r\n", "\n").replace("\n", "\r\n"))]
        return [(self.name, self.value)]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.controls: list[Control] = []
        self.form_attrs: dict[str, str] = {}
        self._open: Optional[Control] = None
        self._option: Optional[list[Any]] = None

    def _context(self, key: str) -> Optional[str]:
        for _, attrs in reversed(self.stack):
            if key in attrs:
                return attrs[key]
        return None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, Optional[str]]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "form" and "data-lc-form" in attrs:
            self.form_attrs = attrs
        if tag in ("input", "select", "textarea"):
            control = Control(
                tag,
                attrs,
                self._context("data-field") or self._context("data-table"),
                self._context("data-col"),
                value=attrs.get("value", ""),
                checked="checked" in attrs,
            )
            self.controls.append(control)
            self._open = control if tag != "input" else None
        elif tag == "option" and self._open is not None:
            self._option = [attrs.get("value"), "", "selected" in attrs]
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[1] += data
        elif self._open is not None and self._open.tag == "textarea":
            self._open.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._open is not None:
            value, label, selected = self._option
            self._open.options.append((label.strip() if value is None else value, label.strip(), selected))
            self._option = None
        if tag in ("select", "textarea"):
            if self._open is not None and self._open.tag == "textarea" and self._open.value.startswith("\n"):
                self._open.value = self._open.value[1:]
            self._open = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def _controls(html: str) -> tuple[list[Control], dict[str, str]]:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.controls, parser.form_attrs


class HtmlForm:
    """The lc-form of a page."""

    def __init__(self, html: str) -> None:
        start = html.index('<form method="post" class="lc-form"')
        body = html[start : html.index("</form>", start) + len("</form>")]
        self.templates = {table: tpl for table, tpl in TEMPLATE.findall(body)}
        self.controls, self.attrs = _controls(re.sub(r"<template>.*?</template>", "", body, flags=re.S))

    def of(self, field_name: str, col: Optional[str] = None, row: Optional[int] = None) -> list[Control]:
        """The controls of a field (or of a sub-table cell: ``col``, in row ``row``)."""
        found = [
            c
            for c in self.controls
            if c.field == field_name
            and c.kind != "search"
            and (col is None or c.col == col)
            and (row is None or c.name.startswith(f"{field_name}[{row}]."))
        ]
        assert found, f"no inputs for {field_name} {col or ''}"
        return found

    def one(self, field_name: str, kind: Optional[str] = None, **match: str) -> Control:
        """The single visible, named control of a field (of ``kind``, with attributes ``match``)."""
        found = [
            c
            for c in self.of(field_name)
            if c.kind != "hidden"
            and c.name
            and (kind is None or c.kind == kind)
            and all(c.attrs.get(k.replace("_", "-")) == v for k, v in match.items())
        ]
        assert len(found) == 1, f"{field_name}: {len(found)} controls match {kind} {match}"
        return found[0]

    def add_row(self, table: str) -> int:
        """Add a sub-table row from the table's template, as the add button does; its index."""
        taken = [int(m) for c in self.controls for m in re.findall(rf"^{re.escape(table)}\[(\d+)\]\.", c.name)]
        index = max(taken, default=-1) + 1
        controls, _ = _controls(self.templates[table].replace("__i__", str(index)))
        for c in controls:
            c.field = table
        self.controls.extend(controls)
        return index

    def remove_row(self, table: str, index: int) -> None:
        self.controls = [c for c in self.controls if not c.name.startswith(f"{table}[{index}].")]

    def encode(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The multipart parts (``files=`` of ``requests``) of every control in page order; an
        empty file part for a file input left empty, as browsers send it."""
        parts: list[tuple[str, tuple[Any, ...]]] = []
        for c in self.controls:
            if c.kind == "file" and c.name and "disabled" not in c.attrs:
                for name, content, ctype in c.files or [("", b"", "application/octet-stream")]:
                    parts.append((c.name, (name, content, ctype)))
            else:
                parts.extend((n, (None, v)) for n, v in c.successful())
        return parts


def errors_of(html: str, key: str) -> list[str]:
    """The messages a page draws next to the widget of ``key`` (``f_json``, ``lines[2].qty``)."""
    block = re.search(r'<div class="errors" id="e-' + re.escape(key) + r'">(.*?)</div>', html, re.S)
    assert block, f"no error block for {key}"
    return re.findall(r'<p class="error">([^<]+)</p>', block[1])
