"""The OpenAPI document declares the answers the routes give, in the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
# Open to anyone, with no token: the health checks, the audit log's signed checkpoints and the
# transparency report.
PUBLIC = (
    "/healthz",
    "/readyz",
    "/v1/audit/checkpoints",
    "/v1/transparency",
    "/v1/transparency.csv",
)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the document, as (method, path, operation)."""
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_error_answer_is_the_error_envelope(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4") or (status.startswith("5") and path != "/readyz"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == ENVELOPE, f"{method} {path} {status}"


def test_answers_follow_from_roles_inputs_and_bodies(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for method, path, operation in operations(document):
        declared = set(operation["responses"])
        label = f"{method} {path}"
        if path in PUBLIC:
            assert "security" not in operation and "401" not in declared, label
            continue
        assert operation["security"] == [{"bearer": []}], label
        assert "401" in declared, label
        if "{" in path:
            assert {"404", "422"} <= declared, label
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert {"408", "413", "415", "422"} <= declared, label


def test_403_is_declared_only_where_a_role_is_turned_away_at_the_door(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    anyone = document["paths"]["/v1/audit/checkpoints"]["get"]["responses"]
    # Every role but the legal officer's reads a report: the legal role is turned away there.
    all_but_legal = document["paths"]["/v1/reports/{report_id}"]["get"]["responses"]
    admins_only = document["paths"]["/v1/actions"]["get"]["responses"]
    assert "403" not in anyone
    assert "403" in all_but_legal
    assert "403" in admins_only


def test_the_policy_categories_are_listed(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    category = document["components"]["schemas"]["BankIn"]["properties"]["category"]
    assert "fraud" in category["enum"]
    assert "x-policy-category" not in category


# Keys pydantic writes for a constraint it could not say in JSON Schema's words: no client or
# generator reads them, so the bound they carry would be lost to every caller.
PYDANTIC_ONLY = {"ge", "le", "gt", "lt", "min_length", "max_length", "multiple_of"}


def test_every_bound_is_said_in_json_schema_words(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in PYDANTIC_ONLY and not path.endswith("/properties"):
                    found.append(f"{path}/{key}")
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    walk(document, "")
    assert found == []
