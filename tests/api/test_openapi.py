"""The OpenAPI document is what the web apps generate their clients from: its names and
words are part of the contract."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

CAMEL_CASE = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")
SCHEMA_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_operation_ids_are_unique_camel_case(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not CAMEL_CASE.match(i)] == []
    assert {"createSession", "joinSessionByCode", "login", "getAttendance"} <= set(ids)


def test_every_operation_says_what_it_does_and_who_may_call(document: dict[str, Any]) -> None:
    declared_tags = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    assert all(declared_tags.values())
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("description"), where
        assert len(operation["tags"]) == 1, where
        assert operation["tags"][0] in declared_tags, where


def test_schema_names_are_plain_words(document: dict[str, Any]) -> None:
    names = list(document["components"]["schemas"])
    assert [name for name in names if not SCHEMA_NAME.match(name)] == []
    assert {"SessionPage", "SessionEventPage", "LoginForm"} <= set(names)
