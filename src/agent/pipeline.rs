//! The automatic pipeline as one tool: text (or, with an LLM, a topic) →
//! script split into scenes → an image prompt per scene → images →
//! voice-over per scene → video with captions (and music) → social post.
//! Every step's output is an ordinary asset of the session; a failing step
//! stops the run with an error naming the step and keeps what was made.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use yake_rust::{Config as YakeConfig, StopWords, get_n_best};

use crate::compose::ForJob;
use crate::compose::timeline::{
    CaptionsOption, ComposeRequest, MusicOptions, OutputOptions, SavedTimeline, TimelineItem,
    Transition,
};
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::jobs::{Claimed, JobView};
use crate::store::Asset;
use crate::studio::Studio;
use crate::text::sentences;
use crate::tools::image::ImageParams;
use crate::tools::social::extractive::detect_language;
use crate::tools::social::{SocialParams, SocialResult};
use crate::tools::speech::SpeechParams;

/// Arguments of `run_full_pipeline`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct PipelineParams {
    /// The text to narrate (an article, a story, a script). Paragraphs become scenes.
    #[arg(skip)]
    pub text: Option<String>,
    /// A topic to write a script about (needs an LLM provider).
    #[arg(long)]
    pub topic: Option<String>,
    /// The narrator, e.g. `en-US-Neural2-D`.
    #[arg(long = "voice")]
    pub voice_name: Option<String>,
    /// Platform for the social post (`youtube` default).
    #[arg(long)]
    pub platform: Option<String>,
    /// `16:9` (default), `9:16`, `1:1`, `4:5`.
    #[arg(long)]
    pub aspect_ratio: Option<String>,
    /// Background music: an audio asset's name (default: the session's
    /// latest upload marked as music, if any).
    #[arg(long)]
    pub music: Option<String>,
    /// Burn in captions (default true).
    #[arg(long)]
    pub captions: Option<bool>,
    /// At most this many scenes (1–20, default 12).
    #[arg(long)]
    pub max_scenes: Option<usize>,
    /// Still pictures and hard cuts instead of the default gentle motion
    /// (varied zooms and pans) and crossfades.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub still: Option<bool>,
}

/// The motion of scene `i` in automatic mode: varied, never the same twice in a row.
const MOTIONS: [&str; 4] = ["zoom_in", "pan_right", "zoom_out", "pan_left"];

/// One scene of the script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScriptScene {
    pub narration: String,
    pub image_prompt: String,
}

/// Writes a script about a bare topic (an LLM provider does; offline there
/// is none, and a topic alone is refused).
#[async_trait::async_trait]
pub trait ScriptWriter: Send + Sync {
    /// At most `max` scenes about `topic`.
    async fn write_script(&self, topic: &str, max: usize) -> Result<Vec<ScriptScene>>;
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SceneResult {
    pub narration: String,
    pub image_prompt: String,
    pub image: String,
    pub audio: String,
}

/// What a finished run made.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PipelineResult {
    pub scenes: Vec<SceneResult>,
    #[schema(value_type = Object)]
    pub video: Asset,
    #[schema(value_type = Object)]
    pub post: SocialResult,
    /// Every asset the run made, in order.
    pub assets: Vec<String>,
}

fn in_step(step: &str, e: Error) -> Error {
    match e {
        Error::Invalid { field, message } => {
            Error::invalid(field, format!("step {step}: {message}"))
        }
        Error::Provider { provider, message } => {
            Error::provider(provider, format!("step {step}: {message}"))
        }
        Error::Cancelled => Error::Cancelled,
        other => Error::Internal(format!("step {step} failed: {other}")),
    }
}

/// Splits a text into scenes: its paragraphs when it has a sensible number of
/// them, else groups of sentences. Each scene's image prompt is made of its
/// key phrases.
pub fn script_from_text(text: &str, max_scenes: usize) -> Vec<ScriptScene> {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect();
    let narrations: Vec<String> = if (2..=max_scenes).contains(&paragraphs.len()) {
        paragraphs
    } else {
        let all = sentences(text);
        let scenes = all.len().div_ceil(2).clamp(1, max_scenes);
        let per = all.len().div_ceil(scenes).max(1);
        all.chunks(per).map(|c| c.join(" ")).collect()
    };
    let language = detect_language(text);
    let stop = StopWords::predefined(&language)
        .or_else(|| StopWords::predefined("en"))
        .unwrap_or_default();
    let config = YakeConfig {
        ngrams: 2,
        ..YakeConfig::default()
    };
    narrations
        .into_iter()
        .map(|narration| {
            let phrases: Vec<String> = get_n_best(4, &narration, &stop, &config)
                .into_iter()
                .map(|p| p.raw)
                .collect();
            // Key phrases first (what the picture is about), then the scene's
            // own words for setting, light and mood.
            let words = crate::text::cut_words(&narration, 240);
            let image_prompt = if phrases.is_empty() {
                words
            } else {
                format!("{}. {words}", phrases.join(", "))
            };
            ScriptScene {
                narration,
                image_prompt,
            }
        })
        .collect()
}

