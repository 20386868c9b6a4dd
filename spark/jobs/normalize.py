"""Entry point of the normalize Spark job: `spark-submit … jobs/normalize.py --spec <path-or-uri>`."""
import json
import os
import sys

try:
    import nightjar_spark  # noqa: F401 - shipped with --py-files
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    try:
        from nightjar_spark.cli import main
    except BaseException as exc:
        print("NIGHTJAR_ERROR " + json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        raise
    sys.exit(main("normalize", "nightjar_spark.normalize:run_normalize"))
