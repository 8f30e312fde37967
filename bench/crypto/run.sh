#!/usr/bin/env bash
# Record encryption throughput: amanah_crypto::envelope (AES-256-GCM under a
# data key, via ring) against `openssl speed -evp aes-256-gcm`, both pinned to
# one core. See bench/crypto/README.md.
#
#   bash bench/crypto/run.sh
#
# Prints a Markdown block and writes it into bench/RESULTS.md between
# <!-- crypto:begin --> and <!-- crypto:end --> (appended at the end, inside
# the Notes section that bench/gateway/run.sh keeps, when the markers are
# missing). Knobs (env):
#   BENCH_CORE=0            the core both are pinned to
#   BENCH_WARMUP_S=1        criterion --warm-up-time per benchmark
#   BENCH_MEASURE_S=3       criterion --measurement-time per benchmark
#   BENCH_OPENSSL_S=3       openssl speed -seconds per size and mode
#   BENCH_WAIT_IDLE_S=60    wait up to this long for other CPU load to stop
#   BENCH_RESULTS_FILE      file to update (default bench/RESULTS.md)
#   BENCH_WRITE=0           print only, do not touch the results file
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
CORE=${BENCH_CORE:-0}
WARMUP=${BENCH_WARMUP_S:-1}
MEASURE=${BENCH_MEASURE_S:-3}
OSSL_S=${BENCH_OPENSSL_S:-3}
WAIT_IDLE=${BENCH_WAIT_IDLE_S:-60}
RESULTS_FILE=${BENCH_RESULTS_FILE:-$ROOT/bench/RESULTS.md}
CRIT=${CARGO_TARGET_DIR:-$ROOT/target}/criterion
CLK_TCK=$(getconf CLK_TCK)
# Criterion benchmark id, bytes.
SIZES=("1KiB 1024" "16KiB 16384" "1MiB 1048576")
GOAL_RATIO=0.7
GOAL_SIZE=16KiB

log() { printf '[crypto %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v taskset >/dev/null || die "taskset not found (util-linux)"
command -v openssl >/dev/null || die "openssl not found"
openssl speed -help 2>&1 | grep -q -- '-bytes' || die "this openssl speed has no -bytes (OpenSSL 3 needed)"
cd "$ROOT"

# ------------------------------------------------------------ build
log "cargo bench -p amanah-crypto --bench envelope --no-run"
cargo bench -q -p amanah-crypto --bench envelope --no-run 2>&1 | grep -v '^ *Executable' >&2 || true

# ------------------------------------------------------------ load
wait_for_idle "$WAIT_IDLE"
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "background load before starting: $BG cores busy, $BG_STEAL steal (of $(nproc)), load average $LOADAVG_BEFORE"
awk -v b="$BG" 'BEGIN {exit !(b > 0.5)}' &&
  log "warning: the machine is busy; the figures will be noisy"

# Runs a command; prints the other processes' load during it and the
# hypervisor's steal (cores), "other / steal".
TMP_TIMES=$(mktemp)
trap 'rm -f "$TMP_TIMES"' EXIT
measured() {
  local t0 t1 s0 s1 own
  t0=$(machine_ticks); s0=$(date +%s.%N)
  ( "$@"; times >"$TMP_TIMES" )
  t1=$(machine_ticks); s1=$(date +%s.%N)
  # CPU of the command and its children: the second line of `times`.
  own=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }; print n }' "$TMP_TIMES")
  awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v o="$own" -v h="$CLK_TCK" 'BEGIN {
    split(a, x, " "); split(b, y, " "); s = s1 - s0
    v = ((y[1] - x[1]) / h - o) / s; if (v < 0) v = 0
    printf "%.2f / %.2f", v, (y[3] - x[3]) / h / s }'
}

# ------------------------------------------------------------ Amanah
run_amanah() {
  taskset -c "$CORE" cargo bench -q -p amanah-crypto --bench envelope -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" --noplot >&2
}
log "taskset -c $CORE cargo bench -p amanah-crypto --bench envelope -- --warm-up-time $WARMUP --measurement-time $MEASURE"
LOAD_AMANAH=$(measured run_amanah)

# median point estimate, lower and upper bound of its 95% CI, in ns
median_of() {
  local f=$CRIT/$1/new/estimates.json
  [[ -f $f ]] || { log "missing $f"; echo "nan nan nan"; return; }
  sed -n 's/.*"median":{"confidence_interval":{[^}]*"lower_bound":\([^,]*\),"upper_bound":\([^}]*\)},"point_estimate":\([^,]*\),.*/\3 \1 \2/p' "$f"
}
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN {printf "%.0f", b / ns * 1000}'; } # bytes, ns -> MB/s

