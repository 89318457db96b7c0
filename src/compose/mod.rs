//! Compose: a timeline of a session's assets into a finished MP4.
//!
//! [`timeline`] validates the request into a plan (every time worked out,
//! every mistake a 422 before any work); [`saved`] keeps each session's
//! timeline as versioned documents; [`segments`] cuts the plan into one
//! segment per scene, each named by a hash of what decides its pixels;
//! [`graph`] builds the ffmpeg commands; [`captions`] writes the subtitles.
//!
//! A render reuses every segment the render cache already holds, renders
//! only the others (each a small ffmpeg run with progress), mixes the whole
//! soundtrack once (or reuses it), and joins segments and soundtrack without
//! re-encoding. At most N renders run at once; a render is cancellable and
//! becomes an asset only when it succeeds.

pub mod brand;
pub mod caption_style;
pub mod captions;
pub mod graph;
pub mod keyframes;
pub mod look;
pub mod overlays;
pub mod saved;
pub mod segments;
pub mod timeline;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

pub use timeline::{ComposeRequest, Plan, SavedTimeline};

use crate::error::{Error, Result};
use crate::frame::FONT_BYTES;
use crate::ids::{AssetKind, SessionId};
use crate::media;
use crate::store::{Asset, JobClaim, LocalFile, NewAsset, Store};
use brand::BrandKit;
use look::{FontData, Look};
use segments::Segment;

/// At most this many segments are rendered at once (each by its own ffmpeg).
const MAX_PARALLEL_SEGMENTS: usize = 2;

/// Reports a render's progress: the fraction done (0–1) and what it is doing.
pub type Progress<'a> = &'a (dyn Fn(f64, &str) + Sync);

/// What the composer needs to know about this machine.
#[derive(Clone, Debug)]
pub struct ComposerSettings {
    /// Working folder for renders (temporary files).
    pub tmp_dir: PathBuf,
    /// Where the bundled font is written for ffmpeg to read.
    pub font_dir: PathBuf,
    pub max_renders: usize,
    pub max_video_seconds: f64,
    /// Size cap of the render cache; least recently used pieces go first.
    pub render_cache_bytes: u64,
}

/// Renders timelines: the store, the render slots and the cache.
#[derive(Clone, Debug)]
pub struct Composer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    settings: ComposerSettings,
    slots: Arc<Semaphore>,
    /// Cached pieces running renders are reading: `(session, key)` → renders.
    in_use: Mutex<HashMap<(String, String), usize>>,
}

/// Marks cached pieces as in use for as long as it lives.
struct InUse<'a> {
    composer: &'a Composer,
    keys: Vec<(String, String)>,
}

