# Shared by the bench/*/run.sh scripts; source it.

# write_results_block NAME BLOCK FILE: puts BLOCK between
# `<!-- NAME:begin -->` and `<!-- NAME:end -->` in FILE, replacing an older
# block of that name, or appends it under "## Notes" (bench/gateway/run.sh
# keeps everything from "## Notes" to the end).
write_results_block() {
  local name=$1 block=$2 file=$3 block_file
  block_file=$(mktemp)
  printf '<!-- %s:begin -->\n%s\n<!-- %s:end -->\n' "$name" "$block" "$name" >"$block_file"
  if grep -q "^<!-- $name:begin -->\$" "$file"; then
    awk -v f="$block_file" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
      $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$file" >"$file.tmp"
  else
    {
      cat "$file"
      grep -qx '## Notes' "$file" || printf '\n## Notes\n'
      echo
      cat "$block_file"
    } >"$file.tmp"
  fi
  mv "$file.tmp" "$file"
  rm -f "$block_file"
}

# machine_ticks: "user+nice+system+irq+softirq idle+iowait steal" ticks of
# the whole machine, from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6, $9}' /proc/stat; }

# commit ROOT: the short commit of the checkout at ROOT, read without
# running git (HEAD, then a loose or packed ref); "unknown" if unreadable.
commit() {
  local g=$1/.git head ref
  [[ -f $g ]] && g=$(sed -n 's/^gitdir: //p' "$g")
  head=$(cat "$g/HEAD" 2>/dev/null) || { echo unknown; return; }
  if [[ $head == ref:* ]]; then
    ref=${head#ref: }
    local common=$g
    [[ -f $g/commondir ]] && common=$g/$(cat "$g/commondir")
    if [[ -f $common/$ref ]]; then head=$(cat "$common/$ref")
    else head=$(awk -v r="$ref" '$2 == r {print $1}' "$common/packed-refs" 2>/dev/null); fi
  fi
  [[ -n $head ]] && echo "${head:0:7}" || echo unknown
}

# cores FIELD TICKS0 TICKS1 SECONDS: cores' worth of field FIELD of
# `machine_ticks` (1 busy, 2 idle, 3 steal) between two readings.
cores() {
  awk -v f="$1" -v a="$2" -v b="$3" -v s="$4" -v h="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); printf "%.2f", (y[f] - x[f]) / h / s }'
}

# wait_for_idle SECONDS: samples the machine for 3 s at a time until fewer
# than 0.10 cores are busy, or SECONDS have passed; leaves the last sample
# in BG (busy cores) and BG_STEAL. Logs through the caller's `log`.
wait_for_idle() {
  local limit=$1 waited=0 t0 t1
  while :; do
    t0=$(machine_ticks); sleep 3; t1=$(machine_ticks)
    BG=$(cores 1 "$t0" "$t1" 3)
    BG_STEAL=$(cores 3 "$t0" "$t1" 3)
    awk -v b="$BG" 'BEGIN {exit !(b > 0.10)}' || break
    ((waited >= limit)) && break
    ((waited == 0)) && log "machine busy ($BG cores); waiting up to ${limit}s for it to be idle"
    waited=$((waited + 3))
  done
}
