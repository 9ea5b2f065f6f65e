"""What the plugin adds to pytest's report: header, JUnit properties, markers, log tails."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest


def junit_properties(path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    return {prop.get("name"): prop.get("value") for prop in root.iter("property")}


def test_the_header_says_when_there_is_no_target(pytester, run_pytest):
    pytester.makepyfile("def test_plain():\n    pass\n")

    result = run_pytest()

    result.stdout.fnmatch_lines(
        ["lambda-gate: no Lambda target (tests using its fixtures are skipped)"])


def test_the_header_names_a_local_endpoint(pytester, run_pytest, versioned, local_aws):
    pytester.makepyfile("def test_plain():\n    pass\n")

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.stdout.fnmatch_lines([
        f"lambda-gate: {versioned.name} version 1 ({versioned.arn('1')}), from --lambda-arn",
        f"lambda-gate: endpoint {local_aws.url}",
    ])


def test_junit_xml_carries_the_target_as_testsuite_properties(pytester, run_pytest,
                                                              versioned, lambda_client):
    pytester.makepyfile("def test_plain():\n    pass\n")
    sha = lambda_client.get_function(FunctionName=versioned.name,
                                     Qualifier="2")["Configuration"]["CodeSha256"]

    run_pytest(f"--lambda-arn={versioned.arn('2')}", "--junitxml=report.xml")

    assert junit_properties(pytester.path / "report.xml") == {
        "lambda_gate.function": versioned.name,
        "lambda_gate.version": "2",
        "lambda_gate.qualified_arn": versioned.arn("2"),
        "lambda_gate.code_sha256": sha,
    }


def test_junit_xml_names_the_alias_when_testing_through_one(pytester, run_pytest, versioned):
    pytester.makepyfile("def test_plain():\n    pass\n")

    run_pytest(f"--lambda-arn={versioned.arn('live')}", "--lambda-allow-alias",
               "--junitxml=report.xml")

    properties = junit_properties(pytester.path / "report.xml")
    assert (properties["lambda_gate.version"], properties["lambda_gate.alias"]) == ("1", "live")


def test_junit_xml_has_no_target_properties_without_a_target(pytester, run_pytest):
    pytester.makepyfile("def test_plain():\n    pass\n")

    run_pytest("--junitxml=report.xml")

    assert junit_properties(pytester.path / "report.xml") == {}


def test_the_entry_point_loads_the_plugin_and_its_markers_pass_strict_markers(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_gate
        @pytest.mark.lambda_http(format="v1")
        def test_marked():
            pass
    """)

    result = pytester.runpytest_subprocess("--strict-markers")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *lambda-gate-*"])


def test_tests_using_the_fixtures_are_marked_lambda_gate(pytester, run_pytest):
    pytester.makepyfile("""
        def test_plain():
            pass

        def test_invokes(lambda_invoke):
            pass
    """)

    result = run_pytest("-m", "not lambda_gate", "-v")

    result.stdout.fnmatch_lines(["*test_plain PASSED*"])
    result.assert_outcomes(passed=1, deselected=1)


def test_a_failing_test_shows_the_log_tail_of_its_invocations(pytester, run_pytest, versioned):
    pytester.makepyfile("""
        def test_fails(lambda_invoke):
            lambda_invoke({"n": 1})
            lambda_invoke({"n": 2})
            assert False
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('2')}")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*- lambda log tail -*",
        "--- invocation 1 of 2: status 200, version 2, * ms ---",
        "START RequestId: * Version: 2",
        "running code two",
        "*",
        "--- invocation 2 of 2: status 200, version 2, * ms ---",
    ])


def test_a_passing_test_shows_no_log_tail(pytester, run_pytest, versioned):
    pytester.makepyfile("""
        def test_passes(lambda_invoke):
            lambda_invoke({})
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}", "-rA")

    result.assert_outcomes(passed=1)
    assert "lambda log tail" not in result.stdout.str()


def test_the_log_tail_never_shows_an_environment_value(pytester, run_pytest, versioned,
                                                       secret_value):
    pytester.makepyfile("""
        def test_fails(lambda_invoke):
            result = lambda_invoke({"leak": True})
            assert "token is [redacted]" in result.log_tail
            assert False
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["token is [[]redacted]"])
    assert secret_value not in result.stdout.str()


def test_an_unknown_http_event_format_in_the_marker_fails_the_test(pytester, run_pytest,
                                                                   versioned):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_http(format="v3")
        def test_http(lambda_http):
            pass
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.lambda_http(format='v3') is not a payload "
                                 "format: use 'v2' (HTTP API) or 'v1' (REST API)."])


def test_an_unknown_http_event_format_in_the_ini_file_is_a_usage_error(pytester, run_pytest):
    pytester.makeini("[pytest]\nlambda_http_event_format = soap\n")
    pytester.makepyfile("def test_plain():\n    pass\n")

    result = run_pytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: 'soap' from ini lambda_http_event_format is not an "
                                 "API Gateway payload format: *"])


def test_unknown_lambda_http_marker_arguments_fail_the_test(pytester, run_pytest, versioned):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_http(fromat="v1")
        def test_http(lambda_http):
            pass
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.lambda_http got unknown arguments fromat: it "
                                 "takes format='v2'|'v1' and route='METHOD /path/{param}'."])


def test_a_malformed_lambda_http_route_fails_the_test(pytester, run_pytest, versioned):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.lambda_http(route="orders/{id}")
        def test_http(lambda_http):
            pass
    """)

    result = run_pytest(f"--lambda-arn={versioned.arn('1')}")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.lambda_http: route 'orders/{id}' must look "
                                 "like 'GET /items/{id}' or '/items/{id}'."])
