//! Builds the one ffmpeg command that renders a [`Plan`]: inputs, a filter
//! graph and encoder settings, as an argument vector. Text never enters the
//! graph: titles are read from files (`textfile`, `expansion=none`) and
//! captions from an SRT file; the paths that do enter it are escaped for
//! both levels of ffmpeg's filter syntax.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::timeline::{Effect, Fit, Plan};

/// Escapes a value for a filter option and then for the filter graph.
pub fn escape_filter_value(value: &str) -> String {
    let mut option = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if matches!(c, '\\' | '\'' | ':') {
            option.push('\\');
        }
        option.push(c);
    }
    let mut graph = String::with_capacity(option.len() + 8);
    for c in option.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            graph.push('\\');
        }
        graph.push(c);
    }
    graph
}

/// Local files the graph reads, in the plan's order.
pub struct Inputs<'a> {
    /// One per scene.
    pub visuals: Vec<&'a Path>,
    /// One per audio part.
    pub audio: Vec<&'a Path>,
    pub music: Option<&'a Path>,
    /// Per scene: a file holding its title, if it has one.
    pub titles: Vec<Option<PathBuf>>,
    pub captions: Option<&'a Path>,
    pub font: &'a Path,
}

fn fmt_s(t: f64) -> String {
    format!("{:.3}", t.max(0.0))
}

