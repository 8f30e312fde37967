#!/usr/bin/env bash
# Identity and access micro-benchmarks (criterion): API-key authentication,
# JWT verification, one RBAC decision. See bench/identity/README.md.
#
#   bash bench/identity/run.sh
#
# Prints a Markdown block and writes it into bench/RESULTS.md between the
# markers <!-- identity:begin --> and <!-- identity:end --> (appended at the
# end, i.e. inside the Notes section that bench/gateway/run.sh keeps, when
# the markers are missing). Knobs (env):
#   BENCH_WARMUP_S=1        criterion --warm-up-time per benchmark
#   BENCH_MEASURE_S=3       criterion --measurement-time per benchmark
#   BENCH_WAIT_IDLE_S=180   wait up to this long for other CPU load to stop
#   BENCH_RESULTS_FILE      file to update (default bench/RESULTS.md)
#   BENCH_WRITE=0           print only, do not touch the results file
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
RESULTS_FILE=${BENCH_RESULTS_FILE:-$ROOT/bench/RESULTS.md}
WARMUP=${BENCH_WARMUP_S:-1}
MEASURE=${BENCH_MEASURE_S:-3}
WAIT_IDLE=${BENCH_WAIT_IDLE_S:-180}
CRIT=${CARGO_TARGET_DIR:-$ROOT/target}/criterion
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[identity %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

BENCHES=("amanah-policy decide" "amanah-crypto jwt" "amanah-gateway identity")

cd "$ROOT"
log "building the benchmarks (bench profile)"
for b in "${BENCHES[@]}"; do
  read -r pkg name <<<"$b"
  cargo bench -q -p "$pkg" --bench "$name" --no-run 2>&1 | grep -v '^ *Executable' >&2 || true
done
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)


wait_for_idle "$WAIT_IDLE"
log "background load before starting: $BG cores busy, $BG_STEAL steal (of $(nproc))"

# Runs one bench; prints the other processes' load during it and the
# hypervisor's steal (cores).
run_bench() {
  local pkg=$1 name=$2 t0 t1 s0 s1 own
  t0=$(machine_ticks); s0=$(date +%s.%N)
  (
    cargo bench -q -p "$pkg" --bench "$name" -- \
      --warm-up-time "$WARMUP" --measurement-time "$MEASURE" --noplot >&2
    times >"$TMP_TIMES"
  )
  t1=$(machine_ticks); s1=$(date +%s.%N)
  # CPU of cargo + the bench binary: the children line of `times`.
  own=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }; print n }' "$TMP_TIMES")
  awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v o="$own" -v h="$CLK_TCK" 'BEGIN {
    split(a, x, " "); split(b, y, " "); s = s1 - s0
    v = ((y[1] - x[1]) / h - o) / s; if (v < 0) v = 0
    printf "%.2f / %.2f", v, (y[3] - x[3]) / h / s }'
}

TMP_TIMES=$(mktemp)
trap 'rm -f "$TMP_TIMES"' EXIT
OTHER=""
for b in "${BENCHES[@]}"; do
  read -r pkg name <<<"$b"
  log "cargo bench -p $pkg --bench $name -- --warm-up-time $WARMUP --measurement-time $MEASURE"
  o=$(run_bench "$pkg" "$name")
  OTHER+="${OTHER:+, }$name $o"
done

# ------------------------------------------------------------ the table
# median point estimate, lower and upper bound of its 95% CI, in ns
median_of() {
  local f=$CRIT/$1/new/estimates.json
  [[ -f $f ]] || { log "missing $f"; echo "nan nan nan"; return; }
  sed -n 's/.*"median":{"confidence_interval":{[^}]*"lower_bound":\([^,]*\),"upper_bound":\([^}]*\)},"point_estimate":\([^,]*\),.*/\3 \1 \2/p' "$f"
}
fmt() { # ns -> "123 ns" / "1.23 µs"
  awk -v n="$1" 'BEGIN {
    if (n >= 1000) printf "%.2f µs", n / 1000; else if (n >= 100) printf "%.0f ns", n; else printf "%.1f ns", n }'
}
declare -A MED
TABLE="| benchmark | what one iteration does | median | 95% CI of the median |
|---|---|---:|---:|"
add_row() { # DIR WHAT
  local m lo hi
  read -r m lo hi <<<"$(median_of "$1")"
  MED[$1]=$m
  TABLE+=$(printf '\n| `%s` | %s | **%s** | %s – %s |' "$1" "$2" "$(fmt "$m")" "$(fmt "$lo")" "$(fmt "$hi")")
}
ratio() { awk -v a="${MED[$1]}" -v b="${MED[$2]}" 'BEGIN {printf "%.1f", a / b}'; }

