"""``.k8s-lint.yaml``: the `k8s-lint` configuration file, found in the working folder or its parents.

Example::

    disabled: [bp.cpu_limits]           # checks neither run nor reported
    severity:                           # error | warning | note (a note never fails the run)
      bp.explicit_namespace: note
      sec.read_only_root_fs: error
    include: ["deploy/*"]               # globs over paths relative to this file's folder (default: everything)
    exclude: ["deploy/legacy/*", "*-test.yaml"]
    kubernetesVersion: "1.33"           # must be the version k8s_scoring's schemas are pinned to

Every key and value is validated; a bad one raises `ConfigError` naming it (the CLI exits 2).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .rules import CHECKS_BY_ID, Check
from .schema import KUBERNETES_VERSION

logger = logging.getLogger(__name__)

CONFIG_NAMES = (".k8s-lint.yaml", ".k8s-lint.yml")
SEVERITIES = ("error", "warning", "note")
_KEYS = ("disabled", "severity", "include", "exclude", "kubernetesVersion")
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the bad key."""


def default_severity(check: Check) -> str:
    """``error`` for security checks of weight >= 2 (the text output's CRITICAL), ``warning`` for the others."""
    return "error" if check.category == "sec" and check.weight >= 2 else "warning"


@dataclass
class LintConfig:
    """What a configuration file sets (the defaults are those of a run without one).

    Args:
        path: The file it was read from, `None` for the defaults.
        disabled: Check ids that are neither run nor reported.
        severity: Check id -> ``error`` | ``warning`` | ``note``, overriding `default_severity`.
        include: Globs; when given, only matching files are linted.
        exclude: Globs; matching files are not linted.
        kubernetes_version: The target version as written (validated against `KUBERNETES_VERSION`), or `None`.
    """

    path: Path | None = None
    disabled: frozenset[str] = frozenset()
    severity: dict[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    kubernetes_version: str | None = None

    @property
    def root(self) -> Path:
        """The folder globs are relative to: the config file's, else the working folder."""
        return self.path.parent if self.path is not None else Path.cwd()

    def severity_of(self, check: Check) -> str:
        return self.severity.get(check.id) or default_severity(check)

    def selects(self, file_name: str) -> bool:
        """Whether ``file_name`` passes ``include`` and ``exclude``.

        Globs are `fnmatch` patterns (``*`` also matches ``/``) matched against the path relative to `root` (the
        absolute path for files outside it) and, for patterns without a ``/``, against the file name alone.
        """
        if not self.include and not self.exclude:
            return True
        path = Path(file_name).resolve()
        try:
            relative = path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()

        def matches(pattern: str) -> bool:
            target = relative if "/" in pattern else path.name
            return fnmatch.fnmatchcase(target, pattern)

        if self.include and not any(matches(p) for p in self.include):
            return False
        return not any(matches(p) for p in self.exclude)


def find_config(start: Path | None = None) -> Path | None:
    """The first `CONFIG_NAMES` file in ``start`` (default: the working folder) or one of its parents."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            path = candidate / name
            if path.is_file():
                return path
    return None


def _check_ids(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of check ids, got {type(value).__name__}")
    for index, item in enumerate(value):
        if item not in CHECKS_BY_ID:
            raise ConfigError(f"{where}[{index}]: unknown check id {item!r} (see k8s-lint --list-checks)")
    return value


def _globs(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{where}: expected a list of glob strings")
    return tuple(value)


def _version(value: object, where: str) -> str:
    pinned = ".".join(KUBERNETES_VERSION.split(".")[:2])
    match = _VERSION_RE.match(str(value)) if isinstance(value, (str, float)) else None
    if match is None:
        raise ConfigError(f"{where}: {value!r} is not a Kubernetes version such as \"{pinned}\" (write it quoted)")
    if f"{match.group(1)}.{match.group(2)}" != pinned:
        raise ConfigError(
            f"{where}: Kubernetes {value} is not supported: k8s_scoring bundles one schema version, "
            f"{KUBERNETES_VERSION} (k8s_scoring.schema.KUBERNETES_VERSION); use \"{pinned}\" or leave the key out"
        )
    return str(value)


def parse_config(data: object, path: Path | None = None) -> LintConfig:
    """Validate a loaded configuration mapping.

    Args:
        data: The YAML document (`None` for an empty file).
        path: Where it came from, for messages and the glob root.

    Raises:
        ConfigError: On an unknown key or a bad value; the message names the key.
    """
    where = str(path) if path is not None else "config"
    if data is None:
        return LintConfig(path=path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(_KEYS)}, got {type(data).__name__}")
    for key in data:
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {', '.join(_KEYS)})")
    config = LintConfig(path=path)
    if "disabled" in data:
        config.disabled = frozenset(_check_ids(data["disabled"], f"{where}: disabled"))
    if "severity" in data:
        severity = data["severity"]
        if not isinstance(severity, dict):
            raise ConfigError(f"{where}: severity: expected a mapping of check id -> {'|'.join(SEVERITIES)}")
        for check_id, level in severity.items():
            if check_id not in CHECKS_BY_ID:
                raise ConfigError(f"{where}: severity.{check_id}: unknown check id (see k8s-lint --list-checks)")
            if level not in SEVERITIES:
                raise ConfigError(f"{where}: severity.{check_id}: {level!r} is not one of {', '.join(SEVERITIES)}")
        config.severity = dict(severity)
    if "include" in data:
        config.include = _globs(data["include"], f"{where}: include")
    if "exclude" in data:
        config.exclude = _globs(data["exclude"], f"{where}: exclude")
    if "kubernetesVersion" in data:
        config.kubernetes_version = _version(data["kubernetesVersion"], f"{where}: kubernetesVersion")
    return config


def load_config(path: str | os.PathLike | None = None, *, search: bool = True) -> LintConfig:
    """Read ``path``, or the `find_config` file when ``path`` is `None` and ``search`` is set; else the defaults.

    Raises:
        ConfigError: The file cannot be read, is not YAML, or has a bad key or value.
    """
    if path is None:
        found = find_config() if search else None
        if found is None:
            return LintConfig()
        path = found
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    logger.debug("k8s-lint configuration from %s", path)
    return parse_config(data, path)
