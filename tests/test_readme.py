"""The README's console examples run as shown, and answer what the README shows.

The README is the one place of truth: this test reads its ```console blocks and runs them,
in order, in one session, as a new user would after the README's first step (``python run.py
demo && python run.py serve``, which the test does first: the demo on a fresh database, then
the app ``serve`` runs, ``create_app()``, served over real HTTP on a free port).

* ``$ `` starts a command (a line ending in ``\\`` continues it); the lines up to the next
  ``$ `` are what it prints (stdout and stderr, as a terminal shows them), or nothing.
* ``curl`` lines and other shell commands run in ``bash`` (``localhost:5000`` is the test
  server's port); ``NAME=...`` sets a variable for the later commands (``$T``);
  ``python run.py ...`` runs the command line's ``main`` in this process.
* The session's clock starts at 2026-11-22 08:00 UTC and moves one minute per command, as if
  typed; nothing sleeps.
* Comparing: an answer that is JSON must have the shape shown. ``…`` stands for what is left
  out: ``{…}`` any object, ``[…]`` any list, ``, …}`` more keys, ``"…"`` any value and
  ``"SO-…"`` any text so starting; everything shown is compared exactly. Other output is
  compared line by line, ``…`` matching any text and a line ``…`` any lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
ANY = "…"
_OPERATORS = {"|", "||", "&", "&&", ";", "<", ">", ">>", "(", ")"}


@dataclass
class Command:
    text: str
    expected: str
    line: int  # in the README

    def __str__(self) -> str:
        return f"README.md:{self.line}: $ {self.text}"


def console_commands(text: str) -> list[Command]:
    """Every command of every ```console block, with the output the README shows for it."""
    commands: list[Command] = []
    for block in re.finditer(r"^```console\n(.*?)^```", text, re.S | re.M):
        first = text.count("\n", 0, block.start(1)) + 1
        current: list[str] = []
        for number, line in enumerate(block.group(1).splitlines(), first):
            if line.startswith("$ "):
                current = [line[2:]]
                commands.append(Command(line[2:], "", number))
            elif current and (current[-1].endswith("\\") or _open_quote("\n".join(current))):
                current.append(line)
                commands[-1].text = "\n".join(current)
            else:
                current = []
                if commands:
                    commands[-1].expected += line + "\n"
    return commands


def _open_quote(command: str) -> bool:
    """Is a quote still open at the end (the shell reads on, as it does after a ``\\``)?"""
    quote = None
    escaped = False
    for ch in command:
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return quote is not None


# ---- comparing an answer with what the README shows ---------------------------------------------
def _wildcards(shown: str) -> Any:
    """The README's JSON with ``…`` made JSON: ``{…}`` / ``, …}`` -> a ``"…": "…"`` member,
    other bare ``…`` -> the string ``"…"``."""
    out, in_string, i = [], False, 0
    while i < len(shown):
        ch = shown[i]
        if in_string:
            out.append(ch)
            if ch == "\\":
                out.append(shown[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif shown.startswith(ANY, i) or shown.startswith("...", i):
            before = "".join(out).rstrip()
            rest = shown[i + (1 if ch == ANY else 3) :].lstrip()
            member = before.endswith(("{", ",")) and rest.startswith("}")
            out.append(f'"{ANY}": "{ANY}"' if member else f'"{ANY}"')
            i += 0 if ch == ANY else 2
        else:
            out.append(ch)
        i += 1
    return json.loads("".join(out))


def _shape(shown: Any, got: Any, where: str = "") -> list[str]:
    """How ``got`` differs from what is ``shown`` (empty: it has the shape)."""
    if isinstance(shown, str) and ANY in shown:
        if shown == ANY:
            return []
        pattern = ".*".join(re.escape(part) for part in shown.split(ANY))
        return (
            [] if isinstance(got, str) and re.fullmatch(pattern, got, re.S) else [f"{where}: {got!r} is not {shown!r}"]
        )
    if isinstance(shown, dict):
        if not isinstance(got, dict):
            return [f"{where}: {got!r} is not an object"]
        keys = [k for k in shown if k != ANY]
        problems = [f"{where}.{k}: missing" for k in keys if k not in got]
        if ANY not in shown:
            problems += [f"{where}.{k}: not shown in the README" for k in got if k not in shown]
        for k in keys:
            if k in got:
                problems += _shape(shown[k], got[k], f"{where}.{k}")
        return problems
    if isinstance(shown, list):
        if not isinstance(got, list):
            return [f"{where}: {got!r} is not a list"]
        items = shown[:-1] if shown and shown[-1] == ANY else shown
        if len(got) < len(items) or (items is shown and len(got) != len(shown)):
            return [f"{where}: {len(got)} items, the README shows {len(shown)}"]
        return [p for k, (s, g) in enumerate(zip(items, got)) for p in _shape(s, g, f"{where}[{k}]")]
    return [] if shown == got and type(shown) is type(got) else [f"{where}: {got!r}, the README shows {shown!r}"]


def _lines(shown: str, got: str) -> list[str]:
    """Text output line by line; ``…`` matches any text, a line ``…`` any lines."""
    pattern = "\n".join(
        r"(?:.*\n?)*?" if line.strip() == ANY else ".*".join(re.escape(part) for part in line.rstrip().split(ANY))
        for line in shown.rstrip("\n").splitlines()
    )
    text = "\n".join(line.rstrip() for line in got.rstrip("\n").splitlines())
    return [] if re.fullmatch(pattern, text) else [f"printed:\n{got}"]


def _json_head(shown: str) -> tuple[Any, str] | None:
    """The JSON the README shows first (over one or more lines) and the lines after it."""
    lines = shown.splitlines(keepends=True)
    for k in range(1, len(lines) + 1):
        try:
            return _wildcards("".join(lines[:k])), "".join(lines[k:])
        except ValueError:
            continue
    return None


def differences(shown: str, got: str) -> list[str]:
    if not shown.strip():
        return [] if not got.strip() else [f"printed, but the README shows nothing:\n{got}"]
    head = _json_head(shown) if shown.lstrip()[:1] in "{[" else None
    if head is None:
        return _lines(shown, got)
    try:
        answer, end = json.JSONDecoder().raw_decode(got.lstrip())
    except ValueError:
        return [f"not JSON:\n{got}"]
    rest = got.lstrip()[end:].lstrip("\n")
    problems = [f"{p}\n  (the answer: {got.strip()})" for p in _shape(head[0], answer)]
    if head[1].strip() or rest.strip():
        problems += _lines(head[1], rest)
    return problems


# ---- the session --------------------------------------------------------------------------------
class Session:
    """A new user's shell: a working folder, variables, the served app, the session's clock."""

    def __init__(self, folder: Path, port: int, db_url: str) -> None:
        self.folder, self.port = folder, port
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        }

    def run(self, command: Command) -> str:
        text = command.text
        assign = re.match(r"([A-Za-z_]\w*)=", text)
        words = _words(text) if text.startswith("python run.py ") else []
        if words and not _OPERATORS & set(words) and "$" not in text:
            return self._cli(words[2:])
        shell = text.replace("localhost:5000", f"localhost:{self.port}")
        if assign:
            shell += f'\nprintf %s "${assign.group(1)}"'
        proc = subprocess.run(
            ["bash", "-c", shell],
            cwd=self.folder,
            env=self.env,
            capture_output=not assign,
            stdout=subprocess.PIPE if assign else None,
            text=True,
            timeout=120,
        )
        if assign:
            self.env[assign.group(1)] = proc.stdout
            return ""
        return proc.stdout + proc.stderr

    def _cli(self, args: list[str]) -> str:
        import run

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                run.main(args)
            except SystemExit as exc:
                if exc.code not in (None, 0, 1):
                    print(exc.code, file=sys.stderr)
        return out.getvalue()


def _words(command: str) -> list[str]:
    """The command's words as the shell splits them (comments dropped, operators apart)."""
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


@pytest.fixture
def session(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Session, list[dt.datetime]]]:
    from werkzeug.serving import make_server

    from apps import create_app
    from engine.context import Clock

    now = [START - dt.timedelta(minutes=10)]
    monkeypatch.setattr(Clock, "now", lambda self: now[0])
    monkeypatch.setenv("DATABASE_URL", db_url)
    for name in ("definitions", "run.py"):  # the repository's, as in a checkout
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    shell = Session(tmp_path, 0, db_url)
    assert "python run.py demo && python run.py serve" in README.read_text(encoding="utf-8")
    shell._cli(["demo"])
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    shell.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield shell, now
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_every_console_example_runs_as_the_readme_shows(session: tuple[Session, list[dt.datetime]]) -> None:
    shell, now = session
    commands = console_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 10
    failures = []
    for i, command in enumerate(commands):
        now[0] = START + dt.timedelta(minutes=i)
        got = shell.run(command)
        failures += [f"{command}\n{problem}" for problem in differences(command.expected, got)]
    assert not failures, "\n\n".join(failures)


# ---- the comparison itself ------------------------------------------------------------------------
def test_console_blocks_are_read_with_continuations_and_outputs() -> None:
    text = (
        "x\n```console\n$ curl -s a \\\n     -d '{}'\n{\"id\": 1, …}\n$ T=x\n"
        "$ curl -d '{\"a\": [\n  1]}'\n[1,\n 2]\n```\n```bash\n$ no\n```\n"
    )
    assert [(c.text, c.expected, c.line) for c in console_commands(text)] == [
        ("curl -s a \\\n     -d '{}'", '{"id": 1, …}\n', 3),
        ("T=x", "", 6),
        ("curl -d '{\"a\": [\n  1]}'", "[1,\n 2]\n", 7),
    ]


