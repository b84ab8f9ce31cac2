#!/usr/bin/env bash
# Run a forksim sweep as a Slurm job array: one shard per array task, then merge.
#
#   sbatch --array=1-8 scripts/sweep-slurm.sh scenarios/sweeps/orphans.toml 8
#   # when every task has finished:
#   forksim merge results/sweeps/orphans/shard-* --out results/sweeps/orphans
#
# Each task writes only its own shard folder; `forksim merge` checks that the shards belong
# to the same sweep and cover every run exactly once, and writes the same bytes one process
# would have written. A task that dies can be re-submitted with the same index: add --resume
# and it runs only the runs its shard has not finished.
#SBATCH --job-name=forksim-sweep
#SBATCH --cpus-per-task=2
#SBATCH --output=forksim-sweep-%A_%a.log
set -euo pipefail
sweep="${1:?usage: sbatch --array=1-N sweep-slurm.sh SWEEP.toml N}"
shards="${2:?usage: sbatch --array=1-N sweep-slurm.sh SWEEP.toml N}"
name="$(basename "$sweep" .toml)"
k="${SLURM_ARRAY_TASK_ID:?run this script as a Slurm array task}"
forksim sweep "$sweep" --shard "$k/$shards" --out "results/sweeps/$name/shard-$k" --resume
