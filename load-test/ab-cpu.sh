#!/usr/bin/env bash
# Compares the server CPU of two checkouts in the peer-shaped run, both at once.
#
#   load-test/ab-cpu.sh DIR_A DIR_B [SECONDS]
#
# DIR_A and DIR_B are checkouts with node_modules (e.g. `git worktree add /tmp/a HEAD~1`,
# then `ln -s "$PWD/node_modules" /tmp/a/`), or the word `floor` for load-test/floor.ts, the
# bare publish-only server the CPU target is measured against, or `shell` for
# server/bench/shell.ts, this checkout's server with its game work taken out. Both servers run pinned to cpu 0 at the same
# time, each with its own 500 bots in 10 rooms of 50 at 20 Hz (this checkout's bots, on
# cpu 1), so a change of the host's speed during the run hits both alike: on the 2-core VM
# of BENCHMARKS.md, solo runs of one server a minute apart differ by up to 30 %, the two
# servers of one run by a few percent (5-10 % at worst). Prints each server's user and system CPU (cores)
# over the middle half of the run, and B/A.
# With PERF=1 (needs Linux perf), it also samples cpu 0 over the measured half and prints each
# server's share of the samples by binary: kernel, node (V8), uws, libc, and JIT (our JavaScript).
# AB_ENV_A and AB_ENV_B add server settings to one side only, e.g. AB_ENV_B="TICK_PHASES=4"
# with the same checkout for A and B compares two configurations.
# ROUNDS=N runs N such runs back to back, A and B trading ports and start order each time,
# and ends with the median B/A and its range: one run's B/A can be off by 5-10 % when
# the host's load shifts during it (BENCHMARKS.md (a)). Each run takes about SECONDS + 15 s.
# Loopback only (ports 8201 and 8202); stops by itself.
set -euo pipefail
A=${1:?usage: ab-cpu.sh DIR_A DIR_B [SECONDS]}
B=${2:?usage: ab-cpu.sh DIR_A DIR_B [SECONDS]}
S=${3:-30}
R=${ROUNDS:-1}
HERE=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "ab-cpu: $*" >&2; exit 2; }
[ "$S" -ge 12 ] 2>/dev/null || die "SECONDS must be a whole number ≥ 12 (got $S)"
[ "$R" -ge 1 ] 2>/dev/null || die "ROUNDS must be a whole number ≥ 1 (got $R)"
for d in A B; do # checkouts as absolute paths, checked before anything starts
  v=${!d}
  if [ "$v" != floor ] && [ "$v" != shell ]; then
    [ -f "$v/server/main.ts" ] || die "$v is not a tickwire checkout (no server/main.ts)"
    printf -v "$d" '%s' "$(cd "$v" && pwd)"
  fi
done
HZ=$(getconf CLK_TCK)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # dir port extra-env
  local entry=server/main.ts dir=$1
  if [ "$dir" = floor ]; then entry=load-test/floor.ts dir=$HERE; fi
  if [ "$dir" = shell ]; then entry=server/bench/shell.ts dir=$HERE; fi
  # shellcheck disable=SC2086 # the extra settings are words on purpose
  (cd "$dir" && exec env STATE_FILE= IP_LIMIT_EXEMPT=127.0.0.0/8,::1 TICK_RATE=20 NPC_COUNT=0 MAX_PLAYERS_PER_ROOM=50 VIEW_RADIUS=0 PORT=$2 HOST=127.0.0.1 SECRET=ab \
    LOG_LEVEL=warn $3 taskset -c 0 node --import tsx "$entry" > "/tmp/ab-cpu-$2.log" 2>&1) &
  PIDS+=($!)
}
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; } # user and system clock ticks
listener() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

