//! The ffmpeg commands that render a [`Plan`], as argument vectors (no
//! shell): one per scene segment (video only), one that mixes the whole
//! soundtrack, and one that joins them without re-encoding. Text never enters the
//! graph: titles are read from files (`textfile`, `expansion=none`) and
//! captions from an SRT file; the paths that do enter it are escaped for
//! both levels of ffmpeg's filter syntax.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use crate::media;

use super::overlays::{Layer, PlacedOverlay};
use super::segments::{SceneSpan, Segment, SegmentOverlay};
use super::timeline::{Effect, Fit, Plan, Scene};

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

/// Local files a segment's graph reads.
pub struct SegmentInputs<'a> {
    /// The segment's scene's picture or clip.
    pub visual: &'a Path,
    /// Its title file, if it has one.
    pub title: Option<&'a Path>,
    /// The previous scene's picture and title, when a transition blends it in.
    pub blend: Option<(&'a Path, Option<&'a Path>)>,
    /// The segment's captions (an ASS script in segment time), if any.
    pub captions: Option<&'a Path>,
    pub font: &'a Path,
    /// Per overlay of the segment, what it reads.
    pub overlays: Vec<OverlayInput<'a>>,
}

/// The files one overlay of a segment reads.
#[derive(Clone, Copy, Debug)]
pub enum OverlayInput<'a> {
    /// Its picture or clip (a text overlay's drawn PNG), and its shape's
    /// mask when it is not a rectangle.
    Layer(&'a Path, Option<&'a Path>),
    /// A keyframed overlay drawn frame by frame: the frames' numbered file
    /// pattern (`kf-%05d.png`, one per frame it shows here, from 0) and the
    /// top-left corner of their box in the frame.
    Frames(&'a Path, (i64, i64)),
}

fn fmt_s(t: f64) -> String {
    format!("{:.3}", t.max(0.0))
}