/// The whole ffmpeg argument vector, writing `out` and progress to stdout.
pub fn ffmpeg_args(plan: &Plan, inputs: &Inputs, out: &Path) -> Vec<OsString> {
    let (w, h, fps) = (plan.width, plan.height, plan.fps);
    let mut args: Vec<OsString> = Vec::new();
    let mut graph = String::new();
    let mut input = 0usize;

    // Scenes.
    let mut scene_audio: Vec<String> = Vec::new();
    for (i, scene) in plan.scenes.iter().enumerate() {
        let frames = (scene.duration * f64::from(fps)).round().max(1.0) as u64;
        let path = inputs.visuals[i];
        if scene.is_video {
            args.extend(["-ss".into(), fmt_s(scene.trim_start).into()]);
            args.extend(["-t".into(), fmt_s(scene.duration + 1.0).into()]);
        } else {
            // One decoded frame at the output's rate; the graph repeats it.
            args.extend(["-framerate".into(), fps.to_string().into()]);
        }
        args.extend(["-i".into(), path.as_os_str().to_owned()]);
        let v = input;
        input += 1;

        // Fit into the frame; effects work on a frame twice the size, so that
        // zoompan's whole-pixel steps are half-pixel steps in the output.
        let k = if scene.effect == Effect::None { 1 } else { 2 };
        let (fw, fh) = (w * k, h * k);
        let _ = write!(graph, "[{v}:v]");
        match plan.fit {
            Fit::Cover => {
                let _ = write!(
                    graph,
                    "scale={fw}:{fh}:force_original_aspect_ratio=increase,crop={fw}:{fh}"
                );
            }
            Fit::Contain => {
                let _ = write!(
                    graph,
                    "split=2[bg{i}][fg{i}];[bg{i}]scale={fw}:{fh}:force_original_aspect_ratio=increase,crop={fw}:{fh},boxblur=luma_radius=40:luma_power=2[bgb{i}];\
                     [fg{i}]scale={fw}:{fh}:force_original_aspect_ratio=decrease[fgs{i}];[bgb{i}][fgs{i}]overlay=(W-w)/2:(H-h)/2"
                );
            }
        }
        let _ = write!(graph, ",setsar=1");
        if scene.is_video {
            let _ = write!(
                graph,
                ",fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={},trim=duration={},setpts=PTS-STARTPTS,settb=1/{fps}",
                fmt_s(scene.duration),
                fmt_s(scene.duration)
            );
        } else {
            let zoom = |z: &str, x: &str, y: &str| {
                format!(",zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={w}x{h}:fps={fps}")
            };
            let n = frames.max(2) - 1;
            let motion = match scene.effect {
                Effect::None => String::new(),
                Effect::ZoomIn => zoom(
                    &format!("1+0.18*on/{n}"),
                    "iw/2-(iw/zoom/2)",
                    "ih/2-(ih/zoom/2)",
                ),
                Effect::ZoomOut => zoom(
                    &format!("1.18-0.18*on/{n}"),
                    "iw/2-(iw/zoom/2)",
                    "ih/2-(ih/zoom/2)",
                ),
                Effect::PanLeft => zoom(
                    "1.15",
                    &format!("(iw-iw/zoom)*(1-on/{n})"),
                    "ih/2-(ih/zoom/2)",
                ),
                Effect::PanRight => {
                    zoom("1.15", &format!("(iw-iw/zoom)*on/{n}"), "ih/2-(ih/zoom/2)")
                }
            };
            if motion.is_empty() {
                // Scale once, then repeat the frame: no per-frame decoding or scaling.
                let _ = write!(
                    graph,
                    ",format=yuv420p,loop=loop={}:size=1:start=0",
                    frames - 1
                );
            } else {
                let _ = write!(graph, "{motion},format=yuv420p");
            }
            let _ = write!(graph, ",settb=1/{fps},setpts=N");
        }
        if let Some(title) = &inputs.titles[i] {
            let size = (h.min(w) / 13).max(12);
            let _ = write!(
                graph,
                ",drawtext=fontfile={}:textfile={}:expansion=none:fontsize={size}:fontcolor=white:borderw={}:bordercolor=black@0.7:line_spacing={}:x=(w-text_w)/2:y=h*0.1",
                escape_filter_value(&inputs.font.to_string_lossy()),
                escape_filter_value(&title.to_string_lossy()),
                (size / 12).max(2),
                size / 4
            );
        }
        if let (0, Some((_, d))) = (i, scene.transition) {
            let _ = write!(graph, ",fade=t=in:st=0:d={}", fmt_s(d));
        }
        let _ = writeln!(graph, "[s{i}];");

        if scene.is_video && scene.visual.metadata["has_audio"] == true {
            scene_audio.push(format!(
                "[{v}:a]atrim=duration={},asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume={},adelay=delays={}:all=1",
                fmt_s(scene.duration),
                scene.volume,
                (scene.start * 1000.0).round() as u64
            ));
        }
    }

    // Join the scenes: crossfades where a transition asks, concat elsewhere.
    let mut acc = "s0".to_owned();
    for (i, scene) in plan.scenes.iter().enumerate().skip(1) {
        let next = format!("j{i}");
        match scene.transition {
            Some((name, d)) => {
                let _ = writeln!(
                    graph,
                    "[{acc}][s{i}]xfade=transition={name}:duration={}:offset={}[{next}];",
                    fmt_s(d),
                    fmt_s(scene.start)
                );
            }
            None => {
                let _ = writeln!(graph, "[{acc}][s{i}]concat=n=2:v=1:a=0[{next}];");
            }
        }
        acc = next;
    }
    match inputs.captions {
        Some(srt) => {
            let style = format!(
                "FontName=DejaVu Sans,Bold=1,FontSize={},PrimaryColour=&H00FFFFFF,OutlineColour=&H00000000,BackColour=&H80000000,BorderStyle=1,Outline=2,Shadow=1,Alignment=2,MarginV={}",
                if h > w { 13 } else { 18 },
                if h > w { 60 } else { 24 }
            );
            let _ = writeln!(
                graph,
                "[{acc}]subtitles=filename={}:fontsdir={}:force_style={}[vout];",
                escape_filter_value(&srt.to_string_lossy()),
                escape_filter_value(
                    &inputs
                        .font
                        .parent()
                        .unwrap_or(Path::new("."))
                        .to_string_lossy()
                ),
                escape_filter_value(&style)
            );
        }
        None => {
            let _ = writeln!(graph, "[{acc}]null[vout];");
        }
    }

    // Narration and other timeline audio.
    let mut labels = Vec::new();
    for (k, part) in plan.audio.iter().enumerate() {
        args.extend(["-i".into(), inputs.audio[k].as_os_str().to_owned()]);
        let a = input;
        input += 1;
        let fade = if part.cut {
            format!(",afade=t=out:st={}:d=0.15", fmt_s(part.length - 0.15))
        } else {
            String::new()
        };
        let _ = writeln!(
            graph,
            "[{a}:a]atrim=start={}:duration={},asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume={}{fade},adelay=delays={}:all=1[p{k}];",
            fmt_s(part.trim_start),
            fmt_s(part.length),
            part.volume,
            (part.at * 1000.0).round() as u64
        );
        labels.push(format!("[p{k}]"));
    }
    for (k, chain) in scene_audio.iter().enumerate() {
        let _ = writeln!(graph, "{chain}[v{k}];");
        labels.push(format!("[v{k}]"));
    }
    let total = fmt_s(plan.total);
    if labels.is_empty() {
        let _ = writeln!(
            graph,
            "anullsrc=r=48000:cl=stereo,atrim=duration={total}[narr];"
        );
    } else {
        let _ = writeln!(
            graph,
            "{}amix=inputs={}:normalize=0:duration=longest,apad=whole_dur={total},atrim=duration={total}[narr];",
            labels.concat(),
            labels.len()
        );
    }

    // Music: looped or cut to length, faded out, ducked under the narration.
    let mix = match (&plan.music, inputs.music) {
        (Some(music), Some(path)) => {
            args.extend([
                "-stream_loop".into(),
                "-1".into(),
                "-i".into(),
                path.as_os_str().to_owned(),
            ]);
            let m = input;
            let fade = (plan.total - 2.0).max(0.0);
            let _ = writeln!(
                graph,
                "[{m}:a]atrim=duration={total},asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume={},afade=t=out:st={}:d={}[music];",
                music.volume,
                fmt_s(fade),
                fmt_s(plan.total.min(2.0))
            );
            if music.ducking && !labels.is_empty() {
                let _ = writeln!(
                    graph,
                    "[narr]asplit=2[narr1][side];[music][side]sidechaincompress=threshold=0.02:ratio=12:attack=15:release=400[ducked];\
                     [narr1][ducked]amix=inputs=2:normalize=0:duration=first[mix];"
                );
            } else {
                let _ = writeln!(
                    graph,
                    "[narr][music]amix=inputs=2:normalize=0:duration=first[mix];"
                );
            }
            "mix"
        }
        _ => "narr",
    };
    let _ = write!(
        graph,
        "[{mix}]loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[aout]"
    );

    let (preset, crf) = plan.quality.x264();
    args.extend(["-filter_complex".into(), graph.into()]);
    for a in [
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        crf,
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "high",
        // Half x264's default look-ahead: ~140 MB less memory at 1080p, no
        // measurable cost in speed; slideshows gain little from more.
        "-x264-params",
        "rc-lookahead=20",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ar",
        "48000",
        "-movflags",
        "+faststart",
    ] {
        args.push(a.into());
    }
    args.extend([
        "-r".into(),
        fps.to_string().into(),
        "-fps_mode".into(),
        "cfr".into(),
    ]);
    args.extend(["-t".into(), total.into()]);
    args.extend(["-progress".into(), "pipe:1".into(), "-nostats".into()]);
    args.push(out.as_os_str().to_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_both_levels() {
        assert_eq!(escape_filter_value("/tmp/a b/c.srt"), "/tmp/a b/c.srt");
        assert_eq!(escape_filter_value("C:/x"), "C\\\\:/x");
        assert_eq!(escape_filter_value("it's"), "it\\\\\\'s");
        assert_eq!(escape_filter_value("a,b;[c]"), "a\\,b\\;\\[c\\]");
    }
}
