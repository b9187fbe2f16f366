"""`python -m bench` runs the engine benchmark; the others run as `python -m bench.<name>`."""

from bench.engine_throughput import main

raise SystemExit(main())
