"""Users and API tokens (hashed, expiring, revocable)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.context import Clock, RunContext
from engine.errors import AuthError, Conflict, NotFound
from engine.security.passwords import check_password, hash_password, new_token, token_digest
from engine.store.system import tokens, users


@dataclass(frozen=True)
class User:
    id: int
    username: str
    roles: frozenset[str]
    display_name: Optional[str] = None
    email: Optional[str] = None
    customer_id: Optional[int] = None
    active: bool = True
    #: the user's department (``lc_department``, see :mod:`engine.security.org`)
    department_id: Optional[int] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "roles": sorted(self.roles),
            "display_name": self.display_name,
            "email": self.email,
            "customer_id": self.customer_id,
            "department_id": self.department_id,
        }


def _user(row: Any) -> User:
    return User(
        row.id,
        row.username,
        frozenset(row.roles or ()),
        row.display_name,
        row.email,
        row.customer_id,
        bool(row.active),
        row.department_id,
    )


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash no password matches, checked when the user has none to check against."""
    return hash_password(new_token())


# the token with its user, built once (its SQLAlchemy cache key is then computed once)
_TOKEN_USER = (
    sa.select(users, tokens.c.revoked_at.label("lc_revoked_at"), tokens.c.expires_at.label("lc_expires_at"))
    .join_from(tokens, users, users.c.id == tokens.c.user_id)
    .where(tokens.c.token_hash == sa.bindparam("digest"))
)


class Users:
    """Create users, check passwords, issue and revoke tokens."""

    def __init__(self, clock: Clock, token_ttl: dt.timedelta = dt.timedelta(days=30)) -> None:
        self.clock = clock
        self.token_ttl = token_ttl

    def add(
        self,
        conn: Connection,
        username: str,
        password: Optional[str],
        roles: Iterable[str],
        *,
        display_name: Optional[str] = None,
        email: Optional[str] = None,
        customer_id: Optional[int] = None,
    ) -> User:
        if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
            raise Conflict(f"user '{username}' exists already", {"username": ["already taken"]})
        uid = conn.execute(
            users.insert()
            .values(
                username=username,
                password_hash=hash_password(password) if password else None,
                display_name=display_name or username,
                email=email,
                roles=sorted(set(roles)),
                customer_id=customer_id,
                active=True,
                created_at=self.clock.now(),
            )
            .returning(users.c.id)
        ).scalar_one()
        return self.get(conn, uid)

    def set_password(self, conn: Connection, username: str, password: str) -> None:
        result = conn.execute(
            users.update().where(users.c.username == username).values(password_hash=hash_password(password))
        )
        if result.rowcount != 1:
            raise NotFound(f"no user '{username}'")

    def get(self, conn: Connection, user_id: int) -> User:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return _user(row)

    def by_name(self, conn: Connection, username: str) -> Optional[User]:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        return None if row is None else _user(row)

    def all(self, conn: Connection) -> list[User]:
        return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.id))]

    def authenticate(self, conn: Connection, username: str, password: str) -> User:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        stored = row.password_hash if row is not None else None
        # an unknown user (or one without a password) costs the same hashing: no timing tell
        matches = check_password(stored or _decoy_hash(), password) and bool(stored)
        if row is None or not row.active or not matches:
            raise AuthError.said("wrong_password")
        return _user(row)

    def issue_token(self, conn: Connection, user: User, label: str = "login") -> tuple[str, dt.datetime]:
        token = new_token()
        now = self.clock.now()
        expires = now + self.token_ttl
        conn.execute(
            tokens.insert().values(
                user_id=user.id, token_hash=token_digest(token), created_at=now, expires_at=expires, label=label
            )
        )
        return token, expires

    def user_for_token(self, conn: Connection, token: str) -> User:
        """The user of a valid token (one query: the token with its user)."""
        row = conn.execute(_TOKEN_USER, {"digest": token_digest(token)}).first()
        now = self.clock.now()
        if row is None or row.lc_revoked_at is not None or (row.lc_expires_at and row.lc_expires_at <= now):
            raise AuthError.said("bad_token")
        user = _user(row)
        if not user.active:
            raise AuthError.said("user_disabled")
        return user

    def revoke(self, conn: Connection, token: str) -> bool:
        result = conn.execute(
            tokens.update()
            .where(tokens.c.token_hash == token_digest(token), tokens.c.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        return result.rowcount == 1

    def revoke_all(self, conn: Connection, user_id: int) -> int:
        result = conn.execute(
            tokens.update()
            .where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        return int(result.rowcount)

    def context(self, user: User, clock: Clock, *, superuser: bool, timezone: str, locale: str) -> RunContext:
        return RunContext(
            user_id=user.id,
            username=user.username,
            roles=user.roles,
            customer_id=user.customer_id,
            clock=clock,
            timezone=timezone,
            locale=locale,
            superuser=superuser,
        )
