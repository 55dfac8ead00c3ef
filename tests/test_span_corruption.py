"""T5-style span corruption (dual_codet5.span_corruption) and `train_sft.py --objective span_corruption`."""

import numpy as np
import pytest

import train_sft
from dual_codet5.span_corruption import corrupt_spans, random_spans_noise_mask, span_corruption_dataset
from dual_codet5.train_utils import read_metrics
from tests.training_fixtures import (
    TINY_MODEL_FLAGS,
    one_torch_thread,  # noqa: F401  (autouse fixture)
    tiny_tokenizer,
    write_tiny_data,
)

SENTINEL, EOS = 4, 2


def test_corrupt_spans_by_hand():
    # tokens 10..15, spans (12 13) and (15): one sentinel per span in the input, sentinel + span in the target
    mask = np.array([False, False, True, True, False, True])
    inputs, labels = corrupt_spans([10, 11, 12, 13, 14, 15], mask, SENTINEL, EOS)
    assert inputs == [10, 11, SENTINEL, 14, SENTINEL, EOS]
    assert labels == [SENTINEL, 12, 13, SENTINEL, 15, EOS]


def test_corrupt_spans_rejects_a_mask_of_another_length():
    with pytest.raises(ValueError, match="3 ids for a mask of 2"):
        corrupt_spans([1, 2, 3], np.array([True, False]), SENTINEL, EOS)


def reconstruct(inputs: list[int], labels: list[int]) -> list[int]:
    """Put the target's spans back where the input's sentinels are (what a perfect denoiser does)."""
    spans, current = [], None
    for token in labels[:-1]:
        if token == SENTINEL:
            current = []
            spans.append(current)
        else:
            current.append(token)
    out, next_span = [], iter(spans)
    for token in inputs[:-1]:
        out.extend(next(next_span) if token == SENTINEL else [token])
    return out


@pytest.mark.parametrize("length", [2, 3, 7, 40, 384])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_mask_density_spans_and_lossless_round_trip(length, seed):
    rng = np.random.default_rng(seed)
    mask = random_spans_noise_mask(length, 0.15, 3.0, rng)
    noise = int(mask.sum())
    assert noise == min(max(round(length * 0.15), 1), length - 1)
    assert not mask[0]  # T5: the sequence starts with a kept token
    spans = int(np.sum(mask & ~np.concatenate([[False], mask[:-1]])))
    assert spans == min(max(round(noise / 3.0), 1), noise, length - noise)
    ids = list(range(100, 100 + length))
    inputs, labels = corrupt_spans(ids, mask, SENTINEL, EOS)
    assert len(inputs) == length - noise + spans + 1 and len(labels) == noise + spans + 1
    assert reconstruct(inputs, labels) == ids


def test_dense_noise_still_keeps_a_token_between_spans():
    # 9 of 10 tokens corrupted in spans of mean length 1 would need 9 kept gaps: one span is all that fits
    mask = random_spans_noise_mask(10, 0.9, 1.0, np.random.default_rng(0))
    assert mask.tolist() == [False] + [True] * 9


def test_noise_mask_is_seeded_and_rejects_bad_settings():
    a = random_spans_noise_mask(50, 0.3, 2.0, np.random.default_rng(7))
    b = random_spans_noise_mask(50, 0.3, 2.0, np.random.default_rng(7))
    assert (a == b).all()
    for args, message in [((1, 0.15, 3.0), "at least 2 tokens"), ((10, 0.0, 3.0), "noise_density"),
                          ((10, 0.15, 0.5), "mean_noise_span_length")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            random_spans_noise_mask(*args, np.random.default_rng(0))


def test_dataset_puts_the_yaml_where_each_model_reads_yaml():
    tokenizer = tiny_tokenizer()
    texts = ["apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n", "x", "kind: ConfigMap\n" * 40]
    dual, report = span_corruption_dataset(texts, tokenizer, model_type="dual", max_length=32, seed=0)
    # "x" is one token + </s>: too short to corrupt, left out; the long ConfigMap is cut to 32 tokens
    assert report == {"texts": 3, "kept": 2, "long": 1, "long_share": 1 / 3}
    assert dual["example_index"] == [0, 2]
    for row in dual:
        assert row["input_ids"] == [tokenizer.eos_token_id]  # empty intent
        assert SENTINEL in row["pattern_input_ids"] and row["labels"][0] == tokenizer.mask_token_id
        assert len(row["pattern_input_ids"]) <= 32 and row["pattern_input_ids"][-1] == tokenizer.eos_token_id
    body = tokenizer(texts[0])["input_ids"][:-1]
    assert reconstruct(dual[0]["pattern_input_ids"], dual[0]["labels"]) == body
    single, _ = span_corruption_dataset(texts, tokenizer, model_type="single", max_length=32, seed=0)
    assert "pattern_input_ids" not in single.column_names
    assert single["input_ids"] == dual["pattern_input_ids"] and single["labels"] == dual["labels"]
    with pytest.raises(ValueError, match="model_type"):
        span_corruption_dataset(texts, tokenizer, model_type="t5", max_length=32)


@pytest.mark.parametrize("model_type", ["dual", "single", "baseline"])
def test_train_sft_span_corruption_loss_falls_and_sft_starts_from_it(tmp_path, model_type):
    data = write_tiny_data(tmp_path, n=30, n_train=24)
    common = [*TINY_MODEL_FLAGS, "--tokenizer_name_or_path", str(data["tokenizer"]), "--train_file",
              str(data["train"]), "--validation_file", str(data["validation"]), "--per_device_train_batch_size", "4",
              "--learning_rate", "1e-2", "--model_type", model_type]  # fmt: skip
    pre = train_sft.main([*common, "--objective", "span_corruption", "--num_train_epochs", "4",
                          "--noise_density", "0.3", "--output_dir", str(tmp_path / "pre")])  # fmt: skip
    records = read_metrics(tmp_path / "pre" / "metrics.jsonl")
    train_loss = [r["train/loss"] for r in records if "train/loss" in r]
    eval_loss = [r["eval/loss"] for r in records if "eval/loss" in r]
    assert train_loss[-1] < 0.5 * train_loss[0] and eval_loss[-1] < eval_loss[0]
    import yaml

    assert yaml.safe_load((pre / "training_args.yaml").read_text())["stage"] == "span_corruption"
    # a normal SFT run starts from the pre-trained folder
    sft = train_sft.main([*common, "--init_from", str(pre), "--max_steps", "2", "--output_dir", str(tmp_path / "s")])
    resolved = yaml.safe_load((sft / "training_args.yaml").read_text())
    assert resolved["stage"] == "sft" and resolved["init_from"] == str(pre) and resolved["model_type"] == model_type


def test_bad_objective_is_rejected():
    from dual_codet5.training_args import DataArguments

    with pytest.raises(ValueError, match="--objective"):
        DataArguments(objective="mlm")
    with pytest.raises(ValueError, match="noise_density"):
        DataArguments(objective="span_corruption", noise_density=1.5)
