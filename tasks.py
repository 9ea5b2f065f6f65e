"""This repository's tasks: lambda-gate's collection, configured for api-backend."""

from lambda_gate.tasks import ns

ns.configure({
    "lambda_gate": {
        "function": {"source_dir": "src", "runtime": "python3.11", "handler": "app.handler"},
        "build": {"artifact": "build/lambda.zip"},
        "terraform": {"dir": "terraform"},
        "smoke": {"path": "smoke"},
    },
})
