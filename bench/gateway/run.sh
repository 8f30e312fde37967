#!/usr/bin/env bash
# Gateway throughput / latency / memory benchmark: mock model direct vs
# nginx proxy_pass vs Amanah, all on 127.0.0.1. See bench/gateway/README.md.
#
#   bash bench/gateway/run.sh
#
# Writes bench/RESULTS.md (override with BENCH_RESULTS_FILE). Knobs (env):
#   AMANAH_BIN                 binary to test, used as is (default: target/release/amanah,
#                              built or brought up to date with cargo first)
#   BENCH_NO_BUILD=1           use an existing target/release/amanah without asking cargo
#   BENCH_THREADS=2            wrk threads for the peak runs
#   BENCH_CONNECTIONS=64       wrk connections for the peak runs
#   BENCH_WARMUP_S=3           warm-up before each peak run
#   BENCH_DURATION_S=15        each peak run
#   BENCH_LATENCY_DURATION_S=15  each fixed-rate latency run
#   BENCH_LATENCY_CONNECTIONS=32 connections for the fixed-rate runs
#   BENCH_AMANAH_POOL_IDLE=64  Amanah [upstream] pool_max_idle_per_host (nginx gets keepalive 64)
#   BENCH_GET=1                also measure GET /v1/models peak throughput (diagnostics)
#   BENCH_WAIT_IDLE_S=180       wait up to this long for other CPU load to stop before starting
#   BENCH_KEEP_TMP=1           keep the temp dir (configs, logs) after the run
#   BENCH_AUDIT_SYNC=full      Amanah [audit] sync: full (each event on disk before its
#                              answer, the default) or normal (handed to the OS)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RESULTS_FILE=${BENCH_RESULTS_FILE:-$ROOT/bench/RESULTS.md}
LUA=$HERE/post.lua

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
WARMUP=${BENCH_WARMUP_S:-3}
DURATION=${BENCH_DURATION_S:-15}
LAT_DURATION=${BENCH_LATENCY_DURATION_S:-15}
LAT_CONNS=${BENCH_LATENCY_CONNECTIONS:-32}
LAT_THREADS=$THREADS
POOL_IDLE=${BENCH_AMANAH_POOL_IDLE:-64}
DO_GET=${BENCH_GET:-0}

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [[ -x /usr/sbin/nginx ]]; then NGINX=/usr/sbin/nginx
elif command -v nginx >/dev/null 2>&1; then NGINX=$(command -v nginx)
else need+=(nginx-light); NGINX=/usr/sbin/nginx; fi
command -v curl >/dev/null 2>&1 || need+=(curl)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
WRK=$(command -v wrk)

if [[ -n "${AMANAH_BIN:-}" ]]; then
  BIN=$AMANAH_BIN
else
  BIN=$ROOT/target/release/amanah
  # Always ask cargo: a no-op when the binary is fresh, and it keeps the
  # recorded commit honest when the sources changed since the last build.
  if [[ ! -x "$BIN" || "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    log "cargo build --release -p amanah (a no-op if the binary is up to date)"
    (cd "$ROOT" && cargo build --release -p amanah)
  fi
fi
[[ -x "$BIN" ]] || die "no amanah binary at $BIN"
# The commit the binary was built from: read now, right after the build (the
# tree may move on while the benchmark runs).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=""  # caveats for the Commit line
TAGS=""   # the same, short, for the History row
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- crates Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
  DIRTY=" (working tree had uncommitted changes under crates/ — the binary may not match the commit exactly)"
  TAGS+=" dirty"
fi
if [[ -n "${AMANAH_BIN:-}" ]]; then
  DIRTY+=" (binary given by AMANAH_BIN; its commit is not known)"
  TAGS+=" AMANAH_BIN"
fi

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/amanah-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
OK=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "$OK" == 1 && "${BENCH_KEEP_TMP:-0}" != 1 ]]; then
    rm -rf "$TMP"
  else
    log "logs and configs kept in $TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

