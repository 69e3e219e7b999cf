"""The REST API under ``/api/v1``."""

from __future__ import annotations

from flask import Blueprint, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: the routes that take no bearer token (a webhook signs its body instead)
PUBLIC = frozenset({"api.login", "api.openapi_json", "api.inbound_webhook"})


@bp.before_request
def _authenticate() -> None:
    """Who is calling, first: a request without a valid token is 401 whatever else is wrong with it."""
    if request.endpoint not in PUBLIC:
        from apps.api.context import current_user

        current_user()


from apps.api import (  # noqa: E402,F401  (register routes)
    auth,
    changes,  # noqa: E402,F401  (change requests, version diffs)
    errors,
    files,  # noqa: E402,F401  (file uploads for attachment, image, signature)
    flow_admin,  # noqa: E402,F401  (flows ops lane: POST /users/{id}/handover)
    flows,  # noqa: E402,F401  (flows, their graphs, a record's flow)
    hooks,  # noqa: E402,F401  (inbound webhooks: POST /hooks/<name>)
    io,  # noqa: E402,F401  (batch, import, export)
    openapi,
    org,  # noqa: E402,F401  (departments, a user's department, delegations)
    records,
    rules,
    tasks,  # noqa: E402,F401  (the inbox: /tasks)
)
