"""The REST API under ``/api/v1``."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from apps.api import auth, errors, openapi, records, rules  # noqa: E402,F401  (register routes)
from apps.api import io  # noqa: E402,F401  (batch, import, export)
from apps.api import files  # noqa: E402,F401  (file uploads for attachment, image, signature)
from apps.api import hooks  # noqa: E402,F401  (inbound webhooks: POST /hooks/<name>)
