"""``k8s-lint``: check Kubernetes manifests against the best-practice and security rules of `k8s_scoring`.

Usage::

    k8s-lint deploy.yaml service.yaml          # kube-score-like text, grouped per object (colour on a TTY)
    cat deploy.yaml | k8s-lint -                # read standard input
    k8s-lint --format json manifests/*.yaml     # machine-readable results + summary
    k8s-lint --fix deploy.yaml > fixed.yaml     # repaired YAML on stdout, the changes on stderr

Exit status: 0 when every check passes (or ``--exit-zero``), 1 when a check fails, 2 when an input cannot be read or
is not valid Kubernetes YAML (unparsable, Helm template, no objects, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .analysis import Analysis, ObjectResult, analyze, bp_percent, security_score
from .rules import CHECKS, CHECKS_BY_ID, CheckResult

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


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text


def _object_title(result: ObjectResult) -> str:
    namespace = f" in namespace {result.namespace}" if result.namespace else ""
    item = f", item {result.item_index}" if result.item_index is not None else ""
    return f"{result.api_version}/{result.kind} {result.name}{namespace} (document {result.doc_index}{item})"


def _render_text(name: str, analysis: Analysis, style: _Style) -> list[str]:
    if not analysis.valid:
        lines = [f"{name}: {style('INVALID', '1;31')} - not valid Kubernetes YAML, every score is 0"]
        lines += [f"    {error}" for error in analysis.errors]
        return lines
    lines = []
    for result in analysis.objects:
        failed = result.failed
        counts = {outcome: list(result.checks.values()).count(outcome) for outcome in CheckResult}
        mark = style("FAIL", "1;31") if failed else style("OK", "1;32")
        lines.append(f"{name}: {_object_title(result)}  {mark}")
        for check_id in failed:
            check = CHECKS_BY_ID[check_id]
            severity = "CRITICAL" if check.category == "sec" and check.weight >= 2 else "WARNING"
            colour = "31" if severity == "CRITICAL" else "33"
            lines.append(f"    [{style(severity, colour)}] {check_id}: {check.title}")
            lines += [f"        · {detail}" for detail in result.details.get(check_id, ())]
            lines.append(f"          why: {check.why}")
            lines.append(f"          fix: {check.fix}")
        lines.append(
            f"    {counts[CheckResult.PASS]} passed, {counts[CheckResult.FAIL]} failed, {counts[CheckResult.NA]} n/a"
        )
    lines.append(f"{name}: BP {analysis.bp:.1f}%, security {analysis.security:.2f}")
    return lines


def _json_record(name: str, result: ObjectResult) -> dict:
    return {
        "file": name,
        "doc_index": result.doc_index,
        "kind": result.kind,
        "name": result.name,
        "namespace": result.namespace,
        "checks": {check_id: str(outcome) for check_id, outcome in result.checks.items()},
        "failures": {check_id: list(details) for check_id, details in result.details.items()},
    }


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
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files to check; '-' reads standard input")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
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
    inputs = [_read(name) for name in args.files]
    if args.fix:
        return _fix(inputs)

    use_colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    style = _Style(use_colour)
    status = EXIT_OK
    all_results: list[ObjectResult] = []
    records: list[dict] = []
    errors: list[dict] = []
    text_lines: list[str] = []
    for item in inputs:
        if item.text is None:
            status = EXIT_BAD_INPUT
            errors.append({"file": item.name, "errors": [item.error]})
            text_lines.append(f"{item.name}: {style('UNREADABLE', '1;31')} - {item.error}")
            continue
        analysis = analyze(item.text)
        if not analysis.valid:
            status = EXIT_BAD_INPUT
            errors.append({"file": item.name, "errors": analysis.errors})
        elif any(result.failed for result in analysis.objects) and status == EXIT_OK:
            status = EXIT_FAILED_CHECKS
        all_results.extend(analysis.objects)
        records.extend(_json_record(item.name, result) for result in analysis.objects)
        text_lines.extend(_render_text(item.name, analysis, style))

    failed_checks = sum(len(result.failed) for result in all_results)
    summary = {
        "files": len(inputs),
        "objects": len(all_results),
        "failed_checks": failed_checks,
        "bp": round(bp_percent(all_results), 2) if all_results else 0.0,
        "security": round(security_score(all_results), 4) if all_results else 0.0,
        "invalid_files": errors,
    }
    if args.format == "json":
        print(json.dumps({"results": records, "summary": summary}, indent=2))
    else:
        print("\n".join(text_lines))
        if len(inputs) > 1:
            print(
                f"Summary: {summary['files']} files, {summary['objects']} objects, {failed_checks} failed checks, "
                f"BP {summary['bp']:.1f}%, security {summary['security']:.2f}"
            )
    if args.exit_zero and status == EXIT_FAILED_CHECKS:
        return EXIT_OK
    return status


if __name__ == "__main__":
    raise SystemExit(main())
