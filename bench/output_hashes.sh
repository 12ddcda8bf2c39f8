#!/usr/bin/env bash
# Hash every output swimsim writes for the built-in kernels, to show that a change is a pure restructuring.
# usage: bench/output_hashes.sh OUT.sha   (run from a checkout with swimsim's dependencies installed)
# Run it before and after a change and `diff` the two files. It records every kernel spec's task graph
# (IR JSON, deps.json, summary), a level-4 HCA run with pipe lanes and overhead tracks, a qkv prefill run,
# stats, critical-path, overhead, explain, placement, chips, a sweep, compare, and reproduce's whole out/.
# Printed wall-clock timings are masked; outputs go to a fixed-length temporary path (tables align to it).
set -euo pipefail
sha=$(realpath -m "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/ss-XXXXXX)
trap 'rm -rf "$out"' EXIT
cd "$src"
export PYTHONPATH="$src"
run() { python -m sim "$@"; }
for spec in qkv_proj_rope:baseline qkv_proj_rope:precompute decode_attention_hca:baseline decode_attention_hca:precompute; do
  for mode in decode prefill; do
    [[ $spec == decode_attention_hca* && $mode == prefill ]] && continue
    tag="${spec/:/_}_$mode"
    run graph "$spec" --mode $mode --format json > "$out/graph_$tag.json"
    run graph "$spec" --mode $mode --format deps > "$out/deps_$tag.json"
    run graph "$spec" --mode $mode > "$out/summary_$tag.txt"
  done
done
run run decode_attention_hca:precompute --level 4 -o "$out/run_hca" --pipe-lanes --overhead > "$out/run_hca.txt"
run run qkv_proj_rope:baseline --mode prefill -o "$out/run_qkvp" > "$out/run_qkvp.txt"
run stats "$out/run_hca" > "$out/stats_hca.txt"
run critical-path "$out/run_hca" > "$out/cp_hca.txt"
run overhead "$out/run_hca" > "$out/oh_hca.txt"
run explain "$out/run_hca" q_head_rms_nope_rope --ops > "$out/explain_hca.txt"
run placement "$out/run_hca" > "$out/placement_hca.txt"
run chips 910C-calibrated --show > "$out/chips.txt"
run sweep qkv_proj_rope:baseline --vary vector.op_fixed_ns=80,100 --metric wall -o "$out/sweep" > "$out/sweep.txt"
run compare qkv_proj_rope:baseline qkv_proj_rope:precompute --runs 2 > "$out/compare.txt"
run reproduce -o "$out/reproduce" > "$out/reproduce.txt" 2>/dev/null
sed -i -e "s#$out#OUT#g" "$out"/*.txt
sed -i -E -e "s/\((graph built|simulated) in [0-9.]+ m?s\)/(T)/" -e "s/  \([0-9.]+ s\)$/ (T)/" "$out"/*.txt
(cd "$out" && find . -type f | sort | xargs sha256sum) > "$sha"
echo "wrote $sha ($(wc -l < "$sha") files)"
