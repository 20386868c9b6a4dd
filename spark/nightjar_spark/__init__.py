"""Shared code of the Nightjar Spark jobs (normalize, transform).

The jobs implement the contract in docs/spark-jobs.md: one argument pair `--spec <path-or-uri>`,
progress lines on stdout, the result file written last and atomically.
"""
