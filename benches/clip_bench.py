#!/usr/bin/env python3
"""A 3-minute talking clip end to end (issue 22): upload → transcript →
remove fillers and tighten pauses → captioned render, each step timed, the
whole against the clip's own length.

The clip is made here, offline: a narration of a fixed text with fillers
("um", "uh") and long pauses in it, spoken by Piper (en-US-Neural2-D) in
parts, joined with 1.2 s silences, on a moving test picture at 1280×720,
30 fps. Steps, each through the HTTP API of `studio serve` (release build)
on loopback with a fresh data folder:
  1. upload the MP4 (the server starts transcribing it in the background)
     and wait until `metadata.transcript_status` is `done`;
  2. POST .../transcripts/{clip}/cuts {"remove_fillers": true, "max_pause": 0.4};
  3. POST .../compose of the clip with those cuts and captions, 1280×720.
Reports each step's wall time, the total, and the total as a fraction of
the clip's length (below 1: faster than watching it).

Run from the repository root: python3 benches/clip_bench.py
Needs `cargo build --release` and `bash scripts/setup.sh`. Writes
benches/out/clip_bench.json.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out"
STUDIO = Path(os.environ.get("STUDIO_BIN", ROOT / "target" / "release" / "studio"))
SESSION = "clipbench"

PARTS = [
    "Welcome back to the workshop. Today, um, we are going to build a small wooden box, "
    "the kind you can keep letters or tools in. You need four sides, a bottom and a lid, "
    "and, uh, a little patience.",
    "First, measure the boards. Mark every cut with a sharp pencil and a square, because "
    "a line that wanders by a millimetre becomes a gap you can see later. Um, measure twice, "
    "cut once, as the old saying goes.",
    "Now the saw. Let the blade do the work and keep your wrist relaxed. If the saw binds, "
    "uh, do not push harder: back it out, check the line, and start again gently.",
    "Next we glue the sides. Spread a thin layer on each joint, press the corners together, "
    "and check that the box is square by measuring both diagonals. They should be the same.",
    "While the glue dries, um, we can sand the lid. Start with a coarse paper and move to a "
    "finer one, always along the grain, never across it, or you will see scratches.",
    "The bottom fits into a groove we cut earlier. Slide it in without glue, so the wood can "
    "move with the seasons. Wood breathes, and a box that cannot move will crack.",
    "Now, uh, the hinges. Mark their places with the lid closed, drill small pilot holes, and "
    "drive the screws by hand. A power driver strips soft wood far too easily.",
    "Finally, the finish. A coat of oil brings out the grain and protects the surface. Wipe "
    "off what the wood does not drink after ten minutes, and let it cure overnight.",
    "Let us talk about wood for a moment. Pine is cheap and easy to cut, but it dents if you "
    "look at it wrong. Oak is hard and heavy, and, um, it rewards sharp tools.",
    "Walnut is my favourite. It is dark, it smells wonderful when you cut it, and it takes "
    "a finish like nothing else. It costs more, so save it for the lid.",
    "A word about safety. Wear glasses when you saw or sand, keep your fingers behind the "
    "blade, and, uh, never work when you are tired. Most accidents happen at the end of the day.",
    "If a joint opens after the glue dries, do not panic. Fill the gap with a mix of glue and "
    "fine sawdust from the same board, let it set, and sand it flush.",
    "You can also add a small tray inside the box. Two thin strips glued to the sides hold it, "
    "and it lifts out to reveal the space below. People love that little surprise.",
    "For a gift, burn or carve the name of the person on the lid. A simple pattern of lines, "
    "um, done slowly and carefully, looks better than a complicated one done in a hurry.",
    "Keep your offcuts. Small pieces of good wood become knobs, wedges, test boards for "
    "finishes, and, sooner or later, the perfect piece for a repair.",
    "And that is it: a simple box that will last for years. Um, thank you for building along "
    "with me, and see you next time in the workshop.",
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, body=None, headers=None, timeout=1800):
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    h = {"content-type": "application/json"} if body is not None and not isinstance(body, bytes) else {}
    h.update(headers or {})
    req = urllib.request.Request(base + path, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")


def download(base, url, dest):
    with urllib.request.urlopen(base + url, timeout=300) as r:
        dest.write_bytes(r.read())


def upload(base, name, payload):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return call(base, "POST", f"/api/v1/sessions/{SESSION}/uploads", body,
                {"content-type": f"multipart/form-data; boundary={boundary}"})


def make_clip(base, work):
    """The talking clip: the parts spoken by Piper, 1.2 s of silence between
    them, on a moving test picture."""
    files = []
    for i, text in enumerate(PARTS):
        made = call(base, "POST", f"/api/v1/sessions/{SESSION}/audio",
                    {"text": text, "voice_name": "en-US-Neural2-D", "provider": "piper", "format": "wav"})
        path = work / f"part{i}.wav"
        download(base, made["url"], path)
        files.append(path)
    inputs, chain = [], ""
    for i, f in enumerate(files):
        inputs += ["-i", str(f)]
        chain += f"[{i}:a]aresample=48000,apad=pad_dur=1.2[a{i}];"
    chain += "".join(f"[a{i}]" for i in range(len(files))) + f"concat=n={len(files)}:v=0:a=1[a]"
    speech = work / "speech.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", chain, "-map", "[a]", str(speech)],
                   check=True)
    clip = work / "talk.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30", "-i", str(speech),
                    "-shortest", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(clip)], check=True)
    return clip


def main():
    if not STUDIO.exists():
        sys.exit("build first: cargo build --release")
    data = Path(tempfile.mkdtemp(prefix="clipbench-"))
    work = data / "work"
    work.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, STUDIO_DATA_DIR=str(data / "studio"), STUDIO_REQUESTS_PER_SECOND="0")
    proc = subprocess.Popen([str(STUDIO), "serve", "--addr", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        clip = make_clip(base, work)
        length = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                                       "csv=p=0", str(clip)], capture_output=True, text=True).stdout)

        t0 = time.time()
        asset = upload(base, "talk.mp4", clip.read_bytes())
        name = asset["asset_id"]
        uploaded = time.time() - t0
        while True:
            a = call(base, "GET", f"/api/v1/sessions/{SESSION}/assets/{name}")
            status = a["metadata"].get("transcript_status")
            if status in ("done", "none", "failed"):
                break
            time.sleep(0.2)
        transcribed = time.time() - t0
        words = a["metadata"].get("transcript", {}).get("words", [])

        t1 = time.time()
        plan = call(base, "POST", f"/api/v1/sessions/{SESSION}/transcripts/{name}/cuts",
                    {"remove_fillers": True, "max_pause": 0.4})
        cut = time.time() - t1

        t2 = time.time()
        video = call(base, "POST", f"/api/v1/sessions/{SESSION}/compose",
                     {"timeline": [{"asset_id": name, "cuts": plan["cuts"]}],
                      "output": {"width": 1280, "height": 720, "fps": 30}, "captions": True})
        rendered = time.time() - t2
        total = time.time() - t0

        summary = {
            "clip_seconds": round(length, 1),
            "transcript_status": status,
            "words_heard": len(words),
            "cuts": len(plan["cuts"]),
            "removed_seconds": plan["removed_seconds"],
            "removed_words": len(plan["removed_words"]),
            "video_seconds": video["metadata"]["duration_seconds"],
            "upload_s": round(uploaded, 2),
            "upload_to_transcript_s": round(transcribed, 2),
            "cuts_s": round(cut, 3),
            "captioned_render_s": round(rendered, 2),
            "total_s": round(total, 2),
            "total_per_clip_second": round(total / length, 3),
            "cores": os.cpu_count(),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "clip_bench.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
