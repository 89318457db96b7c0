#!/usr/bin/env python3
"""Asset-listing benchmark (issue 16, "Keep GET /assets fast with auth on"):
requests per second and latency of `GET /api/v1/sessions/{id}/assets` with an
API key, on the studio and on a FastAPI equivalent (benches/assets_fastapi.py)
serving the same SQLite rows with the same checks.

Steps: a fresh data dir (benches/out/assets-data); an API key from
`studio keys create --name bench`; `studio serve` on a free loopback port with
STUDIO_REQUESTS_PER_SECOND=0 (the per-client rate limit would otherwise answer
429 to a load generator sending everything from one address and one key);
a session with 100 assets (100 small distinct PNG uploads); a consistent copy
of the studio's database for the FastAPI app (uvicorn, one worker: the usual
single-process deployment, with uvloop and httptools, access log off like the
studio's); both answers checked to be the same JSON; then for each server a
warm-up run and a measured run of
`wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer KEY"`.
Prints a table and the ratios studio/FastAPI, writes benches/out/assets_bench.json.

wrk runs on the same machine as the servers and takes CPU from them (on
2 cores, noticeably); both servers pay the same tax.

Run from the repository root: python3 benches/assets_bench.py
Needs: a release build (`cargo build --release`; $CARGO_TARGET_DIR is
honoured, or set STUDIO_BIN), `wrk` on PATH; the FastAPI virtual environment
benches/.venv-assets is made on first use (fastapi, uvicorn[standard]).
Options (environment): BENCH_DURATION (seconds, default 10), BENCH_CONNECTIONS
(default 64), BENCH_ASSETS (default 100).
"""
import json
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out"
DATA = OUT / "assets-data"
VENV = ROOT / "benches" / ".venv-assets"
VENV_PY = VENV / "bin" / "python"
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
ASSETS = int(os.environ.get("BENCH_ASSETS", "100"))
WARMUP_SECONDS = 3
THREADS = 2