# wait_http URL PID NAME: until URL answers (any HTTP status) or PID dies.
wait_http() {
  for _ in $(seq 300); do
    kill -0 "$2" 2>/dev/null || { tail -20 "$TMP/$3.log" >&2 || true; die "$3 exited during start-up"; }
    if curl -s -o /dev/null --max-time 1 "$1"; then return; fi
    sleep 0.1
  done
  die "$3 did not answer on $1 within 30 s"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

CLK_TCK=$(getconf CLK_TCK)
# CPU ticks (user+system) of a process and of its direct children (nginx workers).
proc_ticks() {
  local total=0 p
  for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    if [[ -r /proc/$p/stat ]]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    fi
  done
  echo "$total"
}
# "pid comm ticks" (user+system) for every process on the machine.
all_ticks() {
  awk '{
    i = index($0, "("); j = 0
    for (k = length($0); k > i; k--) if (substr($0, k, 1) == ")") { j = k; break }
    comm = substr($0, i + 1, j - i - 1); gsub(/[^A-Za-z0-9_.:-]/, "_", comm)
    split(substr($0, j + 2), f, " ")
    print $1, comm, f[12] + f[13]
  }' /proc/[0-9]*/stat 2>/dev/null || true
}
# other_cores FILE0 FILE1 SECONDS EXCLUDED_PIDS... -> cores used by every other process
# (present in both snapshots; includes kernel threads such as ksoftirqd).
other_cores() {
  local f0=$1 f1=$2 secs=$3; shift 3
  awk -v s="$secs" -v h="$CLK_TCK" -v ex=" $* " '
    NR == FNR { t[$1] = $3; next }
    ($1 in t) && index(ex, " " $1 " ") == 0 { n += $3 - t[$1] }
    END { printf "%.2f", n / h / s }
  ' "$f0" "$f1"
}
# busiest_others FILE0 FILE1 SECONDS EXCLUDED_PIDS... -> "comm[pid] 0.12, ..." (cores, >= 0.02)
busiest_others() {
  local f0=$1 f1=$2 secs=$3; shift 3
  awk -v s="$secs" -v h="$CLK_TCK" -v ex=" $* " '
    NR == FNR { t[$1] = $3; next }
    ($1 in t) && index(ex, " " $1 " ") == 0 { c = ($3 - t[$1]) / h / s; if (c >= 0.02) printf "%.2f %s[%s]\n", c, $2, $1 }
  ' "$f0" "$f1" | sort -rn | head -4 | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}'
}
# Ticks of the whole machine: "user+nice+system irq+softirq steal idle+iowait".
machine_ticks() { awk '/^cpu / {print $2+$3+$4, $7+$8, $9, $5+$6}' /proc/stat; }
# cores_between "TICKS0" "TICKS1" SECONDS -> the four fields as cores used.
cores_between() {
  awk -v a="$1" -v b="$2" -v s="$3" -v h="$CLK_TCK" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    printf "%.2f %.2f %.2f %.2f", (y[1]-x[1])/h/s, (y[2]-x[2])/h/s, (y[3]-x[3])/h/s, (y[4]-x[4])/h/s }'
}

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
us_to_ms() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1000}'; }

# run_wrk LOGNAME URL KEY THREADS CONNS SECONDS RATE_PER_THREAD METHOD -> BENCH_RESULT line
run_wrk() {
  local name=$1 url=$2 key=$3 t=$4 c=$5 d=$6 rate=$7 method=$8
  local out=$TMP/wrk-$name.log
  echo "BENCH_METHOD=$method BENCH_RATE_PER_THREAD=$rate $WRK -t$t -c$c -d${d}s --latency -s post.lua $url" >"$out"
  if ! BENCH_KEY=$key BENCH_RATE_PER_THREAD=$rate BENCH_METHOD=$method \
      "$WRK" -t"$t" -c"$c" -d"${d}s" --latency -s "$LUA" "$url" >>"$out" 2>&1; then
    cat "$out" >&2
    die "wrk failed ($name)"
  fi
  # CPU seconds used by wrk: this function runs in its own subshell, so the
  # "children" line of `times` is wrk alone.
  local wrk_cpu
  times >"$out.times"  # not in a pipe: that would run it in a fresh subshell
  wrk_cpu=$(awk 'NR == 2 {
    n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }; printf "%.3f", n }' "$out.times")
  local line
  line=$(grep '^BENCH_RESULT' "$out") || { cat "$out" >&2; die "no BENCH_RESULT from wrk ($name)"; }
  line+=" wrk_cpu_s=$wrk_cpu"
  local bad=0 e
  for e in connect read write status timeout; do
    bad=$((bad + $(field "errors_$e" "$line")))
  done
  if ((bad > 0)); then
    grep -E 'Non-2xx|Socket errors' "$out" >&2 || true
    # Refusals or broken connections are not the proxying being measured.
    die "$name: $bad wrk errors: $(grep -o 'errors_[a-z]*=[0-9]*' <<<"$line" | tr '\n' ' ')"
  fi
  echo "$line"
}