impl Drop for InUse<'_> {
    fn drop(&mut self) {
        let mut map = self.composer.inner.in_use.lock().expect("in-use lock");
        for key in &self.keys {
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

impl Composer {
    pub fn new(store: Store, settings: ComposerSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(settings.max_renders.max(1))),
                store,
                settings,
                in_use: Mutex::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The request to render: itself when it has a timeline, else the
    /// session's saved timeline with the request's options laid over it.
    /// Also gives the saved version used, if any.
    pub async fn resolve(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
    ) -> Result<(ComposeRequest, Option<i64>)> {
        if req.timeline.is_some() {
            return Ok((req.clone(), None));
        }
        let saved = self.saved_timeline(session, None).await?;
        let version = saved.version.unwrap_or(0);
        if version == 0 {
            return Err(Error::invalid(
                "timeline",
                "the session has no saved timeline: send a timeline, or save one with PUT .../timeline",
            ));
        }
        let mut resolved = saved.to_request();
        if req.output.is_some() {
            resolved.output = req.output.clone();
        }
        if req.fit.is_some() {
            resolved.fit = req.fit.clone();
        }
        if req.captions.is_some() {
            resolved.captions = req.captions.clone();
        }
        if req.music.is_some() {
            resolved.music = req.music.clone();
        }
        if req.brand.is_some() {
            resolved.brand = req.brand;
        }
        if req.outputs.is_some() {
            resolved.outputs = req.outputs.clone();
        }
        resolved.run_async = req.run_async;
        resolved.callback = req.callback.clone();
        Ok((resolved, Some(version)))
    }

    /// Validates a request with a timeline against the session's assets.
    pub async fn plan(&self, session: &SessionId, req: &ComposeRequest) -> Result<Plan> {
        let assets = self.store().list_assets(session, None).await?;
        let look = self.look(session, req, &assets).await?;
        req.plan_with(&assets, self.inner.settings.max_video_seconds, look)
    }

    /// What a render of `req` in `session` takes from the brand kit (the
    /// session's own, else its owner's default; nothing with `"brand":
    /// false`), and the fonts its overlays name. A kit's logo or font
    /// deleted since it was set is left out.
    async fn look(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
        assets: &[Asset],
    ) -> Result<Look> {
        let mut look = Look::default();
        let kit = match req.brand {
            Some(false) => None,
            _ => self.store().effective_brand(session).await?,
        };
        if let Some((stored, _)) = kit {
            match serde_json::from_value::<BrandKit>(stored.body) {
                Ok(kit) => {
                    let home = kit
                        .session_id
                        .as_deref()
                        .and_then(|s| SessionId::parse(s).ok())
                        .unwrap_or_else(|| session.clone());
                    let logo = self
                        .kit_asset(&home, kit.logo.as_deref(), AssetKind::Image)
                        .await;
                    let font = match self
                        .kit_asset(&home, kit.font.as_deref(), AssetKind::Font)
                        .await
                    {
                        Some(asset) => Some(self.load_font(&asset).await?),
                        None => None,
                    };
                    look = Look::from_kit(&kit, logo, font);
                }
                Err(e) => tracing::warn!(%session, "a stored brand kit does not parse: {e}"),
            }
        }
        for name in req
            .overlays
            .iter()
            .flatten()
            .filter_map(|o| o.font.as_deref())
        {
            if let Some(asset) = assets
                .iter()
                .find(|a| a.name.as_str() == name && a.kind == AssetKind::Font)
                && !look.fonts.contains_key(name)
            {
                look.fonts
                    .insert(name.to_owned(), self.load_font(asset).await?);
            }
        }
        Ok(look)
    }

    async fn kit_asset(
        &self,
        home: &SessionId,
        name: Option<&str>,
        kind: AssetKind,
    ) -> Option<Asset> {
        let name = crate::ids::AssetName::parse(name?).ok()?;
        self.store()
            .asset(home, &name)
            .await
            .ok()
            .filter(|a| a.kind == kind)
    }

    async fn load_font(&self, asset: &Asset) -> Result<Arc<FontData>> {
        let bytes = self.store().read_asset(asset).await?;
        let facts = crate::frame::FontFacts::parse(&bytes)
            .map_err(|e| Error::Internal(format!("{}: {e}", asset.name)))?;
        Ok(Arc::new(FontData {
            key: asset.storage_key.clone(),
            family: facts.family,
            bytes: bytes.to_vec(),
        }))
    }

    async fn slot(
        &self,
        cancel: &CancellationToken,
        progress: Progress<'_>,
    ) -> Result<OwnedSemaphorePermit> {
        if let Ok(slot) = self.inner.slots.clone().try_acquire_owned() {
            return Ok(slot);
        }
        // Said, so that a job that waits does not look stuck at 0%.
        progress(0.0, "waiting for a free render slot");
        tokio::select! {
            slot = self.inner.slots.clone().acquire_owned() => slot.map_err(|_| Error::Internal("render slots closed".into())),
            _ = cancel.cancelled() => Err(Error::Cancelled),
        }
    }

    /// Renders a plan into a new `video` asset (and, with captions, a
    /// `subtitles` asset). Waits for a render slot first. `version` is the
    /// saved timeline version the plan came from, recorded in the metadata.
    /// `job`: whose work it is (see [`ForJob`]).
    pub async fn render(
        &self,
        session: &SessionId,
        plan: &Plan,
        version: Option<i64>,
        progress: Progress<'_>,
        cancel: CancellationToken,
        job: ForJob<'_>,
    ) -> Result<Asset> {
        let _slot = self.slot(&cancel, progress).await?;
        self.render_in_slot(session, plan, version, progress, cancel, (job, &[]))
            .await
    }

    /// Renders one plan per output, one after another (the soundtrack is
    /// mixed for the first and reused from the cache by the others). The
    /// job's result is the first video with `assets`: every video and its
    /// subtitles; the job succeeds with the last output's assets.
    pub async fn render_outputs(
        &self,
        session: &SessionId,
        plans: &[Plan],
        version: Option<i64>,
        progress: Progress<'_>,
        cancel: CancellationToken,
        job: ForJob<'_>,
    ) -> Result<Vec<Asset>> {
        let mut made: Vec<Asset> = Vec::new();
        let n = plans.len().max(1) as f64;
        for (k, plan) in plans.iter().enumerate() {
            let step = |p: f64, what: &str| {
                progress(
                    (k as f64 + p) / n,
                    &format!("output {} of {}: {what}", k + 1, plans.len()),
                )
            };
            let last = k + 1 == plans.len();
            let _slot = self.slot(&cancel, &step).await?;
            // Only the last output finishes the job; all are its outputs.
            let claim = match job {
                ForJob::Outcome(claim) if !last => ForJob::Part(&claim.job_id),
                other => other,
            };
            let video = self
                .render_in_slot(
                    session,
                    plan,
                    version,
                    &step,
                    cancel.clone(),
                    (claim, &made),
                )
                .await?;
            if let Some(name) = video.metadata["captions"].as_str()
                && let Ok(name) = crate::ids::AssetName::parse(name)
            {
                made.push(self.store().asset(session, &name).await?);
            }
            made.push(video);
        }
        Ok(made)
    }

    fn hold(&self, session: &SessionId, keys: impl IntoIterator<Item = String>) -> InUse<'_> {
        let keys: Vec<(String, String)> =
            keys.into_iter().map(|k| (session.to_string(), k)).collect();
        let mut map = self.inner.in_use.lock().expect("in-use lock");
        for key in &keys {
            *map.entry(key.clone()).or_default() += 1;
        }
        InUse {
            composer: self,
            keys,
        }
    }

    /// The segments the cache holds (verified), as local files in `work`.
    async fn cached_pieces<'s>(
        &self,
        session: &SessionId,
        segments: &'s [Segment],
        work: &Path,
    ) -> Result<HashMap<&'s str, LocalFile>> {
        let mut pieces = HashMap::new();
        for segment in segments {
            if !pieces.contains_key(segment.key.as_str())
                && let Some(file) = self
                    .store()
                    .cached_piece(session, &segment.key, work)
                    .await?
            {
                pieces.insert(segment.key.as_str(), file);
            }
        }
        Ok(pieces)
    }

    /// One render in its slot: the scenes' segments and the soundtrack
    /// (from the cache, or made), joined into the video, kept with its
    /// subtitles as the session's assets.
    async fn render_in_slot(
        &self,
        session: &SessionId,
        plan: &Plan,
        version: Option<i64>,
        progress: Progress<'_>,
        cancel: CancellationToken,
        (job, earlier): (ForJob<'_>, &[Asset]),
    ) -> Result<Asset> {
        let started = Instant::now();
        // The session as it is now: deleted meanwhile, nothing is kept.
        let since = self.store().session(session).await?.created_at;
        let tmp = &self.inner.settings.tmp_dir;
        tokio::fs::create_dir_all(tmp).await?;
        let work = tempfile::Builder::new().prefix("render-").tempdir_in(tmp)?;
        let font = self.font_file(plan, work.path()).await?;
        let cues = if plan.captions.is_some() {
            captions::cues(plan)
        } else {
            Vec::new()
        };
        let burned = plan
            .captions
            .map(|c| captions::events(&cues, c.style, plan.look.accent))
            .unwrap_or_default();
        let segments = segments::segments(plan, &burned);
        let audio_key = segments::audio_key(plan);
        let _held = self.hold(
            session,
            segments
                .iter()
                .map(|s| s.key.clone())
                .chain([audio_key.clone()]),
        );
        let parts = Parts {
            session,
            plan,
            segments: &segments,
            audio_key: &audio_key,
            font: &font,
            work: work.path(),
        };
        let rendered = async {
            let made = self.make_pieces(&parts, progress, cancel.clone()).await?;
            progress(0.99, "joining scenes");
            let out = join(
                plan,
                &segments,
                &made.pieces,
                &made.audio.path,
                work.path(),
                cancel,
            )
            .await?;
            Ok::<_, Error>((made, out))
        };
        let (made, out) = match rendered.await {
            Ok(rendered) => rendered,
            Err(e) => return Err(self.unless_session_gone(session, since, e).await),
        };
        let info = media::probe(&out).await?;
        let mut outputs = Vec::new();
        if !cues.is_empty() {
            outputs.push(subtitles(&cues, work.path()).await?);
        }
        let render = json!({
            "scenes": segments.len(),
            "scenes_rendered": made.scenes_rendered,
            "scenes_reused": segments.len() - made.scenes_rendered,
            "segments_rendered": made.segments_rendered,
            "audio_reused": made.audio_reused,
            "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        });
        outputs.push((video_asset(plan, &info, version, render)?, out));
        let asset = self.keep(session, since, outputs, job, earlier).await?;
        self.evict().await;
        Ok(asset)
    }

    /// Every segment and the soundtrack as local files: what the cache
    /// has (verified), and the rest made — each distinct segment once
    /// (identical scenes share a key), several at once, each with a share
    /// of the cores, beside the soundtrack's mix — and cached.
    async fn make_pieces<'s>(
        &self,
        parts: &Parts<'s>,
        progress: Progress<'_>,
        cancel: CancellationToken,
    ) -> Result<Pieces<'s>> {
        let Parts {
            session,
            plan,
            segments,
            audio_key,
            font,
            work,
        } = *parts;
        let store = self.store();
        let mut pieces = self.cached_pieces(session, segments, work).await?;
        let cached_audio = store.cached_piece(session, audio_key, work).await?;
        let missing = still_missing(segments, &pieces);
        let scenes_rendered = segments
            .iter()
            .filter(|s| !pieces.contains_key(s.key.as_str()))
            .count();
        let video_work: u64 = missing.iter().map(|i| segments[*i].frames).sum();
        // The soundtrack counts as a tenth of the video's frames.
        let audio_work = if cached_audio.is_none() {
            (segments.iter().map(|s| s.frames).sum::<u64>() / 10).max(1)
        } else {
            0
        };
        let meter = Meter::new(progress, (video_work + audio_work) as f64);

        let audio = async {
            match cached_audio {
                Some(file) => Ok(file),
                None => {
                    let file = self
                        .render_audio(plan, work, &meter, audio_work, cancel.clone())
                        .await?;
                    store.cache_piece(session, audio_key, &file, work).await
                }
            }
        };
        // One render with all the cores when one segment is left.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parallel = cores.min(MAX_PARALLEL_SEGMENTS).min(missing.len()).max(1);
        let threads = (cores / parallel).max(1);
        let count = segments.len();
        let renders: Vec<_> = missing
            .iter()
            .map(|&i| {
                let (segment, meter, cancel) = (&segments[i], &meter, cancel.clone());
                async move {
                    let step = format!("rendering scene {} of {count}", i + 1);
                    let file = self
                        .render_segment(plan, segment, work, font, threads, meter, &step, cancel)
                        .await?;
                    let cached = store
                        .cache_piece(session, &segment.key, &file, work)
                        .await?;
                    Ok::<_, Error>((i, cached))
                }
            })
            .collect();
        let video = futures::stream::iter(renders)
            .buffer_unordered(parallel)
            .try_collect::<Vec<_>>();
        let (audio, made) = tokio::try_join!(audio, video)?;
        for (i, file) in made {
            pieces.insert(&segments[i].key, file);
        }
        Ok(Pieces {
            pieces,
            audio,
            scenes_rendered,
            segments_rendered: missing.len(),
            audio_reused: audio_work == 0,
        })
    }

    /// Keeps a render's files as the session's assets (the video names its
    /// subtitles, stored just before it), marked as `job`'s outputs; for a
    /// job's outcome, made with its success (its result: the video, or the
    /// first of several outputs with all of them). Kept only if the session
    /// is still the one the render began in (`since`).
    async fn keep(
        &self,
        session: &SessionId,
        since: chrono::DateTime<chrono::Utc>,
        mut outputs: Vec<(NewAsset, PathBuf)>,
        job: ForJob<'_>,
        earlier: &[Asset],
    ) -> Result<Asset> {
        for (new, _) in &mut outputs {
            new.job = job.id().map(str::to_owned);
        }
        let link = |made: &[Asset], new: &mut NewAsset| {
            if let Some(subtitles) = made.iter().find(|a| a.kind == AssetKind::Subtitles) {
                new.metadata["captions"] = json!(subtitles.name);
            }
        };
        let earlier = earlier.to_vec();
        let result =
            move |assets: &[Asset]| match earlier.iter().find(|a| a.kind == AssetKind::Video) {
                None => json!(assets.last()),
                Some(first) => {
                    let mut first = json!(first);
                    first["assets"] = json!(earlier.iter().chain(assets).collect::<Vec<_>>());
                    first
                }
            };
        let made = self
            .store()
            .put_work_outputs(
                session,
                since,
                outputs,
                &link,
                job.claim().map(|c| (c, &result as _)),
            )
            .await?;
        made.into_iter()
            .last()
            .ok_or_else(|| Error::Internal("the render made no asset".into()))
    }

    /// A render that failed because its session was deleted under it (its
    /// files went with it) says that, not what ffmpeg made of the missing
    /// files.
    async fn unless_session_gone(
        &self,
        session: &SessionId,
        since: chrono::DateTime<chrono::Utc>,
        error: Error,
    ) -> Error {
        match self.store().session(session).await {
            Ok(now) if now.created_at != since => Error::UnknownSession(session.to_string()),
            Err(gone @ Error::UnknownSession(_)) => gone,
            _ => error,
        }
    }

    /// Keeps the render cache under its cap, sparing what renders are reading.
    async fn evict(&self) {
        let in_use: HashSet<(String, String)> = self
            .inner
            .in_use
            .lock()
            .expect("in-use lock")
            .keys()
            .cloned()
            .collect();
        match self
            .store()
            .evict_render_cache(self.inner.settings.render_cache_bytes, &in_use)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(evicted = n, "render cache trimmed to its size cap"),
            Err(e) => tracing::warn!(error = %e, "could not trim the render cache"),
        }
    }

    /// Renders one segment into a file in `work`.
    #[allow(clippy::too_many_arguments)]
    async fn render_segment(
        &self,
        plan: &Plan,
        segment: &Segment,
        work: &Path,
        font: &Path,
        threads: usize,
        meter: &Meter<'_>,
        step: &str,
        cancel: CancellationToken,
    ) -> Result<PathBuf> {
        let i = segment.index;
        let files = self.segment_files(plan, segment, work).await?;
        let out = work.join(format!("segment-{i}.mp4"));
        let args = graph::segment_args(plan, segment, &files.inputs(font), threads, &out);
        let fps = f64::from(plan.fps);
        let on_time = |seconds: f64| {
            meter.set(i, (seconds * fps).min(segment.frames as f64), step);
        };
        media::ffmpeg_watched(&args, &on_time, cancel).await?;
        meter.set(i, segment.frames as f64, step);
        // Keyframed overlays' frames are done with (a long one's take room).
        for layer in &files.layers {
            if let Source::Frames(drawn) = &layer.layer
                && let Some(dir) = drawn.pattern.parent()
            {
                let _ = tokio::fs::remove_dir_all(dir).await;
            }
        }
        Ok(out)
    }

    /// The local files a segment's graph reads, fetched or written into `work`.
    async fn segment_files(
        &self,
        plan: &Plan,
        segment: &Segment,
        work: &Path,
    ) -> Result<SegmentFiles> {
        let store = self.store();
        let scene = &plan.scenes[segment.scene.scene];
        let visual = store.local_copy(&scene.visual, work).await?;
        let title = self.title_file(plan, segment.scene.scene, work).await?;
        let blend = match &segment.blend_from {
            Some((span, _)) => {
                let prev = &plan.scenes[span.scene];
                Some((
                    store.local_copy(&prev.visual, work).await?,
                    self.title_file(plan, span.scene, work).await?,
                ))
            }
            None => None,
        };
        let script = match plan.captions {
            Some(style) if !segment.cues.is_empty() => {
                let path = work.join(format!("segment-{}.ass", segment.index));
                let text =
                    captions::ass(&segment.cues, style, (plan.width, plan.height), &plan.look);
                tokio::fs::write(&path, text).await?;
                Some(path)
            }
            _ => None,
        };
        let layers = self.overlay_files(plan, segment, work).await?;
        Ok(SegmentFiles {
            visual,
            title,
            blend,
            script,
            layers,
        })
    }

    /// A still of the saved timeline at `at` seconds, as a PNG at the draft
    /// size: the one segment that shows it drawn up to that frame, in a
    /// working folder of its own (no render slot: it is one frame).
    pub async fn still(&self, session: &SessionId, at: f64) -> Result<Vec<u8>> {
        let (mut req, _) = self.resolve(session, &ComposeRequest::default()).await?;
        let mut output = req.output.clone().unwrap_or_default();
        output.quality = Some("draft".into());
        req.output = Some(output);
        let plan = self.plan(session, &req).await?;
        if !at.is_finite() || at < 0.0 || at >= plan.total {
            return Err(Error::invalid(
                "t",
                format!(
                    "t must be a time within the video: 0 to {:.2} s",
                    plan.total
                ),
            ));
        }
        let cues = if plan.captions.is_some() {
            captions::cues(&plan)
        } else {
            Vec::new()
        };
        let burned = plan
            .captions
            .map(|c| captions::events(&cues, c.style, plan.look.accent))
            .unwrap_or_default();
        let segments = segments::segments(&plan, &burned);
        let frame = ((at * f64::from(plan.fps)).floor() as u64).min(
            segments
                .last()
                .map_or(0, |s| s.start_frame + s.frames)
                .saturating_sub(1),
        );
        let segment = segments
            .iter()
            .rev()
            .find(|s| s.start_frame <= frame)
            .ok_or_else(|| Error::Internal("no segment shows that frame".into()))?;
        let tmp = &self.inner.settings.tmp_dir;
        tokio::fs::create_dir_all(tmp).await?;
        let work = tempfile::Builder::new().prefix("still-").tempdir_in(tmp)?;
        let font = self.font_file(&plan, work.path()).await?;
        // The frame alone when it can be drawn alone; else the segment up to it.
        let j = frame - segment.start_frame;
        let (segment, j) = match segment.single(j, plan.fps) {
            Some(one) => (one, 0),
            None => (segment.clone(), j),
        };
        let files = self.segment_files(&plan, &segment, work.path()).await?;
        let out = work.path().join("still.png");
        let args = graph::still_args(&plan, &segment, &files.inputs(&font), j, &out);
        media::ffmpeg_watched(&args, &|_| {}, CancellationToken::new()).await?;
        Ok(tokio::fs::read(&out).await?)
    }

    /// Mixes the soundtrack into a file in `work`.
    async fn render_audio(
        &self,
        plan: &Plan,
        work: &Path,
        meter: &Meter<'_>,
        weight: u64,
        cancel: CancellationToken,
    ) -> Result<PathBuf> {
        let store = self.store();
        let mut keep: Vec<LocalFile> = Vec::new();
        for part in &plan.audio {
            keep.push(store.local_copy(&part.asset, work).await?);
        }
        let mut clips: Vec<Option<LocalFile>> = Vec::new();
        for scene in &plan.scenes {
            clips.push(if scene.has_sound() {
                Some(store.local_copy(&scene.visual, work).await?)
            } else {
                None
            });
        }
        let music = match &plan.music {
            Some(m) => Some(store.local_copy(&m.asset, work).await?),
            None => None,
        };
        let mut overlay_sounds: Vec<Option<LocalFile>> = Vec::new();
        for overlay in &plan.overlays {
            overlay_sounds.push(match overlay.sound() {
                Some(asset) => Some(store.local_copy(asset, work).await?),
                None => None,
            });
        }
        let inputs = graph::AudioInputs {
            overlays: overlay_sounds
                .iter()
                .map(|c| c.as_ref().map(|f| f.path.as_path()))
                .collect(),
            audio: keep.iter().map(|f| f.path.as_path()).collect(),
            clips: clips
                .iter()
                .map(|c| c.as_ref().map(|f| f.path.as_path()))
                .collect(),
            music: music.as_ref().map(|f| f.path.as_path()),
        };
        let out = work.join("soundtrack.m4a");
        // The graph goes through a file: a long timeline's never overflows
        // the argument list.
        let args = graph::audio_args(plan, &inputs, &out);
        let args = graph_through_file(args, &work.join("soundtrack.graph")).await?;
        let w = weight as f64;
        let on_time = |seconds: f64| {
            meter.add_audio((seconds / plan.total.max(0.001)).min(1.0) * w);
        };
        media::ffmpeg_watched(&args, &on_time, cancel).await?;
        meter.add_audio(w);
        Ok(out)
    }

    /// The pictures of a segment's overlays: a picture's local copy, or a
    /// text overlay drawn as a PNG in `work`; a keyframed overlay's frames
    /// drawn into a folder of `work`.
    async fn overlay_files(
        &self,
        plan: &Plan,
        segment: &Segment,
        work: &Path,
    ) -> Result<Vec<OverlayFile>> {
        let mut files = Vec::with_capacity(segment.overlays.len());
        for part in &segment.overlays {
            let overlay = &plan.overlays[part.index];
            let name =
                |what: &str| work.join(format!("{what}-{}-{}.png", segment.index, part.index));
            if overlay.motion.is_some() {
                let tag = format!("{}-{}", segment.index, part.index);
                let drawn = self.draw_keyframed(plan, part, work, &tag).await?;
                files.push(OverlayFile {
                    layer: Source::Frames(drawn),
                    mask: None,
                });
                continue;
            }
            let layer = match &overlay.layer {
                overlays::Layer::Picture(asset) | overlays::Layer::Clip(asset) => {
                    Source::Copy(self.store().local_copy(asset, work).await?)
                }
                overlays::Layer::Text(text) => {
                    let path = name("overlay");
                    tokio::fs::write(&path, overlays::render_text(text)?).await?;
                    Source::Drawn(path)
                }
            };
            let mask = match overlays::shape_mask(overlay.shape, overlay.w, overlay.h)? {
                Some(png) => {
                    let path = name("mask");
                    tokio::fs::write(&path, png).await?;
                    Some(path)
                }
                None => None,
            };
            files.push(OverlayFile { layer, mask });
        }
        Ok(files)
    }

    /// Draws the frames a keyframed overlay shows in a segment (`part`)
    /// into a folder `kf-{tag}` of `work` (a picture with a `chroma_key` is
    /// keyed by ffmpeg first, at its own size).
    async fn draw_keyframed(
        &self,
        plan: &Plan,
        part: &segments::SegmentOverlay,
        work: &Path,
        tag: &str,
    ) -> Result<keyframes::Drawn> {
        let (dir, converted) = (
            work.join(format!("kf-{tag}")),
            work.join(format!("picture-{tag}.png")),
        );
        let overlay = &plan.overlays[part.index];
        let motion = overlay
            .motion
            .clone()
            .ok_or_else(|| Error::Internal("a keyframed overlay without keyframes".into()))?;
        let source = match &overlay.layer {
            overlays::Layer::Text(text) => overlays::draw_text(text),
            overlays::Layer::Picture(asset) => {
                let file = self.store().local_copy(asset, work).await?;
                let keying = overlay.chroma_key.map(|([r, g, b], similarity, blend)| {
                    format!("format=yuv444p,chromakey=0x{r:02x}{g:02x}{b:02x}:{similarity:.4}:{blend:.4},")
                });
                let decoded = match keying {
                    None => decode(tokio::fs::read(&file.path).await?).await.ok(),
                    Some(_) => None,
                };
                match decoded {
                    Some(img) => img,
                    None => {
                        // Through ffmpeg: keyed, or a picture the decoder
                        // here does not read.
                        let filter = format!("{}format=rgba", keying.unwrap_or_default());
                        let mut args = media::input_args(&file.path);
                        let png = ["-c:v", "png", "-f", "image2", "-update", "1"];
                        for a in ["-vf", &filter, "-frames:v", "1"].into_iter().chain(png) {
                            args.push(a.into());
                        }
                        args.push(converted.as_os_str().to_owned());
                        media::ffmpeg(&args).await?;
                        decode(tokio::fs::read(&converted).await?)
                            .await
                            .map_err(|e| {
                                Error::Internal(format!("cannot decode {}: {e}", asset.name))
                            })?
                    }
                }
            }
            overlays::Layer::Clip(_) => {
                return Err(Error::Internal(
                    "keyframes on a clip overlay are not supported".into(),
                ));
            }
        };
        let shown = (part.to - part.from).max(1);
        let poses = motion.poses(overlay.start, plan.fps, part.skip, shown);
        let (shape, frame) = (overlay.shape, (plan.width, plan.height));
        tokio::task::spawn_blocking(move || {
            let mask = |w, h| overlays::shape_coverage(shape, w, h);
            keyframes::draw(&source, &poses, &motion, &mask, frame, &dir)
        })
        .await
        .map_err(|e| Error::Internal(format!("drawing an overlay failed: {e}")))?
    }

    /// A file holding scene `index`'s title, wrapped for the frame, if it has one.
    async fn title_file(&self, plan: &Plan, index: usize, work: &Path) -> Result<Option<PathBuf>> {
        let Some(text) = &plan.scenes[index].text else {
            return Ok(None);
        };
        let path = work.join(format!("title-{index}.txt"));
        let width = if plan.height > plan.width { 18 } else { 32 };
        tokio::fs::write(&path, crate::text::wrap_words(text, width)).await?;
        Ok(Some(path))
    }

    /// The font of the plan's titles and captions as a file (ffmpeg's
    /// drawtext and libass read files; libass every font in its folder):
    /// the brand kit's in a folder of its own in `work`, else the bundled.
    async fn font_file(&self, plan: &Plan, work: &Path) -> Result<PathBuf> {
        if let Some(font) = &plan.look.font {
            let dir = work.join("fonts");
            tokio::fs::create_dir_all(&dir).await?;
            let path = dir.join("brand.ttf");
            tokio::fs::write(&path, &font.bytes).await?;
            return Ok(path);
        }
        let dir = &self.inner.settings.font_dir;
        let path = dir.join("DejaVuSans-Bold.ttf");
        let fresh = tokio::fs::metadata(&path)
            .await
            .is_ok_and(|m| m.len() == FONT_BYTES.len() as u64);
        if !fresh {
            tokio::fs::create_dir_all(dir).await?;
            let tmp = dir.join(format!(".font-{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&tmp, FONT_BYTES).await?;
            tokio::fs::rename(&tmp, &path).await?;
        }
        Ok(path)
    }
}

/// The segments not in the cache, each distinct one once (identical
/// scenes share a key), by index.
fn still_missing(segments: &[Segment], pieces: &HashMap<&str, LocalFile>) -> Vec<usize> {
    let mut wanted: HashSet<&str> = HashSet::new();
    segments
        .iter()
        .enumerate()
        .filter(|(_, s)| !pieces.contains_key(s.key.as_str()) && wanted.insert(&s.key))
        .map(|(i, _)| i)
        .collect()
}

/// Joins the scenes' segments and the soundtrack into `video.mp4` in
/// `work`, without re-encoding the pictures.
async fn join(
    plan: &Plan,
    segments: &[Segment],
    pieces: &HashMap<&str, LocalFile>,
    audio: &Path,
    work: &Path,
    cancel: CancellationToken,
) -> Result<PathBuf> {
    let list = work.join("segments.txt");
    let text: String = segments
        .iter()
        .map(|s| graph::concat_line(&pieces[s.key.as_str()].path))
        .collect();
    tokio::fs::write(&list, text).await?;
    let out = work.join("video.mp4");
    media::ffmpeg_watched(&graph::join_args(plan, &list, audio, &out), &|_| {}, cancel).await?;
    Ok(out)
}

/// What one render works from.
#[derive(Clone, Copy)]
struct Parts<'s> {
    session: &'s SessionId,
    plan: &'s Plan,
    segments: &'s [Segment],
    audio_key: &'s str,
    font: &'s Path,
    work: &'s Path,
}

