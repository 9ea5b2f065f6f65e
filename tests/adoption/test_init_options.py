"""`lambda-gate init`'s choices: each bad one is one message saying what to use."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError
from lambda_gate.scaffold import options


@pytest.mark.parametrize(("choices", "message"), [
    ({"runtime": "go1.x"}, "--runtime 'go1.x' is not a Lambda runtime lambda-gate builds"),
    ({"function_name": "my function"}, "--function-name 'my function' is not a Lambda "
                                       "function name: use 1 to 64 letters"),
    ({"handler": "app"}, "--handler 'app' must be module.function, e.g. app.handler."),
    ({"runtime": "nodejs", "handler": "dist/main"},
     "--handler 'dist/main' must be module.function, e.g. dist/main.handler."),
    ({"ci": "jenkins"}, "--ci 'jenkins' is not one of github, circleci, none."),
])
def test_a_bad_choice_is_refused_with_what_to_use(tmp_path: Path, choices: dict,
                                                  message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        options(tmp_path, **choices)
    assert raised.value.message.startswith(message)
    assert raised.value.exit_code == 2


def test_defaults_follow_the_runtime(tmp_path: Path) -> None:
    node = options(tmp_path / "api-backend", runtime="nodejs")
    assert (node.function_name, node.runtime, node.handler, node.source_dir) == (
        "api-backend", "nodejs20.x", "dist/main.handler", ".")
    python = options(tmp_path / "api-backend", runtime="python3.12")
    assert (python.runtime, python.handler, python.source_dir) == (
        "python3.12", "app.handler", "src")