# ------------------------------------------------------------ OpenSSL
# Bytes per second from `openssl speed -mr` (the "+F:…:AES-256-GCM:N" line).
ossl() { # BYTES [extra flags]
  local bytes=$1; shift
  taskset -c "$CORE" openssl speed -evp aes-256-gcm "$@" -bytes "$bytes" -seconds "$OSSL_S" -mr 2>/dev/null |
    awk -F: '/^\+F:/ {printf "%.0f", $NF / 1e6}'
}
run_openssl() {
  local id bytes
  for s in "${SIZES[@]}"; do
    read -r id bytes <<<"$s"
    printf '%s %s %s %s\n' "$id" "$(ossl "$bytes")" "$(ossl "$bytes" -decrypt)" "$(ossl "$bytes" -aead)"
  done >"$OSSL_OUT"
}
OSSL_OUT=$(mktemp)
trap 'rm -f "$TMP_TIMES" "$OSSL_OUT"' EXIT
log "taskset -c $CORE openssl speed -evp aes-256-gcm [-decrypt|-aead] -bytes N -seconds $OSSL_S, N = 1024 16384 1048576"
LOAD_OSSL=$(measured run_openssl)
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------ the table
TABLE="| size | Amanah encrypt MB/s | Amanah decrypt MB/s | OpenSSL encrypt MB/s | OpenSSL decrypt MB/s | ratio encrypt | ratio decrypt | OpenSSL \`-aead\` MB/s |
|---|---:|---:|---:|---:|---:|---:|---:|"
GOAL_LINE=""
for s in "${SIZES[@]}"; do
  read -r id bytes <<<"$s"
  read -r enc_ns _ _ <<<"$(median_of "envelope_encrypt/$id")"
  read -r dec_ns _ _ <<<"$(median_of "envelope_decrypt/$id")"
  enc=$(mbps "$bytes" "$enc_ns"); dec=$(mbps "$bytes" "$dec_ns")
  read -r _ o_enc o_dec o_aead < <(awk -v id="$id" '$1 == id' "$OSSL_OUT")
  r_enc=$(awk -v a="$enc" -v b="$o_enc" 'BEGIN {printf "%.2f", a / b}')
  r_dec=$(awk -v a="$dec" -v b="$o_dec" 'BEGIN {printf "%.2f", a / b}')
  TABLE+=$(printf '\n| %s | **%s** | **%s** | %s | %s | %s× | %s× | %s |' \
    "$id" "$enc" "$dec" "$o_enc" "$o_dec" "$r_enc" "$r_dec" "$o_aead")
  if [[ $id == "$GOAL_SIZE" ]]; then
    if awk -v e="$r_enc" -v d="$r_dec" -v g="$GOAL_RATIO" 'BEGIN {exit !(e >= g && d >= g)}'; then
      verdict=met
    else
      verdict="not met"
    fi
    GOAL_LINE="≥ ${GOAL_RATIO}× OpenSSL at 16 KB: **$verdict** (encrypt ${r_enc}×, decrypt ${r_dec}×)"
  fi
done

fmt_ns() { awk -v n="$1" 'BEGIN { if (n >= 1000) printf "%.2f µs", n / 1000; else printf "%.0f ns", n }'; }
KEYS=""
for k in unwrap rewrap new_data_key; do
  read -r m lo hi <<<"$(median_of "envelope_keys/$k")"
  KEYS+="${KEYS:+, }\`$k\` $(fmt_ns "$m") ($(fmt_ns "$lo") – $(fmt_ns "$hi"))"
done

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
RUSTC=$(rustc --version | awk '{print $1, $2}')
OSSL_VERSION=$(openssl version | awk '{print $1, $2}')
RING_VERSION=$(awk '/^name = "ring"$/ {getline; print $3; exit}' "$ROOT/Cargo.lock" 2>/dev/null | tr -d '"')
CPU_FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|avx2|vaes|vpclmulqdq|avx512f' | paste -sd' ' -)

BLOCK="### Record encryption (envelope, AES-256-GCM)

Written by \`bench/crypto/run.sh\` (see \`bench/crypto/README.md\`); rerunning it replaces this
block, and \`bench/gateway/run.sh\` keeps it (it is inside Notes).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit \`$(commit "$ROOT")\` plus the working tree at that time
- Machine: $(nproc) CPUs, $CPU_MODEL ($CPU_FLAGS), Linux $(uname -r); $RUSTC, ring ${RING_VERSION:-?}, $OSSL_VERSION
- Both pinned to core $CORE (\`taskset -c $CORE\`). Background load: $BG cores busy, $BG_STEAL steal just before
  (load average $LOADAVG_BEFORE, after $LOADAVG_AFTER); during the runs, other processes / steal (cores):
  Amanah $LOAD_AMANAH, OpenSSL $LOAD_OSSL
- Amanah: \`cargo bench -p amanah-crypto --bench envelope -- --warm-up-time $WARMUP --measurement-time $MEASURE\`,
  criterion median per call → MB/s (10^6 bytes of plaintext per second). One call is all of
  \`DataKey::encrypt\` (random nonce from the OS, AAD encoding, copy into a new buffer, seal) or
  \`DataKey::decrypt\` (copy, open, and the zeroizing drop of the plaintext).
- OpenSSL: \`openssl speed -evp aes-256-gcm [-decrypt] -bytes N -seconds $OSSL_S\`: one context
  updated over and over (no per-message IV, AAD or tag); \`-aead\` is its TLS-like sequence (IV,
  AAD, data, tag per message), shown for reference.

$TABLE

$GOAL_LINE

Key operations (criterion median, 95% CI): $KEYS."

echo
echo "$BLOCK"

if [[ "${BENCH_WRITE:-1}" == 1 ]]; then
  [[ -f "$RESULTS_FILE" ]] || { log "no $RESULTS_FILE; not writing"; exit 0; }
  write_results_block crypto "$BLOCK" "$RESULTS_FILE"
  log "wrote the crypto block into ${RESULTS_FILE#"$ROOT"/}"
fi
