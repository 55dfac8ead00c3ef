"""Safe YAML parsing shared by the data library (C loader when available, never an unsafe loader)."""

from __future__ import annotations

from typing import Any

import yaml

try:
    _LOADER = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _LOADER = yaml.SafeLoader


def load_documents(text: str) -> list[Any]:
    """All non-empty documents of a YAML stream; `[]` when the text does not parse."""
    try:
        return [doc for doc in yaml.load_all(text, Loader=_LOADER) if doc is not None]
    except yaml.YAMLError:
        return []


def load_mappings(text: str) -> list[dict[str, Any]]:
    """The documents of a YAML stream that are mappings; a `kind: List` is expanded into its items."""
    out: list[dict[str, Any]] = []
    for doc in load_documents(text):
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out.extend(item for item in doc["items"] if isinstance(item, dict))
        elif isinstance(doc, dict):
            out.append(doc)
    return out
