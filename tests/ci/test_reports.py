"""What a CI job stores as artifacts: the smoke tests' JUnit XML and the deploy record.

Both land in ``lambda_gate.reports_dir`` at names a CI configuration can list.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET


def test_the_reports_directory_holds_the_junit_xml_and_the_record(ci_deploy):
    assert sorted(ci_deploy.reports) == ["deploy-record.json", "smoke-1.xml"]


def test_the_junit_xml_names_each_smoke_test_and_the_version_it_tested(ci_deploy):
    root = ET.fromstring(ci_deploy.reports["smoke-1.xml"])
    names = sorted(case.get("name") for case in root.iter("testcase"))
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}

    assert names == ["test_greet_answers_with_the_name",
                     "test_greet_without_a_name_is_a_client_error",
                     "test_health_reports_the_version_under_test"]
    assert properties["lambda_gate.qualified_arn"].endswith(
        f":function:{ci_deploy.function}:1")


def test_the_deploy_record_says_what_was_promoted_and_what_the_tests_found(ci_deploy):
    record = json.loads(ci_deploy.reports["deploy-record.json"])

    assert record["function"] == ci_deploy.function
    assert record["version"] == "1"
    assert record["outcome"] == "promoted"
    assert (record["alias"], record["alias_before"], record["alias_after"]) == (
        "main", None, "1")
    assert (record["tests_passed"], record["tests_failed"]) == (3, 0)
    assert record["smoke_passed"] is True
