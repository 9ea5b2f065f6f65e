"""Smoke tests of the service's worker, against its own new version."""

import json


def test_the_worker_greets_each_record(lambda_invoke, lambda_target):
    result = lambda_invoke({"Records": [{"body": json.dumps({"name": "Ada"})}]})

    assert result.function_error is None
    assert result.payload["version"] == lambda_target.version
    assert result.payload["processed"][0].endswith(", Ada!")
