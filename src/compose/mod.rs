//! Compose: a timeline of a session's assets into a finished MP4.
//!
//! [`timeline`] validates the request into a plan (every time worked out,
//! every mistake a 422 before any work), [`graph`] turns the plan into one
//! ffmpeg command, [`captions`] writes the narration's subtitles, and this
//! module runs the render — at most N at once, with progress from ffmpeg's
//! `-progress` output, cancellable, into a temporary file that becomes an
//! asset only on success.

pub mod captions;
pub mod graph;
pub mod timeline;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use timeline::{ComposeRequest, Plan};

use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::jobs::{JobHandle, JobView};
use crate::media;
use crate::store::{Asset, LocalFile, NewAsset};
use crate::studio::Studio;
use crate::tools::image::builtin::FONT_BYTES;

/// How long ffmpeg may go without reporting progress before the render is
/// declared hung and stopped.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The render slots: at most `max_renders` ffmpeg processes at once.
#[derive(Clone, Debug)]
pub struct Composer {
    slots: Arc<Semaphore>,
}

/// What `POST /compose` gives back.
pub enum ComposeOutcome {
    Done(Asset),
    Queued(JobView),
}

impl Composer {
    pub fn new(max_renders: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_renders.max(1))),
        }
    }
}

/// Validates the request against the session's assets.
pub async fn plan(studio: &Studio, session: &SessionId, req: &ComposeRequest) -> Result<Plan> {
    let assets = studio.store().list_assets(session, None).await?;
    req.plan(&assets, studio.config().max_video_seconds)
}

/// Composes synchronously, or queues a job when the request says `async`.
pub async fn compose(
    studio: &Studio,
    session: &SessionId,
    req: &ComposeRequest,
) -> Result<ComposeOutcome> {
    let plan = plan(studio, session, req).await?;
    if req.run_async.unwrap_or(false) {
        let job = studio.jobs().create(session, "compose").await?;
        let view = job.view();
        let (studio, session) = (studio.clone(), session.clone());
        tokio::spawn(async move { run_job(studio, session, plan, job).await });
        Ok(ComposeOutcome::Queued(view))
    } else {
        let asset = render(studio, session, &plan, &|_| {}, CancellationToken::new()).await?;
        Ok(ComposeOutcome::Done(asset))
    }
}

async fn run_job(studio: Studio, session: SessionId, plan: Plan, job: JobHandle) {
    let progress = |p: f64| job.progress(p, Some("rendering"));
    let outcome = render(&studio, &session, &plan, &progress, job.cancel_token()).await;
    let recorded = match outcome {
        Ok(asset) => job.succeed(json!(asset)).await,
        Err(e) => job.fail(&e).await,
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "could not record a compose job's outcome");
    }
}

