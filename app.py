"""The dual-codet5 demo: intent -> Kubernetes YAML -> lint table, and a linter for pasted YAML.

    pip install -e ".[app]"
    python app.py                                   # the main job's model if present (see docs/app.md)
    python app.py --model runs/cpu_demo/rl_dual/final --port 7860
    DUAL_CODET5_MODEL=path/to/model python app.py

Offline: the model is a local folder; the pattern comes from the bundled pattern bank. The logic lives in
`dual_codet5.app_logic` (tested without Gradio); this file only lays out the page.
"""

from __future__ import annotations

import argparse
import logging

from dual_codet5.app_logic import (
    FALLBACKS,
    LINT_COLUMNS,
    MAX_N,
    REPAIR_LEVELS,
    default_model_dir,
    generate_for_app,
    lint_yaml,
    model_status,
)

EXAMPLE_INTENT = "Deploy nginx with 3 replicas behind a load balancer"
EXAMPLE_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27.2
        ports: [{containerPort: 80}]
"""

# the lint tables: read-only, wrapped, most of the width for "how to fix"
TABLE = {"wrap": True, "interactive": False, "max_height": 800, "column_widths": ["16%", "26%", "8%", "50%"]}


def build_app(model: str | None):
    """The Gradio Blocks of the demo, serving `model` (a local folder, or None: linting only)."""
    import gradio as gr

    def on_generate(intent, n, repair_level, fallback, max_new_tokens):
        result = generate_for_app(intent, model, int(n), repair_level, fallback, int(max_new_tokens))
        summary = "\n\n".join([f"**{result.summary}**", *result.notes])
        return result.yaml, result.rows, summary, result.diff or "(no changes)"

    def on_lint(text):
        rows, summary = lint_yaml(text)
        return rows, f"**{summary}**"

    with gr.Blocks(title="dual-codet5: intent to Kubernetes YAML") as demo:
        gr.Markdown(
            "# dual-codet5\nNatural-language intent → Kubernetes YAML, checked by the `k8s_scoring` judge "
            "(11 best-practice and 14 security checks, Kubernetes 1.33 schema)."
        )
        with gr.Tab("Generate", id="generate"):
            gr.Markdown(model_status(model), elem_id="model-status")
            with gr.Row():
                intent = gr.Textbox(label="Intent", value=EXAMPLE_INTENT, lines=2, scale=4, elem_id="intent")
                generate = gr.Button("Generate", variant="primary", scale=1, elem_id="generate-button")
            with gr.Row():
                n = gr.Slider(1, MAX_N, value=1, step=1, label="n (best of n candidates)")
                repair_level = gr.Radio(list(REPAIR_LEVELS), value="safe", label="Repair level")
                fallback = gr.Radio(list(FALLBACKS), value="retrieval", label="Fallback when nothing is schema-valid")
                max_new_tokens = gr.Slider(32, 512, value=256, step=32, label="max new tokens")
            summary = gr.Markdown(elem_id="generate-summary")
            with gr.Row():
                yaml_out = gr.Code(label="YAML", language="yaml", buttons=["copy"], elem_id="yaml-output")
                diff_out = gr.Code(label="Repair diff", elem_id="repair-diff")
            lint_table = gr.Dataframe(headers=list(LINT_COLUMNS), label="Lint", elem_id="lint-table", **TABLE)
            outputs = [yaml_out, lint_table, summary, diff_out]
            generate.click(on_generate, [intent, n, repair_level, fallback, max_new_tokens], outputs)
            intent.submit(on_generate, [intent, n, repair_level, fallback, max_new_tokens], outputs)
        with gr.Tab("Lint YAML", id="lint"):
            pasted = gr.Code(label="Paste a manifest", language="yaml", value=EXAMPLE_YAML, elem_id="lint-input")
            lint_button = gr.Button("Lint", variant="primary", elem_id="lint-button")
            lint_summary = gr.Markdown(elem_id="lint-summary")
            pasted_table = gr.Dataframe(headers=list(LINT_COLUMNS), label="Lint", elem_id="lint-table-pasted", **TABLE)
            lint_button.click(on_lint, [pasted], [pasted_table, lint_summary])
    return demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="A saved model folder (default: $DUAL_CODET5_MODEL, then the main job's).")
    # None: Gradio's default (127.0.0.1, or $GRADIO_SERVER_NAME / $GRADIO_SERVER_PORT, which Spaces set)
    parser.add_argument("--host", default=None, help="Interface to listen on, e.g. 0.0.0.0 in a container.")
    parser.add_argument("--port", type=int, default=None, help="Port (Gradio's default: 7860).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    model = args.model or default_model_dir()
    logging.getLogger(__name__).info(model_status(model))
    build_app(model).launch(server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
