"""Inbound webhooks: a signed JSON body runs the ``webhook "<name>"`` rules, once per delivery.

``POST /api/v1/hooks/<name>`` (see :mod:`apps.api.hooks`) hands the raw body here:

0. **name**: a name no rule listens to is 404, signed or not (nothing more is told);
1. **signature**: ``X-Lowcode-Signature: sha256=<hex>`` (a bare ``<hex>`` too, which is what
   our own outbound ``call webhook`` sends) = HMAC-SHA256 of the raw body bytes with the
   hook's secret. The secret comes from the app config (``WEBHOOK_SECRETS = {name:
   secret}``), else ``$LOWCODE_WEBHOOK_SECRET_<NAME>`` (upper case, other characters as
   ``_``), else ``$LOWCODE_WEBHOOK_SECRET``. No secret, no signature or a wrong one:
   :class:`~engine.errors.AuthError` (401). Secrets are never stored in pack files;
2. **idempotency**: with an ``Idempotency-Key`` header (or ``delivery_id`` in the body) the
   key is claimed first thing in the transaction, through the one helper every keyed write
   uses (:func:`engine.store.idempotency.once`, the hook's own keys): a replay (the same
   body) gets the first answer back and fires nothing, the same key with another body is a
   conflict (409). A delivery whose rules fail rolls back, key included, so the sender's
   retry runs it again;
3. **channel**: a rule ``when webhook "<name>" channel <channel>`` first hands the payload
   to that channel plugin (:mod:`engine.rules.channels`), which turns the external JSON (a
   web shop's order) into the fields of the rule's form; a payload it cannot read is 400;
4. **rules**: every rule with ``when webhook "<name>"``, and every bare ``when webhook`` rule
   of the form called ``<name>``, runs with the payload as its record (values parsed by the
   form's field types; ``id`` and other system columns are ignored), in one transaction,
   as the user ``webhook:<name>``. Their writes go through the store like any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
from typing import Any, Mapping, Optional

from engine.errors import AuthError, NotFound, QueryError
from engine.rules.channels import adapt
from engine.rules.parts import RulePlatform
from engine.rules.spec import RuleSet, RuleSpec
from engine.store.idempotency import MAX_KEY, IdempotencyKey, once
from engine.store.serialize import SYSTEM_COLUMNS, parse_snapshot

HEADER = "X-Lowcode-Signature"


def env_name(hook: str) -> str:
    """``erp-orders`` -> ``LOWCODE_WEBHOOK_SECRET_ERP_ORDERS``."""
    return "LOWCODE_WEBHOOK_SECRET_" + re.sub(r"[^A-Z0-9]", "_", hook.upper())


def secret_for(hook: str, secrets: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The hook's secret: the given mapping, then its own env var, then the shared one."""
    if secrets and secrets.get(hook):
        return secrets[hook]
    return os.environ.get(env_name(hook)) or os.environ.get("LOWCODE_WEBHOOK_SECRET") or None


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts in ``X-Lowcode-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: Optional[str]) -> bool:
    """Whether ``header`` (``sha256=<hex>`` or ``<hex>``) signs ``body`` with ``secret``."""
    if not header:
        return False
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def rules_for(ruleset: RuleSet, hook: str) -> list[RuleSpec]:
    """``webhook "<hook>"`` rules, and bare ``webhook`` rules of the form named ``hook``."""
    return [r for r in ruleset.webhooks if r.trigger.webhook == hook or (r.trigger.webhook is None and r.form == hook)]


def receive(
    platform: RulePlatform,
    hook: str,
    body: bytes,
    signature: Optional[str],
    key: Optional[str] = None,
    *,
    secrets: Optional[Mapping[str, str]] = None,
) -> tuple[dict[str, Any], bool]:
    """Check, deduplicate and run one delivery; returns (answer, replayed)."""
    rules = rules_for(platform.definitions().rules, hook)
    if not rules:  # the same answer, signed or not: an unknown name tells nothing more
        raise NotFound.said("no_hook", hook=hook)
    secret = secret_for(hook, secrets)
    if secret is None:
        raise AuthError.said("hook_no_secret", hook=hook, env=env_name(hook))
    if not verify(secret, body, signature):
        raise AuthError.said("hook_signature", header=HEADER)
    try:
        payload = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        raise QueryError.said("body_not_object") from None
    if not isinstance(payload, dict):
        raise QueryError.said("body_not_object")
    key = key or (str(payload["delivery_id"]) if payload.get("delivery_id") not in (None, "") else None)
    if key is not None and len(key) > MAX_KEY:
        raise QueryError(f"the idempotency key is longer than {MAX_KEY} characters")
    idem = IdempotencyKey.for_hook(hook, key, body) if key is not None else None

    def run(conn: Any) -> dict[str, Any]:
        ctx = dataclasses.replace(platform.system_context(), username=f"webhook:{hook}")
        store = platform.store()
        runs = []
        for rule in rules:
            form = store.form(rule.form)
            record = as_record(form, _through(rule, payload, form))
            outcome = platform.rules.fire(conn, ctx, rule, record, event="webhook")
            runs.append({"rule": rule.name, "form": rule.form, "outcome": outcome})
        return {"hook": hook, "delivery": key, "runs": runs}

    return once(platform.db, idem, platform.clock.now(), 200, run)


def _through(rule: RuleSpec, payload: Mapping[str, Any], form: Any) -> Mapping[str, Any]:
    """The payload, adapted by the rule's channel when its trigger names one."""
    channel = rule.trigger.channel
    if channel is None:
        return payload
    try:
        return adapt(channel, payload, form)
    except ValueError as exc:
        raise QueryError(f"the body is not a {channel} payload: {exc}") from None


def as_record(form: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as a record of ``form``: its fields parsed by type, system columns dropped."""
    data = {k: v for k, v in payload.items() if k not in SYSTEM_COLUMNS}
    for spec in form.fields:
        if spec.is_table and not isinstance(data.get(spec.name) or [], list):
            raise QueryError(f"'{spec.name}' must be a list of rows", {spec.name: ["must be a list of rows"]})
    try:
        return parse_snapshot(form, data)
    except (TypeError, AttributeError) as exc:
        raise QueryError(f"the body does not fit form '{form.name}': {exc}") from None