/// A render's pieces, ready to join, and how many were made.
struct Pieces<'s> {
    pieces: HashMap<&'s str, LocalFile>,
    audio: LocalFile,
    scenes_rendered: usize,
    segments_rendered: usize,
    audio_reused: bool,
}

/// Whose work a render is.
#[derive(Clone, Copy, Debug)]
pub enum ForJob<'a> {
    /// A request's (or the CLI's): no job.
    None,
    /// A step of job `0` that goes on after it (a pipeline): the assets are
    /// marked as the job's outputs, removed if the attempt is run again.
    Part(&'a str),
    /// The job's outcome: the assets are its outputs, made together with
    /// its success (under this claim), or not at all.
    Outcome(&'a JobClaim),
}

impl ForJob<'_> {
    fn id(&self) -> Option<&str> {
        match self {
            ForJob::None => None,
            ForJob::Part(id) => Some(id),
            ForJob::Outcome(claim) => Some(&claim.job_id),
        }
    }

    fn claim(&self) -> Option<&JobClaim> {
        match self {
            ForJob::Outcome(claim) => Some(claim),
            _ => None,
        }
    }
}

/// The finished video as an asset: what it is, the plan's scenes and
/// options, and how the render went (`render`).
fn video_asset(
    plan: &Plan,
    info: &media::MediaInfo,
    version: Option<i64>,
    render: serde_json::Value,
) -> Result<NewAsset> {
    let video = info
        .video
        .clone()
        .ok_or_else(|| Error::Internal("the render has no video stream".into()))?;
    let quality = format!("{:?}", plan.quality).to_lowercase();
    Ok(NewAsset {
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
            "quality": quality,
            "scenes": plan.scenes.len(),
            "timeline": plan.scenes.iter().map(|s| json!({
                "asset_id": s.visual.name, "start": s.start, "duration": s.duration
            })).collect::<Vec<_>>(),
            "timeline_version": version,
            "captions": null, // named once stored
            "music": plan.music.as_ref().map(|m| m.asset.name.to_string()),
            "render": render,
        }),
        job: None,
    })
}

