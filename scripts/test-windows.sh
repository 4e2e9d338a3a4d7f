#!/usr/bin/env bash
# Runs the Windows executables under Wine against the Linux ones, on loopback:
#   1. Linux manager + agent-win-x64.exe: the agent comes online; `status` and `procs` answer.
#   2. manager-win-x64.exe + Linux agent: the agent comes online; `agents` and `status` answer
#      through the Windows manager's own client.
#   3. agent-win-x64.exe (A, 0.1.0) installed with `agent install --allow-upgrade --root 'C:\'` and
#      started by its agent-service.cmd as the task would, upgraded by a Linux manager to B, the same
#      sources built with HOSTWATCH_VERSION=0.2.0 (into dist/upgrade-0.2.0, kept while the sources do
#      not change: 12-30 s when it must be built), then back to A: the running agent.exe is renamed
#      aside, never replaced (Windows refuses that, and so does Wine); same id both ways; a switch
#      cut between its two renames is undone by the .cmd at the next start. ~18 s with B kept.
# Needs dist/ from `npm run build`. Installs Wine (Debian's wine64 + wine) when missing and root.
# Exits non-zero with a FAIL line (and the programs' output) when anything does not work.
#   scripts/test-windows.sh [1] [2] [3]    (only the given scenarios; default all)
set -euo pipefail

SCENARIOS=${*:-1 2 3}
for s in $SCENARIOS; do
  case $s in 1|2|3) ;; *) echo "usage: $0 [1] [2] [3]" >&2; exit 2 ;; esac
done
wants() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=$ROOT/dist
TIMEOUT=${HOSTWATCH_WINE_TIMEOUT:-60}   # seconds for each wait

