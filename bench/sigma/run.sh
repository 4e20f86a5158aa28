#!/usr/bin/env bash
# bench/sigma/run.sh: medguard's rule engine against go-sigma-rule-engine on equivalent
# single-event field rules over the simulator's events (seed 1, default size), on one
# goroutine; prints events/s of both and the ratio. A module of its own (go.mod here):
# the product's go.mod does not depend on the Sigma engine.
# Environment: SIGMA_ROUNDS (5), SIGMA_SEED (1).
set -euo pipefail
cd "$(dirname "$0")"
go run . -rounds "${SIGMA_ROUNDS:-5}" -seed "${SIGMA_SEED:-1}"
