#!/usr/bin/env bash
# Run a forksim sweep as N shards with GNU parallel (on one machine or, with --sshlogin,
# several), then merge them into the bytes a single process would have written.
#
#   scripts/sweep-parallel.sh scenarios/sweeps/orphans.toml 4
set -euo pipefail
sweep="${1:?usage: sweep-parallel.sh SWEEP.toml N}"
shards="${2:?usage: sweep-parallel.sh SWEEP.toml N}"
name="$(basename "$sweep" .toml)"
out="results/sweeps/$name"
seq 1 "$shards" | parallel --halt now,fail=1 \
  forksim sweep "$sweep" --shard "{}/$shards" --threads 1 --out "$out/shard-{}" --resume
forksim merge "$out"/shard-* --out "$out"
