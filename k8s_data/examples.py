"""Examples: the documents of one file (or of one Markdown code block) grouped into one target YAML, and filters.

A Deployment and the Service in the same file belong together, so the unit of an example is the file
(`CorpusRecord.unit_key`: `source:path`, plus `#blockN` for snippets taken from Markdown pages, where each code
block is its own manifest).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .corpus import CorpusRecord
from .yaml_io import load_mappings

logger = logging.getLogger(__name__)

# API groups of the built-in Kubernetes kinds; anything else is a custom resource (CRD-defined).
BUILTIN_API_GROUPS: frozenset[str] = frozenset(
    {
        "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
        "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io",
        "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io",
        "events.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io", "extensions", "authentication.k8s.io",
        "authorization.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
    }
)
# Licences of the *prose* a description was taken from, where it differs from the YAML's licence (SOURCES.md).
DESCRIPTION_LICENSES: dict[str, str] = {"MicrosoftDocs/azure-aks-docs": "CC-BY-4.0"}


def api_group(api_version: str) -> str:
    """`apps/v1` → `apps`; `v1` → `""`."""
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def is_custom_resource(api_version: str) -> bool:
    """True for kinds served by a CRD rather than by Kubernetes itself."""
    return api_group(api_version) not in BUILTIN_API_GROUPS


@dataclass
class Example:
    """One training example before intents and patterns: a group of documents from one file.

    Args:
        records: The corpus records of the unit, in document order.
    """

    records: list[CorpusRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The id of the unit's first record (stable across corpus rebuilds that keep record ids)."""
        return self.records[0].id

    @property
    def unit_key(self) -> str:
        return self.records[0].unit_key

    @property
    def file_key(self) -> str:
        return self.records[0].file_key

    @property
    def source(self) -> str:
        return self.records[0].source

    @cached_property
    def yaml(self) -> str:
        """The target: the unit's documents separated by `---`."""
        return "---\n".join(r.yaml if r.yaml.endswith("\n") else r.yaml + "\n" for r in self.records)

    @cached_property
    def docs(self) -> list[dict[str, Any]]:
        """The parsed documents (mappings) of the target."""
        return [doc for record in self.records for doc in load_mappings(record.yaml)]

    @property
    def kinds(self) -> list[str]:
        """Distinct kinds in document order."""
        return list(dict.fromkeys(r.kind for r in self.records))

    def license(self, description_origin: str | None = None) -> str:
        """SPDX expression covering the YAML and, when a description is used, the prose it came from."""
        licenses = [r.license for r in self.records]
        if description_origin and self.source in DESCRIPTION_LICENSES:
            licenses.append(DESCRIPTION_LICENSES[self.source])
        return " AND ".join(dict.fromkeys(licenses))


def group_examples(records: Iterable[CorpusRecord]) -> list[Example]:
    """Group records into examples by `unit_key`, keeping corpus order of first appearance and document order."""
    units: dict[str, Example] = {}
    for record in records:
        units.setdefault(record.unit_key, Example()).records.append(record)
    for example in units.values():
        example.records.sort(key=lambda r: r.doc_index)
    return list(units.values())


@dataclass(frozen=True)
class ExampleFilter:
    """Which examples are kept. An example is dropped as a whole when any of its documents fails a rule."""

    drop_placeholders: bool = field(
        default=True, metadata={"help": "Drop examples with template placeholders (`<your-name>`, `${VAR}`, ...)."}
    )
    drop_deprecated_api: bool = field(
        default=True, metadata={"help": "Drop examples using API versions removed from current Kubernetes."}
    )
    drop_schema_invalid: bool = field(
        default=True, metadata={"help": "Drop examples with a document that failed schema validation."}
    )
    keep_custom_resources: bool = field(
        default=True, metadata={"help": "Keep examples with CRD-defined kinds (Istio, KEDA, cert-manager, ...)."}
    )
    max_target_chars: int | None = field(
        default=4000, metadata={"help": "Drop examples whose target YAML is longer than this (None: no cap)."}
    )
    max_documents: int | None = field(
        default=12, metadata={"help": "Drop examples with more documents than this (None: no cap)."}
    )

    def reason(self, example: Example) -> str | None:
        """Why the example is dropped (a rule name), or None when it is kept."""
        records = example.records
        if self.drop_placeholders and any(r.has_placeholders for r in records):
            return "placeholders"
        if self.drop_deprecated_api and any(r.deprecated_api for r in records):
            return "deprecated_api"
        if self.drop_schema_invalid and any(r.schema_valid is False for r in records):
            return "schema_invalid"
        if not self.keep_custom_resources and any(is_custom_resource(r.apiVersion) for r in records):
            return "custom_resource"
        if self.max_target_chars is not None and len(example.yaml) > self.max_target_chars:
            return "too_long"
        if self.max_documents is not None and len(records) > self.max_documents:
            return "too_many_documents"
        if not example.docs:
            return "unparsable"
        return None

    def apply(self, examples: Iterable[Example]) -> tuple[list[Example], dict[str, int]]:
        """Kept examples and a count of dropped ones per rule."""
        kept: list[Example] = []
        dropped: dict[str, int] = defaultdict(int)
        for example in examples:
            why = self.reason(example)
            if why is None:
                kept.append(example)
            else:
                dropped[why] += 1
        logger.info("kept %d examples, dropped %s", len(kept), dict(dropped))
        return kept, dict(dropped)
