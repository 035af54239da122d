"""Speed, memory and scaling benchmarks of paee-hf: ``python benchmarks/run.py --help`` (results in RESULTS.md)."""