say() { echo "test-windows: $*"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hw-wine-XXXXXX")
PIDS=()
OWN_PREFIX=0
UNINSTALL_AT_EXIT=0
cleanup() {
  local pid
  if [ "$UNINSTALL_AT_EXIT" = 1 ]; then uninstall_wine_agent; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Agents an upgrade started (detached, so not in PIDS): every process whose command line names $TMP.
  for pid in $(grep -lsF "$(basename "$TMP")" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    [ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null || true
  done
  # Our own prefix: end its wineserver so nothing lingers. A prefix given by the caller is left alone.
  if [ "$OWN_PREFIX" = 1 ]; then wineserver -k 2>/dev/null || true; fi
  if [ -z "${HOSTWATCH_KEEP_TMP:-}" ]; then rm -rf "$TMP"; else say "kept $TMP"; fi
}
trap cleanup EXIT

fail() {
  echo "test-windows: FAIL: $*" >&2
  local f
  for f in "$TMP"/*.log; do
    [ -s "$f" ] || continue
    echo "--- $(basename "$f"):" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

# JSON from a file, through an expression on `j`; prints the result, fails on bad JSON.
json() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = (0, eval)("(j) => " + process.argv[2])(j); if (v === undefined || v === false) process.exit(1); console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"; }

for f in manager-linux-x64 agent-linux-x64 manager-win-x64.exe agent-win-x64.exe; do
  [ -f "$DIST/$f" ] || fail "$DIST/$f missing: run \`npm run build\` first"
done
command -v node >/dev/null || fail "node is needed to read JSON"

# --- Wine -----------------------------------------------------------------------------------
if ! command -v wine >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "Wine is not installed and this is not root: apt-get install --no-install-recommends wine64 wine"
  say "installing Wine (apt-get install --no-install-recommends wine64 wine, ~100 MB)..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends wine64 wine >"$TMP/apt.log" 2>&1; then
    apt-get update -q >>"$TMP/apt.log" 2>&1 || true
    apt-get install -y -q --no-install-recommends wine64 wine >>"$TMP/apt.log" 2>&1 || fail "apt-get install wine64 wine failed (see apt.log)"
  fi
fi
if [ -z "${WINEPREFIX:-}" ]; then
  export WINEPREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/hostwatch-wine"
  OWN_PREFIX=1
fi
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="   # no Mono/Gecko install prompts
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  say "creating the Wine prefix $WINEPREFIX..."
  mkdir -p "$WINEPREFIX"
  wineboot -i >"$TMP/wineboot.log" 2>&1 || fail "wineboot failed"
fi
# Node refuses to start unless Windows reports version 10 or later.
if ! grep -qs '"Version"="win10"' "$WINEPREFIX/user.reg"; then
  wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >"$TMP/reg.log" 2>&1 || fail "wine reg add failed"
fi
say "$(wine --version)"

# Under Wine a program's stdout must be a file or a terminal: a pipe gives EBADF. So every Windows
# program here writes to a file, and its output is read back from there.
winrun() { # winrun <outfile> <exe> <args...>
  local out=$1; shift
  wine "$@" >"$out" 2>"$out.err"
}
linrun() { # linrun <outfile> <exe> <args...>: the same for a Linux program
  local out=$1; shift
  "$@" >"$out" 2>"$out.err"
}

# wait_online <name> <agent pid> <agent label> <manager pid> <manager label> <runner> <manager exe> <data dir>
# Polls `manager agents --json` until <name> is online with metrics; its record ends in $TMP/<name>.json.
wait_online() {
  local name=$1 apid=$2 alabel=$3 mpid=$4 mlabel=$5 run=$6 exe=$7 dir=$8
  local deadline=$((SECONDS + TIMEOUT))
  until "$run" "$TMP/agents-$name.json" "$exe" agents --json --data-dir "$dir" \
    && json "$TMP/agents-$name.json" "j.find((a) => a.name === \"$name\" && a.online === true && typeof a.metrics?.cpuPercent === \"number\")" >"$TMP/$name.json"; do
    kill -0 "$apid" 2>/dev/null || fail "$alabel exited"
    kill -0 "$mpid" 2>/dev/null || fail "$mlabel exited"
    [ $SECONDS -lt $deadline ] || fail "$name not online with metrics after ${TIMEOUT}s: $(cat "$TMP/agents-$name.json" "$TMP/agents-$name.json.err")"
    sleep 0.5
  done
  say "  agents: $(json "$TMP/$name.json" '({ online: j.online, metrics: j.metrics })')"
}

mkdir -p "$TMP/bin"
cp "$DIST/manager-linux-x64" "$DIST/agent-linux-x64" "$TMP/bin/"
LMANAGER="$TMP/bin/manager-linux-x64"
LAGENT="$TMP/bin/agent-linux-x64"
WMANAGER="$DIST/manager-win-x64.exe"
WAGENT="$DIST/agent-win-x64.exe"

winrun "$TMP/v.txt" "$WAGENT" --version || fail "agent-win-x64.exe --version under Wine: $(cat "$TMP/v.txt.err")"
say "agent-win-x64.exe --version: $(head -n1 "$TMP/v.txt")"

wait_for_file() { # wait_for_file <file> <pid> <what>
  local deadline=$((SECONDS + TIMEOUT))
  until [ -s "$1" ]; do
    kill -0 "$2" 2>/dev/null || fail "$3 exited"
    [ $SECONDS -lt $deadline ] || fail "no $1 after ${TIMEOUT}s ($3)"
    sleep 0.2
  done
}

port_of() { echo "${1##*:}"; }

# The manager's enroll token lets an agent in at once, without `manager accept`.
enroll_args() { # enroll_args <data-dir>
  if [ -s "$1/enroll-token" ]; then echo "--enroll-token $(tr -d '[:space:]' <"$1/enroll-token")"; fi
}

# start_linux_manager <data-dir> <log name>: sets MPID, TCP and UDP.
start_linux_manager() {
  env -i PATH=/usr/bin:/bin "$LMANAGER" --host 127.0.0.1 --port 0 --udp-port 0 --api 127.0.0.1:0 --data-dir "$1" \
    >"$TMP/$2.log" 2>&1 &
  MPID=$!; PIDS+=("$MPID")
  wait_for_file "$1/manager.json" "$MPID" "the Linux manager"
  TCP=$(port_of "$(json "$1/manager.json" 'j.tcp')") || fail "no tcp in manager.json"
  UDP=$(port_of "$(json "$1/manager.json" 'j.udp')") || fail "no udp in manager.json"
}

# --- 1. Linux manager, Windows agent ---------------------------------------------------------
scenario1() {
say "1/3: Linux manager, agent-win-x64.exe under Wine"
M1="$TMP/m1"
start_linux_manager "$M1" linux-manager
mkdir -p "$TMP/wine-agent-state"
# shellcheck disable=SC2046
wine "$WAGENT" --manager "127.0.0.1:$TCP" --udp-port "$UDP" --name wine-agent --interval 1 $(enroll_args "$M1") \
  --state-dir "$(winepath -w "$TMP/wine-agent-state")" >"$TMP/wine-agent.log" 2>&1 &
APID=$!; PIDS+=("$APID")

wait_online wine-agent "$APID" "agent-win-x64.exe" "$MPID" "the Linux manager" linrun "$LMANAGER" "$M1"

"$LMANAGER" status wine-agent --json --data-dir "$M1" >"$TMP/status1.json" 2>"$TMP/status1.err" \
  || fail "status wine-agent: $(cat "$TMP/status1.err")"
json "$TMP/status1.json" 'j.platform === "win32"' >/dev/null || fail "status wine-agent: platform is not win32: $(cat "$TMP/status1.json")"
say "  status: $(json "$TMP/status1.json" '({ hostname: j.hostname, platform: j.platform, disks: (j.disks || []).length, interfaces: (j.interfaces || []).length, unavailable: j.unavailable ?? j.metrics?.unavailable })')"

"$LMANAGER" procs wine-agent --json --data-dir "$M1" >"$TMP/procs1.json" 2>"$TMP/procs1.err" \
  || fail "procs wine-agent: $(cat "$TMP/procs1.err")"
json "$TMP/procs1.json" '"processCount" in j' >/dev/null || fail "procs wine-agent: no processCount: $(cat "$TMP/procs1.json")"

# top runs the Windows path (tasklist /v through the agent's runner). Wine's tasklist.exe is a stub
# that lists nothing, so here the answer is the coded error saying so; on Windows it is the rows.
if "$LMANAGER" top wine-agent --json --data-dir "$M1" >"$TMP/top1.json" 2>"$TMP/top1.err"; then
  json "$TMP/top1.json" 'JSON.stringify(j).includes("\"pid\"")' >/dev/null || fail "top wine-agent: no rows: $(cat "$TMP/top1.json")"
  say "  top: $(json "$TMP/top1.json" 'JSON.stringify(j).slice(0, 200)')"
else
  grep -q 'UNAVAILABLE' "$TMP/top1.err" && grep -q 'tasklist' "$TMP/top1.err" \
    || fail "top wine-agent: neither rows nor the coded tasklist error: $(cat "$TMP/top1.err")"
  say "  top: $(tr '\n' ' ' <"$TMP/top1.err") (Wine's tasklist.exe lists nothing)"
fi
say "  procs: $(cat "$TMP/procs1.json")"

kill "$APID" "$MPID" 2>/dev/null || true
wait "$APID" "$MPID" 2>/dev/null || true
}

# --- 2. Windows manager, Linux agent ---------------------------------------------------------
scenario2() {
say "2/3: manager-win-x64.exe under Wine, Linux agent"
M2="$TMP/m2"
M2W=$(winepath -w "$M2")
wine "$WMANAGER" --host 127.0.0.1 --port 0 --udp-port 0 --api 127.0.0.1:0 --data-dir "$M2W" \
  >"$TMP/wine-manager.log" 2>&1 &
MPID=$!; PIDS+=("$MPID")
wait_for_file "$M2/manager.json" "$MPID" "manager-win-x64.exe"
TCP=$(port_of "$(json "$M2/manager.json" 'j.tcp')") || fail "no tcp in manager.json"
UDP=$(port_of "$(json "$M2/manager.json" 'j.udp')") || fail "no udp in manager.json"
mkdir -p "$TMP/linux-agent-state"
# shellcheck disable=SC2046
env -i PATH=/usr/bin:/bin "$LAGENT" --manager "127.0.0.1:$TCP" --udp-port "$UDP" --name linux-agent --interval 1 $(enroll_args "$M2") \
  --state-dir "$TMP/linux-agent-state" >"$TMP/linux-agent.log" 2>&1 &
APID=$!; PIDS+=("$APID")

wait_online linux-agent "$APID" "the Linux agent" "$MPID" "manager-win-x64.exe" winrun "$WMANAGER" "$M2W"

winrun "$TMP/status2.json" "$WMANAGER" status linux-agent --json --data-dir "$M2W" \
  || fail "status linux-agent through manager-win-x64.exe: $(cat "$TMP/status2.json.err")"
json "$TMP/status2.json" 'j.platform === "linux"' >/dev/null || fail "status linux-agent: platform is not linux: $(cat "$TMP/status2.json")"
say "  status: $(json "$TMP/status2.json" '({ hostname: j.hostname, platform: j.platform, disks: (j.disks || []).length, interfaces: (j.interfaces || []).length })')"
}

# --- 3. Windows agent upgraded A -> B -> A ----------------------------------------------------
# Installed as `agent install` does it (under --root 'C:\': the real places in the Wine prefix, without
# the Task Scheduler, which Wine does not have) and started the way the task starts it: its
# agent-service.cmd, through cmd.exe.
PF_WIN='C:\Program Files\hostwatch'
SERVICE_CMD="$PF_WIN\\agent-service.cmd"

# The installed agent's processes (and the cmd.exe running its .cmd) in this Wine prefix only.
installed_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    grep -aqF 'Program Files\hostwatch\' "$f" 2>/dev/null || continue
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" && echo "$pid"
  done
}
stop_installed() {
  local pid
  for pid in $(installed_pids); do kill -9 "$pid" 2>/dev/null || true; done
}
uninstall_wine_agent() {
  stop_installed
  winrun "$TMP/uninstall.txt" "$WAGENT" uninstall --root 'C:\' --purge || true
}

# wait_agent <expression on a (one agent of `agents --json`)> <what>: until one matches; it ends in $TMP/agent.json.
wait_agent() {
  local deadline=$((SECONDS + 2 * TIMEOUT))
  until linrun "$TMP/agents-v.json" "$LMANAGER" agents --json --data-dir "$M3" \
    && json "$TMP/agents-v.json" "j.find((a) => $1)" >"$TMP/agent.json"; do
    kill -0 "$MPID" 2>/dev/null || fail "the Linux manager exited"
    [ $SECONDS -lt $deadline ] || fail "$2 not seen after $((2 * TIMEOUT))s: $(cat "$TMP/agents-v.json")"
    sleep 0.5
  done
}

start_task_cmd() { # what the scheduled task runs at startup
  wine cmd /c "$SERVICE_CMD" >>"$TMP/wine-task.log" 2>&1 &
  PIDS+=("$!")
}

# upgrade_to <version> <signed file>: the installed agent upgraded, back online on <version> with
# the same id, the file at agent.exe.
upgrade_to() {
  linrun "$TMP/upgrade-$1.json" "$LMANAGER" upgrade "$NAME" --to "$2" --json --data-dir "$M3" \
    || fail "upgrade to $1: $(cat "$TMP/upgrade-$1.json" "$TMP/upgrade-$1.json.err")"
  wait_agent "$WHO && a.version === \"$1\"" "the agent on $1"
  [ "$(json "$TMP/agent.json" 'j.id')" = "$ID" ] || fail "$1 came back with another id"
  cmp -s "$PF/agent.exe" "$2" || fail "agent.exe is not $2 after the upgrade to $1"
}

scenario3() {
say "3/3: agent-win-x64.exe installed, upgraded from A to B and back by a Linux manager"
B_DIR="$DIST/upgrade-0.2.0"
local t0=$SECONDS
HOSTWATCH_VERSION=0.2.0 node "$ROOT/scripts/build.mjs" --programs agent --targets linux-x64,win-x64 --out "$B_DIR" >"$TMP/build-b.log" 2>&1 \
  || fail "building B (HOSTWATCH_VERSION=0.2.0): $(tail -n 5 "$TMP/build-b.log")"
say "  B built or kept in $((SECONDS - t0)) s"
mkdir -p "$TMP/a3" "$TMP/b3"
cp "$WAGENT" "$TMP/a3/agent.exe"
cp "$B_DIR/agent-win-x64.exe" "$TMP/b3/agent.exe"
winrun "$TMP/vb.txt" "$TMP/b3/agent.exe" --version || fail "B --version under Wine: $(cat "$TMP/vb.txt.err")"
grep -q '^agent/0.2.0 ' "$TMP/vb.txt" || fail "B is not 0.2.0: $(cat "$TMP/vb.txt")"
M3="$TMP/m3"
start_linux_manager "$M3" linux-manager3
linrun "$TMP/key.txt" "$LMANAGER" upgrade-key create --data-dir "$M3" || fail "upgrade-key create: $(cat "$TMP/key.txt.err")"
for v in a3:0.1.0 b3:0.2.0; do
  linrun "$TMP/sign.txt" "$LMANAGER" upgrade-key sign "$TMP/${v%%:*}/agent.exe" --platform win32 --arch x64 --agent-version "${v##*:}" --data-dir "$M3" \
    || fail "upgrade-key sign: $(cat "$TMP/sign.txt.err")"
done

uninstall_wine_agent # a previous run's install in this prefix (pinned to another manager)
UNINSTALL_AT_EXIT=1
PF="$WINEPREFIX/drive_c/Program Files/hostwatch"
LABEL="test=wine-up-$$"
winrun "$TMP/install.txt" "$WAGENT" install --manager "127.0.0.1:$TCP" --udp-port "$UDP" --enroll-token-file "$(winepath -w "$M3/enroll-token")" \
  --label "$LABEL" --allow-upgrade --root 'C:\' || fail "agent install under Wine: $(cat "$TMP/install.txt" "$TMP/install.txt.err")"
grep -q -- '--allow-upgrade' "$PF/agent-service.cmd" || fail "the task's .cmd has no --allow-upgrade: $(cat "$PF/agent-service.cmd")"
start_task_cmd
WHO="a.labels?.test === \"${LABEL#test=}\" && a.online === true"
wait_agent "$WHO && a.version === \"0.1.0\"" "the installed agent on 0.1.0"
ID=$(json "$TMP/agent.json" 'j.id')
NAME=$(json "$TMP/agent.json" 'j.name')
say "  installed, started by its .cmd: online on 0.1.0"

upgrade_to 0.2.0 "$TMP/b3/agent.exe"
cmp -s "$PF/agent.exe.previous" "$WAGENT" || fail "agent.exe.previous is not A"
say "  upgraded to 0.2.0: same id; the running agent.exe was renamed aside to agent.exe.previous"

# Killed between the two renames of a switch (the running agent.exe aside, the new one not yet in),
# then the host restarts: the task's .cmd puts agent.exe.previous back and starts it.
stop_installed
wait_agent "a.id === \"$ID\" && a.online === false" "the agent offline once killed"
mv "$PF/agent.exe" "$PF/agent.exe.previous"
start_task_cmd
wait_agent "$WHO && a.version === \"0.2.0\"" "the agent back on 0.2.0 after the restart"
[ -f "$PF/agent.exe" ] || fail "the .cmd did not put agent.exe back"
say "  cut between the renames, restarted by the task's .cmd: back on 0.2.0"

upgrade_to 0.1.0 "$TMP/a3/agent.exe"
say "  back on 0.1.0: same id"

# Now the agent runs outside the task's instance (the upgrade's watcher started it), where
# `schtasks /End` does not reach: uninstall asks it to stop through its state folder.
winrun "$TMP/uninstall3.txt" "$WAGENT" uninstall --root 'C:\' \
  || fail "agent uninstall while the upgraded agent runs: $(cat "$TMP/uninstall3.txt" "$TMP/uninstall3.txt.err")"
grep -q 'the running agent stopped' "$TMP/uninstall3.txt" || fail "uninstall did not stop the agent: $(cat "$TMP/uninstall3.txt")"
wait_agent "a.id === \"$ID\" && a.online === false" "the agent offline after uninstall"
local deadline=$((SECONDS + TIMEOUT))
while [ -n "$(installed_pids)" ]; do
  [ $SECONDS -lt $deadline ] || fail "agent processes still running after uninstall: $(installed_pids)"
  sleep 0.5
done
[ ! -e "$PF/agent.exe" ] || fail "agent.exe still there after uninstall"
say "  uninstalled while it ran outside the task: asked to stop, stopped, its files removed"
}

if wants 1; then scenario1; fi
if wants 2; then scenario2; fi
if wants 3; then scenario3; fi
say "PASS ($SCENARIOS)"
