"""Entry point of the transform Spark job: `spark-submit … jobs/transform.py --spec <path-or-uri>`."""
import os
import sys

try:
    import nightjar_spark  # noqa: F401 - shipped with --py-files
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nightjar_spark.cli import main  # noqa: E402
from nightjar_spark.transform import run_transform  # noqa: E402

if __name__ == "__main__":
    sys.exit(main("transform", run_transform))