/// The x264 settings every segment shares (so that segments join without
/// re-encoding).
fn video_encoder_args(plan: &Plan, threads: usize) -> Vec<OsString> {
    let (preset, crf) = plan.quality.x264();
    let mut args: Vec<OsString> = [
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
        // A quarter of x264's default look-ahead (40): ~200 MB less per
        // encoder at 1080p, no measurable cost in speed; slideshows gain
        // little from more.
        "-x264-params",
        "rc-lookahead=10",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    // The encoder's threads (the bitstream may differ slightly with them,
    // the pictures do not: not part of a segment's key).
    args.extend(["-threads".into(), threads.to_string().into()]);
    args
}

/// An ffmpeg command being built: its arguments, its filter graph and the
/// number of inputs so far.
#[derive(Default)]
struct Builder {
    args: Vec<OsString>,
    graph: String,
    inputs: usize,
}

/// Inputs and filters that draw frames `span.first .. span.first + span.count`
/// of a scene (its picture at `path`, its title in `title`) as `[label]`, at
/// the output's size, rate and pixel format.
fn scene_chain(
    b: &mut Builder,
    plan: &Plan,
    span: &SceneSpan,
    (path, title): (&Path, Option<&Path>),
    font: &Path,
    label: &str,
) {
    let graph = &mut b.graph;
    let input = b.inputs;
    b.inputs += 1;
    let scene = &plan.scenes[span.scene];
    let from = scene_input(&mut b.args, scene, span, plan.fps, path);

    // Fit into the frame; effects work on a frame twice the size, so that
    // zoompan's whole-pixel steps are half-pixel steps in the output.
    let k = if scene.effect == Effect::None { 1 } else { 2 };
    let (fw, fh) = (plan.width * k, plan.height * k);
    let _ = write!(graph, "[{input}:v]");
    fit_filters(graph, plan.fit, (fw, fh), label);
    let _ = write!(graph, ",setsar=1");
    if scene.is_video {
        clip_filters(graph, scene, span, from, plan.fps);
    } else {
        picture_filters(graph, plan, scene, span, fw);
    }
    if let Some(title) = title {
        title_filter(graph, plan, title, font);
    }
    let _ = writeln!(graph, "[{label}];");
}

/// The scene's input arguments: a clip from the media time of the span's
/// first frame (answered), a picture as one frame at the output's rate.
fn scene_input(
    args: &mut Vec<OsString>,
    scene: &Scene,
    span: &SceneSpan,
    fps: u32,
    path: &Path,
) -> f64 {
    let count = span.count.max(1);
    let mut from = 0.0;
    if scene.is_video {
        let rate = f64::from(fps);
        from = scene.media_at(span.first as f64 / rate);
        let to = scene.media_at((span.first + count) as f64 / rate);
        args.extend(["-ss".into(), fmt_s(from).into()]);
        args.extend(["-t".into(), fmt_s(to - from + 1.0).into()]);
    } else {
        // One decoded frame at the output's rate; the graph repeats it.
        args.extend(["-framerate".into(), fps.to_string().into()]);
    }
    args.extend(media::input_args(path));
    from
}

/// Fits the input into an `fw`×`fh` frame: covering it, or contained over
/// a blurred cover of itself.
fn fit_filters(graph: &mut String, fit: Fit, (fw, fh): (u32, u32), label: &str) {
    // Cover: the middle of the picture at the frame's shape, then scaled,
    // so the scaled picture is never larger than the frame (a wide
    // panorama scaled first would be enormous).
    let cover = format!("crop='min(iw,ih*{fw}/{fh})':'min(ih,iw*{fh}/{fw})',scale={fw}:{fh}");
    match fit {
        Fit::Cover => {
            let _ = write!(graph, "{cover}");
        }
        Fit::Contain => {
            // The blur's radius must fit the frame's chroma planes.
            let radius = (fw.min(fh) / 4).saturating_sub(1).clamp(1, 40);
            let _ = write!(
                graph,
                "split=2[bg{label}][fg{label}];[bg{label}]{cover},boxblur=luma_radius={radius}:luma_power=2[bgb{label}];\
                 [fg{label}]scale={fw}:{fh}:force_original_aspect_ratio=decrease[fgs{label}];[bgb{label}][fgs{label}]overlay=(W-w)/2:(H-h)/2"
            );
        }
    }
}

/// A clip's frames of the span, on the output's clock, with its fades.
fn clip_filters(graph: &mut String, scene: &Scene, span: &SceneSpan, from: f64, fps: u32) {
    let count = span.count.max(1);
    let _ = write!(graph, "{}", clip_frames(scene, from, fps));
    let _ = write!(
        graph,
        ",format=yuv420p,tpad=stop_mode=clone:stop={count},trim=end_frame={count},setpts=PTS-STARTPTS,settb=1/{fps}",
    );
    if scene.fade_in > 0.0 || scene.fade_out > 0.0 {
        // On the scene's clock (frame `first` of it first), from and to black.
        let _ = write!(graph, ",setpts=PTS+{}", span.first);
        if scene.fade_in > 0.0 {
            let _ = write!(graph, ",fade=t=in:st=0:d={}", fmt_s(scene.fade_in));
        }
        if scene.fade_out > 0.0 {
            let end = span.frames as f64 / f64::from(fps);
            let _ = write!(
                graph,
                ",fade=t=out:st={}:d={}",
                fmt_s(end - scene.fade_out),
                fmt_s(scene.fade_out)
            );
        }
        let _ = write!(graph, ",setpts=PTS-STARTPTS");
    }
}

/// A picture's frames of the span: its effect's motion, else the one frame
/// repeated.
fn picture_filters(graph: &mut String, plan: &Plan, scene: &Scene, span: &SceneSpan, fw: u32) {
    let count = span.count.max(1);
    let fps = plan.fps;
    let motion = motion_filter(plan, scene, span, fw);
    if motion.is_empty() {
        // Scale once, then repeat the frame: no per-frame decoding or scaling.
        let _ = write!(
            graph,
            ",format=yuv420p,loop=loop={}:size=1:start=0",
            count - 1
        );
    } else {
        let _ = write!(graph, "{motion},format=yuv420p");
    }
    let _ = write!(graph, ",settb=1/{fps},setpts=N");
}

/// The zoompan filter of a picture's effect over the span (empty for none).
fn motion_filter(plan: &Plan, scene: &Scene, span: &SceneSpan, fw: u32) -> String {
    let (w, h, fps) = (plan.width, plan.height, plan.fps);
    let count = span.count.max(1);
    // Motion runs over the whole scene: frame `on` of this span is frame
    // `first + on` of the scene.
    let n = span.frames.max(2) - 1;
    let first = span.first;
    let zoom = |z: &str, x: &str, y: &str| {
        // 4:4:4 so that zoompan may place its crop on any pixel (in 4:2:0
        // it aligns to the chroma grid: 2-pixel jumps every other frame).
        format!(",format=yuv444p,zoompan=z='{z}':x='{x}':y='{y}':d={count}:s={w}x{h}:fps={fps}")
    };
    match scene.effect {
        Effect::None => String::new(),
        Effect::ZoomIn => zoom(
            &format!("1+0.18*(on+{first})/{n}"),
            "iw/2-(iw/zoom/2)",
            "ih/2-(ih/zoom/2)",
        ),
        Effect::ZoomOut => zoom(
            &format!("1.18-0.18*(on+{first})/{n}"),
            "iw/2-(iw/zoom/2)",
            "ih/2-(ih/zoom/2)",
        ),
        Effect::PanLeft | Effect::PanRight => {
            let (zoom_level, travel, step) = pan_plan(fw, span.frames);
            let x = match (scene.effect, step) {
                // Whole source pixels per frame: every step the same.
                (Effect::PanRight, Some(step)) => format!("{step}*(on+{first})"),
                (_, Some(step)) => format!("{travel}-{step}*(on+{first})"),
                (Effect::PanRight, None) => format!("{travel}*(on+{first})/{n}"),
                (_, None) => format!("{travel}*(1-(on+{first})/{n})"),
            };
            zoom(&zoom_level, &x, "ih/2-(ih/zoom/2)")
        }
    }
}

/// The scene's title, read from its file, drawn centred near the top.
fn title_filter(graph: &mut String, plan: &Plan, title: &Path, font: &Path) {
    let (w, h) = (plan.width, plan.height);
    let size = (h.min(w) / 13).max(12);
    let _ = write!(
        graph,
        ",drawtext=fontfile={}:textfile={}:expansion=none:fontsize={size}:fontcolor={}:borderw={}:bordercolor=black@0.7:line_spacing={}:x=(w-text_w)/2:y=h*0.1",
        escape_filter_value(&font.to_string_lossy()),
        escape_filter_value(&title.to_string_lossy()),
        plan.look.text.map_or("white".into(), |[r, g, b]| format!(
            "0x{r:02x}{g:02x}{b:02x}"
        )),
        (size / 12).max(2),
        size / 4
    );
}

/// Draws overlay `part` over `[acc]` as `[ov{k}]`, reading its picture or
/// clip (and its shape's mask) as inputs from `input` on; answers how many
/// inputs it read. The layer is made for the frames it shows only, numbered
/// on its own clock (frame 0: the overlay's first) so that its fades fall
/// where they belong, then shifted to the segment's frames and placed: a
/// picture scaled once and repeated, a clip read from where the overlay
/// has got to; keyed, shaped (its alpha times the mask), made translucent.
fn overlay_chain(
    graph: &mut String,
    args: &mut Vec<OsString>,
    plan: &Plan,
    part: &SegmentOverlay,
    (input, files): (usize, OverlayInput),
    (acc, k): (&str, usize),
) -> usize {
    let o = &plan.overlays[part.index];
    let fps = plan.fps;
    let rate = f64::from(fps);
    let shown = (part.to - part.from).max(1);
    let (path, mask) = match files {
        OverlayInput::Layer(path, mask) => (path, mask),
        OverlayInput::Frames(pattern, at) => {
            return drawn_chain(graph, args, plan, part, (input, pattern, at), (acc, k));
        }
    };
    let is_clip = matches!(o.layer, Layer::Clip(_));
    if is_clip {
        args.extend(["-ss".into(), fmt_s(part.skip as f64 / rate).into()]);
        args.extend(["-t".into(), fmt_s(shown as f64 / rate + 0.5).into()]);
    }
    args.extend(media::input_args(path));
    let _ = write!(graph, "[{input}:v]");
    if is_clip {
        let _ = write!(graph, "fps={fps},");
    }
    let _ = write!(graph, "scale={}:{}", o.w, o.h);
    if let Some(([r, g, b], similarity, blend)) = o.chroma_key {
        let _ = write!(
            graph,
            ",format=yuv444p,chromakey=0x{r:02x}{g:02x}{b:02x}:{similarity:.4}:{blend:.4}"
        );
    }
    let _ = write!(graph, ",format=rgba");
    if o.opacity < 1.0 {
        let _ = write!(graph, ",colorchannelmixer=aa={:.4}", o.opacity);
    }
    if is_clip {
        let _ = write!(
            graph,
            ",tpad=stop_mode=clone:stop={shown},trim=end_frame={shown}"
        );
    } else {
        let _ = write!(graph, ",loop=loop={}:size=1:start=0", shown - 1);
    }
    let _ = write!(graph, ",settb=1/{fps},setpts=N+{}", part.skip);
    let mut used = 1;
    if let Some(mask) = mask {
        args.extend(media::input_args(mask));
        let m = input + 1;
        used += 1;
        let _ = write!(
            graph,
            ",split[lc{k}][ld{k}];\n[{m}:v]format=gray,loop=loop={}:size=1:start=0,settb=1/{fps},setpts=N+{}[lm{k}];\n\
             [ld{k}]alphaextract[la{k}];[la{k}][lm{k}]blend=all_mode=multiply[lb{k}];[lc{k}][lb{k}]alphamerge",
            shown - 1,
            part.skip
        );
    }
    overlay_fades(graph, o, part, rate);
    let _ = writeln!(graph, ",setpts=PTS-STARTPTS+{}[layer{k}];", part.from);
    // The layer's frames are exactly those it shows: before the first the
    // frame passes through, after the last (its end) too.
    let _ = writeln!(
        graph,
        "[{acc}][layer{k}]overlay=x={}:y={}:eof_action=pass[ov{k}];",
        o.x, o.y
    );
    used
}

/// Like [`overlay_chain`], for a keyframed overlay whose frames are drawn
/// already (moved, scaled, turned, shaped and made translucent): read as a
/// sequence at the output's rate, faded on the overlay's clock, laid over
/// `[acc]` at the corner of their box.
fn drawn_chain(
    graph: &mut String,
    args: &mut Vec<OsString>,
    plan: &Plan,
    part: &SegmentOverlay,
    (input, pattern, (x, y)): (usize, &Path, (i64, i64)),
    (acc, k): (&str, usize),
) -> usize {
    let o = &plan.overlays[part.index];
    let fps = plan.fps;
    for a in [
        "-protocol_whitelist",
        media::PROTOCOL_WHITELIST,
        "-framerate",
        &fps.to_string(),
        "-f",
        "image2",
        "-pattern_type",
        "sequence",
        "-start_number",
        "0",
        "-i",
    ] {
        args.push(a.into());
    }
    args.push(pattern.as_os_str().to_owned());
    let _ = write!(
        graph,
        "[{input}:v]format=rgba,settb=1/{fps},setpts=N+{}",
        part.skip
    );
    overlay_fades(graph, o, part, f64::from(fps));
    let _ = writeln!(graph, ",setpts=PTS-STARTPTS+{}[layer{k}];", part.from);
    let _ = writeln!(
        graph,
        "[{acc}][layer{k}]overlay=x={x}:y={y}:eof_action=pass[ov{k}];"
    );
    1
}

/// An overlay's fades in and out, on its own clock.
fn overlay_fades(graph: &mut String, o: &PlacedOverlay, part: &SegmentOverlay, rate: f64) {
    if o.fade_in > 0.0 {
        let _ = write!(graph, ",fade=t=in:st=0:d={}:alpha=1", fmt_s(o.fade_in));
    }
    if o.fade_out > 0.0 {
        let end = part.frames as f64 / rate;
        let _ = write!(
            graph,
            ",fade=t=out:st={}:d={}:alpha=1",
            fmt_s(end - o.fade_out),
            fmt_s(o.fade_out)
        );
    }
}

/// The filters that take a clip's frames from an input read from the
/// clip's time `from`: sampled at the output's rate times the clip's speed
/// (frame `k` shows `from + k / rate`), its cut frames dropped, the rest
/// numbered at the output's rate.
fn clip_frames(scene: &Scene, from: f64, fps: u32) -> String {
    let rate = f64::from(fps) * scene.speed;
    let sample = if (scene.speed - 1.0).abs() < 1e-9 {
        format!(",fps={fps}")
    } else {
        format!(",fps={rate:.6}")
    };
    let half = 0.5 / rate;
    let terms: Vec<String> = scene
        .removed
        .iter()
        .filter(|&&(_, b)| b > from + half)
        .map(|&(a, b)| {
            format!(
                "gte(t,{})*lt(t,{})",
                fmt_s(a - from - half),
                fmt_s(b - from - half)
            )
        })
        .collect();
    let renumber = format!(",setpts=N/({fps}*TB)");
    match (terms.is_empty(), sample == format!(",fps={fps}")) {
        (true, true) => sample,
        (true, false) => format!("{sample}{renumber}"),
        (false, _) => format!("{sample},select='eq({},0)'{renumber}", terms.join("+")),
    }
}

/// A pan across a picture `width` source pixels wide over `frames` frames:
/// the zoom, the travel in source pixels, and the whole-pixel step per frame
/// when there is one. zoompan places its crop on whole pixels, so a travel
/// that is not a whole number of pixels per frame makes the picture judder;
/// the zoom is chosen (around 1.15, at most 1.25) so that it is. Very slow
/// pans (under a pixel a frame even at the largest zoom) keep zoom 1.15.
fn pan_plan(width: u32, frames: u64) -> (String, u64, Option<u64>) {
    let n = frames.max(2) - 1;
    let w = f64::from(width);
    let natural = w - w / 1.15;
    let step = ((natural / n as f64).floor() as u64).max(1);
    let travel = step * n;
    if (travel as f64) <= w - w / 1.25 {
        (
            format!("{width}/{}", u64::from(width) - travel),
            travel,
            Some(step),
        )
    } else {
        ("1.15".into(), natural.floor() as u64, None)
    }
}

/// The ffmpeg arguments that render one segment (video only) into `out`,
/// with progress on stdout.
pub fn segment_args(
    plan: &Plan,
    segment: &Segment,
    inputs: &SegmentInputs,
    threads: usize,
    out: &Path,
) -> Vec<OsString> {
    let fps = plan.fps;
    let mut args = segment_graph(plan, segment, inputs);
    args.extend(video_encoder_args(plan, threads));
    args.extend([
        "-r".into(),
        fps.to_string().into(),
        "-fps_mode".into(),
        "cfr".into(),
        "-frames:v".into(),
        segment.frames.to_string().into(),
    ]);
    args.extend(["-progress".into(), "pipe:1".into(), "-nostats".into()]);
    args.push(out.as_os_str().to_owned());
    args
}

/// The ffmpeg arguments that draw frame `frame` of a segment as a PNG into
/// `out`: the segment's graph, its first `frame` frames dropped.
pub fn still_args(
    plan: &Plan,
    segment: &Segment,
    inputs: &SegmentInputs,
    frame: u64,
    out: &Path,
) -> Vec<OsString> {
    let mut args = segment_graph(plan, segment, inputs);
    // The graph ends in [vout]; pick the frame from it.
    if let Some(graph) = args
        .iter_mut()
        .find(|a| a.to_string_lossy().ends_with("[vout]"))
    {
        let mut g = graph.to_string_lossy().into_owned();
        g.push_str(&format!(
            ";[vout]trim=start_frame={frame}:end_frame={},setpts=PTS-STARTPTS[still]",
            frame + 1
        ));
        *graph = g.into();
    }
    if let Some(map) = args.iter_mut().find(|a| *a == "[vout]") {
        *map = "[still]".into();
    }
    args.extend([
        "-frames:v".into(),
        "1".into(),
        "-c:v".into(),
        "png".into(),
        "-f".into(),
        "image2".into(),
    ]);
    args.push(out.as_os_str().to_owned());
    args
}

/// A segment's inputs and filter graph, ending in `-map [vout] -an`.
fn segment_graph(plan: &Plan, segment: &Segment, inputs: &SegmentInputs) -> Vec<OsString> {
    let fps = plan.fps;
    let mut b = Builder::default();
    scene_chain(
        &mut b,
        plan,
        &segment.scene,
        (inputs.visual, inputs.title),
        inputs.font,
        "cur",
    );
    let mut acc = "cur".to_owned();
    if let (Some((span, _)), Some(source)) = (&segment.blend_from, inputs.blend) {
        scene_chain(&mut b, plan, span, source, inputs.font, "prev");
    }
    let inputs_before = b.inputs;
    let (mut args, mut graph) = (b.args, b.graph);
    if let (Some((span, name)), Some(_)) = (&segment.blend_from, inputs.blend) {
        let _ = writeln!(
            graph,
            "[prev][cur]xfade=transition={name}:duration={}:offset=0[blend];",
            span.count as f64 / f64::from(fps)
        );
        acc = "blend".into();
    }
    if let Some(frames) = segment.fade_in {
        let _ = writeln!(graph, "[{acc}]fade=t=in:s=0:n={frames}[faded];");
        acc = "faded".into();
    }
    // Overlays read the inputs after the scenes', in order.
    let mut input = inputs_before;
    for (k, (part, paths)) in segment.overlays.iter().zip(&inputs.overlays).enumerate() {
        input += overlay_chain(
            &mut graph,
            &mut args,
            plan,
            part,
            (input, *paths),
            (&acc, k),
        );
        acc = format!("ov{k}");
    }
    if let Some(script) = inputs.captions {
        let _ = writeln!(
            graph,
            "[{acc}]subtitles=filename={}:fontsdir={}[capt];",
            escape_filter_value(&script.to_string_lossy()),
            escape_filter_value(
                &inputs
                    .font
                    .parent()
                    .unwrap_or(Path::new("."))
                    .to_string_lossy()
            ),
        );
        acc = "capt".into();
    }
    // Never a frame short: hold the last frame, then cut at the exact count.
    let _ = write!(graph, "[{acc}]tpad=stop_mode=clone:stop={fps}[vout]");
    args.extend(["-filter_complex".into(), graph.into()]);
    args.extend(["-map".into(), "[vout]".into(), "-an".into()]);
    args
}

/// Every sound of the soundtrack as the mix takes it.
const PCM: &str = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo";

/// Seconds of fade on each side of a join where a cut removed media.
const JOIN_FADE: f64 = 0.012;

/// Local files the soundtrack mixes.
pub struct AudioInputs<'a> {
    /// One per audio part of the plan.
    pub audio: Vec<&'a Path>,
    /// Per scene: its clip, when it is a video with sound.
    pub clips: Vec<Option<&'a Path>>,
    /// Per overlay of the plan: its clip, when its sound is heard.
    pub overlays: Vec<Option<&'a Path>>,
    pub music: Option<&'a Path>,
}