@pytest.mark.parametrize(
    "shown, got, ok",
    [
        ('{"id": 5, "version": 1, …}', '{"id": 5, "version": 1, "x": 2}', True),
        ('{"id": 5, "version": 1, …}', '{"id": 5, "version": 2}', False),
        ('{"id": 5, "version": 1}', '{"id": 5, "version": 1, "x": 2}', False),
        ('{"items": [...], "total": 3}', '{"items": [1, 2, 3], "total": 3}', True),
        ('{"user": {…}, "token": "…"}', '{"user": {"a": 1}, "token": "abc"}', True),
        ('{"number": "SO-…"}', '{"number": "SO-202611-00005"}', True),
        ('{"number": "SO-…"}', '{"number": 5}', False),
        ('[{"a": 1}, …]', '[{"a": 1}, {"b": 2}]', True),
        ('[{"a": 1}]', '[{"a": 1}, {"b": 2}]', False),
        ('{"a": "x … y"}', '{"a": "x and y"}', True),
        ('{"a": 1}', "not json", False),
        ("ok: 3 rules", "ok: 3 rules\n", True),
        ("   12  … fired  审批路线\n…\n2 of 9 runs", "   12  2026 fired  审批路线\n   11  x\n2 of 9 runs\n", True),
        ("ok: 3 rules", "ok: 4 rules", False),
        ("", "something", False),
        ('{"ok": true, …}\nsales_order: 1 updated', '{\n  "ok": true,\n  "x": 1\n}\nsales_order: 1 updated\n', True),
        ('{"ok": true, …}\nsales_order: 1 updated', '{"ok": true}\nsales_order: 2 updated\n', False),
        ('{"error": {"fields": {\n  "a": ["x"]}}}', '{"error": {"fields": {"a": ["x"]}}}', True),
    ],
)
def test_answers_are_compared_by_shape(shown: str, got: str, ok: bool) -> None:
    assert (differences(shown + "\n", got) == []) is ok