impl PipelineParams {
    /// Checks the request and works out the script (a topic needs an LLM).
    /// `writer`: the LLM that writes a script from a bare topic, if any.
    pub async fn script(
        &self,
        studio: &Studio,
        writer: Option<&dyn ScriptWriter>,
    ) -> Result<Vec<ScriptScene>> {
        let max = self.max_scenes.unwrap_or(12);
        if !(1..=20).contains(&max) {
            return Err(Error::invalid("max_scenes", "must be between 1 and 20"));
        }
        let text = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let topic = self
            .topic
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let scenes = match (text, topic) {
            (Some(text), _) => {
                if text.chars().count() > 20_000 {
                    return Err(Error::invalid("text", "is longer than 20000 characters"));
                }
                script_from_text(text, max)
            }
            (None, Some(topic)) => match writer {
                Some(llm) => llm.write_script(topic, max).await?,
                None => {
                    return Err(Error::invalid(
                        "topic",
                        "writing a script from a bare topic needs an LLM provider (set STUDIO_AGENT_PROVIDER=openai and STUDIO_LLM_*); or send the text to narrate",
                    ));
                }
            },
            (None, None) => {
                return Err(Error::invalid(
                    "text",
                    "give the text to narrate (or a topic, with an LLM provider)",
                ));
            }
        };
        if scenes.is_empty() {
            return Err(Error::invalid("text", "has nothing to narrate"));
        }
        // Before anything is made: no one narrates faster than 3.5 words a
        // second, so a script longer than that surely exceeds the limit.
        let words: usize = scenes
            .iter()
            .map(|s| s.narration.split_whitespace().count())
            .sum();
        let at_least = words as f64 / 3.5;
        let limit = studio.config().max_video_seconds;
        if at_least > limit {
            return Err(Error::invalid(
                "text",
                format!(
                    "would make a video of at least {at_least:.0} s ({words} words); the limit is {limit:.0} s (STUDIO_MAX_VIDEO_SECONDS): shorten the text"
                ),
            ));
        }
        Ok(scenes)
    }
}

/// Runs the whole pipeline, reporting `(step, fraction done)`.
pub async fn run(
    studio: &Studio,
    writer: Option<&dyn ScriptWriter>,
    session: &SessionId,
    params: &PipelineParams,
    progress: &(dyn Fn(&str, f64) + Sync),
) -> Result<PipelineResult> {
    progress("script", 0.0);
    let script = params
        .script(studio, writer)
        .await
        .map_err(|e| in_step("script", e))?;
    run_script(
        studio,
        session,
        params,
        script,
        progress,
        CancellationToken::new(),
        None,
    )
    .await
}

/// Runs `work` unless `cancel` fires first; a cancelled step's future is
/// dropped, which stops its external programs.
async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        outcome = work => outcome,
        _ = cancel.cancelled() => Err(Error::Cancelled),
    }
}

/// Where one run of the pipeline works, and how it reports.
struct Run<'a> {
    studio: &'a Studio,
    session: &'a SessionId,
    params: &'a PipelineParams,
    progress: &'a (dyn Fn(&str, f64) + Sync),
    cancel: CancellationToken,
    /// The job running it, whose outputs its assets are.
    job: Option<&'a str>,
}

