#!/usr/bin/env bash
# Promote for CI: create the branch's alias or move it to the version the last apply
# published, guarded by its RevisionId; the same `invoke promote` a developer runs, from
# the repository root whatever the caller's directory. Arguments go to the task
# (--version, --alias, --env, --approve, --canary 10,50 --interval 300, --smoke-alias).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec invoke promote "$@"
