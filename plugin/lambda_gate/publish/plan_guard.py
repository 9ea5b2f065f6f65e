"""The plan guard: what a saved plan would do, and whether it may do it.

Every apply runs from a plan lambda-gate saved and read first. Most of what a plan does
is harmless or the point (a function updated in place publishes a version), but some of
it cannot be undone by the next deploy: replacing or destroying a Lambda function
deletes every published version and alias with it, destroying an alias takes away the
name callers use, and replacing a role the function runs with breaks the versions that
still name it. Those changes are refused unless the user allowed them
(``--allow-replace``, ``lambda_gate.terraform.allow_replace``, or a yes on a terminal);
the refusal lists each such resource and why terraform wants it (the attributes that
force the replacement, from the plan's ``replace_paths``).

Works on the JSON of ``terraform show -json PLANFILE``; nothing here runs terraform.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Error

#: How the table names each action.
ACTION_NAMES = {"create": "create", "update": "update in place", "replace": "replace",
                "destroy": "destroy"}

_REASONS = {
    "replace_because_tainted": "it is tainted",
    "replace_by_request": "-replace asked for it",
    "replace_by_triggers": "its replace_triggered_by changed",
    "delete_because_no_resource_config": "it is no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "count or for_each changed",
    "delete_because_count_index": "its count index is gone",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_move_target": "its moved block has no target",
}


class ReplacementRefused(Error):
    """The plan would replace or destroy what a deploy cannot get back; nothing applied."""

    exit_code = 2


@dataclass(frozen=True)
class Change:
    """One resource's planned change."""

    address: str
    type: str
    action: str  # create, update, replace, destroy (no-op and reads are left out)
    replace_paths: tuple[str, ...] = ()
    reason: str | None = None
    detail: str = ""  # the forcing attributes' old and new values, where safe to show

    def why(self) -> str:
        if self.replace_paths:
            forced = ", ".join(self.replace_paths)
            verb = "forces" if len(self.replace_paths) == 1 else "force"
            return f"{forced} {verb} it{self.detail}"
        return _REASONS.get(self.reason or "", "")


@dataclass(frozen=True)
class Danger:
    change: Change
    consequence: str

    def line(self) -> str:
        why = self.change.why()
        return (f"{self.change.address} would be {_past(self.change.action)}"
                f"{f' ({why})' if why else ''}: {self.consequence}")


def _past(action: str) -> str:
    return {"replace": "replaced", "destroy": "destroyed"}.get(action, action)


def _action(actions: Sequence[str]) -> str | None:
    acts = set(actions)
    if {"create", "delete"} <= acts:
        return "replace"
    if "delete" in acts:
        return "destroy"
    if "create" in acts:
        return "create"
    if "update" in acts:
        return "update"
    return None  # no-op, read, forget


def _path(path: Sequence[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _values_shown(change: Mapping[str, Any], paths: Sequence[Sequence[Any]]) -> str:
    """`` ("a" -> "b")`` for one forcing top-level attribute with plain, non-secret values."""
    if len(paths) != 1 or len(paths[0]) != 1 or not isinstance(paths[0][0], str):
        return ""
    name = paths[0][0]
    before, after = change.get("before") or {}, change.get("after") or {}
    secret = [change.get("before_sensitive") or {}, change.get("after_sensitive") or {}]
    if any(s is True or (isinstance(s, Mapping) and s.get(name)) for s in secret):
        return ""
    old, new = before.get(name), after.get(name)
    if not all(isinstance(v, (str, int, float)) for v in (old, new)):
        return ""
    return f": {json.dumps(old)} -> {json.dumps(new)}"


def changes(plan: Mapping[str, Any]) -> list[Change]:
    """The plan's managed resources that would change, in the plan's order."""
    found = []
    for rc in plan.get("resource_changes") or []:
        if rc.get("mode", "managed") != "managed":
            continue
        change = rc.get("change") or {}
        action = _action(change.get("actions") or [])
        if action is None:
            continue
        paths = change.get("replace_paths") or []
        found.append(Change(
            address=rc["address"] + (f" (deposed {rc['deposed']})" if rc.get("deposed")
                                     else ""),
            type=rc.get("type", ""), action=action,
            replace_paths=tuple(_path(p) for p in paths),
            reason=rc.get("action_reason"),
            detail=_values_shown(change, paths) if action == "replace" else ""))
    return found


def _prior_resources(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    stack = [((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}]
    while stack:
        module = stack.pop()
        yield from module.get("resources") or []
        stack.extend(module.get("child_modules") or [])


def dangers(plan: Mapping[str, Any]) -> list[Danger]:
    """The planned changes a deploy must not make without being told to."""
    resources = list(_prior_resources(plan))
    prior = {r.get("address"): r.get("values") or {} for r in resources}
    roles_in_use: dict[str, list[str]] = {}
    for resource in resources:
        role = (resource.get("values") or {}).get("role")
        if resource.get("type") == "aws_lambda_function" and role:
            roles_in_use.setdefault(role, []).append(resource["address"])
    found = []
    for change in changes(plan):
        if change.action not in ("replace", "destroy"):
            continue
        if change.type == "aws_lambda_function":
            found.append(Danger(change, "Lambda deletes the function with every published "
                                        "version and alias"))
        elif change.type == "aws_lambda_alias":
            found.append(Danger(change, "callers of the alias would fail until it exists "
                                        "again"))
        elif change.type == "aws_iam_role":
            arn = prior.get(change.address, {}).get("arn")
            users = roles_in_use.get(arn or "", [])
            if users:
                found.append(Danger(change, f"{', '.join(users)} runs with it; published "
                                            "versions keep naming the old role"))
    order = ["aws_lambda_function", "aws_lambda_alias", "aws_iam_role"]
    return sorted(found, key=lambda danger: order.index(danger.change.type))


def table(found: Sequence[Change]) -> list[str]:
    """The plan as a short table: one line per changing resource."""
    if not found:
        return ["plan: no changes"]
    counts: dict[str, int] = {}
    for change in found:
        counts[change.action] = counts.get(change.action, 0) + 1
    order = ["create", "update", "replace", "destroy"]
    head = ", ".join(f"{counts[a]} to {ACTION_NAMES[a]}" for a in order if a in counts)
    width = max(len(ACTION_NAMES[c.action]) for c in found)
    lines = [f"plan: {head}"]
    for change in sorted(found, key=lambda c: order.index(c.action)):
        why = change.why() if change.action in ("replace", "destroy") else ""
        lines.append(f"  {ACTION_NAMES[change.action]:<{width}}  {change.address}"
                     + (f"  ({why})" if why else ""))
    return lines


def refusal(found: Sequence[Danger], *, hint: str = "") -> ReplacementRefused:
    lines = "\n".join(f"  - {danger.line()}" for danger in found)
    return ReplacementRefused(
        f"the plan would replace or destroy what a deploy cannot get back:\n{lines}\n"
        "Nothing was applied. If a setting, variable or resource address changed by "
        "mistake, put it back; `invoke deploy --dry-run` shows the plan. If you mean it, "
        "run again with --allow-replace (or set lambda_gate.terraform.allow_replace)."
        + (f"\n{hint}" if hint else ""))


def question(found: Sequence[Danger]) -> str:
    names = ", ".join(d.change.address for d in found)
    return f"the plan replaces or destroys {names}; apply it anyway? [y/N] "
