"""Load a pack (a folder, or {relative path: text}) into a checked PackSpec.

Every problem in every file is collected and raised at once as :class:`DefinitionErrors`;
each error names ``root/relative/path:line:col``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from engine.definitions.build_demo import check_demo
from engine.definitions.build_forms import build_form, in_zone
from engine.definitions.build_roles import build_roles
from engine.definitions.checks import Draft, run_checks
from engine.definitions.common import Broken, frozen, opt_labels, to_labels
from engine.definitions.crossref import check_forms
from engine.definitions.expressions import check_expressions
from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.definitions.schema_check import check as schema_check
from engine.definitions.schema_check import did_you_mean
from engine.definitions.scopes import scopes_for
from engine.definitions.yaml_source import PosDict, Source, bool_key_as_text, parse_yaml, plain_data
from engine.errors import DefinitionError, DefinitionErrors, Position

_DATA = r"\.(?:ya?ml|json)"
#: what a pack may hold: relative path pattern -> kind
LAYOUT = (
    (re.compile(rf"pack{_DATA}"), "pack"),
    (re.compile(rf"roles{_DATA}"), "roles"),
    (re.compile(rf"forms/([^/]+){_DATA}"), "form"),
    (re.compile(rf"options/([^/]+){_DATA}"), "options"),
    (re.compile(rf"flows/[^/]+{_DATA}"), "flow"),
    (re.compile(rf"reports/[^/]+{_DATA}"), "report"),
    (re.compile(rf"prints/[^/]+{_DATA}"), "print"),
    (re.compile(r"prints/.+"), "asset"),  # templates and the like, kept as text
    (re.compile(r"rules/[^/]+\.rules"), "rules"),
    (re.compile(rf"rules/[^/]+\.decision{_DATA}"), "decision"),
    (re.compile(rf"demo/data{_DATA}"), "demo"),
    (re.compile(r"(?:.+/)?[^/]+\.md"), "doc"),
)
LAYOUT_HINT = (
    "a pack holds pack.yaml, roles.yaml, forms/*.yaml, options/*.yaml, flows/*.yaml, rules/*.rules, "
    "rules/*.decision.yaml, "
    "reports/*.yaml, prints/*.yaml, demo/data.yaml and README.md files"
)

PathLike = Union[str, Path]


def pack_checksum(files: Mapping[str, str]) -> str:
    """sha256 over the sorted relative paths and exact texts of a pack's files."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode("utf-8") + b"\0" + files[rel].encode("utf-8") + b"\0")
    return digest.hexdigest()


def read_pack_files(path: PathLike) -> dict[str, str]:
    """Every file under the pack folder (hidden ones skipped) as exact text, by relative path."""
    base = Path(path)
    if not base.is_dir():
        raise DefinitionErrors(
            [
                DefinitionError(
                    f"no pack folder at '{path}'", Position(str(path)), "give the folder that holds pack.yaml"
                )
            ]
        )
    files: dict[str, str] = {}
    problems: list[DefinitionError] = []
    inside = base.resolve()
    for item in sorted(base.rglob("*")):
        rel = item.relative_to(base).as_posix()
        if not item.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.split("/")):
            continue
        if not item.resolve().is_relative_to(inside):
            problems.append(
                DefinitionError(
                    "a link to a file outside the pack",
                    Position(_display(_root(path), rel)),
                    "copy the file into the pack instead",
                )
            )
            continue
        try:
            files[rel] = item.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(DefinitionError(f"not UTF-8 text (byte {exc.start})", Position(_display(_root(path), rel))))
    if problems:
        raise DefinitionErrors(problems)
    return files


def load_pack(path: PathLike) -> PackSpec:
    """Read and check the pack folder at ``path``; raise DefinitionErrors listing every problem."""
    return load_pack_files(read_pack_files(path), _root(path))


def check_pack(path: PathLike) -> list[DefinitionError]:
    """Every problem of the pack at ``path`` (an empty list when it loads); never raises them."""
    try:
        load_pack(path)
    except DefinitionErrors as exc:
        return list(exc.errors)
    return []


def check_pack_files(files: Mapping[str, str], root: str, others: Sequence[PackSpec] = ()) -> list[DefinitionError]:
    """Every problem of a pack given as texts (a builder draft); never raises them."""
    try:
        load_pack_files(files, root, others)
    except DefinitionErrors as exc:
        return list(exc.errors)
    return []


