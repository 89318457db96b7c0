#!/usr/bin/env python3
"""Layers benchmark (issue 23): a 60-second 1080p30 video of six pictures
with a logo over the whole video, three lower thirds and a 7-second
picture-in-picture clip with its sound, rendered (a) by Content Studio over
its HTTP API and (b) by one hand-written ffmpeg command drawing the same
layers (the pictures looped, the logo and the clip overlaid, the lower
thirds as drawbox + drawtext, the clip's sound delayed into place), with the
same encoder settings (libx264 preset medium, CRF 21, AAC 192k). Then
(c) one lower third's text changed and composed again: only the segments it
touches are rendered. Then several sizes: (d) one job with three `outputs`
(16:9, 9:16 contain, 1:1 draft) in a fresh session against (e) three
separate composes of the same in another fresh session. Wall times, and
ratios measured in the same run.

Run from the repository root after `cargo build --release`:
    python3 benches/layers_bench.py
"""
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benches" / "out" / "layers"
STUDIO = ROOT / "target" / "release" / "studio"
FONT = ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
SESSION = "layers-bench"
COLOURS = ["0x1f4e79", "0x7a2e2e", "0x2e7a3c", "0x6b4e9b", "0x9b7a2e", "0x2e6b7a"]
THIRDS = [("Ada Lovelace", "Mathematician", 3, 9), ("Charles Babbage", "Engineer", 22, 28),
          ("Grace Hopper", "Computer scientist", 45, 51)]


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


