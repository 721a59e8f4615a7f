"""Checks request bodies against Discord's own OpenAPI description (``shared/specs/discord-openapi.json``).

The spec is loaded once per process (it is 1.2 MB) and validators are cached per operation. One deliberate
relaxation: ``SnowflakeType`` also accepts a non-negative integer, because Discord accepts integer ids in
request bodies and discord.py sends them that way (``{"recipient_id": 123}``); everything else is checked
as the spec says (JSON Schema 2020-12, ``$ref``s resolved through a ``referencing`` registry).
"""

from __future__ import annotations

import copy
import functools
import json
import reprlib
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:discord-openapi"


def spec_path() -> Path:
    """Where the spec lives: ``$DISCORD_OPENAPI`` or ``tests/specs/discord-openapi.json``."""
    import os

    override = os.environ.get("DISCORD_OPENAPI")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "specs" / "discord-openapi.json"


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed spec with the snowflake relaxation applied (cached for the process)."""
    with spec_path().open(encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    schemas = spec["components"]["schemas"]
    snowflake = copy.deepcopy(schemas["SnowflakeType"])
    schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    return spec


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@functools.cache
def _validator(spec_template: str, method: str, content_type: str) -> Draft202012Validator | None:
    operation = load_spec()["paths"].get(spec_template, {}).get(method.lower())
    if not operation or "requestBody" not in operation:
        return None
    content = operation["requestBody"].get("content", {})
    if content_type not in content:
        return None
    pointer = "/".join(
        _pointer_escape(p)
        for p in ("paths", spec_template, method.lower(), "requestBody", "content", content_type, "schema")
    )
    schema = {"$ref": f"{SPEC_URI}#/{pointer}"}
    return Draft202012Validator(schema, registry=_registry())


def has_operation(spec_template: str, method: str) -> bool:
    """Whether the spec describes this path template and method at all."""
    return method.lower() in load_spec()["paths"].get(spec_template, {})


def validate_body(spec_template: str, method: str, body: Any) -> list[str]:
    """Problems of a JSON request body for this operation, as short readable strings (empty = valid)."""
    if not has_operation(spec_template, method):
        return [f"{method} {spec_template} is not an operation in the Discord OpenAPI spec"]
    validator = _validator(spec_template, method, "application/json")
    if validator is None:
        return [] if body is None else [f"{method} {spec_template} takes no JSON body"]
    if body is None:
        required = load_spec()["paths"][spec_template][method.lower()]["requestBody"].get("required", False)
        return ["a JSON body is required"] if required else []
    return list(_cached_errors(spec_template, method, _cache_key(body), body))


def _cache_key(body: Any) -> str:
    """A key equal for bodies the schema cannot tell apart: the schema limits ``content`` only by type and
    length, so a streamed reply's edits (same components, growing text) share results per length."""
    if isinstance(body, dict) and isinstance(body.get("content"), str):
        body = {**body, "content": f"\0len={len(body['content'])}"}
    return json.dumps(body, sort_keys=True, default=str)


_results: dict[tuple[str, str, str], tuple[str, ...]] = {}


def _cached_errors(spec_template: str, method: str, key: str, body: Any) -> tuple[str, ...]:
    found = _results.get((spec_template, method, key))
    if found is None:
        validator = _validator(spec_template, method, "application/json")
        assert validator is not None
        found = tuple(_describe(error) for error in _leaf_errors(validator, body))
        if len(_results) > 20000:
            _results.clear()
        _results[(spec_template, method, key)] = found
    return found


def _leaf_errors(validator: Draft202012Validator, body: Any) -> list[ValidationError]:
    """The most specific errors: for anyOf/oneOf, the errors of the branch that got furthest."""
    found: list[ValidationError] = []
    for error in validator.iter_errors(body):
        found.extend(_narrow(error))
    return found[:10]


def _narrow(error: ValidationError) -> list[ValidationError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        by_branch: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branch = sub.schema_path[0] if sub.schema_path else 0
            by_branch.setdefault(int(branch), []).append(sub)
        # the branch whose errors sit deepest in the instance is the one the body was meant to match;
        # a branch failing only on a ``type`` at the top (e.g. the null alternative) is the least relevant
        best = max(by_branch.values(), key=_branch_relevance)
        narrowed: list[ValidationError] = []
        for sub in best:
            narrowed.extend(_narrow(sub))
        return narrowed or [error]
    return [error]


def _branch_relevance(errors: list[ValidationError]) -> tuple[bool, int, int]:
    """Rank the alternatives of a union: one whose ``type`` discriminator matched wins, then the one whose
    errors sit deepest in the body (it got furthest), then the one with fewest errors."""
    discriminator_mismatch = any(
        e.validator in ("enum", "const") and e.path and e.path[-1] == "type" for e in errors
    ) or any(e.validator == "type" and not e.path for e in errors)
    depth = max(len(e.absolute_path) for e in errors)
    return (not discriminator_mismatch, depth, -len(errors))


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    message = error.message
    if len(message) > 200:
        rule = reprlib.repr(error.validator_value)
        instance = reprlib.repr(error.instance)
        instance = instance if len(instance) <= 120 else instance[:120] + "…"
        message = f"{instance} fails {error.validator}={rule}"
    return f"{where}: {message}"
