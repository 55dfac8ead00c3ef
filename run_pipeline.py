"""The main job in one command: tokenizer -> SFT baseline -> SFT dual -> RL dual -> evaluation.

A thin entry point: the logic lives in `dual_codet5.pipeline` (also behind `dual-codet5 pipeline`).

Copy-paste commands (repository root)::

    python run_pipeline.py --preset cpu-demo --output_dir runs/cpu_demo
    python run_pipeline.py --preset gpu --output_dir runs/gpu
    python run_pipeline.py --help
"""

from dual_codet5.pipeline import main

if __name__ == "__main__":
    main()
