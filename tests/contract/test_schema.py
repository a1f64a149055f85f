"""The schema states every operation's errors as problem details, and what the contract run
found it stating wrongly stays fixed (alliance.api.schema.problem_responses)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_api_lists import CONSORTIUM_LISTS

PROBLEM_SCHEMAS = {"#/components/schemas/Problem", "#/components/schemas/ValidationProblem"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    generator: Any = SchemaGenerator()  # type: ignore[no-untyped-call]
    result: dict[str, Any] = generator.get_schema(request=None, public=True)
    return result


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_error_is_a_problem(schema: dict[str, Any]) -> None:
    assert {"Problem", "ValidationProblem"} <= set(schema["components"]["schemas"])
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                content = response["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
                assert content["application/problem+json"]["schema"]["$ref"] in PROBLEM_SCHEMAS


def test_every_operation_names_its_errors(schema: dict[str, Any]) -> None:
    public = {"/api/v1/problems/", "/api/v1/problems/{slug}"}
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert "429" in codes, (method, path)
        if path not in public:
            assert {"400", "401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method == "post":
            assert {"409", "422"} <= codes, (method, path)
        if "requestBody" in operation:
            assert "415" in codes, (method, path)
    validation = schema["paths"]["/api/v1/consortia/"]["post"]["responses"]["400"]
    assert validation["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "/ValidationProblem"
    )


@pytest.mark.parametrize("path", CONSORTIUM_LISTS)
def test_former_bare_lists_are_documented_as_cursor_pages(
    schema: dict[str, Any], path: str
) -> None:
    """Found by the contract run: these lists answered a bare, capped array that the schema
    described as a cursor page. They page like every other list now, and say so."""
    ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].startswith("#/components/schemas/Paginated")
    parameters = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
    assert {"cursor", "page_size", "consortium"} <= parameters


@pytest.mark.parametrize(
    ("path", "method", "code"),
    [
        # Found by the contract run: answers the views give that the schema did not state.
        ("/api/v1/agreement-versions/{id}/odrl/", "get", "409"),
        ("/api/v1/agreement-exports/{id}/download/", "get", "409"),
        ("/api/v1/pools/fair-share-across/", "get", "404"),
        ("/api/v1/role-assignments/{id}/", "delete", "400"),
        ("/api/v1/agreement-parties/{id}/", "delete", "400"),
        ("/api/v1/audit/checkpoints/", "get", "400"),
        ("/api/v1/problems/{slug}", "get", "404"),
        ("/api/v1/signed-documents/verify/", "post", "413"),
    ],
)
def test_answers_found_undocumented_are_documented(
    schema: dict[str, Any], path: str, method: str, code: str
) -> None:
    assert code in schema["paths"][path][method]["responses"]
