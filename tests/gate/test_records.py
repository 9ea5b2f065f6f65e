"""Deploy records are evidence promote trusts: a malformed one counts as no record."""

from __future__ import annotations

import json

import pytest

from lambda_gate import records

GOOD = records.DeployRecord(environment="local", alias="main", function="api", version="3",
                            smoke_passed=True, outcome="promoted",
                            durations={"build": 0.5, "apply": 9})


def write(directory, name: str, text: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)


def test_a_written_record_reads_back_as_it_was(tmp_path):
    path = records.write(GOOD, tmp_path)

    assert records.load_all(tmp_path) == [GOOD]
    assert records.passing_record(tmp_path, "api", "3") == GOOD
    assert path.name.endswith("-3-promoted.json")


@pytest.mark.parametrize("change", [
    {"smoke_passed": "no"},
    {"smoke_passed": 1},
    {"version": 3},
    {"version": "\u0663"},
    {"function": ["api"]},
    {"tests_passed": "3"},
    {"tests_passed": True},
    {"failed_tests": "test_x"},
    {"durations": {"build": "fast"}},
    {"environment": None},
], ids=lambda change: json.dumps(change))
def test_a_record_with_a_value_of_the_wrong_type_counts_for_nothing(tmp_path, change):
    data = json.loads(GOOD.to_json())
    data.update(change)
    write(tmp_path, "20260101T000000-3-promoted.json", json.dumps(data))

    assert records.load_all(tmp_path) == []
    assert records.passing_record(tmp_path, "api", "3") is None


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '"record"', "\xff"])
def test_a_file_that_is_not_a_record_object_is_passed_over(tmp_path, text):
    write(tmp_path, "20260101T000000-3-promoted.json", text)
    records.write(GOOD, tmp_path)

    assert records.load_all(tmp_path) == [GOOD]


def test_keys_a_newer_version_added_are_left_out(tmp_path):
    data = json.loads(GOOD.to_json())
    data["added_later"] = {"anything": 1}
    write(tmp_path, "20260101T000000-3-promoted.json", json.dumps(data))

    assert records.load_all(tmp_path) == [GOOD]