/// Renders a plan into a new `video` asset (and, with captions, a
/// `subtitles` asset). Waits for a render slot first.
pub async fn render(
    studio: &Studio,
    session: &SessionId,
    plan: &Plan,
    progress: &(dyn Fn(f64) + Sync),
    cancel: CancellationToken,
) -> Result<Asset> {
    let _slot = tokio::select! {
        slot = studio.composer().slots.clone().acquire_owned() => slot.map_err(|_| Error::Internal("render slots closed".into()))?,
        _ = cancel.cancelled() => return Err(Error::Cancelled),
    };
    let tmp = studio.config().tmp_dir();
    tokio::fs::create_dir_all(&tmp).await?;
    let work = tempfile::Builder::new()
        .prefix("render-")
        .tempdir_in(&tmp)?;

    // Local paths for every input (the stored files themselves on local storage).
    let store = studio.store();
    let mut keep: Vec<LocalFile> = Vec::new();
    for asset in plan
        .scenes
        .iter()
        .map(|s| &s.visual)
        .chain(plan.audio.iter().map(|a| &a.asset))
        .chain(plan.music.iter().map(|m| &m.asset))
    {
        keep.push(store.local_copy(asset, work.path()).await?);
    }
    let paths: Vec<&Path> = keep.iter().map(|f| f.path.as_path()).collect();
    let (visuals, rest) = paths.split_at(plan.scenes.len());
    let (audio, music) = rest.split_at(plan.audio.len());

    let font = font_file(studio).await?;
    let mut titles = Vec::new();
    for (i, scene) in plan.scenes.iter().enumerate() {
        titles.push(match &scene.text {
            Some(text) => {
                let path = work.path().join(format!("title-{i}.txt"));
                tokio::fs::write(
                    &path,
                    crate::text::wrap_words(text, if plan.height > plan.width { 18 } else { 32 }),
                )
                .await?;
                Some(path)
            }
            None => None,
        });
    }
    let cues = if plan.captions {
        captions::cues(plan)
    } else {
        Vec::new()
    };
    let srt_path = work.path().join("captions.srt");
    if !cues.is_empty() {
        tokio::fs::write(&srt_path, captions::srt(&cues)).await?;
    }

    let out = work.path().join("video.mp4");
    let inputs = graph::Inputs {
        visuals: visuals.to_vec(),
        audio: audio.to_vec(),
        music: music.first().copied(),
        titles,
        captions: (!cues.is_empty()).then_some(srt_path.as_path()),
        font: &font,
    };
    let args = graph::ffmpeg_args(plan, &inputs, &out);
    run_ffmpeg(&args, plan.total, progress, cancel).await?;

    let info = media::probe(&out).await?;
    let video = info
        .video
        .clone()
        .ok_or_else(|| Error::Internal("the render has no video stream".into()))?;
    let subtitles = if cues.is_empty() {
        None
    } else {
        let new = NewAsset {
            kind: AssetKind::Subtitles,
            ext: "srt".into(),
            mime_type: "application/x-subrip".into(),
            source: "compose".into(),
            metadata: json!({ "cues": cues.len() }),
        };
        Some(store.put_asset_file(session, new, &srt_path).await?)
    };
    let new = NewAsset {
        kind: AssetKind::Video,
        ext: "mp4".into(),
        mime_type: "video/mp4".into(),
        source: "compose".into(),
        metadata: json!({
            "duration_seconds": info.duration_seconds,
            "width": video.width,
            "height": video.height,
            "fps": video.fps,
            "has_audio": info.audio.is_some(),
            "scenes": plan.scenes.len(),
            "timeline": plan.scenes.iter().map(|s| json!({
                "asset_id": s.visual.name, "start": s.start, "duration": s.duration
            })).collect::<Vec<_>>(),
            "captions": subtitles.as_ref().map(|s| s.name.to_string()),
            "music": plan.music.as_ref().map(|m| m.asset.name.to_string()),
        }),
    };
    match store.put_asset_file(session, new, &out).await {
        Ok(asset) => Ok(asset),
        Err(e) => {
            if let Some(s) = subtitles {
                let _ = store.delete_asset(session, &s.name).await;
            }
            Err(e)
        }
    }
}

/// The bundled font as a file (ffmpeg's drawtext and libass read files).
async fn font_file(studio: &Studio) -> Result<PathBuf> {
    let dir = studio.config().data_dir.join("fonts");
    let path = dir.join("DejaVuSans-Bold.ttf");
    let fresh = tokio::fs::metadata(&path)
        .await
        .is_ok_and(|m| m.len() == FONT_BYTES.len() as u64);
    if !fresh {
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".font-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, FONT_BYTES).await?;
        tokio::fs::rename(&tmp, &path).await?;
    }
    Ok(path)
}

/// Runs ffmpeg, reporting progress (0–1) from its `-progress` output, until
/// it ends, is cancelled, or stalls.
async fn run_ffmpeg(
    args: &[std::ffi::OsString],
    total: f64,
    progress: &(dyn Fn(f64) + Sync),
    cancel: CancellationToken,
) -> Result<()> {
    tracing::debug!(?args, "running ffmpeg");
    let mut child = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Unavailable(format!("cannot run ffmpeg (install ffmpeg): {e}")))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                let _ = child.kill().await;
                return Err(Error::Cancelled);
            }
            line = tokio::time::timeout(STALL_TIMEOUT, lines.next_line()) => match line {
                Err(_) => {
                    let _ = child.kill().await;
                    return Err(Error::Internal(format!("ffmpeg reported no progress for {} s and was stopped", STALL_TIMEOUT.as_secs())));
                }
                Ok(Ok(Some(line))) => {
                    let time = line.strip_prefix("out_time_us=").and_then(|v| v.trim().parse::<f64>().ok());
                    if let Some(us) = time.filter(|_| total > 0.0) {
                        progress((us / 1e6 / total).clamp(0.0, 0.99));
                    }
                }
                Ok(_) => break,
            }
        }
    }
    let status = child.wait().await?;
    let stderr = stderr_task.await.unwrap_or_default();
    if !status.success() {
        return Err(Error::Internal(format!(
            "the render failed: {}",
            media::tail(&stderr, 6)
        )));
    }
    progress(1.0);
    Ok(())
}