/// The captions as an `.srt` file in `work`, ready to be stored.
async fn subtitles(
    cues: &[(captions::Cue, Vec<crate::text::WordTime>)],
    work: &Path,
) -> Result<(NewAsset, PathBuf)> {
    let path = work.join("captions.srt");
    let plain: Vec<captions::Cue> = cues.iter().map(|(c, _)| c.clone()).collect();
    tokio::fs::write(&path, captions::srt(&plain)).await?;
    let new = NewAsset {
        kind: AssetKind::Subtitles,
        ext: "srt".into(),
        mime_type: "application/x-subrip".into(),
        source: "compose".into(),
        metadata: json!({ "cues": cues.len() }),
        job: None,
    };
    Ok((new, path))
}

/// A picture's bytes decoded (off the async threads).
async fn decode(bytes: Vec<u8>) -> Result<image::RgbaImage> {
    tokio::task::spawn_blocking(move || image::load_from_memory(&bytes))
        .await
        .map_err(|e| Error::Internal(format!("decoding a picture failed: {e}")))?
        .map(|img| img.to_rgba8())
        .map_err(|e| Error::Internal(format!("cannot decode a picture: {e}")))
}

/// Moves the `-filter_complex` graph of an argument vector into `file`
/// (read back with `-filter_complex_script`).
async fn graph_through_file(
    mut args: Vec<std::ffi::OsString>,
    file: &Path,
) -> Result<Vec<std::ffi::OsString>> {
    if let Some(i) = args.iter().position(|a| a == "-filter_complex")
        && i + 1 < args.len()
    {
        tokio::fs::write(file, args[i + 1].as_encoded_bytes()).await?;
        args[i] = "-filter_complex_script".into();
        args[i + 1] = file.as_os_str().to_owned();
    }
    Ok(args)
}

