#!/usr/bin/env python3
"""Render-farm benchmark (issue 15): jobs through the queue on worker processes.

Measures, on this machine, with the release binary, SQLite + local files
(one data folder that every process shares, as on one machine):

1. Throughput: 8 one-minute renders (640x360, six scenes with zooms and pans,
   each render of its own picture, so the render cache cannot help) submitted at once to an API node
   (`studio serve --no-worker`), run by one `studio worker` process and then
   by two. Wall time from the first submit to the last success.
2. Queue overhead: one one-minute render composed directly (synchronous
   `POST /compose` on `studio serve`, rendered inside the request) against
   the same render queued (`"async": true`) and run by a worker, from the
   submit to the success seen by polling every 50 ms. Alternated, 5 pairs,
   medians; also the median wait of a queued job before its render starts
   (from the job's and the video's timestamps).
3. Recovery: two workers; a one-minute render starts on one, which is killed
   with SIGKILL; the time until the other one has taken the job up again
   (the job's attempt count becomes 2), with the default heartbeat (5 s,
   three missed) and with a 1 s heartbeat; and the same worker stopped with
   SIGTERM instead, which hands the job back: the time until the other worker
   runs it, and until the stopped process has exited.

Run from the repository root: python3 benches/farm_bench.py
(`python3 benches/farm_bench.py recovery` runs part 3 only.)
Needs a release build (`cargo build --release`; $CARGO_TARGET_DIR is
honoured, or set STUDIO_BIN) and ffmpeg. Writes benches/out/farm_bench.json.
"""
import json
import os
import shutil
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out"
DATA = OUT / "farm-data"
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RENDERS = int(os.environ.get("BENCH_RENDERS", "8"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "5"))


def studio_binary():
    if os.environ.get("STUDIO_BIN"):
        return Path(os.environ["STUDIO_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "studio"


def png(rgb, size=64):
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Farm:
    def __init__(self, heartbeat=5):
        self.env = dict(os.environ, STUDIO_DATA_DIR=str(DATA), STUDIO_WORKER_HEARTBEAT_SECS=str(heartbeat),
                        RUST_LOG="warn")
        self.procs = []

    def start(self, *args):
        proc = subprocess.Popen([str(studio_binary()), *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def node(self, worker=False):
        port = free_port()
        args = ["serve", "--addr", f"127.0.0.1:{port}"] + ([] if worker else ["--no-worker"])
        self.start(*args)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                return base
            except Exception:
                time.sleep(0.1)
        sys.exit("the server did not start")

    def worker(self):
        proc = self.start("worker", "--concurrency", "1")
        time.sleep(1.0)
        return proc

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []


def request(method, url, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type} if data else {})
    with urllib.request.urlopen(req, timeout=600) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def upload(base, session, name, data):
    boundary = "benchboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, asset = request("POST", f"{base}/api/v1/sessions/{session}/uploads", body,
                            f"multipart/form-data; boundary={boundary}")
    assert status == 201, asset
    return asset["name"]


SCENES = [("zoom_in", 9), ("pan_right", 10), ("zoom_out", 11), ("pan_left", 9), ("zoom_in", 10), ("pan_right", 11)]


def timeline(image, run_async):
    """A one-minute video of six moving scenes of one picture (as the
    automatic mode makes them)."""
    scale = SECONDS / 60.0
    items = [{"asset_id": image, "duration": d * scale, "effect": e} for e, d in SCENES]
    return {"async": run_async, "timeline": items, "output": {"width": 640, "height": 360}}


def wait(base, job, poll=0.05):
    while True:
        _, view = request("GET", base + job["status_url"])
        if view["status"] not in ("queued", "running"):
            assert view["status"] == "succeeded", view
            return view
        time.sleep(poll)


def images(base, session, n, seed):
    return [upload(base, session, f"p{i}.png", png(((seed * 37 + i * 53) % 256, (i * 91) % 256, (seed * 11 + i * 7) % 256)))
            for i in range(n)]


def throughput(workers):
    farm = Farm()
    try:
        base = farm.node()
        session = f"throughput{workers}"
        pictures = images(base, session, RENDERS, workers)
        for _ in range(workers):
            farm.worker()
        started = time.monotonic()
        jobs = [request("POST", f"{base}/api/v1/sessions/{session}/compose", timeline(p, True))[1] for p in pictures]
        for job in jobs:
            wait(base, job, poll=0.25)
        return time.monotonic() - started
    finally:
        farm.stop()


def overhead():
    farm = Farm()
    try:
        base = farm.node(worker=True)
        session = "overhead"
        pictures = images(base, session, 2 * PAIRS, 99)
        direct, queued = [], []
        for i in range(PAIRS):
            started = time.monotonic()
            status, _ = request("POST", f"{base}/api/v1/sessions/{session}/compose", timeline(pictures[2 * i], False))
            assert status == 201
            direct.append(time.monotonic() - started)
            started = time.monotonic()
            _, job = request("POST", f"{base}/api/v1/sessions/{session}/compose", timeline(pictures[2 * i + 1], True))
            wait(base, job)
            queued.append(time.monotonic() - started)
        db = sqlite3.connect(DATA / "studio.db")
        waits = []
        for created, finished, render in db.execute(
                "SELECT j.created_at, j.updated_at, json_extract(j.result, '$.metadata.render.seconds') "
                "FROM jobs j WHERE j.session_id = ? AND j.status = 'succeeded'", (session,)):
            span = (parse_time(finished) - parse_time(created))
            waits.append(span - render)
        return direct, queued, waits
    finally:
        farm.stop()


def parse_time(stamp):
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def recovery(heartbeat, signal="kill"):
    """Seconds until the job runs on the other worker after its worker got
    SIGKILL ("kill") or SIGTERM ("term"); with "term", also the seconds until
    the stopped worker had exited."""
    farm = Farm(heartbeat)
    try:
        base = farm.node()
        session = f"recovery{heartbeat}"
        [picture] = images(base, session, 1, heartbeat)
        w1, w2 = farm.worker(), farm.worker()
        _, job = request("POST", f"{base}/api/v1/sessions/{session}/compose", timeline(picture, True))
        db = sqlite3.connect(DATA / "studio.db")
        while True:
            row = db.execute("SELECT status, worker FROM jobs WHERE id = ?", (job["job_id"],)).fetchone()
            if row[0] == "running":
                break
            time.sleep(0.05)
        victim, other = (w1, w2) if row[1].endswith(f":{w1.pid}") else (w2, w1)
        if signal == "kill":
            victim.kill()
        else:
            victim.terminate()
        killed = time.monotonic()
        exited = None
        while True:
            if exited is None and victim.poll() is not None:
                exited = time.monotonic() - killed
            status, worker = db.execute("SELECT status, worker FROM jobs WHERE id = ?",
                                        (job["job_id"],)).fetchone()
            if status == "running" and worker and worker.endswith(f":{other.pid}"):
                break
            time.sleep(0.02)
        taken_up = time.monotonic() - killed
        if signal == "term":
            victim.wait()
            exited = exited if exited is not None else time.monotonic() - killed
        wait(base, job, poll=0.25)
        return taken_up if signal == "kill" else (taken_up, exited)
    finally:
        farm.stop()


def recovery_only():
    rec_default = recovery(5)
    rec_fast = recovery(1)
    handed_back, exited = recovery(5, "term")
    path = OUT / "farm_bench.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result.update({
        "recovery_default_heartbeat_s": round(rec_default, 2), "recovery_1s_heartbeat_s": round(rec_fast, 2),
        "sigterm_taken_up_s": round(handed_back, 2), "sigterm_worker_exited_s": round(exited, 2),
    })
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"worker killed -> job taken up elsewhere: {rec_default:.1f} s (heartbeat 5 s), "
          f"{rec_fast:.1f} s (heartbeat 1 s)")
    print(f"worker stopped (SIGTERM) -> job running elsewhere: {handed_back:.2f} s; "
          f"the worker exited after {exited:.2f} s")


