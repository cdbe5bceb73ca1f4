"""Everything that reads finished runs and writes reports: metrics of runs and sweeps, tables over
seeds, figures, the paper's numbers (`paper.py`), the latent report,
diagnostics of learning and the speed benchmarks. Nothing here trains; `launch.report`,
`launch.paper_scale`, `launch.diagnose` and `launch.benchmark` compose it."""
