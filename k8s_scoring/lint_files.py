"""Which files `k8s-lint` reads: command-line paths, folders walked for ``*.yaml`` / ``*.yml``.

A folder is walked recursively in sorted order. Skipped, each with a notice: hidden folders and files (``.git``,
``.github``, ``.k8s-lint.yaml``), and in a Helm chart (a folder with ``Chart.yaml``) its ``templates/`` (Go
templates, not manifests: render them with ``helm template`` and lint the output) and its ``Chart.yaml`` /
``values*.yaml`` (chart settings, not Kubernetes objects). A chart's ``crds/`` and ``charts/`` are walked.
Named files are always read whatever their extension; configuration globs apply to every file but ``-``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

YAML_SUFFIXES = (".yaml", ".yml")
_CHART_FILE = "Chart.yaml"


@dataclass
class Discovery:
    """The files to lint, in order, and what was skipped.

    Args:
        files: Paths (or ``-``) to read.
        notices: One line per skipped folder or chart, for standard error.
        empty_folders: Folders given on the command line in which nothing was found.
    """

    files: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    empty_folders: list[str] = field(default_factory=list)


def _is_chart_setting(name: str) -> bool:
    return name in (_CHART_FILE, "Chart.yml") or (name.startswith("values") and name.endswith(YAML_SUFFIXES))


def _walk(folder: str, out: Discovery) -> int:
    """Append the YAML files under ``folder`` to ``out.files``; returns how many were added."""
    added = 0
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        is_chart = _CHART_FILE in names
        kept = []
        for name in dirs:
            path = os.path.join(root, name)
            if name.startswith("."):
                out.notices.append(f"skipped hidden folder {path}")
            elif is_chart and name == "templates":
                out.notices.append(
                    f"skipped Helm chart templates {path} (render them with `helm template` and lint the output)"
                )
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
                continue
            if is_chart and _is_chart_setting(name):
                out.notices.append(f"skipped Helm chart settings {os.path.join(root, name)} (not Kubernetes objects)")
                continue
            out.files.append(os.path.join(root, name))
            added += 1
    return added


def discover(paths: Iterable[str], selects: Callable[[str], bool] = lambda name: True) -> Discovery:
    """Expand command-line ``paths`` into the files to lint.

    Args:
        paths: Files, folders, or ``-`` for standard input.
        selects: The configuration's include/exclude filter (`LintConfig.selects`); ``-`` always passes.

    Returns:
        `Discovery`. A path that does not exist is kept as a file, so reading it reports the error.
    """
    out = Discovery()
    for path in paths:
        if path != "-" and os.path.isdir(path):
            start = len(out.files)
            if _walk(path, out) == 0:
                out.empty_folders.append(path)
            walked = out.files[start:]
            kept = [name for name in walked if selects(name)]
            if len(kept) < len(walked):
                out.notices.append(f"excluded {len(walked) - len(kept)} file(s) under {path} by the configuration")
            out.files[start:] = kept
        elif path == "-" or selects(path):
            out.files.append(path)
        else:
            out.notices.append(f"excluded {path} by the configuration")
    return out
