"""The plan guard's rules, on plans written the way ``terraform show -json`` writes them.

Which changes are dangerous, what the refusal says, the dry run's table, and how the
apply step asks, allows or refuses; terraform itself runs in ``test_plan_guard.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gate.publish import plan_guard
from lambda_gate.publish.apply import guarded_apply
from lambda_gate.publish.terraform import PlanResult
from lambda_gate.report import Reporter

ROLE_ARN = "arn:aws:iam::123456789012:role/orders-123"


def resource_change(address: str, actions: list[str], **change) -> dict:
    kind = address.split(".")[-2]
    return {"address": address, "mode": "managed", "type": kind,
            "change": {"actions": actions, **change},
            **({"action_reason": change.pop("reason")} if "reason" in change else {})}


def plan(*changes: dict, role_used: bool = True) -> dict:
    prior = [{"address": "aws_iam_role.lambda", "type": "aws_iam_role",
              "values": {"arn": ROLE_ARN}}]
    if role_used:
        prior.append({"address": "aws_lambda_function.this", "type": "aws_lambda_function",
                      "values": {"role": ROLE_ARN}})
    return {"resource_changes": list(changes),
            "prior_state": {"values": {"root_module": {"resources": prior}}}}


RENAME = resource_change("aws_lambda_function.this", ["delete", "create"],
                         replace_paths=[["function_name"]],
                         before={"function_name": "orders"},
                         after={"function_name": "orders-eu"},
                         before_sensitive={}, after_sensitive={})
ROLE = resource_change("aws_iam_role.lambda", ["create", "delete"],
                       replace_paths=[["name_prefix"]], before={}, after={})
UPDATE = resource_change("aws_lambda_function.this", ["update"])
GONE = resource_change("aws_cloudwatch_log_group.extra", ["delete"],
                       reason="delete_because_no_resource_config")


def test_replacing_the_function_and_its_role_is_dangerous_with_the_reason():
    found = plan_guard.dangers(plan(RENAME, ROLE))

    assert [d.line() for d in found] == [
        'aws_lambda_function.this would be replaced (function_name forces it: "orders" -> '
        '"orders-eu"): Lambda deletes the function with every published version and alias',
        "aws_iam_role.lambda would be replaced (name_prefix forces it): "
        "aws_lambda_function.this runs with it; published versions keep naming the old role",
    ]


def test_a_role_no_function_uses_may_be_replaced():
    assert plan_guard.dangers(plan(ROLE, role_used=False)) == []


def test_destroying_an_alias_is_dangerous_and_other_resources_are_not():
    alias = resource_change("aws_lambda_alias.live", ["delete"],
                            reason="delete_because_no_resource_config")

    found = plan_guard.dangers(plan(alias, GONE, UPDATE))

    assert [d.change.address for d in found] == ["aws_lambda_alias.live"]
    assert "(it is no longer in the configuration)" in found[0].line()


def test_a_sensitive_forcing_value_is_not_shown():
    secret = resource_change("aws_lambda_function.this", ["delete", "create"],
                             replace_paths=[["function_name"]],
                             before={"function_name": "a"}, after={"function_name": "b"},
                             before_sensitive={"function_name": True}, after_sensitive={})

    (danger,) = plan_guard.dangers(plan(secret))

    assert "function_name forces it)" in danger.line()
    assert '"a"' not in danger.line()


def test_the_table_lists_each_change_under_its_action():
    assert plan_guard.table(plan_guard.changes(plan(GONE, UPDATE, ROLE))) == [
        "plan: 1 to update in place, 1 to replace, 1 to destroy",
        "  update in place  aws_lambda_function.this",
        "  replace          aws_iam_role.lambda  (name_prefix forces it)",
        "  destroy          aws_cloudwatch_log_group.extra  (it is no longer in the "
        "configuration)",
    ]


def test_no_ops_and_reads_are_not_in_the_table():
    noop = resource_change("aws_iam_role.lambda", ["no-op"])
    read = {**resource_change("data.aws_caller_identity.me", ["read"]), "mode": "data"}

    assert plan_guard.table(plan_guard.changes(plan(noop, read))) == ["plan: no changes"]


def test_the_summary_line_counts_what_a_plan_destroys():
    text = "...\nPlan: 2 to add, 0 to change, 2 to destroy.\n"

    assert PlanResult(changes=True, text=text).destroys == 2
    assert PlanResult(changes=True, text="Plan: 0 to add, 1 to change, 0 to destroy.").destroys == 0
    assert PlanResult(changes=True, text="no summary").destroys is None


class FakeTerraform:
    """Stands in for :class:`Terraform`: a saved plan with a replacement in it."""

    def __init__(self, tmp_path: Path, planned: dict) -> None:
        self.data_dir = tmp_path
        self.planned = planned
        self.applied: list[Path] = []

    def plan(self, out: Path) -> PlanResult:
        out.write_text("plan")
        return PlanResult(changes=True, text="Plan: 2 to add, 0 to change, 2 to destroy.",
                          path=out)

    def show_plan(self, planfile: Path) -> dict:
        return self.planned

    def apply_plan(self, planfile: Path) -> None:
        self.applied.append(planfile)


@pytest.fixture
def settings(tmp_path):
    from invoke import Config

    from lambda_gate import config

    return config.load(Config(overrides={"lambda_gate": config.DEFAULTS}), root=tmp_path)


def test_a_replacement_is_refused_and_its_saved_plan_removed(tmp_path, settings):
    tf = FakeTerraform(tmp_path, plan(RENAME))

    with pytest.raises(plan_guard.ReplacementRefused) as raised:
        guarded_apply(settings, tf, Reporter(), confirm=None)

    assert raised.value.exit_code == 2
    assert raised.value.message.startswith(
        "the plan would replace or destroy what a deploy cannot get back:\n"
        "  - aws_lambda_function.this would be replaced (function_name forces it")
    assert "run again with --allow-replace" in raised.value.message
    assert tf.applied == []
    assert list(tmp_path.glob("*.tfplan")) == []


def test_a_yes_on_the_terminal_applies_the_replacement(tmp_path, settings):
    tf = FakeTerraform(tmp_path, plan(RENAME))
    asked: list[str] = []

    assert guarded_apply(settings, tf, Reporter(),
                         confirm=lambda q: asked.append(q) or True) is True

    assert asked == ["the plan replaces or destroys aws_lambda_function.this; apply it "
                     "anyway? [y/N] "]
    assert len(tf.applied) == 1


def test_a_no_on_the_terminal_refuses(tmp_path, settings):
    tf = FakeTerraform(tmp_path, plan(RENAME))

    with pytest.raises(plan_guard.ReplacementRefused):
        guarded_apply(settings, tf, Reporter(), confirm=lambda q: False)
    assert tf.applied == []


def test_allow_replace_applies_without_asking(tmp_path, settings):
    tf = FakeTerraform(tmp_path, plan(RENAME))

    guarded_apply(settings, tf, Reporter(), allow_replace=True,
                  confirm=lambda q: pytest.fail("asked"))

    assert len(tf.applied) == 1
