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
