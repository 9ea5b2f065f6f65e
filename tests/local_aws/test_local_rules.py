"""The pure decisions behind the local AWS, checked without a server."""

from __future__ import annotations

import pytest

from lambda_gate.local_aws.api_errors import ApiFault
from lambda_gate.local_aws.code_cache import unsafe_entry
from lambda_gate.local_aws.fidelity import page, validate_alias_name
from lambda_gate.local_aws.invoke import pick_version, split_name


@pytest.mark.parametrize(("name", "qualifier", "expected"), [
    ("fn", None, ("fn", None)),
    ("fn:live", None, ("fn", "live")),
    ("fn", "3", ("fn", "3")),
    ("arn:aws:lambda:eu-west-1:123456789012:function:fn", None, ("fn", None)),
    ("arn:aws:lambda:eu-west-1:123456789012:function:fn:2", None, ("fn", "2")),
    ("123456789012:function:fn:$LATEST", None, ("fn", "$LATEST")),
])
def test_function_name_and_qualifier_come_from_name_arn_or_parameter(name, qualifier,
                                                                     expected) -> None:
    assert split_name(name, qualifier) == expected


def test_a_qualifier_in_the_name_must_match_the_parameter() -> None:
    with pytest.raises(ApiFault) as raised:
        split_name("fn:1", "2")
    assert raised.value.error_type == "InvalidParameterValueException"
    assert "derived qualifier" in raised.value.message


@pytest.mark.parametrize(("roll", "expected"), [(0.0, "2"), (0.29, "2"), (0.3, "1"),
                                                (0.99, "1")])
def test_an_alias_routes_a_roll_below_the_weight_to_the_additional_version(roll,
                                                                           expected) -> None:
    assert pick_version("1", {"AdditionalVersionWeights": {"2": 0.3}}, roll) == expected


def test_an_alias_without_routing_always_picks_its_version() -> None:
    assert pick_version("4", None, 0.0) == "4"


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil.py", "/etc/passwd",
                                  "C:/evil.py", "..\\evil.py"])
def test_entries_escaping_the_package_are_unsafe(name: str) -> None:
    assert unsafe_entry(name)


@pytest.mark.parametrize("name", ["app.py", "dist/main.js", "pkg/..hidden/x.py", "a..b.py"])
def test_ordinary_entries_are_safe(name: str) -> None:
    assert not unsafe_entry(name)


@pytest.mark.parametrize("name", ["live", "v2-canary", "release_1", "a" * 128, "1a"])
def test_valid_alias_names_pass(name: str) -> None:
    validate_alias_name(name)


@pytest.mark.parametrize("name", ["", "42", "has space", "dot.ted", "a" * 129, "$LATEST"])
def test_invalid_alias_names_are_a_validation_error(name: str) -> None:
    with pytest.raises(ApiFault) as raised:
        validate_alias_name(name)
    assert raised.value.status == 400
    assert raised.value.error_type == "ValidationException"


def test_pages_are_fifty_items_by_default_with_a_marker_for_the_rest() -> None:
    items = list(range(120))
    first, marker = page(items, None, None)
    second, marker2 = page(items, marker, None)
    third, marker3 = page(items, marker2, None)
    assert (len(first), len(second), len(third)) == (50, 50, 20)
    assert first + second + third == items
    assert marker3 is None


def test_max_items_sets_the_page_size() -> None:
    assert page(list(range(10)), None, "3") == ([0, 1, 2], "3")


@pytest.mark.parametrize(("marker", "max_items"), [("nope", None), ("999", None),
                                                   (None, "0"), (None, "10001")])
def test_bad_markers_and_page_sizes_are_refused(marker, max_items) -> None:
    with pytest.raises(ApiFault):
        page(list(range(10)), marker, max_items)