def request(base, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": content_type})
    with urllib.request.urlopen(req, timeout=1800) as resp:
        return json.loads(resp.read() or b"null")


def upload(base, path, session=SESSION):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return request(base, "POST", f"/api/v1/sessions/{session}/uploads", body, f"multipart/form-data; boundary={boundary}")


def timed(fn):
    start = time.monotonic()
    value = fn()
    return time.monotonic() - start, value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if not STUDIO.exists():
        sys.exit("build first: cargo build --release")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    pictures = []
    for i, colour in enumerate(COLOURS):
        p = OUT / f"scene{i}.png"
        ffmpeg("-f", "lavfi", "-i", f"gradients=s=1920x1080:c0={colour}:c1=0x101010:seed={i}", "-frames:v", 1, p)
        pictures.append(p)
    logo = OUT / "logo.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=0xffcc00:s=400x200", "-frames:v", 1, logo)
    clip = OUT / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=7", "-f", "lavfi", "-i", "sine=f=440:d=7",
           "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-shortest", clip)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([STUDIO, "--data-dir", OUT / "data", "serve", "--addr", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        names = [upload(base, p)["name"] for p in pictures]
        logo_name = upload(base, logo)["name"]
        clip_name = upload(base, clip)["name"]

        def body(first_name):
            thirds = [{"text": t, "subtitle": s, "style": "lower_third", "start": a, "end": b, "size": 0.05}
                      for t, s, a, b in THIRDS]
            thirds[0]["text"] = first_name
            return {
                "timeline": [{"asset_id": n, "duration": 10} for n in names],
                "output": {"aspect_ratio": "16:9", "fps": 30},
                "overlays": [
                    {"asset_id": logo_name, "position": "top_right", "width": 0.12},
                    *thirds,
                    {"asset_id": clip_name, "start": 30, "position": "bottom_right", "width": 0.3},
                ],
            }

        a_time, first = timed(lambda: request(base, "POST", f"/api/v1/sessions/{SESSION}/compose", body("Ada Lovelace")))
        c_time, second = timed(lambda: request(base, "POST", f"/api/v1/sessions/{SESSION}/compose", body("Ada King")))
        render_a, render_c = first["metadata"]["render"], second["metadata"]["render"]

        # Several sizes: one job against three composes, each in a fresh session.
        sizes = [{"aspect_ratio": "16:9"}, {"aspect_ratio": "9:16", "fit": "contain"}, {"aspect_ratio": "1:1", "quality": "draft"}]
        for session in ("outputs-job", "outputs-separate"):
            for p in [*pictures, logo, clip]:
                upload(base, p, session)
        many = body("Ada Lovelace")
        many.pop("output")

        def one_job():
            job = request(base, "POST", "/api/v1/sessions/outputs-job/compose", {**many, "outputs": sizes})
            while True:
                view = request(base, "GET", job["status_url"].removeprefix(base))
                if view["status"] not in ("queued", "running"):
                    assert view["status"] == "succeeded", view
                    return view
                time.sleep(0.2)

        def separately():
            for size in sizes:
                fit = size.get("fit")
                output = {k: v for k, v in size.items() if k != "fit"}
                one = {**many, "output": output, **({"fit": fit} if fit else {})}
                request(base, "POST", "/api/v1/sessions/outputs-separate/compose", one)

        d_time, job = timed(one_job)
        e_time, _ = timed(separately)
        assert len([a for a in job["result"]["assets"] if a["type"] == "video"]) == 3, job
    finally:
        server.terminate()
        server.wait()

    # (b) The same layers by hand, in one ffmpeg command.
    args = []
    for p in pictures:
        args += ["-loop", "1", "-framerate", "30", "-t", "10", "-i", p]
    args += ["-loop", "1", "-framerate", "30", "-t", "60", "-i", logo, "-i", clip]
    chain = "".join(f"[{i}:v]scale=1920:1080,setsar=1[s{i}];" for i in range(6))
    chain += "".join(f"[s{i}]" for i in range(6)) + "concat=n=6:v=1:a=0[base];"
    chain += "[6:v]scale=230:-2[logo];[7:v]scale=576:-2,setpts=PTS+30/TB[pip];"
    chain += "[base][logo]overlay=x=W-w-58:y=58[v1];"
    chain += "[v1][pip]overlay=x=W-w-58:y=H-h-58:eof_action=pass:enable='between(t,30,37)'[v2]"
    last = "v2"
    font = str(FONT).replace(":", "\\:")
    for k, (t, s, a, b) in enumerate(THIRDS):
        on = f"enable='between(t,{a},{b})'"
        chain += (f";[{last}]drawbox=x=58:y=ih-58-140:w=640:h=140:color=black@0.6:t=fill:{on},"
                  f"drawbox=x=58:y=ih-58-140:w=8:h=140:color=0xffcc00:t=fill:{on},"
                  f"drawtext=fontfile={font}:text='{t}':fontsize=54:fontcolor=white:x=92:y=H-58-120:{on},"
                  f"drawtext=fontfile={font}:text='{s}':fontsize=35:fontcolor=white@0.85:x=92:y=H-58-55:{on}[t{k}]")
        last = f"t{k}"
    chain += ";[7:a]adelay=30000|30000,apad=whole_dur=60[a]"
    b_time, _ = timed(lambda: ffmpeg(*args, "-filter_complex", chain, "-map", f"[{last}]", "-map", "[a]",
                                     "-r", 30, "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "medium", "-crf", 21,
                                     "-c:a", "aac", "-b:a", "192k", "-t", 60, "-movflags", "+faststart", OUT / "by_hand.mp4"))

    lines = [
        "Layers benchmark (60 s, 1080p30: 6 pictures, a logo, 3 lower thirds, a 7 s picture-in-picture clip with sound), one run:",
        f"- (b) one hand-written ffmpeg command (drawbox + drawtext): {b_time:.1f} s",
        f"- (a) Content Studio, first render: {a_time:.1f} s = {a_time / b_time:.2f}x the hand-written command "
        f"({render_a['scenes_rendered']} segments rendered)",
        f"- (c) one lower third's text changed: {c_time:.1f} s = {c_time / a_time:.3f}x the first render "
        f"({render_c['scenes_rendered']} of {render_c['scenes_rendered'] + render_c['scenes_reused']} segments rendered)",
        f"- (d) three sizes (16:9, 9:16 contain, 1:1 draft) in one job: {d_time:.1f} s",
        f"- (e) the same three as separate composes: {e_time:.1f} s; one job = {d_time / e_time:.2f}x separate composes",
    ]
    text = "\n".join(lines)
    print(text)
    (OUT / "results.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
