"""``k8s-lint``: check Kubernetes manifests against the best-practice and security rules of `k8s_scoring`.

Usage::

    k8s-lint deploy.yaml service.yaml          # kube-score-like text, grouped per object (colour on a TTY)
    cat deploy.yaml | k8s-lint -                # read standard input
    k8s-lint --format json manifests/*.yaml     # machine-readable results + summary
    k8s-lint --fix deploy.yaml > fixed.yaml     # repaired YAML on stdout, the changes on stderr
    k8s-lint deploy/                            # a folder: every *.yaml / *.yml below it (docs/lint-in-ci.md)
    k8s-lint --format sarif deploy/ > k8s-lint.sarif   # SARIF 2.1.0 for code scanning; --format junit for CI

Exit status: 0 when every check passes (or ``--exit-zero``), 1 when a check fails (suppressed and note-level
failures do not count), 2 when an input cannot be read or is not valid Kubernetes YAML (unparsable, Helm template,
no objects, ...), when a folder holds no YAML file, or when the configuration file is bad.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .lint_config import ConfigError, load_config
from .lint_files import discover
from .report.model import RunReport, build_file_report, exit_status
from .rules import CHECKS

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class _Input:
    name: str
    text: str | None
    error: str | None = None


def _read(name: str) -> _Input:
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as handle:
                data = handle.read()
        return _Input(name, data.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        return _Input(name, None, f"cannot read: {err}")


def _fix(inputs: list[_Input]) -> int:
    from .repair import repair  # lazily: ruamel.yaml is only needed here

    status = EXIT_OK
    for item in inputs:
        if item.text is None:
            print(f"k8s-lint: {item.name}: {item.error}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        fixed, changes = repair(item.text)
        if len(inputs) > 1:
            print(f"# k8s-lint --fix: {item.name}")
        sys.stdout.write(fixed if fixed.endswith("\n") or not fixed else fixed + "\n")
        for change in changes:
            where = f"{item.name}: {change.check_id} {change.object} {change.path}"
            print(f"{where}: {change.description}", file=sys.stderr)
        if not changes:
            print(f"{item.name}: nothing to fix", file=sys.stderr)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-lint",
        description="Check Kubernetes manifests against best-practice and security rules (k8s_scoring).",
        epilog="Exit status: 0 all checks pass, 1 a check fails, 2 an input is unreadable or not Kubernetes YAML.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="PATH",
        help="YAML files or folders (walked for *.yaml/*.yml) to check; '-' reads standard input",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=("text", "json", "sarif", "junit"), default="text",
        help="output format: text, json, sarif (SARIF 2.1.0) or junit (JUnit XML) (default: text)",
    )  # fmt: skip
    parser.add_argument(
        "--config", metavar="FILE",
        help="configuration file (default: .k8s-lint.yaml in the working folder or a parent; docs/lint-in-ci.md)",
    )  # fmt: skip
    parser.add_argument(
        "--no-suppress", action="store_true", help="ignore suppression annotations: report suppressed checks as failed"
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when checks fail")
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (auto: on a TTY)"
    )
    parser.add_argument(
        "--fix", action="store_true", help="print repaired YAML (k8s_scoring.repair) to stdout, changes to stderr"
    )
    parser.add_argument("--list-checks", action="store_true", help="list the check ids and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``k8s-lint`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--list-checks" in args_list:
        for check in CHECKS:
            print(f"{check.id:34} {check.category:3} w={check.weight} {check.title}")
        return EXIT_OK
    args = build_parser().parse_args(args_list)
    try:
        return _run(args)
    except BrokenPipeError:  # `k8s-lint ... | head`: stop quietly, as other Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter from failing on exit flush
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"k8s-lint: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    found = discover(args.files, config.selects)
    for notice in found.notices:
        print(f"k8s-lint: {notice}", file=sys.stderr)
    for folder in found.empty_folders:
        print(f"k8s-lint: {folder}: no *.yaml or *.yml file found", file=sys.stderr)
    inputs = [_read(name) for name in found.files]
    if args.fix:
        return _fix(inputs)

    run = RunReport(
        [
            build_file_report(
                item.name, item.text, config, apply_suppressions=not args.no_suppress,
                with_positions=True, read_error=item.error,
            )
            for item in inputs
        ],
        found.notices,
    )  # fmt: skip
    if args.format == "json":
        from .report.text import render_json

        print(render_json(run))
    elif args.format == "sarif":
        from .report.sarif import render_sarif

        print(render_sarif(run, config))
    elif args.format == "junit":
        from .report.junit import render_junit

        print(render_junit(run))
    else:
        from .report.text import Style, render_text

        use_colour = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        )
        walked = any(name != "-" and os.path.isdir(name) for name in args.files)
        print(render_text(run, Style(use_colour), summary=walked))
    status = exit_status(run, args.exit_zero)
    return EXIT_BAD_INPUT if found.empty_folders else status


if __name__ == "__main__":
    raise SystemExit(main())