def studio_binary():
    if os.environ.get("STUDIO_BIN"):
        return Path(os.environ["STUDIO_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "studio"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(index):
    """A small valid PNG (16x16, one colour per index), so every upload differs."""
    width = height = 16
    colour = bytes([(index * 37) % 256, (index * 91) % 256, (index * 53) % 256])
    raw = b"".join(b"\x00" + colour * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def request(url, key, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.read()


def upload(base, key, session, index):
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"bench_{index}.png\"\r\nContent-Type: image/png\r\n\r\n"
    ).encode() + png(index) + f"\r\n--{boundary}--\r\n".encode()
    status, _ = request(
        f"{base}/api/v1/sessions/{session}/uploads", key, "POST", body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 201, status


def wait_until_up(url, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"{what} exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers (401/404 is fine: it is up)
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not come up at {url}")


def seconds(text):
    """wrk's `1.23ms` / `456.00us` / `1.50s` in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url, key, duration):
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency",
           "-H", f"Authorization: Bearer {key}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"wrk saw errors; a benchmark of failures is worthless:\n{out}")
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    if "99" not in pct:
        sys.exit(f"wrk printed no latency distribution:\n{out}")
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": seconds(pct["50"]),
        "p90_ms": seconds(pct["90"]),
        "p99_ms": seconds(pct["99"]),
        "command": " ".join(cmd[:-3]) + ' -H "Authorization: Bearer KEY" ' + url,
    }


def measure(name, url, key):
    print(f"{name}: warm-up {WARMUP_SECONDS} s, then {DURATION} s measured ...", flush=True)
    # The warm-up's own figures are not used (a slow server may finish too
    # few requests in it for wrk to print every percentile).
    subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{WARMUP_SECONDS}s",
                    "-H", f"Authorization: Bearer {key}", url], capture_output=True, check=True)
    result = wrk(url, key, DURATION)
    print(f"  {result['requests_per_second']:.0f} requests/s, p50 {result['p50_ms']:.2f} ms, "
          f"p99 {result['p99_ms']:.2f} ms", flush=True)
    return result


def ensure_venv():
    if VENV_PY.exists():
        return
    print("making benches/.venv-assets (fastapi, uvicorn[standard]) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "--quiet", "fastapi",
                    "uvicorn[standard]"], check=True)


def versions():
    code = ("import fastapi, uvicorn, starlette, sys; "
            "print(fastapi.__version__, uvicorn.__version__, starlette.__version__, sys.version.split()[0])")
    fa, uv, st, py = subprocess.run([str(VENV_PY), "-c", code], capture_output=True,
                                    text=True, check=True).stdout.split()
    return {"fastapi": fa, "uvicorn": uv, "starlette": st, "python": py}


def main():
    studio = studio_binary()
    if not studio.exists():
        sys.exit(f"{studio} is missing: run `cargo build --release` first")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing (apt-get install wrk)")
    ensure_venv()
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    env = dict(os.environ, STUDIO_DATA_DIR=str(DATA), STUDIO_REQUESTS_PER_SECOND="0",
               STUDIO_LOG="warn")
    env.pop("STUDIO_ALLOW_ANONYMOUS", None)

    key = subprocess.run([str(studio), "keys", "create", "--name", "bench"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(studio), "serve", "--addr", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fastapi = None
    try:
        wait_until_up(f"{base}/healthz", server, "studio")
        status, body = request(f"{base}/api/v1/sessions", key, "POST", b"")
        assert status == 201, status
        session = json.loads(body)["session_id"]
        started = time.monotonic()
        for i in range(ASSETS):
            upload(base, key, session, i)
        print(f"session {session}: {ASSETS} PNG uploads in {time.monotonic() - started:.1f} s",
              flush=True)
        path = f"/api/v1/sessions/{session}/assets"

        # A consistent copy of the database (the studio keeps it in WAL mode).
        copy = OUT / "assets-fastapi.db"
        copy.unlink(missing_ok=True)
        with sqlite3.connect(DATA / "studio.db") as src, sqlite3.connect(copy) as dst:
            src.backup(dst)

        fport = free_port()
        fbase = f"http://127.0.0.1:{fport}"
        fastapi = subprocess.Popen(
            [str(VENV_PY), "-m", "uvicorn", "assets_fastapi:app", "--app-dir", str(ROOT / "benches"),
             "--host", "127.0.0.1", "--port", str(fport), "--workers", "1",
             "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            env=dict(os.environ, STUDIO_DB=str(copy)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"{fbase}/api/v1/sessions/x/assets", fastapi, "FastAPI")

        # Same work or no benchmark: both must answer the same JSON.
        _, studio_body = request(base + path, key)
        _, fastapi_body = request(fbase + path, key)
        studio_json, fastapi_json = json.loads(studio_body), json.loads(fastapi_body)
        if studio_json != fastapi_json:
            sys.exit("the two answers differ; not measuring:\n"
                     f"studio:  {studio_body[:400]!r}\nfastapi: {fastapi_body[:400]!r}")
        assert len(studio_json) == ASSETS, len(studio_json)
        print(f"answers: the same JSON ({len(studio_json)} assets, {len(studio_body)} bytes from "
              f"the studio, byte-identical: {studio_body == fastapi_body})", flush=True)

        load = os.getloadavg()
        results = {
            "studio": measure("studio", base + path, key),
            "fastapi": measure("FastAPI", fbase + path, key),
        }
    finally:
        for proc in (server, fastapi):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    s, f = results["studio"], results["fastapi"]
    ratio = {
        "requests_per_second": s["requests_per_second"] / f["requests_per_second"],
        "p50": s["p50_ms"] / f["p50_ms"],
        "p99": s["p99_ms"] / f["p99_ms"],
    }
    print()
    print(f"GET /api/v1/sessions/{{id}}/assets, {ASSETS} assets, bearer key, "
          f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s, {os.cpu_count()} cores "
          f"(load average before: {load[0]:.2f})")
    print(f"{'server':<54} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'studio (rate limit off: STUDIO_REQUESTS_PER_SECOND=0)':<54} "
          f"{s['requests_per_second']:>11.0f} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f}")
    print(f"{'FastAPI (uvicorn, 1 worker, uvloop+httptools)':<54} "
          f"{f['requests_per_second']:>11.0f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f}")
    print(f"{'ratio studio/FastAPI':<54} {ratio['requests_per_second']:>10.1f}x "
          f"{ratio['p50']:>7.2f}x {ratio['p99']:>7.2f}x")
    met = ratio["requests_per_second"] >= 50 and s["p99_ms"] < 10
    print(f"issue 16 target (>= 50x FastAPI's requests/s and p99 < 10 ms): "
          f"{'met' if met else 'NOT met'}")
    print("The studio ran with its per-client rate limit off (STUDIO_REQUESTS_PER_SECOND=0): "
          "with the default (50/s, bursts of 100) one load generator gets 429s.")

    report = {
        "route": "GET /api/v1/sessions/{id}/assets",
        "assets": ASSETS,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "duration_seconds": DURATION,
        "cores": os.cpu_count(),
        "load_average_before": load[0],
        "studio": s,
        "fastapi": dict(f, deployment="uvicorn, 1 worker, uvloop, httptools, no access log",
                        **versions()),
        "ratio_studio_over_fastapi": ratio,
        "answers_byte_identical": studio_body == fastapi_body,
        "target_met": met,
        "notes": "studio rate limit off (STUDIO_REQUESTS_PER_SECOND=0); wrk on the same machine",
    }
    (OUT / "assets_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT / 'assets_bench.json'}")


if __name__ == "__main__":
    main()
