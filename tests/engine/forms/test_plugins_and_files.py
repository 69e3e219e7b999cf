"""Plugin field types register through ``lowcode.fields``; files keep their limits."""

from __future__ import annotations

import io
from typing import Any

import pytest

from engine.forms import FIELD_TYPES, FieldType
from engine.registry import Registry


class Stars(FieldType):
    name = "stars_plugin"
    widget = "stars"


def test_plugin_field_types_register(monkeypatch: Any) -> None:
    import engine.registry as reg

    monkeypatch.setattr(
        reg, "load_group", lambda group: {"stars": Stars, "junk": object()} if group == "lowcode.fields" else {}
    )
    registry: Registry[FieldType] = Registry("lowcode.fields", lambda obj: isinstance(obj, FieldType))
    assert "stars_plugin" in registry.names()
    assert registry.get("stars_plugin").widget == "stars"  # type: ignore[union-attr]
    assert "stars_plugin" not in FIELD_TYPES  # a registry of its own: the platform's is untouched


def _upload(client: Any, headers: dict[str, str], name: str, ctype: str, data: bytes, **params: str) -> Any:
    return client.post(
        "/api/v1/files",
        headers=headers,
        query_string=params,
        data={"file": (io.BytesIO(data), name, ctype)},
        content_type="multipart/form-data",
    )


def test_upload_download_and_limits(client: Any, auth: Any, api: Any) -> None:
    headers = auth("admin", "en")
    r = _upload(client, headers, "说明.txt", "text/plain", b"hello")
    assert r.status_code == 201
    info = r.get_json()
    assert (info["name"], info["size"], info["content_type"]) == ("说明.txt", 5, "text/plain")
    got = client.get(info["url"], headers=headers)
    assert got.status_code == 200 and got.data == b"hello" and got.mimetype == "text/plain"
    assert client.get("/api/v1/files/999", headers=headers).status_code == 404
    assert client.get(info["url"]).status_code == 401
    # the field's limits at upload time
    r = _upload(client, headers, "big.txt", "text/plain", b"x" * 1001, form="item", field="f_attachment")
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"file": ["file big.txt is larger than 1000 bytes"]}
    r = _upload(client, auth("admin", "zh-CN"), "a.pdf", "application/pdf", b"%PDF", form="item", field="f_attachment")
    assert r.get_json()["error"]["fields"] == {
        "file": ["文件 a.pdf 的类型 application/pdf 不允许 (允许: text/plain, image/*)"]
    }
    # ... and again when a record is saved (an upload made without the field's limits)
    pdf = _upload(client, headers, "a.pdf", "application/pdf", b"%PDF").get_json()["id"]
    status, body = api.post("item", {"f_attachment": [info["id"], pdf], "f_image": [info["id"]]})
    assert status == 422
    assert body["error"]["fields"] == {
        "f_attachment": ["file a.pdf has type application/pdf, which is not allowed (allowed: text/plain, image/*)"],
        "f_image": [
            "file 说明.txt has type text/plain, which is not allowed (allowed: image/png, image/jpeg, "
            "image/gif, image/webp)"
        ],
    }
    assert api.ok("item", {"f_attachment": [info["id"]]})["f_attachment"] == [info["id"]]


@pytest.mark.parametrize("field", ["f_attachment", "f_image", "f_signature"])
def test_file_fields_refuse_missing_files(field: str, api: Any) -> None:
    status, body = api.post("item", {field: [12345] if field != "f_signature" else 12345})
    assert status == 422 and body["error"]["fields"] == {field: ["file 12345 does not exist"]}


def test_files_are_read_with_the_records_permissions(client: Any, auth: Any, api: Any) -> None:
    admin, sales = auth("admin", "en"), auth("sales1", "en")
    secret = _upload(client, admin, "cost.txt", "text/plain", b"cost sheet").get_json()
    assert api.ok("item", {"f_attachment": [secret["id"]]})["f_attachment"] == [secret["id"]]
    assert client.get(secret["url"], headers=admin).status_code == 200
    # sales may not read items: the file is as good as absent for them
    denied = client.get(secret["url"], headers=sales)
    assert denied.status_code == 404 and denied.get_json()["error"]["code"] == "not_found"
    # a file one uploaded oneself stays readable to oneself
    own = _upload(client, sales, "mine.txt", "text/plain", b"mine").get_json()
    assert client.get(own["url"], headers=sales).status_code == 200