add_row rbac_standard/decide_allow_contributor 'RBAC: `Policy::decide`, predefined roles, one grant (`contributor`), route `chat` needs `llm:invoke` → allow'
add_row rbac_standard/decide_allow_two_grants 'the same, two grants (`viewer`, then a time-bound `contributor`) → allow'
add_row rbac_standard/decide_deny_viewer 'the same, `viewer` only → deny (builds the `Denied` error)'
add_row rbac_standard/authorize_allow_contributor '`authorize` (owned principal → `Permitted`) → allow'
add_row rbac_custom/decide_allow_3_level_data_class 'custom role 3 levels over `case_worker`, route also needs data class `child_data` → allow'
add_row rbac_custom/decide_deny_data_class 'the same role, data class it is not cleared for → deny'
add_row api_key/parse_and_verify_hmac 'API key alone (crypto): parse `amk_…` + HMAC-SHA256 tag check'
add_row jwt_verify/HS256 '`jwt::verify`, HS256 (PyJWT fixture token, 411 B)'
add_row jwt_verify/ES256 '`jwt::verify`, ES256 / P-256 (454 B)'
add_row jwt_verify/RS256 '`jwt::verify`, RS256 / RSA-2048 (709 B)'
add_row jwt_verify/EdDSA '`jwt::verify`, EdDSA / Ed25519 (452 B)'
add_row auth_rbac/api_key_identify_only '`KeyService::identify_key`, cache warm'
add_row auth_rbac/api_key '**API key + RBAC**: `identify_key` (warm) + `authorize`'
add_row auth_rbac/jwt_es256 'JWT ES256 + RBAC: `JwtVerifier::identify` (verify + role mapping) + `authorize`'
add_row auth_rbac/jwt_rs256 'JWT RS256 + RBAC: the same with RS256'
add_row stages/api_key 'identify + authorize stages, API key: `Identifier::identify` (headers, auth-failure peek, key, stored grants) + `AccessControl::policy` + `authorize`, caches warm'
add_row stages/jwt_es256 'identify + authorize stages, bearer JWT ES256'
add_row stages/jwt_rs256 'identify + authorize stages, bearer JWT RS256'
add_row cold/api_key_identify_only '`identify_key`, key cache empty: SQLite read + HMAC'
add_row cold/stages_api_key 'identify + authorize stages, API key, every cache empty (key, grants, roles → policy build)'
add_row cold/api_key_unknown_id 'well-formed key, unknown id (never cached): SQLite read + HMAC → 401'

GOAL_NS=5000
goal() { # DIR
  awk -v m="${MED[$1]}" -v g="$GOAL_NS" 'BEGIN {
    if (m <= g) printf "**met**: %.2f µs, %.1f× under the goal (%.2f µs to spare)", m / 1000, g / m, (g - m) / 1000;
    else printf "**not met**: %.2f µs, %.1f× over the goal", m / 1000, m / g }'
}

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
RUSTC=$(rustc --version | awk '{print $1, $2}')
BLOCK="### Identity and access (criterion)

Written by \`bench/identity/run.sh\` (see \`bench/identity/README.md\`); rerunning it replaces this
block, and \`bench/gateway/run.sh\` keeps it (it is inside Notes).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit \`$COMMIT\` plus the working tree at that time
- Machine: $(nproc) CPUs, $CPU_MODEL, Linux $(uname -r); $RUSTC, criterion 0.7, bench profile (release)
- Background load: $BG cores busy, $BG_STEAL steal just before; during each bench, other processes / steal (cores): $OTHER
- Commands (warm-up ${WARMUP} s, measurement ${MEASURE} s, 100 samples each):
  \`cargo bench -p amanah-policy --bench decide -- --warm-up-time $WARMUP --measurement-time $MEASURE\`,
  \`cargo bench -p amanah-crypto --bench jwt -- …\`, \`cargo bench -p amanah-gateway --bench identity -- …\`
  (all three: \`bash bench/identity/run.sh\`)

Median time per iteration, with criterion's bootstrap 95% confidence interval of the median:

$TABLE

Goal (issue 3), API key + RBAC ≤ 5 µs per request:

| measured | result |
|---|---|
| \`auth_rbac/api_key\` (credential check + decision) | $(goal auth_rbac/api_key) |
| \`stages/api_key\` (all the pipeline does in its identify and authorize stages) | $(goal stages/api_key) |

Outside the goal, which is per request with the cache: with every cache empty (at most once per
key per second) identify + authorize cost $(fmt "${MED[cold/stages_api_key]}") (\`cold/stages_api_key\`, $(ratio cold/stages_api_key stages/api_key)× the warm figure).

Ratios (same run):

- JWT + RBAC / API key + RBAC: ES256 **$(ratio auth_rbac/jwt_es256 auth_rbac/api_key)×**, RS256 **$(ratio auth_rbac/jwt_rs256 auth_rbac/api_key)×**;
  through identify + authorize: ES256 $(ratio stages/jwt_es256 stages/api_key)×, RS256 $(ratio stages/jwt_rs256 stages/api_key)×.
- \`jwt::verify\` ES256 / API-key parse + HMAC check: $(ratio jwt_verify/ES256 api_key/parse_and_verify_hmac)×; ES256 / RS256 verify: $(ratio jwt_verify/ES256 jwt_verify/RS256)×;
  HS256 / API-key check: $(ratio jwt_verify/HS256 api_key/parse_and_verify_hmac)× (both one HMAC-SHA256: the rest is the token's base64url and JSON).
- Cold / warm API key: identify_key $(ratio cold/api_key_identify_only auth_rbac/api_key_identify_only)×, stages $(ratio cold/stages_api_key stages/api_key)×.
- The RBAC decision (\`authorize\`, measured alone) is $(awk -v a="${MED[rbac_standard/authorize_allow_contributor]}" -v b="${MED[auth_rbac/api_key]}" 'BEGIN {printf "%.0f", 100 * a / b}')% of API key + RBAC."

echo
echo "$BLOCK"

if [[ "${BENCH_WRITE:-1}" == 1 ]]; then
  [[ -f "$RESULTS_FILE" ]] || { log "no $RESULTS_FILE; not writing"; exit 0; }
  write_results_block identity "$BLOCK" "$RESULTS_FILE"
  log "wrote the identity block into ${RESULTS_FILE#"$ROOT"/}"
fi