/// The ffmpeg arguments that mix the whole soundtrack (narration, clips'
/// sound, music with ducking, loudness) once, as PCM, and encode it once as
/// AAC into `out` (an `.m4a`).
pub fn audio_args(plan: &Plan, inputs: &AudioInputs, out: &Path) -> Vec<OsString> {
    let mut b = Builder::default();
    let mut labels = narration_sounds(&mut b, plan, inputs);
    labels.extend(clip_sounds(&mut b, plan, inputs));
    labels.extend(overlay_sounds(&mut b, plan, inputs));
    let total = fmt_s(plan.total);
    mix_sounds(&mut b.graph, &labels, &total);
    let mix = music_mix(&mut b, plan, inputs, !labels.is_empty(), &total);
    let Builder {
        mut args,
        mut graph,
        ..
    } = b;
    let _ = write!(graph, "[{mix}]loudnorm=I=-14:TP=-1.5:LRA=11,{PCM}[aout]");
    args.extend(["-filter_complex".into(), graph.into()]);
    for a in [
        "-map", "[aout]", "-vn", "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
    ] {
        args.push(a.into());
    }
    args.extend(["-t".into(), total.into()]);
    args.extend(["-progress".into(), "pipe:1".into(), "-nostats".into()]);
    args.push(out.as_os_str().to_owned());
    args
}