/// Progress over a render's pieces: video frames rendered (per segment, as
/// several render at once) plus the soundtrack's share, as a fraction of the
/// work left to do. Never reports 1.0: that is for the finished file.
struct Meter<'a> {
    progress: Progress<'a>,
    total: f64,
    state: Mutex<MeterState>,
}

#[derive(Default)]
struct MeterState {
    /// Frames done per segment.
    video: HashMap<usize, f64>,
    audio: f64,
    step: String,
    /// The latest segment named in the step: scenes render side by side,
    /// and the step moves forward only ("scene 2", never back to "scene 1").
    named: Option<usize>,
}

impl<'a> Meter<'a> {
    fn new(progress: Progress<'a>, total: f64) -> Self {
        Self {
            progress,
            total: total.max(1.0),
            state: Mutex::default(),
        }
    }

    fn set(&self, segment: usize, frames: f64, step: &str) {
        let mut s = self.state.lock().expect("meter lock");
        s.video.insert(segment, frames);
        if s.named.is_none_or(|named| segment >= named) {
            s.named = Some(segment);
            s.step = step.to_owned();
        }
        self.report(&s);
    }

    fn add_audio(&self, audio: f64) {
        let mut s = self.state.lock().expect("meter lock");
        s.audio = audio;
        if s.step.is_empty() {
            s.step = "mixing audio".into();
        }
        self.report(&s);
    }

