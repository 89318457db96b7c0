#!/usr/bin/env bash
# Runs the HTTP integration suite again on the backends that serve many
# machines: a real PostgreSQL and a real S3-compatible server (moto), started
# here on free loopback ports in a temporary folder and stopped afterwards.
# Every test server gets a fresh database and its own bucket prefix
# (tests/common/backends.rs). Needs `bash scripts/setup.sh --test` first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$work"
    as_pg=(runuser -u postgres --)
fi
pg_port="$(free_port)"
s3_port="$(free_port)"
moto_pid=""
cleanup() {
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$pgbin/initdb" --auth=trust -U studio -E UTF8 -D "$work/data" >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c max_wal_size=96MB -c min_wal_size=32MB" >/dev/null
"$root/.tools/moto/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf -X PUT "http://127.0.0.1:$s3_port/studio-tests" >/dev/null

export STUDIO_TEST_POSTGRES="postgres://studio@127.0.0.1:$pg_port/postgres"
export STUDIO_TEST_S3="s3://studio-tests"
export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
echo "test-backends: PostgreSQL on port $pg_port, S3 (moto) on port $s3_port" >&2
# Arguments choose tests (e.g. --test it compose::); by default, all of them.
[ "$#" -gt 0 ] || set -- --tests
cargo test --locked "$@"