/// The narration and other audio parts, each placed at its time; answers
/// their labels.
fn narration_sounds(b: &mut Builder, plan: &Plan, inputs: &AudioInputs) -> Vec<String> {
    let mut labels = Vec::new();
    for (k, part) in plan.audio.iter().enumerate() {
        b.args.extend(media::input_args(inputs.audio[k]));
        let fade = if part.cut {
            // Cut short by its scene: a quick fade out, or the one asked for.
            let d = part.fade_out.max(0.15).min(part.length);
            fades(part.fade_in, d, part.length)
        } else {
            fades(part.fade_in, part.fade_out, part.length)
        };
        let source = kept_source(
            &mut b.graph,
            b.inputs,
            &format!("c{k}"),
            &part.kept(),
            (part.trim_start, part.length),
        );
        let _ = writeln!(
            b.graph,
            "{source},volume={}{fade},adelay=delays={}:all=1[p{k}];",
            part.volume,
            (part.at * 1000.0).round() as u64
        );
        b.inputs += 1;
        labels.push(format!("[p{k}]"));
    }
    labels
}

/// The sound of the scenes' clips that have it, as their scenes play it;
/// answers their labels.
fn clip_sounds(b: &mut Builder, plan: &Plan, inputs: &AudioInputs) -> Vec<String> {
    let mut labels = Vec::new();
    for (i, clip) in inputs.clips.iter().enumerate() {
        let (Some(path), scene) = (clip, &plan.scenes[i]) else {
            continue;
        };
        // Read from the trim on; the kept spans count from there.
        let kept: Vec<(f64, f64)> = scene
            .kept()
            .into_iter()
            .map(|(start, length)| (start - scene.trim_start, length))
            .collect();
        let reach = kept.last().map_or(scene.duration, |(s, l)| s + l);
        b.args
            .extend(["-ss".into(), fmt_s(scene.trim_start).into()]);
        b.args.extend(["-t".into(), fmt_s(reach + 1.0).into()]);
        b.args.extend(media::input_args(path));
        let source = kept_source(
            &mut b.graph,
            b.inputs,
            &format!("s{i}"),
            &kept,
            (0.0, scene.duration * scene.speed),
        );
        let _ = writeln!(
            b.graph,
            "{source}{},volume={}{},adelay=delays={}:all=1[v{i}];",
            tempo(scene.speed, scene.duration),
            scene.volume,
            fades(scene.fade_in, scene.fade_out, scene.duration),
            (scene.start * 1000.0).round() as u64
        );
        b.inputs += 1;
        labels.push(format!("[v{i}]"));
    }
    labels
}

