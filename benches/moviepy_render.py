"""Renders the compose benchmark's slideshow with MoviePy 2: each image for
its narration's duration, captions from the same SRT, the same encoder settings."""
import json
import sys

from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, TextClip, concatenate_videoclips


def srt_cues(path):
    cues = []
    for block in open(path, encoding="utf-8").read().strip().split("\n\n"):
        lines = block.splitlines()
        if len(lines) < 3:
            continue
        def secs(t):
            h, m, rest = t.split(":")
            s, ms = rest.split(",")
            return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
        start, end = [secs(x.strip()) for x in lines[1].split("-->")]
        cues.append((start, end, "\n".join(lines[2:])))
    return cues


def main():
    args = json.loads(sys.argv[1])
    clips = []
    for image, voice in zip(args["images"], args["voices"]):
        audio = AudioFileClip(voice)
        clips.append(ImageClip(image).with_duration(audio.duration).with_audio(audio))
    video = concatenate_videoclips(clips)
    captions = [
        TextClip(font=args["font"], text=text, font_size=54, color="white", stroke_color="black", stroke_width=3,
                 method="caption", size=(1600, None), text_align="center")
        .with_start(start).with_duration(end - start).with_position(("center", 900))
        for start, end, text in srt_cues(args["srt"])
    ]
    final = CompositeVideoClip([video, *captions])
    final.write_videofile(args["out"], fps=30, codec="libx264", preset="medium", audio_codec="aac",
                          audio_bitrate="192k", ffmpeg_params=["-crf", "21", "-pix_fmt", "yuv420p"], logger=None)


if __name__ == "__main__":
    main()