def main():
    if not studio_binary().exists():
        sys.exit(f"no release build at {studio_binary()}: run cargo build --release")
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    if sys.argv[1:] == ["recovery"]:
        return recovery_only()
    one = throughput(1)
    two = throughput(2)
    direct, queued, waits = overhead()
    rec_default = recovery(5)
    rec_fast = recovery(1)
    handed_back, exited = recovery(5, "term")
    result = {
        "renders": RENDERS, "seconds_each": SECONDS, "cores": os.cpu_count(),
        "one_worker_s": round(one, 2), "two_workers_s": round(two, 2), "speedup": round(one / two, 3),
        "direct_s": [round(x, 2) for x in direct], "queued_s": [round(x, 2) for x in queued],
        "queue_overhead": round(statistics.median(queued) / statistics.median(direct), 3),
        "queue_overhead_per_pair_median": round(statistics.median(q / d for q, d in zip(queued, direct)), 3),
        "queue_overhead_of_sums": round(sum(queued) / sum(direct), 3),
        "queued_wait_before_render_s": [round(x, 3) for x in waits],
        "recovery_default_heartbeat_s": round(rec_default, 2), "recovery_1s_heartbeat_s": round(rec_fast, 2),
        "sigterm_taken_up_s": round(handed_back, 2), "sigterm_worker_exited_s": round(exited, 2),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "farm_bench.json").write_text(json.dumps(result, indent=2))
    print(f"{RENDERS} renders of {SECONDS:.0f} s: 1 worker {one:.1f} s, 2 workers {two:.1f} s "
          f"({one / two:.2f}x) on {os.cpu_count()} cores")
    print(f"one render, direct {statistics.median(direct):.2f} s, through the queue "
          f"{statistics.median(queued):.2f} s: {result['queue_overhead']:.3f}x (per pair, median "
          f"{result['queue_overhead_per_pair_median']:.3f}x; sums {result['queue_overhead_of_sums']:.3f}x); a queued job waits "
          f"{statistics.median(waits):.2f} s (median) before its render starts")
    print(f"worker killed -> job taken up elsewhere: {rec_default:.1f} s (heartbeat 5 s), "
          f"{rec_fast:.1f} s (heartbeat 1 s)")
    print(f"worker stopped (SIGTERM) -> job running elsewhere: {handed_back:.2f} s; "
          f"the worker exited after {exited:.2f} s")


if __name__ == "__main__":
    main()
