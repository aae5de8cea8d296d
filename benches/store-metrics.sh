#!/usr/bin/env bash
# compare.py runs `$DORA metrics --input DIR ARGS...`; this runs the same metrics from a store
# instead (DORA_STORE), so compare.py checks and times the store path against the reference.
#   DORA_BIN=target/release/dora DORA_STORE=STORE python3 ../shared/bench/compare.py \
#       --dora benches/store-metrics.sh --data DIR
set -euo pipefail
args=()
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  if [ "$a" = --input ]; then skip=1; continue; fi
  args+=("$a")
done
exec "${DORA_BIN:?}" --store "${DORA_STORE:?}" "${args[@]}"