/// The pipeline from a script on; `cancel` stops it between and within
/// steps. `job`: the job running it, whose outputs its assets are.
async fn run_script(
    studio: &Studio,
    session: &SessionId,
    params: &PipelineParams,
    script: Vec<ScriptScene>,
    progress: &(dyn Fn(&str, f64) + Sync),
    cancel: CancellationToken,
    job: Option<&str>,
) -> Result<PipelineResult> {
    let run = Run {
        studio,
        session,
        params,
        progress,
        cancel,
        job,
    };
    // Scenes take 70% of the work, the render 25%, the post 5%.
    let scenes = run.make_scenes(&script).await?;
    let mut made: Vec<String> = scenes
        .iter()
        .flat_map(|s| [s.image.clone(), s.audio.clone()])
        .collect();
    progress("compose", 0.7);
    let video = run.render_draft(&scenes).await?;
    if let Some(captions) = video.metadata["captions"].as_str() {
        made.push(captions.to_owned());
    }
    made.push(video.name.to_string());
    progress("social post", 0.95);
    let post = run.write_post(&script).await?;
    made.push(post.asset_id.clone());
    progress("done", 1.0);
    Ok(PipelineResult {
        scenes,
        video,
        post,
        assets: made,
    })
}

impl Run<'_> {
    /// Each scene's picture and voice-over, in order.
    async fn make_scenes(&self, script: &[ScriptScene]) -> Result<Vec<SceneResult>> {
        let (studio, session, params, job) = (self.studio, self.session, self.params, self.job);
        let n = script.len();
        let share = 0.7 / (2 * n) as f64;
        let mut scenes = Vec::new();
        for (i, scene) in script.iter().enumerate() {
            let step = format!("image {}/{n}", i + 1);
            (self.progress)(&step, share * (2 * i) as f64);
            let image = ImageParams {
                prompt: scene.image_prompt.clone(),
                aspect_ratio: params.aspect_ratio.clone(),
                ..Default::default()
            };
            let image = unless_cancelled(&self.cancel, studio.generate_image(session, &image, job))
                .await
                .map_err(|e| in_step(&step, e))?;
            let step = format!("voice-over {}/{n}", i + 1);
            (self.progress)(&step, share * (2 * i + 1) as f64);
            let speech = SpeechParams {
                text: scene.narration.clone(),
                voice_name: params.voice_name.clone(),
                ..Default::default()
            };
            let audio = unless_cancelled(
                &self.cancel,
                studio.synthesize_voiceover(session, &speech, job),
            )
            .await
            .map_err(|e| in_step(&step, e))?;
            scenes.push(SceneResult {
                narration: scene.narration.clone(),
                image_prompt: scene.image_prompt.clone(),
                image: image.name.to_string(),
                audio: audio.name.to_string(),
            });
        }
        Ok(scenes)
    }

    /// The scenes as the session's saved timeline (it opens in the editor
    /// and can be changed and rendered again), rendered.
    async fn render_draft(&self, scenes: &[SceneResult]) -> Result<Asset> {
        let (studio, session) = (self.studio, self.session);
        let music = match &self.params.music {
            Some(m) => Some(m.clone()),
            None => studio
                .store()
                .list_assets(session, Some(AssetKind::Audio))
                .await?
                .into_iter()
                .rev()
                .find(|a| a.metadata["role"] == "music")
                .map(|a| a.name.to_string()),
        };
        let req = draft_request(self.params, scenes, music);
        let composer = studio.composer();
        let saved = composer
            .save_timeline(session, &SavedTimeline::from_request(&req))
            .await
            .map_err(|e| in_step("compose", e))?;
        let plan = composer
            .plan(session, &req)
            .await
            .map_err(|e| in_step("compose", e))?;
        // The render's own steps ("rendering scene 3 of 12") go through, so
        // the page can estimate from the scenes rendered so far.
        let render_progress = |p: f64, step: &str| (self.progress)(step, 0.7 + 0.25 * p);
        composer
            .render(
                session,
                &plan,
                saved.version,
                &render_progress,
                self.cancel.clone(),
                self.job.map_or(ForJob::None, ForJob::Part),
            )
            .await
            .map_err(|e| in_step("compose", e))
    }

    /// The post about the whole narration.
    async fn write_post(&self, script: &[ScriptScene]) -> Result<SocialResult> {
        let text = script
            .iter()
            .map(|s| s.narration.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let params = SocialParams {
            text,
            platform: self.params.platform.clone(),
            ..Default::default()
        };
        unless_cancelled(
            &self.cancel,
            self.studio
                .generate_social_post(self.session, &params, self.job),
        )
        .await
        .map_err(|e| in_step("social post", e))
    }
}

