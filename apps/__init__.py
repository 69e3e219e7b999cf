"""Web applications: the REST API (and later the staff workspace, portal, builder)."""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from apps.security import env_settings, install
from engine.context import Clock
from engine.forms.coltypes import ID_MAX
from engine.platform import Platform
from engine.store.db import Database, default_url


class RecordId(IntegerConverter):
    """``<id:name>``: a whole number; one that cannot be an id (0, beyond ``ID_MAX``) names nothing: 404
    (said here, so that the route still matches and no other method's route answers 405)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= ID_MAX:
            raise NotFound()
        return number


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    """The Flask application; ``config`` overrides environment settings (tests pass theirs)."""
    app = Flask(__name__, instance_path=os.path.abspath("instance"), instance_relative_config=False)
    app.config.update(
        DATABASE_URL=os.environ.get("DATABASE_URL") or default_url(),
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev-only-change-me"),
        RELOAD_SECONDS=float(os.environ.get("LOWCODE_RELOAD_SECONDS", "1.0")),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        IMPORT_MAX_BYTES=int(os.environ.get("LOWCODE_IMPORT_MAX_MB", "512")) * 1024 * 1024,
        **env_settings(),
    )
    if config:
        app.config.update(config)
    app.url_map.converters["id"] = RecordId
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    platform = app.config.get("PLATFORM")
    if platform is None:
        clock: Clock = app.config.get("CLOCK") or Clock()
        platform = Platform(Database(app.config["DATABASE_URL"]), clock, app.config["RELOAD_SECONDS"])
    app.extensions["lowcode"] = platform
    install(app)  # headers, cookies, trusted proxies, the login throttle

    from apps.spreadsheets import upload_limits

    upload_limits(app)  # first: before the workspace's CSRF check reads a form
    from apps.api import bp as api_bp

    app.register_blueprint(api_bp)

    from apps.workspace import bp as workspace_bp

    app.register_blueprint(workspace_bp)

    @app.get("/")
    def index() -> Any:
        return {"name": "Lowcode", "api": "/api/v1", "openapi": "/api/v1/openapi.json"}

    return app
