"""evaluate_models.py end to end on two tiny models saved in the test, plus its parts (specs, batching, tables)."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from transformers import T5ForConditionalGeneration

import evaluate_models
from dual_codet5 import reporting
from dual_codet5.inference import encode_inputs, generate_yaml, load_for_inference
from k8s_data import train_tokenizer
from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
from modeling_dual_codet5.presets import baseline_t5_config, preset_config, single_encoder_config

EXAMPLES = [
    {
        "intent": "Create a Service named web exposing port 80",
        "yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    },
    {
        "intent": "A ConfigMap called settings with key mode set to fast",
        "yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    },
    {
        "intent": "Deploy nginx with 2 replicas",
        "yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  replicas: 2\n  selector:\n"
            "    matchLabels:\n      app: nginx\n  template:\n    metadata:\n      labels:\n        app: nginx\n"
            "    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.27\n"
        ),
    },
    {
        "intent": "Namespace team-a",
        "yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n",
    },
    {
        "intent": "A pod running busybox that sleeps",
        "yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sleeper\nspec:\n  containers:\n  - name: main\n"
            "    image: busybox:1.36\n    command: [sleep, '3600']\n"
        ),
    },
]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """A tiny DualCodeT5, its single-encoder copy twin and a tiny T5 baseline with one tiny byte-level BPE tokenizer,
    saved as folders."""
    root = tmp_path_factory.mktemp("models")
    texts = [ex["intent"] for ex in EXAMPLES] + [ex["yaml"] for ex in EXAMPLES]
    tokenizer = train_tokenizer(texts * 4, vocab_size=300, min_frequency=1)
    config = preset_config(
        "tiny", vocab_size=len(tokenizer), pad_token_id=0, eos_token_id=2, decoder_start_token_id=0
    )
    copy_config = preset_config(
        "tiny", vocab_size=len(tokenizer), pad_token_id=0, eos_token_id=2, decoder_start_token_id=0,
        copy_mechanism=True,
    )  # fmt: skip
    torch.manual_seed(0)
    paths = {}
    for name, model in (
        ("dual", DualCodeT5ForConditionalGeneration(config)),
        ("baseline", T5ForConditionalGeneration(baseline_t5_config(config))),
        ("single", DualCodeT5ForConditionalGeneration(single_encoder_config(copy_config))),
    ):
        paths[name] = root / name
        model.save_pretrained(paths[name])
        tokenizer.save_pretrained(paths[name])
    test_file = root / "test.jsonl"
    test_file.write_text("".join(json.dumps({"id": f"ex{i}", **ex}) + "\n" for i, ex in enumerate(EXAMPLES)))
    return paths, test_file


def test_parse_model_specs_and_decoding_checks():
    base = evaluate_models.Decoding(num_beams=2)
    specs = evaluate_models.parse_model_specs(
        ["base=out/b", "rl=out/r@best_of_n=4,do_sample=true,temperature=0.7,num_beams=1", "out/sft/final@repair=yes"],
        base,
    )
    assert [s.name for s in specs] == ["base", "rl", "final"]
    assert specs[0].decoding == base
    assert specs[1].path == "out/r" and specs[1].decoding.best_of_n == 4 and specs[1].decoding.do_sample
    assert specs[1].decoding.temperature == 0.7 and specs[1].decoding.num_beams == 1
    assert specs[2].path == "out/sft/final" and specs[2].decoding.repair
    # repair does not change the candidates, so a repaired variant reuses the plain generations
    assert specs[2].decoding.generation_key() == base.generation_key()
    with pytest.raises(ValueError, match="do_sample"):  # 4 candidates from a beam of 2 is impossible
        evaluate_models.parse_model_specs(["x=p@best_of_n=4"], base)
    with pytest.raises(ValueError, match="num_beams=1"):  # beam sampling also returns at most num_beams
        evaluate_models.parse_model_specs(["x=p@best_of_n=4,do_sample=true"], base)
    with pytest.raises(ValueError, match="bad override"):
        evaluate_models.parse_model_specs(["x=p@beams=4"], base)
    with pytest.raises(ValueError, match="unique"):
        evaluate_models.EvalArguments(models=["a=p", "a=q"])
    with pytest.raises(ValueError, match="pattern_mode"):
        evaluate_models.EvalArguments(models=["a=p"], pattern_mode="gold")


def test_generate_yaml_batched_equals_one_by_one(tiny_models):
    # sorting by length and padding must not change any output, and outputs come back in input order
    paths, _ = tiny_models
    intents = [ex["intent"] for ex in EXAMPLES]
    patterns = ["kind: Service", "", "apiVersion: apps/v1\nkind: Deployment", "kind: Namespace", ""]
    for name in ("dual", "baseline", "single"):  # single: one input, like the baseline, through the dual class
        loaded = load_for_inference(str(paths[name]), device="cpu")
        assert loaded.is_dual == (name == "dual")
        batched = generate_yaml(loaded, intents, patterns, batch_size=3, max_new_tokens=8, num_beams=2)
        single = [
            generate_yaml(loaded, [i], [p], batch_size=1, max_new_tokens=8, num_beams=2)[0]
            for i, p in zip(intents, patterns)
        ]
        assert batched == single
        two = generate_yaml(loaded, intents[:2], patterns[:2], max_new_tokens=8, num_beams=2, num_return_sequences=2)
        assert [len(c) for c in two] == [2, 2]
    with pytest.raises(ValueError, match="num_return_sequences"):
        generate_yaml(loaded, intents, patterns, num_beams=1, num_return_sequences=2)


def test_truncation_follows_the_training_arguments_saved_with_the_model(tiny_models, tmp_path):
    paths, _ = tiny_models
    folder = shutil.copytree(paths["baseline"], tmp_path / "baseline")
    (folder / "training_args.yaml").write_text("stage: sft\nmax_source_length: 6\nmax_pattern_length: 4\n")
    loaded = load_for_inference(str(folder), device="cpu")
    assert (loaded.max_source_length, loaded.max_pattern_length) == (6, 4)
    long_intent = "Create a Service named web exposing port 80 " * 5
    # the baseline's budget is intent + pattern together (6 + 4 tokens), ending with </s>, as in training
    ids = encode_inputs(loaded, long_intent, "kind: Service", max_source_length=6, max_pattern_length=4)["input_ids"]
    assert len(ids) == 10 and ids[-1] == loaded.tokenizer.eos_token_id
    # generate_yaml picks the saved limits up: the model receives the truncated 10-token input
    seen = []
    generate = loaded.model.generate

    def spy(**inputs):
        seen.append(tuple(inputs["input_ids"].shape))
        return generate(**inputs)

    loaded.model.generate = spy
    generate_yaml(loaded, [long_intent], ["kind: Service"], max_new_tokens=4, num_beams=1)
    generate_yaml(loaded, [long_intent], ["kind: Service"], max_new_tokens=4, num_beams=1, max_source_length=40)
    assert seen == [(1, 10), (1, 44)]  # an explicit limit wins over the saved one
    assert load_for_inference(str(paths["baseline"]), device="cpu").max_source_length is None


def test_end_to_end_writes_all_outputs(tiny_models, tmp_path):
    paths, test_file = tiny_models
    out = tmp_path / "eval"
    argv = [
        "--models",
        f"baseline={paths['baseline']}",
        f"dual={paths['dual']}",
        f"dual_best_of_3={paths['dual']}@best_of_n=3,do_sample=true,num_beams=1",
        f"dual_repair={paths['dual']}@repair=true",
        "--test_file", str(test_file),
        "--pattern_mode", "oracle",
        "--max_new_tokens", "16",
        "--num_beams", "2",
        "--batch_size", "2",
        "--max_examples", "4",
        "--n_resamples", "200",
        "--label", "CPU test",
        "--fallback_rows", "false",  # the fallback rows have their own test below
        "--output_dir", str(out),
    ]  # fmt: skip
    results = evaluate_models.main(argv)
    for name in (
        "phase2_final_results.json", "per_example.jsonl", "per_example.csv", "comparison_plots.png", "results.md",
        "plot_means.json", "plot_means.csv", "plot_differences.json", "plot_differences.csv", "plot_diff_ci.csv",
    ):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    saved = json.loads((out / "phase2_final_results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["upper_bound"] and "upper bound" in saved["pattern_mode_label"]
    assert "upper bound" in (out / "results.md").read_text()
    assert saved["dataset"]["n_examples"] == 4 and len(saved["dataset"]["dataset_sha256"]) == 64
    assert saved["models_evaluated"]["dual"] == str(paths["dual"])
    models = {m["name"]: m for m in saved["summary"]["models"]}
    assert list(models) == ["baseline", "dual", "dual_best_of_3", "dual_repair"]
    assert "comparison" not in models["baseline"] and models["baseline"]["is_baseline"]
    for name in ("dual", "dual_best_of_3", "dual_repair"):
        comp = models[name]["comparison"]
        assert {"codebleu", "bp", "yaml_valid", "schema_valid"} <= set(comp)
        assert comp["yaml_valid"]["primary_test"] == "mcnemar_exact"
        assert all(c["primary_p_holm"] >= c["primary_p"] for c in comp.values())
    assert models["dual_best_of_3"]["decoding"]["best_of_n"] == 3 and models["dual_repair"]["decoding"]["repair"]
    assert set(models["dual"]["targets"]) == {"codebleu", "bp", "quality", "security", "yaml_valid", "schema_valid"}

    rows = [json.loads(line) for line in (out / "per_example.jsonl").read_text().splitlines()]
    assert len(rows) == 4 * 4
    by_model = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row)
    assert [r["id"] for r in by_model["dual"]] == ["ex0", "ex1", "ex2", "ex3"]
    assert all(r["n_candidates"] == 3 for r in by_model["dual_best_of_3"])
    # the repaired variant starts from exactly the dual model's outputs (same decoding, repair applied after)
    assert [r["raw_prediction"] for r in by_model["dual_repair"]] == [r["prediction"] for r in by_model["dual"]]
    assert all(r["prediction"] == r["raw_prediction"] for r in by_model["dual"])
    with (out / "per_example.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 16 and all(r["pattern_mode"] == "oracle (upper bound)" for r in table)
    diffs = json.loads((out / "plot_differences.json").read_text())
    assert len(diffs) == 3 * len(saved["summary"]["metrics"]) * 4
    assert all(r["pattern_mode"] == "oracle (upper bound)" for r in diffs)
    assert "upper bound" in (out / "plot_means.csv").read_text()

    # several runs (here the same one twice) aggregate to mean ± sd
    result_file = str(out / "phase2_final_results.json")
    agg = evaluate_models.main(["--runs", result_file, result_file, "--output_dir", str(out)])
    assert agg["n_runs"] == 2
    assert agg["models"]["dual"]["bp"]["mean_percent"]["sd"] == 0.0
    summary_md = (out / "runs_summary.md").read_text()
    assert summary_md.startswith("## Results over 2 training seeds") and "upper bound" in summary_md


# A tiny train split for the model's own pattern bank: the test intents reworded, under other ids (no leak).
TRAIN = [
    {"id": f"train{i}", "intent": f"please {ex['intent'].lower()} now", "yaml": ex["yaml"]}
    for i, ex in enumerate(EXAMPLES)
]


def test_retrieval_system_and_fallback_rows_end_to_end(tiny_models, tmp_path):
    # a tiny random model writes junk, so the fallback row must answer every example with the retrieved manifest of
    # the MODEL's bank; `retrieval=bm25` answers with the evaluation's bank; both go through the same statistics
    from k8s_data import PatternBank, RetrievalConfig, default_pattern_bank, retrieve_manifest, save_retrieval

    paths, test_file = tiny_models
    folder = shutil.copytree(paths["dual"], tmp_path / "dual")
    bank, config = PatternBank.from_records(TRAIN), RetrievalConfig(pattern_format="exemplar")
    save_retrieval(folder, bank, config)
    out = tmp_path / "eval"
    argv = [
        "--models", f"dual={folder}", "retrieval=bm25",
        "--test_file", str(test_file), "--max_examples", "4", "--max_new_tokens", "8", "--num_beams", "1",
        "--n_resamples", "200", "--output_dir", str(out),
    ]  # fmt: skip
    saved = evaluate_models.main(argv)
    models = {m["name"]: m for m in saved["summary"]["models"]}
    assert list(models) == ["dual", "dual+fallback", "retrieval"]
    assert [m["system"] for m in models.values()] == ["model", "model+fallback", "retrieval"]
    assert models["dual+fallback"]["fallback_rate"] == 1.0
    assert {"codebleu", "schema_valid"} <= set(models["retrieval"]["comparison"])  # compared like any model
    rows: dict[str, list[dict]] = {}
    for line in (out / "per_example.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows.setdefault(row["model"], []).append(row)
    intents = [ex["intent"] for ex in EXAMPLES[:4]]
    # the model read exemplar patterns from the bank saved in its folder, not the default bank
    assert [r["pattern"] for r in rows["dual"]] == [bank.pattern_for(i, config) for i in intents]
    assert all("apiVersion" in r["pattern"] for r in rows["dual"])
    assert not any(r["chosen_schema_valid"] or r["fallback_used"] for r in rows["dual"])
    fallback = rows["dual+fallback"]
    assert all(r["fallback_used"] and r["source"] == "retrieval-fallback" for r in fallback)
    assert [r["prediction"] for r in fallback] == [retrieve_manifest(i, bank) for i in intents]
    assert [r["raw_prediction"] for r in fallback] == [r["prediction"] for r in fallback]
    assert all(r["schema_valid"] == 1.0 for r in fallback)  # the train manifests are valid
    # retrieval as a system: no pattern, no model; the bank of the evaluation (here the bundled default bank)
    default = default_pattern_bank()
    assert [r["prediction"] for r in rows["retrieval"]] == [retrieve_manifest(i, default) for i in intents]
    assert all(r["source"] == "retrieval" and r["pattern"] == "" for r in rows["retrieval"])
    assert models["retrieval"]["summary"]["yaml_valid"]["mean_percent"] == 100.0
    table = (out / "results.md").read_text()
    assert "| retrieval | BM25 retrieval" in table and "| dual+fallback |" in table
    assert "retrieval fallback when no candidate is schema-valid (used for 100.0 % of examples)" in table
    assert len(set(saved["inputs_sha256"].values())) == 2  # the model's exemplar inputs; retrieval reads none


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["retrieval=tfidf"], "reserved for the retrieval system"),  # the reserved name takes a method, not a path
        (["retrieval=bm25@num_beams=2"], "only @repair"),  # retrieval generates nothing: decoding does not apply
        (["dual+fallback=out/m"], "reserved for the fallback rows"),  # would collide with the generated row
    ],
)
def test_reserved_names(entries, message):
    with pytest.raises(ValueError, match=message):
        evaluate_models.EvalArguments(models=entries)


def test_a_bank_holding_test_examples_is_refused():
    # a bank built from other data (or another --data_seed) may hold a test example: retrieval would return the answer
    from k8s_data import PatternBank

    examples = [{"id": "ex0", "intent": "x", "yaml": "a: 1\n"}, {"id": "ex1", "intent": "y", "yaml": "b: 1\n"}]
    evaluate_models.check_no_leak(PatternBank.from_records(TRAIN), examples, "m")  # other ids: fine
    leaky = PatternBank.from_records([*TRAIN, {"id": "ex1", "intent": "y", "yaml": "b: 1\n"}])
    with pytest.raises(ValueError, match="holds 1 of the test examples"):
        evaluate_models.check_no_leak(leaky, examples, "m")


def test_summarize_and_markdown_on_synthetic_rows():
    # a model that is better on BP on every example must come out significant and "better" in the table
    rng = np.random.default_rng(0)
    n = 25
    args = evaluate_models.EvalArguments(models=["base=a", "new=b"], n_resamples=300)
    specs = evaluate_models.parse_model_specs(args.models, evaluate_models.decoding_from(args))

    def rows(bp_shift: float) -> list[dict]:
        out = []
        for i in range(n):
            r = {"id": f"e{i}", "n_repairs": 0}
            noise = rng.uniform(size=4)
            r.update({m: float(v) for m, v in zip(("codebleu", "security", "complexity", "reward"), noise)})
            r.update({"bp": 50.0 + bp_shift + i, "quality": 60.0, "yaml_valid": 1.0, "schema_valid": float(i % 2)})
            out.append(r)
        return out

    data = {"base": rows(0.0), "new": rows(10.0)}
    summary = reporting.summarize([s.entry() for s in specs], data, n_resamples=300)
    comp = summary["models"][1]["comparison"]
    assert comp["bp"]["mean_diff"] == pytest.approx(10.0) and comp["bp"]["primary_p_holm"] < 0.05
    assert comp["quality"]["primary_p"] == 1.0 and comp["yaml_valid"]["primary_p"] == 1.0
    results = {
        "config": {"label": "synthetic", "alpha": 0.05, "confidence_level": 0.95},
        "dataset": {"source": "synthetic", "n_examples": n, "dataset_sha256": "0" * 64},
        "pattern_mode": "retrieved",
        "pattern_mode_label": reporting.PATTERN_MODE_LABELS["retrieved"],
        "summary": summary,
    }
    table = reporting.render_markdown(results)
    bp_line = next(line for line in table.splitlines() if line.startswith("| new | BP %"))
    assert "+10.0" in bp_line and "better" in bp_line
    assert "| new | Quality | +0.0" in table and "n.s." in table


def test_finalize_outputs_picks_the_best_candidate_and_repairs():
    deployment = EXAMPLES[2]["yaml"]  # valid, but no resources, probes or securityContext
    junk = "kind: [unclosed"
    plain = evaluate_models.Decoding(num_beams=3, best_of_n=3)
    (row,) = evaluate_models.finalize_outputs([[junk, deployment, "hello"]], plain)
    assert row["chosen_candidate"] == 1 and row["prediction"] == deployment and row["n_repairs"] == 0
    assert row["chosen_schema_valid"]
    fixing = evaluate_models.Decoding(num_beams=3, best_of_n=3, repair=True)
    (row,) = evaluate_models.finalize_outputs([[junk, deployment, "hello"]], fixing)
    assert row["chosen_candidate"] == 1 and row["raw_prediction"] == deployment
    assert row["n_repairs"] == len(row["repaired_checks"]) > 0 and row["prediction"] != deployment
    # the repaired manifest scores at least as well on the reference-free judge
    from k8s_scoring import score

    assert score(row["prediction"])["quality"] >= score(deployment)["quality"]


def test_finalize_outputs_chooses_what_generate_manifest_returns():
    # evaluation must score what `dual-codet5 generate` hands users: both go through select_and_repair
    from dual_codet5.generate import _finish

    deployment, junk = EXAMPLES[2]["yaml"], "kind: [unclosed"
    cases = [
        ([junk, deployment, "hello"], False),  # the only schema-valid candidate wins
        ([deployment, EXAMPLES[0]["yaml"]], True),  # repair first, then rank the repaired texts
        ([junk], False),  # one candidate: nothing to choose, nothing valid
    ]
    for candidates, repair in cases:
        n = len(candidates)
        decoding = evaluate_models.Decoding(num_beams=n, best_of_n=n, repair=repair)
        (row,) = evaluate_models.finalize_outputs([candidates], decoding)
        result = _finish("intent", "", candidates, repair)
        assert (row["prediction"], row["chosen_candidate"]) == (result.yaml, result.best_index)
        assert row["chosen_schema_valid"] == bool(result.lint["schema_valid"])


def test_aggregate_result_files_honours_alpha(tmp_path):
    # one comparison with p_Holm = 0.01: significant at alpha 0.05, not at alpha 0.005
    run = {
        "pattern_mode": "retrieved",
        "dataset": {"dataset_sha256": "0" * 64},
        "summary": {
            "models": [
                {"name": "base", "summary": {"bp": {"mean_percent": 50.0}}},
                {
                    "name": "dual",
                    "summary": {"bp": {"mean_percent": 52.0}},
                    "comparison": {"bp": {"mean_diff": 2.0, "cohens_dz": 1.0, "primary_p_holm": 0.01}},
                },
            ]
        },
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(run))
    for alpha, significant in ((0.05, 1), (0.005, 0)):
        out = tmp_path / str(alpha)
        agg = evaluate_models.main(["--runs", str(path), "--alpha", str(alpha), "--output_dir", str(out)])
        assert agg["models"]["dual"]["bp"]["n_significant"] == significant and agg["alpha"] == alpha
        assert f"p_Holm < {alpha:g}" in (out / "runs_summary.md").read_text()
