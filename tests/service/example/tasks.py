"""The example service's tasks: an HTTP API and a worker that share common/."""

from lambda_gate.tasks import ns

ns.configure({
    "lambda_gate": {
        "function": {"runtime": "python3.11"},
        "functions": {
            "api": {"source_dir": "services/api", "handler": "app.handler",
                    "include": "common"},
            "worker": {"source_dir": "services/worker", "handler": "worker.handler",
                       "include": "common"},
        },
    },
})
