"""``k8s-lint``: check Kubernetes manifests against the best-practice and security rules of `k8s_scoring`.

Usage::

    k8s-lint deploy.yaml service.yaml          # kube-score-like text, grouped per object (colour on a TTY)
    cat deploy.yaml | k8s-lint -                # read standard input
    k8s-lint --format json manifests/*.yaml     # machine-readable results + summary
    k8s-lint deploy/                            # a folder: every *.yaml / *.yml below it (docs/lint-in-ci.md)
    k8s-lint --format sarif deploy/ > k8s-lint.sarif   # SARIF 2.1.0 for code scanning; --format junit for CI
    k8s-lint --fix deploy.yaml deploy/          # repair in place (safe level), report what is left failing
    k8s-lint --fix --fix-level strict a.yaml    # also the hardening that may break some images
    k8s-lint --diff deploy.yaml                 # show the repair as a unified diff, write nothing
    cat deploy.yaml | k8s-lint --fix -          # repaired YAML on stdout, the changes on stderr

Validity errors (what the API server would reject: schema and `k8s_scoring.api_rules`, with the field path) are
shown per object in every format and count as failures. Custom resources whose schema is unknown are reported as
unchecked, not as errors (docs/validity.md).

Exit status: 0 when every check passes (or ``--exit-zero``), 1 when a check fails (suppressed and note-level
failures do not count) or an object is invalid, 2 when an input cannot be read or is not valid Kubernetes YAML
(unparsable, duplicate keys, Helm template, no objects, ...), when a folder holds no YAML file, or when the
configuration file is bad. With ``--fix`` / ``--diff`` the status is that of linting the repaired text.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .lint_config import ConfigError, LintConfig, load_config
from .lint_files import discover
from .report.model import FileReport, RunReport, build_file_report, exit_status
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


def _fix(inputs: list[_Input], args: argparse.Namespace, config: LintConfig) -> int:
    """``--fix`` / ``--diff``: repair each input at ``--fix-level`` and report what is left failing.

    Files are edited in place (``--fix``) or shown as a unified diff (``--diff``, nothing written); standard input
    is repaired to standard output. Inputs that are not Kubernetes YAML are reported with the lint exit status (2)
    and never written. The status is that of linting the repaired text (configuration and suppressions apply).
    """
    import difflib

    from .repair import RepairConfig, repair  # lazily: ruamel.yaml is only needed here
    from .report.fix import fix_record, fix_summary, fix_summary_line, fix_text_lines, render_fix_json

    repair_config = RepairConfig(level=args.fix_level)
    reports: list[FileReport] = []
    records: list[dict] = []
    for item in inputs:
        if item.text is None:
            report = build_file_report(item.name, None, config, read_error=item.error)
            record = fix_record(report, repair_config.level, None, None, [])
        else:
            fixed, changes = repair(item.text, repair_config)
            report = build_file_report(
                item.name, fixed, config, apply_suppressions=not args.no_suppress, with_positions=True
            )
            record = fix_record(report, repair_config.level, item.text, fixed, [c.to_dict() for c in changes])
            if args.diff:
                record["diff"] = "".join(difflib.unified_diff(
                    item.text.splitlines(keepends=True), fixed.splitlines(keepends=True),
                    fromfile=f"a/{item.name}", tofile=f"b/{item.name}",
                ))  # fmt: skip
                if args.format == "text":
                    sys.stdout.write(record["diff"])
            elif item.name == "-":
                record["fixed"] = fixed
                if args.format == "text":
                    sys.stdout.write(fixed)
            elif fixed != item.text:
                with open(item.name, "w", encoding="utf-8", newline="") as handle:
                    handle.write(fixed)
        reports.append(report)
        records.append(record)
        if args.format == "text":
            for line in fix_text_lines(record, args.diff):
                print(line, file=sys.stderr)
    summary = fix_summary(records, repair_config.level)
    if args.format == "json":
        print(render_fix_json(records, summary))
    else:
        print(fix_summary_line(summary, args.diff), file=sys.stderr)
    return exit_status(RunReport(reports), args.exit_zero)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-lint",
        description="Check Kubernetes manifests against best-practice and security rules (k8s_scoring).",
        epilog="Exit status: 0 all checks pass, 1 a check fails or an object is invalid, 2 an input is unreadable or "
        "not Kubernetes YAML.",
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
        "--fix", action="store_true",
        help="repair the files in place (k8s_scoring.repair; '-' repairs stdin to stdout), report what is left",
    )  # fmt: skip
    parser.add_argument("--diff", action="store_true", help="show the --fix edits as a unified diff, write nothing")
    parser.add_argument(
        "--fix-level", choices=("safe", "strict"), default="safe",
        help="safe (default): edits that cannot stop a working pod; strict: also hardening that may break images",
    )  # fmt: skip
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
    if args.fix or args.diff:
        status = _fix(inputs, args, config)
        return EXIT_BAD_INPUT if found.empty_folders else status

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
