"""dual_codet5.pairwise: paired tests between two rows of one evaluation, from per_example.jsonl."""

import json

import pytest

from dual_codet5.pairwise import main, pairwise


def write_rows(path, models):
    with open(path, "w") as handle:
        for name, (shift, ids) in models.items():
            for i in ids:
                value = (i % 7) / 10 + shift
                row = {"model": name, "id": f"x{i}", "codebleu": value, "bp": 100 * value, "quality": 100 * value,
                       "schema_valid": float(i % 2 == 0 or shift > 0)}  # fmt: skip
                handle.write(json.dumps(row) + "\n")
    return path


def test_a_model_better_on_every_example_is_significant_and_the_same_model_is_not(tmp_path, capsys):
    path = write_rows(tmp_path / "p.jsonl", {"a": (0.0, range(40)), "b": (0.05, range(40)), "c": (0.0, range(40))})
    results = {(a, b, c.metric): (c, p) for a, b, c, p in pairwise(path, [("a", "b"), ("a", "c")], n_resamples=99)}
    better, p = results[("a", "b", "codebleu")]
    assert better.mean_diff == pytest.approx(0.05) and p < 0.001
    same, p = results[("a", "c", "codebleu")]
    assert same.mean_diff == 0 and p == 1
    main([str(path), "--pairs", "a:b", "--n_resamples", "99", "--output", str(tmp_path / "pairwise.md")])
    printed = capsys.readouterr().out
    assert "| b - a | codebleu | 40 | +5.00" in printed
    # the file holds the same table under a line saying where it came from
    written = (tmp_path / "pairwise.md").read_text()
    assert written.endswith(printed) and str(path) in written.splitlines()[0]


def test_unknown_models_and_different_examples_are_refused(tmp_path):
    path = write_rows(tmp_path / "p.jsonl", {"a": (0.0, range(10)), "b": (0.1, range(1, 11))})
    with pytest.raises(ValueError, match="different examples"):
        pairwise(path, [("a", "b")])
    with pytest.raises(ValueError, match="'z' is not in"):
        pairwise(path, [("a", "z")])
    with pytest.raises(SystemExit):
        main([str(path), "--pairs", "ab"])