/// The draft's compose request: each scene's picture (gently moving, and
/// crossfading, unless `still`) and its voice-over, with captions and music.
fn draft_request(
    params: &PipelineParams,
    scenes: &[SceneResult],
    music: Option<String>,
) -> ComposeRequest {
    let moving = !params.still.unwrap_or(false);
    ComposeRequest {
        timeline: Some(
            scenes
                .iter()
                .enumerate()
                .flat_map(|(i, s)| {
                    let image = TimelineItem {
                        asset_id: s.image.clone(),
                        effect: moving.then(|| MOTIONS[i % MOTIONS.len()].to_owned()),
                        transition: moving.then(|| Transition {
                            kind: if i == 0 { "fade" } else { "crossfade" }.to_owned(),
                            duration: Some(if i == 0 { 0.4 } else { 0.6 }),
                        }),
                        ..Default::default()
                    };
                    let audio = TimelineItem {
                        asset_id: s.audio.clone(),
                        ..Default::default()
                    };
                    [image, audio]
                })
                .collect(),
        ),
        output: params.aspect_ratio.clone().map(|r| OutputOptions {
            aspect_ratio: Some(r),
            ..Default::default()
        }),
        captions: Some(CaptionsOption::On(params.captions.unwrap_or(true))),
        music: music.map(|asset_id| MusicOptions {
            asset_id,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Checks the request, then queues the pipeline as a job for any worker
/// (with its script, so that the worker needs no script writer).
pub async fn start(
    studio: &Studio,
    writer: Option<&dyn ScriptWriter>,
    session: &SessionId,
    params: &PipelineParams,
    callback: Option<&crate::webhooks::Callback>,
    asker: Option<&str>,
) -> Result<JobView> {
    // The script first: bad input fails the request itself, not the job.
    let script = params.script(studio, writer).await?;
    let input = PipelineJob {
        params: params.clone(),
        script,
    };
    studio.jobs().submit(session, &input, callback, asker).await
}

/// An automatic pipeline queued for a worker, with its script written.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct PipelineJob {
    pub params: PipelineParams,
    pub script: Vec<ScriptScene>,
}

impl crate::jobs::JobKind for PipelineJob {
    const KIND: &'static str = "pipeline";
}

/// Runs a queued pipeline on a worker.
pub async fn run_job(
    studio: &Studio,
    job: &Claimed,
    input: PipelineJob,
) -> Result<serde_json::Value> {
    let progress = |step: &str, p: f64| job.progress(p, Some(step));
    // The job's session as it began: deleted meanwhile, its end is not
    // written into a session made again.
    let since = studio.store().session_since(&job.session).await?;
    let outcome = run_script(
        studio,
        &job.session,
        &input.params,
        input.script,
        &progress,
        job.cancel_token(),
        Some(job.id()),
    )
    .await;
    // The end goes into the session's conversation, so that the chat shows
    // it (and the video) after a reload too.
    let (text, video) = match &outcome {
        Ok(result) => (
            format!(
                "Your video is ready: {} ({:.1} s, {} scenes), with a post: \"{}\". \
                 It is now your timeline: change a line, swap a picture, preview again.",
                result.video.name,
                result.video.metadata["duration_seconds"]
                    .as_f64()
                    .unwrap_or(0.0),
                result.scenes.len(),
                result.post.post.title
            ),
            Some(json!(result.video)),
        ),
        Err(Error::Cancelled) => ("The video was cancelled.".to_owned(), None),
        Err(e) => (format!("The video could not be made: {e}"), None),
    };
    if let Err(e) = studio
        .store()
        .append_message(
            (&job.session, since),
            "assistant",
            &text,
            Some("run_full_pipeline"),
            video.as_ref(),
        )
        .await
    {
        tracing::warn!(error = %e, "the pipeline's end was not added to the conversation");
    }
    Ok(json!(outcome?))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_scenes_with_prompts() {
        let text = "The ocean covers most of the planet.\n\nDeep forests hold ancient trees.\n\nCities glow with neon at night.";
        let script = script_from_text(text, 12);
        assert_eq!(script.len(), 3);
        assert_eq!(script[2].narration, "Cities glow with neon at night.");
        assert!(
            script[0].image_prompt.to_lowercase().contains("ocean"),
            "{:?}",
            script[0]
        );
        let one = script_from_text(
            "A single paragraph. With three sentences. That get grouped.",
            12,
        );
        assert_eq!(one.len(), 2);
        assert_eq!(script_from_text(&"Sentence here. ".repeat(100), 5).len(), 5);
    }
}
