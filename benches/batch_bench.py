#!/usr/bin/env python3
"""Batch benchmark (issue 24): 20 rows of a template making a 15-second
720p video each (one generated picture with the row's title, two generated
voice-overs), as one batch, against the same videos made the way a program
would without batches: the pictures and voice-overs asked for one by one
(`/image`, `/audio`), then 20 separate compose jobs of those assets, kept
five in flight (what the batch itself keeps in flight with the default
share). Each side runs on its own fresh server (no render cache shared).
The generation is the real extra work of a batch: it is timed on its own
in the baseline and reported apart.

Run from the repository root after `cargo build --release`:
    python3 benches/batch_bench.py
"""
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out" / "batch"
STUDIO = ROOT / "target" / "release" / "studio"
CITIES = ["Lisbon", "Oslo", "Rome", "Vienna", "Porto", "Dublin", "Prague", "Madrid", "Paris", "Berlin",
          "Athens", "Bergen", "Krakow", "Seville", "Lyon", "Turin", "Ghent", "Bruges", "Malmo", "Riga"]
IN_FLIGHT = 5
SIZE = {"width": 1280, "height": 720}


def image_params(city):
    return {"prompt": f"{city} skyline at dusk, old town and river", **SIZE}


def voices(city):
    return [
        {"text": f"Welcome to {city}. Its old streets wind down to the water, past markets, bridges and "
                  "quiet squares, and every corner has a story to tell."},
        {"text": f"Come for the food, stay for the light. {city} in the evening, when the lamps come on "
                  "along the river, is something you will not forget."},
    ]


TEMPLATE = {
    "name": "City clip",
    "body": {
        "timeline": [
            {"generate": {"type": "image", **image_params("{{city}}")}, "text": "{{city}}"},
            {"generate": {"type": "audio", **voices("{{city}}")[0]}},
            {"generate": {"type": "audio", **voices("{{city}}")[1]}},
        ],
        "output": {**SIZE, "fps": 30},
    },
}


def request(base, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": content_type})
    with urllib.request.urlopen(req, timeout=1800) as resp:
        return json.loads(resp.read() or b"null")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([STUDIO, "--data-dir", OUT / name, "serve", "--addr", f"127.0.0.1:{port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        sys.exit("the server did not start")

    def __call__(self, method, path, body=None):
        return request(self.base, method, path, body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def timed(fn):
    start = time.monotonic()
    value = fn()
    return time.monotonic() - start, value


def batch_side():
    server = Server("batch")
    try:
        tid = server("POST", "/api/v1/templates", TEMPLATE)["template_id"]

        def run():
            batch = server("POST", f"/api/v1/templates/{tid}/renders", {"merges": [{"city": c} for c in CITIES]})
            while True:
                view = server("GET", batch["status_url"])
                if view["status"] == "finished":
                    return view
                time.sleep(0.25)

        took, view = timed(run)
        assert view["counts"]["succeeded"] == len(CITIES), view["counts"]
        lengths = [row["result"]["metadata"].get("duration_seconds") for row in view["rows"]]
        return took, lengths
    finally:
        server.stop()


def separate_side():
    server = Server("separate")
    try:
        # The assets, asked for one by one: the generation a batch does too.
        def generate():
            sessions = []
            for city in CITIES:
                sid = server("POST", "/api/v1/sessions", {})["session_id"]
                picture = server("POST", f"/api/v1/sessions/{sid}/image", image_params(city))["name"]
                spoken = [server("POST", f"/api/v1/sessions/{sid}/audio", v)["name"] for v in voices(city)]
                sessions.append((sid, city, picture, spoken))
            return sessions

        gen_time, sessions = timed(generate)

        def compose_all():
            waiting = list(sessions)
            running = []
            while waiting or running:
                while waiting and len(running) < IN_FLIGHT:
                    sid, city, picture, spoken = waiting.pop(0)
                    body = {
                        "timeline": [{"asset_id": picture, "text": city},
                                     *({"asset_id": s} for s in spoken)],
                        "output": {**SIZE, "fps": 30},
                        "async": True,
                    }
                    running.append(server("POST", f"/api/v1/sessions/{sid}/compose", body)["status_url"])
                time.sleep(0.25)
                for url in list(running):
                    view = server("GET", url)
                    if view["status"] not in ("queued", "running"):
                        assert view["status"] == "succeeded", view
                        running.remove(url)

        compose_time, _ = timed(compose_all)
        return gen_time, compose_time
    finally:
        server.stop()


def main():
    if not STUDIO.exists():
        sys.exit("build first: cargo build --release")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    gen_time, compose_time = separate_side()
    batch_time, lengths = batch_side()
    lines = [
        f"Batch benchmark: {len(CITIES)} rows of a template (a generated 720p picture with the row's title, "
        "two generated voice-overs, about 15 s each), one run:",
        f"- separately: generating the assets with /image and /audio: {gen_time:.1f} s; "
        f"then {len(CITIES)} compose jobs ({IN_FLIGHT} in flight): {compose_time:.1f} s; together {gen_time + compose_time:.1f} s",
        f"- one batch (generation included): {batch_time:.1f} s = {batch_time / (gen_time + compose_time):.2f}x "
        "generating and composing separately",
        f"- the batch less the generation it does ({batch_time - gen_time:.1f} s) = "
        f"{(batch_time - gen_time) / compose_time:.2f}x the {len(CITIES)} separate composes of ready assets",
        f"- video lengths: {min(lengths):.1f}-{max(lengths):.1f} s",
    ]
    text = "\n".join(lines)
    print(text)
    (OUT / "results.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
