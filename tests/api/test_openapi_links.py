"""The document's links (app/api/links.py) point at real operations, parameters and fields:
a renamed operationId, parameter or response field fails here, not in a client."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.links import LINKS

RUNTIME_EXPRESSION = re.compile(
    r"^\$(?P<side>request|response)\.(?:body#(?P<pointer>/.*)|path\.(?P<path>\w+))$"
)


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
    }


def _served_links(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (source, status, link)
        for source, operation in _operations(document).items()
        for status, response in operation["responses"].items()
        for link in response.get("links", {}).values()
    ]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_at(
    document: dict[str, Any], schema: dict[str, Any], pointer: str
) -> dict[str, Any] | None:
    """The schema of the value a JSON pointer names in an instance of `schema`, or None."""
    for segment in pointer.strip("/").split("/"):
        schema = _resolve(document, schema)
        if segment.isdigit() and schema.get("type") == "array":
            schema = schema["items"]
        elif segment in schema.get("properties", {}):
            schema = schema["properties"][segment]
        else:
            return None
    return _resolve(document, schema)


def _body_schema(holder: dict[str, Any]) -> dict[str, Any]:
    (media,) = holder["content"].values()
    schema: dict[str, Any] = media["schema"]
    return schema


def _request_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    if "requestBody" not in operation:
        return {}
    return _resolve(document, _body_schema(operation["requestBody"]))


def _names_something(
    document: dict[str, Any], source: dict[str, Any], status: str, expression: str
) -> bool:
    match = RUNTIME_EXPRESSION.match(expression)
    if match is None:
        return False
    if match["path"]:
        names = {p["name"] for p in source.get("parameters", []) if p["in"] == "path"}
        return match["side"] == "request" and match["path"] in names
    if match["side"] == "request":
        holder = source.get("requestBody")
    else:
        holder = source["responses"][status]
    return (
        holder is not None
        and _schema_at(document, _body_schema(holder), match["pointer"]) is not None
    )


def link_faults(document: dict[str, Any]) -> list[str]:
    """What each served link names that does not exist: its target operation, a parameter
    of the target, a field of the target's body, or what its expressions point at in the
    source's request or response; and the target's path parameters it leaves unset."""
    operations = _operations(document)
    faults = []
    for source_id, status, link in _served_links(document):
        where = f"{source_id} {status} -> {link['operationId']}"
        target = operations.get(link["operationId"])
        if target is None:
            faults.append(f"{where}: no such operation")
            continue
        given_parameters, given_body = link.get("parameters", {}), link.get("requestBody", {})
        parameters = {p["name"]: p["in"] for p in target.get("parameters", [])}
        body = _request_schema(document, target)
        missing = [name for name in given_parameters if name not in parameters]
        missing += [name for name in given_body if name not in body.get("properties", {})]
        faults += [f"{where}: the target has no {name!r}" for name in missing]
        faults += [
            f"{where}: {expression} names nothing in the source"
            for expression in [*given_parameters.values(), *given_body.values()]
            if not _names_something(document, operations[source_id], status, expression)
        ]
        unset = {name for name, place in parameters.items() if place == "path"}
        unset -= set(given_parameters)
        if "requestBody" in link:
            unset |= set(body.get("required", [])) - set(given_body)
        faults += [f"{where}: leaves {name!r} unset" for name in sorted(unset)]
    return faults


def test_every_declared_link_is_served(document: dict[str, Any]) -> None:
    served = [
        (source, status, link["operationId"]) for source, status, link in _served_links(document)
    ]
    declared = [(link.source, str(link.status), link.target) for link in LINKS]
    assert sorted(served) == sorted(declared)
    assert len(set(declared)) == len(declared), "two links share a source, status and target"


def test_links_name_real_operations_parameters_and_fields(document: dict[str, Any]) -> None:
    assert link_faults(document) == []


def test_a_dangling_link_is_reported(document: dict[str, Any]) -> None:
    links = _operations(document)["createSession"]["responses"]["201"]["links"]
    links["getSession"]["parameters"] = {"id": "$response.body#/session_id"}
    links["joinSessionByCode"]["operationId"] = "joinByCode"
    links["listParticipants"]["parameters"]["session_id"] = "$request.path.session_id"
    assert link_faults(document) == [
        "createSession 201 -> joinByCode: no such operation",
        "createSession 201 -> getSession: the target has no 'id'",
        "createSession 201 -> getSession: $response.body#/session_id names nothing in the source",
        "createSession 201 -> getSession: leaves 'session_id' unset",
        "createSession 201 -> listParticipants: "
        "$request.path.session_id names nothing in the source",
    ]


def test_a_created_session_leads_to_its_operations(document: dict[str, Any]) -> None:
    links = _operations(document)["createSession"]["responses"]["201"]["links"]
    assert links["getSession"]["parameters"] == {"session_id": "$response.body#/id"}
    assert links["joinSessionByCode"]["requestBody"] == {"room_code": "$response.body#/room_code"}
    login = _operations(document)["login"]["responses"]["200"]["links"]["refresh"]
    assert login["requestBody"] == {"refresh_token": "$response.body#/refresh_token"}