/// The sound of clip overlays that is heard, over their time; answers their
/// labels.
fn overlay_sounds(b: &mut Builder, plan: &Plan, inputs: &AudioInputs) -> Vec<String> {
    let mut labels = Vec::new();
    for (i, (path, o)) in inputs.overlays.iter().zip(&plan.overlays).enumerate() {
        let Some(path) = path else {
            continue;
        };
        let input = b.inputs;
        let length = o.end - o.start;
        b.args.extend(["-t".into(), fmt_s(length + 0.5).into()]);
        b.args.extend(media::input_args(path));
        let _ = writeln!(
            b.graph,
            "[{input}:a]atrim=duration={},asetpts=PTS-STARTPTS,{PCM},volume={}{},adelay=delays={}:all=1[o{i}];",
            fmt_s(length),
            o.volume,
            fades(o.fade_in, o.fade_out, length),
            (o.start * 1000.0).round() as u64
        );
        b.inputs += 1;
        labels.push(format!("[o{i}]"));
    }
    labels
}

/// Mixes the sounds `labels` into `[narr]`, `total` long (silence if none).
fn mix_sounds(graph: &mut String, labels: &[String], total: &str) {
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
}

/// Music: looped or cut to length, faded out, ducked under the narration
/// (`has_sound`: `[narr]` mixes some). Answers the label of the whole mix.
fn music_mix(
    b: &mut Builder,
    plan: &Plan,
    inputs: &AudioInputs,
    has_sound: bool,
    total: &str,
) -> &'static str {
    let (Some(music), Some(path)) = (&plan.music, inputs.music) else {
        return "narr";
    };
    let input = b.inputs;
    b.args.extend(["-stream_loop".into(), "-1".into()]);
    b.args.extend(media::input_args(path));
    let fade = (plan.total - 2.0).max(0.0);
    let _ = writeln!(
        b.graph,
        "[{input}:a]atrim=duration={total},asetpts=PTS-STARTPTS,{PCM},volume={},afade=t=out:st={}:d={}[music];",
        music.volume,
        fmt_s(fade),
        fmt_s(plan.total.min(2.0))
    );
    if music.ducking && has_sound {
        let _ = writeln!(
            b.graph,
            "[narr]asplit=2[narr1][side];[music][side]sidechaincompress=threshold=0.02:ratio=12:attack=15:release=400[ducked];\
             [narr1][ducked]amix=inputs=2:normalize=0:duration=first[mix];"
        );
    } else {
        let _ = writeln!(
            b.graph,
            "[narr][music]amix=inputs=2:normalize=0:duration=first[mix];"
        );
    }
    "mix"
}