# ---------------------------------------------------------------- background load
# The benchmark needs the machine to itself; measure what else is running.
# Wait up to BENCH_WAIT_IDLE_S seconds for it to drop below 0.1 cores.
WAIT_IDLE=${BENCH_WAIT_IDLE_S:-180}
waited=0
while :; do
  b0=$(machine_ticks); sleep 3; b1=$(machine_ticks)
  read -r BG_BUSY _ BG_STEAL _ <<<"$(cores_between "$b0" "$b1" 3)"
  awk -v b="$BG_BUSY" 'BEGIN {exit !(b > 0.10)}' || break
  ((waited >= WAIT_IDLE)) && break
  ((waited == 0)) && log "machine busy ($BG_BUSY cores); waiting up to ${WAIT_IDLE}s for it to be idle"
  waited=$((waited + 3))
done
log "background load before starting: $BG_BUSY cores busy, $BG_STEAL steal (of $(nproc))"
if awk -v b="$BG_BUSY" 'BEGIN {exit !(b > 0.10)}'; then
  log "WARNING: the machine is not idle ($BG_BUSY cores busy); results will be noisy"
  top -b -n1 -w 200 2>/dev/null | sed -n '7,12p' >&2 || true
fi

# ---------------------------------------------------------------- start services
MOCK_PORT=$(free_port)
NGINX_PORT=$(free_port)
GW_PORT=$(free_port)
ADMIN_PORT=$(free_port)

log "mock upstream on 127.0.0.1:$MOCK_PORT"
"$BIN" mock-upstream --listen "127.0.0.1:$MOCK_PORT" --chunk-delay-ms 0 >"$TMP/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" "$MOCK_PID" mock

