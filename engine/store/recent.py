"""What the writing transaction already knows: the records it wrote, and the ones it read by id.

The write pipeline reads each record once: a record written (its row as ``RETURNING`` gave it
back) or read by id (a link target, a lookup, a rule following ``customer.credit_limit``) is
kept here, and :meth:`~engine.store.records.RecordStore.get` answers from it until the
transaction ends. Every write of a form's rows goes through the store, which keeps its
entries current (:func:`remember`, :func:`forget`), so what is kept is what a read would give.

The entries belong to one transaction, and to the savepoint open when they were taken: a
savepoint that begins or ends (released or rolled back) starts afresh, since what a rolled
back savepoint wrote is no longer true. Callers get copies; nothing they change leaks back.
"""

from __future__ import annotations

from typing import Any, Hashable, Mapping, Optional

from sqlalchemy.engine import Connection

_KEY = "lc_recent"


class Recent:
    """The records of one transaction (and savepoint), by ``(form, id)``; None: known absent."""

    __slots__ = ("tx", "nested", "records", "dumps", "locked", "created", "notes")

    def __init__(self, tx: Any, nested: Any) -> None:
        self.tx, self.nested = tx, nested
        self.records: dict[tuple[str, int], Optional[dict[str, Any]]] = {}
        self.dumps: dict[tuple[str, int], Mapping[str, Any]] = {}  # a kept record as JSON, when the writer had it
        self.locked: set[tuple[str, int]] = set()  # written or read for update: this transaction holds their lock
        self.created: set[tuple[str, int]] = set()  # inserted by this transaction: nothing refers to them from before
        self.notes: set[Hashable] = set()  # what layers above noted about this transaction's work


def _recent(conn: Connection) -> Optional[Recent]:
    tx = conn.get_transaction()
    if tx is None:
        return None
    nested = conn.get_nested_transaction()
    found: Optional[Recent] = conn.info.get(_KEY)
    if found is None or found.tx is not tx or found.nested is not nested:
        found = conn.info[_KEY] = Recent(tx, nested)
    return found


def copy_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that shares no list or row with ``record``."""
    out = dict(record)
    for k, v in out.items():
        if type(v) is list:
            out[k] = [dict(r) if type(r) is dict else r for r in v]
    return out


def known(
    conn: Connection, form: str, record_id: int, *, locked: bool = False
) -> tuple[bool, Optional[dict[str, Any]]]:
    """``(True, record or None)`` when this transaction knows the record (``locked``: only one
    it wrote, which it holds locked); else ``(False, None)``."""
    recent = _recent(conn)
    if recent is None:
        return False, None
    key = (form, record_id)
    if key not in recent.records or (locked and key not in recent.locked):
        return False, None
    record = recent.records[key]
    return True, None if record is None else copy_record(record)


def exists(conn: Connection, form: str, record_id: int) -> Optional[bool]:
    """Whether the record exists, as far as this transaction knows (None: it does not know)."""
    recent = _recent(conn)
    if recent is None:
        return None
    found = recent.records.get((form, record_id), _UNKNOWN)
    return None if found is _UNKNOWN else found is not None


_UNKNOWN: Any = object()


def remember(
    conn: Connection,
    form: str,
    record_id: int,
    record: Optional[Mapping[str, Any]],
    *,
    locked: bool = False,
    created: bool = False,
    data: Optional[Mapping[str, Any]] = None,
) -> None:
    """Keep ``record`` (None: it does not exist) as this transaction now knows it (``created``:
    it inserted the record, so rows that refer to it can only be its own; ``data``: the
    record as JSON, :func:`~engine.store.serialize.dump_record`, which nobody changes after)."""
    recent = _recent(conn)
    if recent is None:
        return
    key = (form, record_id)
    recent.records[key] = None if record is None else copy_record(record)
    if data is None or record is None:
        recent.dumps.pop(key, None)
    else:
        recent.dumps[key] = data
    if locked:
        recent.locked.add(key)
    if created:
        recent.created.add(key)


def kept_data(conn: Connection, form: str, record_id: int) -> Optional[Mapping[str, Any]]:
    """The kept record as JSON, when the writer that kept it gave it (read it, never change it)."""
    recent = _recent(conn)
    return None if recent is None else recent.dumps.get((form, record_id))


def created_here(conn: Connection, form: str, record_id: int) -> bool:
    """Whether this transaction (as far as it is kept) inserted the record."""
    recent = _recent(conn)
    return recent is not None and (form, record_id) in recent.created


def note(conn: Connection, key: Hashable) -> None:
    """Note ``key`` for the rest of the transaction (a rule flagged a record, say)."""
    recent = _recent(conn)
    if recent is not None:
        recent.notes.add(key)


def noted(conn: Connection, key: Hashable) -> bool:
    """Whether ``key`` was noted in this transaction since it (or its savepoint) began; a
    note can be lost with the rest (a savepoint began or ended), never made up."""
    recent = _recent(conn)
    return recent is not None and key in recent.notes


def forget(conn: Connection, form: str) -> None:
    """Drop every record of ``form`` (a set-based update changed rows the store did not read)."""
    recent = _recent(conn)
    if recent is not None:
        for key in [k for k in recent.records if k[0] == form]:
            del recent.records[key]
            recent.dumps.pop(key, None)
            recent.locked.discard(key)
            recent.created.discard(key)
