# This repository's Makefile: lambda-gate's targets, the same ones `lambda-gate init`
# writes into a repository (here they deploy the example service in src/), and its
# own tests. `make help` lists them all.
.PHONY: test lint

test: ## lambda-gate's own test suite (needs terraform and the aws provider)
	python -m pytest -q

lint: ## ruff and the import-linter contracts
	ruff check plugin tests benchmarks
	lint-imports

include plugin/lambda_gate/scaffold/templates/Makefile
