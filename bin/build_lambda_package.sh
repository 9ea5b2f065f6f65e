#!/usr/bin/env bash
# Build the function package for CI: the same `invoke build` a developer runs, from the
# repository root whatever the caller's directory. Arguments go to the task (--force).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec invoke build "$@"