    fn report(&self, s: &MeterState) {
        let done = s.video.values().sum::<f64>() + s.audio;
        (self.progress)((done / self.total * 0.98).min(0.98), &s.step);
    }
}

/// An overlay's picture or clip on local disk, and its shape's mask.
struct OverlayFile {
    layer: Source,
    mask: Option<PathBuf>,
}

enum Source {
    Copy(LocalFile),
    Drawn(PathBuf),
    /// A keyframed overlay's frames.
    Frames(keyframes::Drawn),
}

impl OverlayFile {
    fn paths(&self) -> graph::OverlayInput<'_> {
        let layer = match &self.layer {
            Source::Copy(file) => file.path.as_path(),
            Source::Drawn(path) => path.as_path(),
            Source::Frames(drawn) => {
                return graph::OverlayInput::Frames(&drawn.pattern, (drawn.area.x, drawn.area.y));
            }
        };
        graph::OverlayInput::Layer(layer, self.mask.as_deref())
    }
}

/// The local files of one segment's graph.
struct SegmentFiles {
    visual: LocalFile,
    title: Option<PathBuf>,
    blend: Option<(LocalFile, Option<PathBuf>)>,
    script: Option<PathBuf>,
    layers: Vec<OverlayFile>,
}

impl SegmentFiles {
    fn inputs<'a>(&'a self, font: &'a Path) -> graph::SegmentInputs<'a> {
        graph::SegmentInputs {
            visual: &self.visual.path,
            title: self.title.as_deref(),
            blend: self
                .blend
                .as_ref()
                .map(|(file, title)| (file.path.as_path(), title.as_deref())),
            captions: self.script.as_deref(),
            font,
            overlays: self.layers.iter().map(OverlayFile::paths).collect(),
        }
    }
}