def load_pack_files(files: Mapping[str, str], root: str, others: Sequence[PackSpec] = ()) -> PackSpec:
    """Check and build a pack from ``{relative path: text}``; file names in errors are root/rel.

    ``others`` are packs already installed (those named in ``depends``): links, roles and
    expressions may name their forms.
    """
    return _Loading(files, root, others).run()


def _root(path: PathLike) -> str:
    text = Path(path).as_posix()
    return text.rstrip("/") if text != "/" else text


def _display(root: str, rel: str) -> str:
    return f"{root}/{rel}" if root else rel


class _Loading:
    """One load: the files, what was parsed, and every error found on the way."""

    def __init__(self, files: Mapping[str, str], root: str, others: Sequence[PackSpec] = ()) -> None:
        self.files = dict(files)
        self.others = others
        self.root = root.rstrip("/")
        self.errors: list[DefinitionError] = []
        self.by_kind: dict[str, list[str]] = {}
        self.pack_node: Optional[PosDict] = None

    def parse(self, rel: str, schema: str) -> Optional[PosDict]:
        """Parse and schema-check one file; None when it cannot be used."""
        data, found = self.parse_all(rel, schema)
        return None if found else data

    def parse_all(self, rel: str, schema: str) -> tuple[Optional[PosDict], list[DefinitionError]]:
        """Parse and schema-check one file: the data (None if unreadable) and its problems."""
        source = Source(_display(self.root, rel), self.files[rel])
        data, problems = parse_yaml(self.files[rel], source.file)
        if data is None and not problems:
            problems = [source.error("the file is empty")]
        if schema == "flow" and isinstance(data, PosDict):
            bool_key_as_text(data.get("start"), True, "on")  # start: {on: create}
        if data is not None:
            problems = problems + schema_check(data, schema, source)
        self.errors.extend(problems)
        return (data if isinstance(data, PosDict) else None), problems

    def roles(self, locale: str, forms: Mapping[str, FormSpec], broken: Broken) -> dict[str, RoleSpec]:
        """The roles that are well-formed, and the names of those that are not."""
        rels = self.by_kind.get("roles", [])
        if not rels:
            return {}
        node, problems = self.parse_all(rels[0], "roles")
        roles = node.get("roles") if node is not None else None
        if not isinstance(roles, PosDict) or any(not (e.path or "").startswith("roles.") for e in problems):
            broken.roles.add("*")
            return {}
        bad = {(e.path or "").split(".")[1] for e in problems}
        broken.roles |= bad
        good = PosDict(roles.source, roles.start)
        for name, value in roles.items():
            if name not in bad:
                good[name] = value
                good.key_marks[name] = roles.key_marks[name]
                good.value_marks[name] = roles.value_marks[name]
        return build_roles(good, locale, forms, broken, self.errors)

    def classify(self) -> None:
        for rel in sorted(self.files):
            for pattern, kind in LAYOUT:
                if pattern.fullmatch(rel):
                    self.by_kind.setdefault(kind, []).append(rel)
                    break
            else:
                self.errors.append(DefinitionError("unexpected file", Position(_display(self.root, rel)), LAYOUT_HINT))
        for kind in ("pack", "roles", "demo"):
            if len(self.by_kind.get(kind, [])) > 1:
                self.errors.append(
                    DefinitionError(
                        f"more than one {kind} file: " + ", ".join(self.by_kind[kind]),
                        Position(_display(self.root, self.by_kind[kind][1])),
                    )
                )

    def run(self) -> PackSpec:
        self.classify()
        checksum = pack_checksum(self.files)
        pack = self.pack_info()
        locale = pack.get("locale", "zh-CN")
        forms, nodes, broken = self.forms(locale)
        zone = pack.get("timezone", "Asia/Shanghai")
        forms = {name: in_zone(form, zone) for name, form in forms.items()}
        outside = {n: f for p in self.others for n, f in p.forms.items() if n not in forms}
        check_forms(forms, nodes, broken, self.errors, set(outside))
        roles = self.roles(locale, {**outside, **forms}, broken)
        portal_form = self.portal_form(pack, {**outside, **forms})
        version = f"{pack.get('version', '0')}:{checksum}"
        checkable = {n: f for n, f in forms.items() if n not in broken.fields}
        scopes = scopes_for([*outside.values(), *checkable.values()], version)
        check_expressions(checkable, roles, scopes, self.errors)
        # what the layers above compile (form logic, decision tables, ...), checked now
        run_checks(Draft(self.files, self.by_kind, self.root, checkable, roles, scopes, self.errors))
        demo: Any = {}
        for rel in self.by_kind.get("demo", [])[:1]:
            node = self.parse(rel, "demo")
            if node is not None:
                check_demo(node, forms, roles, broken, self.errors)
                demo = plain_data(node)
        extras = {}
        for kind in ("flow", "report", "print"):
            for rel in self.by_kind.get(kind, []):
                node = self.parse(rel, kind)
                if node is not None:
                    extras[rel] = frozen(plain_data(node))
        if self.errors:
            raise DefinitionErrors(self.errors)
        return PackSpec(
            name=pack["name"],
            version=pack["version"],
            label=to_labels(pack.get("label"), locale, pack["name"]),
            root=self.root,
            timezone=zone,
            locale=locale,
            depends=tuple(pack.get("depends") or ()),
            forms=frozen(forms),
            roles=frozen(roles),
            files=frozen(self.files),
            extras=frozen(extras),
            demo=frozen(demo),
            description=opt_labels(pack.get("description"), locale),
            checksum=checksum,
            portal_form=portal_form,
            rules=frozen({rel: self.files[rel] for rel in self.by_kind.get("rules", [])}),
        )

    def pack_info(self) -> dict[str, Any]:
        rels = self.by_kind.get("pack", [])
        if not rels:
            self.errors.append(
                DefinitionError(
                    "missing pack.yaml",
                    Position(_display(self.root, "pack.yaml")),
                    "every pack needs a pack.yaml with at least name and version",
                )
            )
            return {}
        node = self.parse(rels[0], "pack")
        if node is None:
            return {}
        zone = node.get("timezone")
        if zone is not None:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(zone)
            except (ValueError, KeyError, OSError):
                self.errors.append(
                    DefinitionError(
                        f"unknown time zone '{zone}'",
                        node.value_pos("timezone"),
                        "use an IANA name such as Asia/Shanghai",
                        "timezone",
                    )
                )
        self.pack_node = node
        return dict(node)

    def portal_form(self, pack: Mapping[str, Any], forms: Mapping[str, FormSpec]) -> Optional[str]:
        """``portal_form``: the form whose records portal users belong to (their ``customer_id``)."""
        name = pack.get("portal_form")
        if name is not None and name not in forms and self.pack_node is not None:
            self.errors.append(
                DefinitionError(
                    f"portal_form: unknown form '{name}'",
                    self.pack_node.value_pos("portal_form"),
                    did_you_mean(name, list(forms)) or "name the form of the customers' accounts",
                    "portal_form",
                )
            )
            return None
        return name

    def option_libraries(self, locale: str) -> dict[str, Any]:
        """``options/<name>.yaml`` files: name -> options (what ``options: "@name"`` gives)."""
        from engine.definitions.build_forms import library_options

        out: dict[str, Any] = {}
        for rel in self.by_kind.get("options", []):
            stem = rel.split("/", 1)[1].rsplit(".", 1)[0]
            node = self.parse(rel, "options")
            if node is not None:
                out[stem] = library_options(node, stem, locale, self.errors)
        return out

    def forms(self, locale: str) -> tuple[dict[str, FormSpec], dict[str, PosDict], Broken]:
        forms: dict[str, FormSpec] = {}
        nodes: dict[str, PosDict] = {}
        broken = Broken()
        stems: dict[str, str] = {}
        libraries = self.option_libraries(locale)
        for rel in self.by_kind.get("form", []):
            stem = rel.split("/", 1)[1].rsplit(".", 1)[0]
            if stem in stems:
                self.errors.append(
                    DefinitionError(
                        f"form '{stem}' is defined twice: {stems[stem]} and {rel}",
                        Position(_display(self.root, rel)),
                        "keep one of the two files",
                    )
                )
                continue
            stems[stem] = rel
            node, problems = self.parse_all(rel, "form")
            skip = _bad_fields(problems) if node is not None else None
            if node is None or skip is None:
                broken.forms.add(stem)
                continue
            if skip:
                items = [node["fields"][i] for i in skip]
                broken.fields[stem] = {
                    f["name"] for f in items if isinstance(f, dict) and isinstance(f.get("name"), str)
                }
            forms[stem] = build_form(node, node.source, stem, locale, self.errors, frozenset(skip), libraries)
            nodes[stem] = node
        return forms, nodes, broken


def _bad_fields(problems: list[DefinitionError]) -> Optional[set[int]]:
    """Indexes of the fields that schema problems are in; None if the form itself is wrong."""
    bad: set[int] = set()
    for e in problems:
        if e.path is None and "duplicate key" in e.message:
            continue  # the first value is kept: the form can still be built
        match = re.match(r"fields\[(\d+)\]", e.path or "")
        if match is None:
            return None
        bad.add(int(match.group(1)))
    return bad