ratios=()
one_run() { # swap: 0 puts A on port 8201 (started first), 1 puts B there
  local pa=8201 pb=8202 p SA SB ua0 sa0 ub0 sb0 ua1 sa1 ub1 sb1 t0 t1 line
  if [ "$1" = 1 ]; then pa=8202 pb=8201; fi
  for p in 8201 8202; do
    [ -z "$(listener $p)" ] || die "port $p is in use: stop whatever listens there first"
  done
  PIDS=()
  if [ "$1" = 1 ]; then start "$B" $pb "${AB_ENV_B:-}"; start "$A" $pa "${AB_ENV_A:-}"
  else start "$A" $pa "${AB_ENV_A:-}"; start "$B" $pb "${AB_ENV_B:-}"; fi
  for p in 8201 8202; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/healthz" > /dev/null && break; sleep 0.1; done
    [ -n "$(listener $p)" ] || die "no server came up on port $p (log: /tmp/ab-cpu-$p.log)"
  done
  SA=$(listener $pa)
  SB=$(listener $pb)
  [[ " ${PIDS[*]} " == *" $SA "* && " ${PIDS[*]} " == *" $SB "* ]] || die "the listeners are not the servers this script started"

  local servers=("${PIDS[@]}")
  for p in 8201 8202; do
    (cd "$HERE" && exec taskset -c 1 node --import tsx load-test/cli.ts --url "ws://127.0.0.1:$p/ws" --bots 500 --rooms 10 \
      --duration "$S" --scenario move --workers 2 --json "/tmp/ab-cpu-$p.json" > "/tmp/ab-cpu-bots-$p.log" 2>&1) &
    PIDS+=($!)
  done
  local bots=("${PIDS[@]:2}")
  sleep $((S / 4 + 5)) # the ramp (≤ 3 s) and a quarter of the run
  read -r ua0 sa0 < <(cpu "$SA"); read -r ub0 sb0 < <(cpu "$SB"); t0=$(date +%s.%N)
  if [ "${PERF:-0}" = 1 ]; then
    perf record -q -C 0 -F 1999 -o /tmp/ab-cpu-perf.data -- sleep $((S / 2)) > /dev/null 2>&1 || die "perf record failed (is perf installed and allowed?)"
  else
    sleep $((S / 2))
  fi
  read -r ua1 sa1 < <(cpu "$SA"); read -r ub1 sb1 < <(cpu "$SB"); t1=$(date +%s.%N)
  wait "${bots[@]}" || echo "ab-cpu: a bot run exited non-zero (logs: /tmp/ab-cpu-bots-*.log)" >&2
  line=$(awk -v hz="$HZ" -v t0="$t0" -v t1="$t1" -v ua=$((ua1 - ua0)) -v sa=$((sa1 - sa0)) -v ub=$((ub1 - ub0)) -v sb=$((sb1 - sb0)) 'BEGIN {
    el = t1 - t0; a = (ua + sa) / hz / el; b = (ub + sb) / hz / el
    printf "A user %.3f sys %.3f total %.3f | B user %.3f sys %.3f total %.3f | B/A %.3f\n", ua/hz/el, sa/hz/el, a, ub/hz/el, sb/hz/el, b, b / a
  }')
  echo "$line"
  ratios+=("${line##* }")
  if [ "${PERF:-0}" = 1 ]; then # % of all cpu-0 samples, so 1.00 % is 0.01 cores
    perf report -i /tmp/ab-cpu-perf.data --no-children --sort pid,dso -F overhead,pid,dso 2> /dev/null | awk -v A="$SA" -v B="$SB" '
      /^#/ || NF < 3 { next }
      { p = $1; sub("%", "", p); pid = $2; sub(":.*", "", pid); d = $NF
        if (d ~ /JIT|perf-|^[0-9]+$|unknown/) d = "JIT"; else if (d ~ /kernel/) d = "kernel"; else { sub(/\..*/, "", d) }
        if (pid == A) a[d] += p; else if (pid == B) b[d] += p; seen[d] = 1 }
      END { for (d in seen) if (a[d] + b[d] >= 0.05) printf "  %-8s A %6.2f %%  B %6.2f %%  B-A %+6.2f\n", d, a[d], b[d], b[d] - a[d] }' | sort -k2
  fi
  for p in $pa $pb; do
    node -e 'const r = require(process.argv[1]); console.log(`${process.argv[2]}: ${r.bots.connected}/${r.bots.requested} bots, ${r.snapshots_per_bot_s} snapshots/bot/s, ${r.desyncs} desyncs`)' \
      "/tmp/ab-cpu-$p.json" "$([ $p = $pa ] && echo A || echo B) on $p"
  done
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${servers[@]}" 2> /dev/null || true
  PIDS=()
}

for ((k = 0; k < R; k++)); do
  [ "$R" = 1 ] || echo "run $((k + 1)) of $R$([ $((k % 2)) = 1 ] && echo ', B started first')"
  one_run $((k % 2))
done
if [ "$R" -gt 1 ]; then
  printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "B/A over %d runs: median %.3f, range %.3f-%.3f\n", NR, m, v[1], v[NR] }'
fi
