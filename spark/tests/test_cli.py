"""The job protocol: spec loading, progress and error lines, the atomic result file."""
from __future__ import annotations

import json
import os

import pytest

from nightjar_spark import cli
from nightjar_spark.progress import error, progress
from nightjar_spark.result import write_result
from nightjar_spark.spec import join_uri, load_spec, local_path

SPEC = {
    "job": "normalize",
    "attemptId": "nightjar-daily-2026-11-20-normalize-a1",
    "businessDate": "2026-11-20",
    "reportingCurrency": "EUR",
    "outputUri": "file:///tmp/x",
    "resultUri": "file:///tmp/x/_result.json",
    "catalog": [],
}


def write_spec(tmp_path, **overrides):
    path = tmp_path / "spec with space.json"
    spec = {**SPEC, "resultUri": (tmp_path / "out" / "_result.json").as_uri(), **overrides}
    path.write_text(json.dumps(spec))
    return path, spec


def test_spec_from_path_and_file_uri(tmp_path):
    path, spec = write_spec(tmp_path)
    assert load_spec(str(path)) == spec
    assert load_spec(path.as_uri()) == spec  # percent-encoded space


def test_spec_missing_fields(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"job": "normalize"}))
    with pytest.raises(ValueError, match="attemptId"):
        load_spec(str(path))


def test_uri_helpers():
    assert join_uri("file:///a/b/", "c", "d") == "file:///a/b/c/d"
    assert local_path("file:///a/b%20c") == "/a/b c"
    with pytest.raises(ValueError):
        local_path("s3a://bucket/key")


def test_result_written_atomically(tmp_path):
    target = tmp_path / "out" / "_result.json"
    write_result(target.as_uri(), {"job": "normalize", "feeds": []})
    assert json.loads(target.read_text()) == {"job": "normalize", "feeds": []}
    write_result(str(target), {"job": "normalize", "feeds": [1]})
    assert json.loads(target.read_text())["feeds"] == [1]
    assert os.listdir(target.parent) == ["_result.json"]  # no temporary file left behind


def test_progress_and_error_lines(capsys):
    progress("normalize", feed="accounts", rowsIn=3)
    error(RuntimeError("boom\nsecond line"))
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("NIGHTJAR_PROGRESS {")
    assert json.loads(out[0].split(" ", 1)[1])["phase"] == "normalize"
    assert out[1].startswith("NIGHTJAR_ERROR {")
    payload = json.loads(out[1].split(" ", 1)[1])
    assert payload["error"] == "RuntimeError" and payload["message"] == "boom | second line"
    assert payload["outOfMemory"] is False


class FakeSession:
    version = "test"
    stopped = False

    def stop(self):
        self.stopped = True


def test_main_writes_result_last(tmp_path, monkeypatch, capsys):
    path, spec = write_spec(tmp_path)
    session = FakeSession()
    monkeypatch.setattr(cli, "build_session", lambda attempt_id, conf: session)
    seen = {}

    def runner(spark, s):
        seen["result_exists_during_run"] = os.path.exists(local_path(s["resultUri"]))
        return {"job": "normalize", "feeds": []}

    assert cli.main("normalize", runner, ["--spec", str(path)]) == 0
    assert seen == {"result_exists_during_run": False}
    assert json.loads(open(local_path(spec["resultUri"])).read()) == {"job": "normalize", "feeds": []}
    assert session.stopped
    phases = [json.loads(line.split(" ", 1)[1])["phase"] for line in capsys.readouterr().out.splitlines()]
    assert phases[0] == "start" and phases[-1] == "done"


def test_main_reports_error_and_writes_no_result(tmp_path, monkeypatch, capsys):
    path, spec = write_spec(tmp_path)
    monkeypatch.setattr(cli, "build_session", lambda attempt_id, conf: FakeSession())

    def runner(spark, s):
        raise MemoryError("Java heap space")

    with pytest.raises(MemoryError):
        cli.main("normalize", runner, ["--spec", str(path)])
    assert not os.path.exists(local_path(spec["resultUri"]))
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("NIGHTJAR_ERROR ")
    payload = json.loads(last.split(" ", 1)[1])
    assert payload["error"] == "MemoryError" and payload["outOfMemory"] is True


def test_main_rejects_a_spec_for_the_other_job(tmp_path, monkeypatch, capsys):
    path, _ = write_spec(tmp_path, job="transform")
    with pytest.raises(ValueError, match="transform"):
        cli.main("normalize", lambda s, p: {}, ["--spec", str(path)])
    assert "NIGHTJAR_ERROR" in capsys.readouterr().out