/// Fades in and out of a sound `length` seconds long.
fn fades(fade_in: f64, fade_out: f64, length: f64) -> String {
    let mut out = String::new();
    if fade_in > 0.0 {
        let _ = write!(out, ",afade=t=in:st=0:d={}", fmt_s(fade_in.min(length)));
    }
    if fade_out > 0.0 {
        let d = fade_out.min(length);
        let _ = write!(out, ",afade=t=out:st={}:d={}", fmt_s(length - d), fmt_s(d));
    }
    out
}

/// A clip's sound at `speed`, keeping its pitch (atempo takes 0.5–100 per
/// stage: 0.25 is two stages), cut to the scene's `length`.
fn tempo(speed: f64, length: f64) -> String {
    if (speed - 1.0).abs() < 1e-9 {
        return String::new();
    }
    let mut out = String::new();
    let mut left = speed;
    while left < 0.5 {
        out.push_str(",atempo=0.5");
        left /= 0.5;
    }
    let _ = write!(out, ",atempo={left:.6},atrim=duration={}", fmt_s(length));
    out
}

/// The filter chain that reads the `kept` spans (media start, seconds) of
/// input `input` as one stream of PCM: one span trimmed (or `whole` when
/// none), several joined with a fade of JOIN_FADE on each side of every
/// join, so that no join clicks. Extra chains go into `graph`, labelled
/// with `tag`; the answer ends unlabelled, for the caller to go on.
fn kept_source(
    graph: &mut String,
    input: usize,
    tag: &str,
    kept: &[(f64, f64)],
    whole: (f64, f64),
) -> String {
    if kept.len() <= 1 {
        let (start, length) = kept.first().copied().unwrap_or(whole);
        return format!(
            "[{input}:a]atrim=start={}:duration={},asetpts=PTS-STARTPTS,{PCM}",
            fmt_s(start),
            fmt_s(length)
        );
    }
    let n = kept.len();
    let _ = write!(graph, "[{input}:a]asplit={n}");
    for j in 0..n {
        let _ = write!(graph, "[{tag}_{j}]");
    }
    graph.push_str(";\n");
    for (j, (start, length)) in kept.iter().enumerate() {
        let mut fades = String::new();
        if j > 0 {
            let _ = write!(fades, ",afade=t=in:d={JOIN_FADE}");
        }
        if j + 1 < n {
            let _ = write!(
                fades,
                ",afade=t=out:st={}:d={JOIN_FADE}",
                fmt_s((length - JOIN_FADE).max(0.0))
            );
        }
        let _ = writeln!(
            graph,
            "[{tag}_{j}]atrim=start={}:duration={},asetpts=PTS-STARTPTS,{PCM}{fades}[{tag}d{j}];",
            fmt_s(*start),
            fmt_s(*length)
        );
    }
    let joined: String = (0..n).map(|j| format!("[{tag}d{j}]")).collect();
    format!("{joined}concat=n={n}:v=0:a=1")
}

/// A line of the concat demuxer's list, quoting the path.
pub fn concat_line(path: &Path) -> String {
    format!("file '{}'\n", path.to_string_lossy().replace('\'', "'\\''"))
}

/// The ffmpeg arguments that join the segments listed in `list` (concat
/// demuxer) with the soundtrack, copying both streams (no re-encoding).
pub fn join_args(plan: &Plan, list: &Path, audio: &Path, out: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    for a in ["-f", "concat", "-safe", "0", "-i"] {
        args.push(a.into());
    }
    args.push(list.as_os_str().to_owned());
    args.extend(media::input_args(audio));
    for a in [
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        "-movflags",
        "+faststart",
    ] {
        args.push(a.into());
    }
    args.extend(["-t".into(), fmt_s(plan.total).into()]);
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
