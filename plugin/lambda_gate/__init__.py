"""lambda-gate: take an AWS Lambda function from source to an alias, with tests in between.

The library is usable on its own (build, terraform, aliases, local AWS); the invoke
collection in :mod:`lambda_gate.tasks` and the pytest plugin in
:mod:`lambda_gate.pytest_plugin` are thin layers over it.
"""

__version__ = "0.1.0"
