"""`python -m k8s_scoring FILE...`: the k8s-lint CLI."""

from .cli import main

raise SystemExit(main())