log "nginx on 127.0.0.1:$NGINX_PORT"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/temp"
chmod -R 755 "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $TMP/nginx/temp/body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;
    scgi_temp_path $TMP/nginx/temp/scgi;
    keepalive_requests 1000000;
    upstream mock {
        server 127.0.0.1:$MOCK_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
"$NGINX" -t -q -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" \
  || die "nginx rejected its configuration"
"$NGINX" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" >"$TMP/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/v1/models" "$NGINX_PID" nginx

log "amanah on 127.0.0.1:$GW_PORT (admin $ADMIN_PORT)"
DATA=$TMP/amanah-data
mkdir -p "$DATA"
CONF=$TMP/amanah.toml
cat >"$CONF" <<EOF
[server]
listen = "127.0.0.1:$GW_PORT"
[admin]
listen = "127.0.0.1:$ADMIN_PORT"
[log]
level = "warn"
access_log = "off"
[upstream]
pool_max_idle_per_host = $POOL_IDLE
# One key sends all the load: its request budgets would answer 429 (which
# is cheap and not what is measured here).
[rate_limits]
per_principal = { requests = 0, period_secs = 60 }
per_ip = { requests = 0, period_secs = 60 }
[audit]
sync = "${BENCH_AUDIT_SYNC:-full}"
[providers.mock]
base_url = "http://127.0.0.1:$MOCK_PORT/v1"
[[routes]]
name = "chat"
path_prefix = "/v1"
methods = ["GET", "POST"]
provider = "mock"
EOF
KEY_JSON=$("$BIN" keys create --name bench --role contributor --json --config "$CONF" --data-dir "$DATA")
KEY=$(sed -n 's/.*"key"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$KEY_JSON")
[[ "$KEY" == amk_* ]] || die "could not read the key from: $KEY_JSON"
"$BIN" serve --config "$CONF" --data-dir "$DATA" >"$TMP/amanah.log" 2>&1 &
AMANAH_PID=$!
PIDS+=("$AMANAH_PID")
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" "$AMANAH_PID" amanah
wait_http "http://127.0.0.1:$GW_PORT/v1/models" "$AMANAH_PID" amanah
sleep 2
RSS_START=$(rss_kb "$AMANAH_PID")
log "amanah idle RSS after start-up: $(mib "$RSS_START") MiB"

# ---------------------------------------------------------------- sanity checks
BODY='{"model":"m","messages":[{"role":"user","content":"hi"}]}'
post() { curl -s -o "$TMP/last-body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$@" --data "$BODY"; }
code=$(post "http://127.0.0.1:$MOCK_PORT/v1/chat/completions");  [[ $code == 200 ]] || die "mock answered $code"
code=$(post "http://127.0.0.1:$NGINX_PORT/v1/chat/completions"); [[ $code == 200 ]] || die "nginx answered $code"
code=$(post "http://127.0.0.1:$GW_PORT/v1/chat/completions");    [[ $code == 401 ]] || die "amanah without a key answered $code (expected 401)"
code=$(post -H "Authorization: Bearer $KEY" "http://127.0.0.1:$GW_PORT/v1/chat/completions")
[[ $code == 200 ]] || die "amanah with the key answered $code: $(cat "$TMP/last-body")"
grep -q '"chat.completion"' "$TMP/last-body" || die "amanah did not return a chat completion: $(cat "$TMP/last-body")"
log "sanity checks passed (mock 200, nginx 200, amanah 401 without key / 200 with key)"

TARGETS=(direct nginx amanah)
declare -A URL_BASE=(
  [direct]="http://127.0.0.1:$MOCK_PORT"
  [nginx]="http://127.0.0.1:$NGINX_PORT"
  [amanah]="http://127.0.0.1:$GW_PORT"
)
declare -A TKEY=([direct]="" [nginx]="" [amanah]="$KEY")
declare -A TPID=([direct]="$MOCK_PID" [nginx]="$NGINX_PID" [amanah]="$AMANAH_PID")
CHAT=/v1/chat/completions

# ---------------------------------------------------------------- 1. peak throughput
declare -A PEAK PEAK_P50 PEAK_P99 CPU_PROXY CPU_MOCK CPU_WRK CPU_OTHER OTHERS MACHINE_IDLE MACHINE_IRQ MACHINE_STEAL
for t in "${TARGETS[@]}"; do
  url=${URL_BASE[$t]}$CHAT
  log "$t: warm-up ${WARMUP}s"
  run_wrk "$t-warmup" "$url" "${TKEY[$t]}" "$THREADS" "$CONNS" "$WARMUP" 0 POST >/dev/null
  log "$t: peak throughput, wrk -t$THREADS -c$CONNS -d${DURATION}s"
  all_ticks >"$TMP/ticks0"
  m0=$(machine_ticks); p0=$(proc_ticks "${TPID[$t]}"); k0=$(proc_ticks "$MOCK_PID")
  line=$(run_wrk "$t-peak" "$url" "${TKEY[$t]}" "$THREADS" "$CONNS" "$DURATION" 0 POST)
  m1=$(machine_ticks); p1=$(proc_ticks "${TPID[$t]}"); k1=$(proc_ticks "$MOCK_PID")
  all_ticks >"$TMP/ticks1"
  secs=$(field duration_s "$line")
  PEAK[$t]=$(field rps "$line")
  PEAK_P50[$t]=$(us_to_ms "$(field p50_us "$line")")
  PEAK_P99[$t]=$(us_to_ms "$(field p99_us "$line")")
  CPU_PROXY[$t]=$(awk -v a="$p0" -v b="$p1" -v s="$secs" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", (b-a)/h/s}')
  CPU_MOCK[$t]=$(awk -v a="$k0" -v b="$k1" -v s="$secs" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", (b-a)/h/s}')
  CPU_WRK[$t]=$(awk -v c="$(field wrk_cpu_s "$line")" -v s="$secs" 'BEGIN {printf "%.2f", c / s}')
  read -r _ irq steal idle <<<"$(cores_between "$m0" "$m1" "$secs")"
  MACHINE_IDLE[$t]=$idle
  MACHINE_IRQ[$t]=$irq
  MACHINE_STEAL[$t]=$steal
  # CPU used by processes other than wrk, the proxy and the mock.
  ours=("$MOCK_PID" "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID" 2>/dev/null) "$AMANAH_PID" $$)
  CPU_OTHER[$t]=$(other_cores "$TMP/ticks0" "$TMP/ticks1" "$secs" "${ours[@]}")
  OTHERS[$t]=$(busiest_others "$TMP/ticks0" "$TMP/ticks1" "$secs" "${ours[@]}")
  log "$t: other processes using CPU during the run: ${OTHERS[$t]:-none}"
  log "$t: ${PEAK[$t]} req/s (p50 ${PEAK_P50[$t]} ms, p99 ${PEAK_P99[$t]} ms); CPU cores: proxy ${CPU_PROXY[$t]}, mock ${CPU_MOCK[$t]}, wrk ${CPU_WRK[$t]}, other processes ${CPU_OTHER[$t]}; machine: softirq ${MACHINE_IRQ[$t]}, steal ${MACHINE_STEAL[$t]}, idle ${MACHINE_IDLE[$t]}"
done

# ---------------------------------------------------------------- 2. latency at half of Amanah's peak
RATE=$(awk -v r="${PEAK[amanah]}" 'BEGIN {printf "%d", r / 2}')
RATE_PT=$(awk -v r="$RATE" -v t="$LAT_THREADS" 'BEGIN {printf "%.3f", r / t}')
declare -A LAT_RPS LAT_P50 LAT_P90 LAT_P99 LAT_P999
for t in "${TARGETS[@]}"; do
  url=${URL_BASE[$t]}$CHAT
  log "$t: latency at a fixed $RATE req/s, wrk -t$LAT_THREADS -c$LAT_CONNS -d${LAT_DURATION}s (paced)"
  line=$(run_wrk "$t-paced" "$url" "${TKEY[$t]}" "$LAT_THREADS" "$LAT_CONNS" "$LAT_DURATION" "$RATE_PT" POST)
  LAT_RPS[$t]=$(field rps "$line")
  LAT_P50[$t]=$(us_to_ms "$(field p50_us "$line")")
  LAT_P90[$t]=$(us_to_ms "$(field p90_us "$line")")
  LAT_P99[$t]=$(us_to_ms "$(field p99_us "$line")")
  LAT_P999[$t]=$(us_to_ms "$(field p999_us "$line")")
  if awk -v a="${LAT_RPS[$t]}" -v r="$RATE" 'BEGIN {exit !(a < 0.95 * r)}'; then
    log "WARNING: $t reached only ${LAT_RPS[$t]} of $RATE req/s in the paced run"
  fi
  log "$t: ${LAT_RPS[$t]} req/s, p50 ${LAT_P50[$t]} ms, p99 ${LAT_P99[$t]} ms"
done

# ---------------------------------------------------------------- 3. optional GET comparison
declare -A GET_PEAK
if [[ "$DO_GET" == 1 ]]; then
  for t in "${TARGETS[@]}"; do
    url=${URL_BASE[$t]}/v1/models
    run_wrk "$t-get-warmup" "$url" "${TKEY[$t]}" "$THREADS" "$CONNS" "$WARMUP" 0 GET >/dev/null
    line=$(run_wrk "$t-get-peak" "$url" "${TKEY[$t]}" "$THREADS" "$CONNS" "$DURATION" 0 GET)
    GET_PEAK[$t]=$(field rps "$line")
    log "$t: GET /v1/models peak ${GET_PEAK[$t]} req/s"
  done
fi

# ---------------------------------------------------------------- 4. RSS after the load
sleep 3
RSS_AFTER=$(rss_kb "$AMANAH_PID")
RSS_HWM=$(hwm_kb "$AMANAH_PID")
log "amanah idle RSS after the load: $(mib "$RSS_AFTER") MiB (peak $(mib "$RSS_HWM") MiB)"

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a - b}'; }
R_NGINX=$(ratio "${PEAK[amanah]}" "${PEAK[nginx]}")
R_DIRECT=$(ratio "${PEAK[amanah]}" "${PEAK[direct]}")
R_NGINX_DIRECT=$(ratio "${PEAK[nginx]}" "${PEAK[direct]}")
ADD_P50=$(diff_ms "${LAT_P50[amanah]}" "${LAT_P50[direct]}")
ADD_P99=$(diff_ms "${LAT_P99[amanah]}" "${LAT_P99[direct]}")
NGX_ADD_P50=$(diff_ms "${LAT_P50[nginx]}" "${LAT_P50[direct]}")
NGX_ADD_P99=$(diff_ms "${LAT_P99[nginx]}" "${LAT_P99[direct]}")
met() { if awk "BEGIN {exit !($1)}"; then echo "**met**"; else echo "**not met**"; fi; }
G_TPUT=$(met "$R_NGINX >= 0.5")
G_LAT=$(met "$ADD_P99 < 1.0")
G_RSS_START=$(met "$RSS_START <= 40 * 1024")
G_RSS_AFTER=$(met "$RSS_AFTER <= 40 * 1024")

declare -A LABEL=([direct]="mock direct" [nginx]="nginx → mock" [amanah]="Amanah → mock")
TABLE="| target | peak req/s | p50 / p99 at peak (ms) | CPU cores at peak: proxy / mock / wrk / other / idle | paced req/s | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in "${TARGETS[@]}"; do
  if [[ $t == direct ]]; then cpu="– / ${CPU_MOCK[$t]}"; else cpu="${CPU_PROXY[$t]} / ${CPU_MOCK[$t]}"; fi
  cpu+=" / ${CPU_WRK[$t]} / ${CPU_OTHER[$t]} / ${MACHINE_IDLE[$t]}"
  TABLE+="
| ${LABEL[$t]} | ${PEAK[$t]} | ${PEAK_P50[$t]} / ${PEAK_P99[$t]} | $cpu | ${LAT_RPS[$t]} | ${LAT_P50[$t]} | ${LAT_P90[$t]} | ${LAT_P99[$t]} | ${LAT_P999[$t]} |"
done
GET_SECTION=""
if [[ "$DO_GET" == 1 ]]; then
  GET_SECTION="
GET /v1/models peak (diagnostic, same wrk settings): direct ${GET_PEAK[direct]} req/s, nginx ${GET_PEAK[nginx]} req/s, Amanah ${GET_PEAK[amanah]} req/s (Amanah / nginx = $(ratio "${GET_PEAK[amanah]}" "${GET_PEAK[nginx]}")).
"
fi

RATIOS="- Amanah / nginx throughput: **$R_NGINX×** (nginx / direct: $R_NGINX_DIRECT×)
- Amanah / direct throughput: **$R_DIRECT×**
- Added latency at $RATE req/s (Amanah − direct): p50 **$ADD_P50 ms**, p99 **$ADD_P99 ms** (nginx − direct: p50 $NGX_ADD_P50 ms, p99 $NGX_ADD_P99 ms)
- Amanah RSS: idle after start-up **$(mib "$RSS_START") MiB**, idle after the load **$(mib "$RSS_AFTER") MiB**, peak during the run (VmHWM) $(mib "$RSS_HWM") MiB"

echo
echo "$TABLE"
echo
echo "$RATIOS"
echo "$GET_SECTION"

# ---------------------------------------------------------------- RESULTS.md
if [[ "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" != "$COMMIT" ]]; then
  DIRTY+=" (HEAD moved to $(git -C "$ROOT" rev-parse --short HEAD) during the run)"
  TAGS+=" HEAD-moved"
fi
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
OVERRIDES=$(env | grep -E '^(AMANAH_BIN|BENCH_[A-Z_]+)=' | sort | tr '\n' ' ' || true)
CMD="${OVERRIDES}bash bench/gateway/run.sh"
WRK_VER=$( ("$WRK" -v 2>&1 || true) | head -1 | awk '{print $1, $2}')
NGINX_VER=$( ("$NGINX" -v 2>&1 || true) | sed 's/.*: //')

# Keep the history rows and the hand-written notes of the previous file.
OLD_HISTORY=""
OLD_NOTES=""
if [[ -f "$RESULTS_FILE" ]]; then
  OLD_HISTORY=$(awk '/^## / {h = ($0 == "## History")} h && /^\| [0-9][0-9][0-9][0-9]-/' "$RESULTS_FILE")
  OLD_NOTES=$(awk '$0 == "## Notes" {n = 1} n' "$RESULTS_FILE")
fi
MAX_OTHER=$(printf '%s\n' "${CPU_OTHER[@]}" | sort -rn | head -1)
HISTORY_ROW="| $(date -u '+%Y-%m-%d %H:%M') | \`$COMMIT\`${TAGS:+ (${TAGS# })} | ${PEAK[direct]} | ${PEAK[nginx]} | ${PEAK[amanah]} | $R_NGINX× | $ADD_P99 | $(mib "$RSS_START") / $(mib "$RSS_AFTER") | $BG_BUSY / $MAX_OTHER |"
[[ -z "$OLD_NOTES" ]] && OLD_NOTES="## Notes

(Hand-written observations go here; run.sh keeps this section.)"

cat >"$RESULTS_FILE" <<EOF
# Gateway benchmark results

Produced by \`bench/gateway/run.sh\` (see \`bench/gateway/README.md\`). Every run
rewrites this file except the History rows (one is added per run) and the Notes section.

- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- Machine: $(nproc) CPUs, $CPU_MODEL, $(awk '/^MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)
- Commit: \`$COMMIT\`$DIRTY
- Binary: \`${BIN#"$ROOT"/}\`
- Tools: $WRK_VER, $NGINX_VER
- Background load measured just before the run: $BG_BUSY cores busy, $BG_STEAL steal
- Command: \`$CMD\`

## Set-up

Everything runs on this one machine over 127.0.0.1; the load generator (wrk),
the proxy and the mock model share the $(nproc) CPUs, so absolute numbers are
pessimistic and the ratios are what matters.

- **mock direct**: \`amanah mock-upstream --chunk-delay-ms 0\` (OpenAI-compatible echo model).
- **nginx → mock**: nginx $NGINX_VER, \`worker_processes auto\`, \`access_log off\`, \`proxy_pass\` to an
  \`upstream\` with \`keepalive 64\`, \`proxy_http_version 1.1\`, \`proxy_set_header Connection ""\`,
  \`keepalive_requests 1000000\` (client and upstream side).
- **Amanah → mock**: \`amanah serve\`, API-key authentication on (every request carries
  \`Authorization: Bearer amk_…\`; a request without it was checked to get 401), \`log.level = "warn"\`,
  \`access_log = "off"\`, \`upstream.pool_max_idle_per_host = $POOL_IDLE\` (to match nginx's keepalive 64), one route \`/v1\` → mock.
- Request: \`POST /v1/chat/completions\`, body \`$BODY\`, keep-alive connections.

Method:

1. **Peak throughput**: per target, a ${WARMUP} s warm-up, then \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/gateway/post.lua\`.
   "CPU cores at peak" is CPU time used during the run divided by its duration (2.00 = both cores):
   the proxy process (nginx: master + workers), the mock, wrk, every other process on the machine
   (should be ~0), and idle. Process times include the kernel's loopback networking work done on
   their behalf, so the columns can add up to a little more than 2.
2. **Latency at a fixed rate**: every target is driven at the same rate, **half of Amanah's measured peak
   ($RATE req/s)**, with \`wrk -t$LAT_THREADS -c$LAT_CONNS -d${LAT_DURATION}s\` and a pacing \`delay()\` in \`post.lua\`: each
   wrk thread hands out send slots on a fixed schedule (1 ms timer granularity) to whichever connection is
   free, so the rate does not depend on latency. wrk's latency (p50/p90/p99/p99.9 from its HDR histogram)
   is measured from the moment a request is written to the moment its response is read; it is not
   corrected for coordinated omission (no wrk2 here), which only matters if a target cannot keep up,
   and the "paced req/s" column shows every target did. **Added latency = Amanah − direct** at that rate.
3. **RSS**: \`VmRSS\` of the Amanah process from \`/proc/PID/status\`, 2 s after it became ready (before
   any traffic) and 3 s after the last load run; \`VmHWM\` is the peak.

## Results

$TABLE

$RATIOS
$GET_SECTION
Other processes that used ≥ 0.02 cores during the peak runs (cores; ideally none):
direct: ${OTHERS[direct]:-none}; nginx: ${OTHERS[nginx]:-none}; Amanah: ${OTHERS[amanah]:-none}.

## Goals

| goal | measured | status |
|---|---|---|
| Amanah ≥ 0.5× nginx throughput | $R_NGINX× | $G_TPUT |
| p99 added latency < 1 ms at half of Amanah's peak rate ($RATE req/s) | $ADD_P99 ms | $G_LAT |
| idle RSS ≤ 40 MB, after start-up | $(mib "$RSS_START") MiB | $G_RSS_START |
| idle RSS ≤ 40 MB, after the load | $(mib "$RSS_AFTER") MiB | $G_RSS_AFTER |

## History

One row per run, newest last. "Other load" is the CPU (cores) other processes used just before the
run / during the worst peak run; above ~0.05 the run was disturbed.

| date (UTC) | commit | direct req/s | nginx req/s | Amanah req/s | Amanah / nginx | added p99 (ms) | RSS start / after (MiB) | other load |
|---|---|---:|---:|---:|---:|---:|---:|---:|
${OLD_HISTORY:+$OLD_HISTORY
}$HISTORY_ROW

$OLD_NOTES
EOF
log "wrote ${RESULTS_FILE#"$ROOT"/}"
OK=1
