"""``POST /hooks/<name>``: inbound webhooks, signed with HMAC-SHA256, idempotent by key.

No bearer token: the caller proves itself with ``X-Lowcode-Signature`` over the raw body
(see :mod:`engine.rules.webhooks` for secrets, keys and what the rules see).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from apps.api import bp
from apps.api.context import platform
from engine.rules.webhooks import HEADER, receive


@bp.post("/hooks/<name>")
def inbound_webhook(name: str) -> Any:
    answer, replayed = receive(
        platform(),
        name,
        request.get_data(cache=True),
        request.headers.get(HEADER),
        request.headers.get("Idempotency-Key") or None,
        secrets=current_app.config.get("WEBHOOK_SECRETS"),
    )
    resp = jsonify(answer)
    if replayed:
        resp.headers["Idempotency-Replayed"] = "true"
    return resp
