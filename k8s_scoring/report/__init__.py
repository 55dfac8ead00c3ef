"""`k8s-lint` reports: the findings of a run (`model`) and their renderings (text, JSON, SARIF 2.1.0, JUnit XML)."""

from __future__ import annotations

from .model import FileReport, Finding, ObjectReport, RunReport, build_file_report, exit_status

__all__ = ["FileReport", "Finding", "ObjectReport", "RunReport", "build_file_report", "exit_status"]
