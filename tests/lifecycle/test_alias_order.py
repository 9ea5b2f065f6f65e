"""Promotion order: an alias does not step back to an older version, nor to the one a
rollback left, unless asked to in so many words.

The alias carries what it needs in its description: the versions it served before
(the history rollback reads) and the versions a rollback moved it away from. So the
rules hold from any machine, with no local state.
"""

from __future__ import annotations

import calendar

import pytest

from lambda_gate import aliases
from lambda_gate.aliases.ordering import check_order, published_at
from lambda_gate.errors import OutOfOrder


@pytest.fixture
def function(make_function):
    return make_function(versions=4, prefix="order")


def alias(client, function: str):
    return aliases.get_alias(client, function, "main")


def test_a_rollback_marks_the_version_it_left(lambda_client, function):
    for version in ("1", "2", "3"):
        aliases.promote(lambda_client, function, "main", version)

    aliases.rollback(lambda_client, function, "main")

    state = alias(lambda_client, function)
    assert (state.version, state.history, state.rolled_back) == ("2", ("1",), ("3",))


def test_rolling_back_twice_keeps_both_versions_marked(lambda_client, function):
    for version in ("1", "2", "3"):
        aliases.promote(lambda_client, function, "main", version)

    aliases.rollback(lambda_client, function, "main")
    aliases.rollback(lambda_client, function, "main")

    state = alias(lambda_client, function)
    assert (state.version, state.history, state.rolled_back) == ("1", (), ("2", "3"))


def test_abandoning_a_canary_marks_the_canary_version(lambda_client, function):
    aliases.promote(lambda_client, function, "main", "1")
    aliases.shift_weight(lambda_client, function, alias(lambda_client, function), "2", 0.1)

    aliases.rollback(lambda_client, function, "main")

    assert alias(lambda_client, function).rolled_back == ("2",)


def test_promoting_a_newer_version_keeps_the_marks(lambda_client, function):
    for version in ("1", "2"):
        aliases.promote(lambda_client, function, "main", version)
    aliases.rollback(lambda_client, function, "main")

    aliases.promote(lambda_client, function, "main", "3")

    state = alias(lambda_client, function)
    assert (state.version, state.history, state.rolled_back) == ("3", ("1",), ("2",))


def test_promoting_a_rolled_back_version_on_purpose_clears_its_mark(lambda_client, function):
    for version in ("1", "2"):
        aliases.promote(lambda_client, function, "main", version)
    aliases.rollback(lambda_client, function, "main")

    aliases.promote(lambda_client, function, "main", "2")

    state = alias(lambda_client, function)
    assert (state.version, state.history, state.rolled_back) == ("2", ("1",), ())


def test_an_older_version_is_refused_naming_both_and_when_each_was_promoted(
        lambda_client, function):
    aliases.promote(lambda_client, function, "main", "3")
    promoted = {"3": calendar.timegm((2026, 12, 3, 6, 41, 3))}

    with pytest.raises(OutOfOrder) as refused:
        check_order(lambda_client, function, alias(lambda_client, function), "2",
                    promoted=promoted)

    message = refused.value.message
    assert message.startswith("not moving main back to an older version: it serves "
                              "version 3 (published ")
    assert "main last moved to it at 2026-12-03 06:41:03 UTC), newer than version 2" in message
    assert "no record here of main moving to it" in message
    assert "`invoke rollback --to 2` (or pass --allow-older)" in message
    assert refused.value.exit_code == 4


def test_an_older_version_passes_when_asked_for(lambda_client, function):
    aliases.promote(lambda_client, function, "main", "3")

    check_order(lambda_client, function, alias(lambda_client, function), "2",
                promoted={}, allow_older=True)


def test_the_version_rolled_back_from_is_refused_saying_why(lambda_client, function):
    for version in ("1", "2"):
        aliases.promote(lambda_client, function, "main", version)
    aliases.rollback(lambda_client, function, "main")

    with pytest.raises(OutOfOrder) as refused:
        check_order(lambda_client, function, alias(lambda_client, function), "2",
                    promoted={})

    message = refused.value.message
    assert message.startswith("not promoting version 2 to main: main was rolled back "
                              "from it (`invoke rollback`) and serves version 1")
    assert "main stays at 1. Deploy a fix, or pass --force to promote version 2" in message


def test_the_version_rolled_back_from_passes_with_force(lambda_client, function):
    for version in ("1", "2"):
        aliases.promote(lambda_client, function, "main", version)
    aliases.rollback(lambda_client, function, "main")

    check_order(lambda_client, function, alias(lambda_client, function), "2",
                promoted={}, allow_rolled_back=True)


def test_a_newer_version_and_a_new_alias_pass(lambda_client, function):
    check_order(lambda_client, function, None, "1", promoted={})
    aliases.promote(lambda_client, function, "main", "1")

    check_order(lambda_client, function, alias(lambda_client, function), "2", promoted={})


def test_the_marks_always_fit_beside_a_long_history():
    history = [str(n) for n in range(9000, 8900, -1)]

    text = aliases.format_history(history, ["9001", "9002"])

    assert len(text) <= aliases.DESCRIPTION_LIMIT
    assert aliases.parse_history(text) == tuple(history[:len(aliases.parse_history(text))])
    assert aliases.alias.parse_rolled_back(text) == ("9001", "9002")


@pytest.mark.parametrize("last_modified", [
    "2026-12-03T06:40:12.000+0000",  # Lambda's
    "2026-12-03T06:40:12.123456000Z",
    "2026-12-03T07:40:12+0100",
])
def test_publication_times_read_as_lambda_writes_them(last_modified):
    class Client:
        def get_function_configuration(self, **_):
            return {"LastModified": last_modified}

    assert published_at(Client(), "f", "1") == "2026-12-03 06:40:12 UTC"
