//! The coordinator's hearing tools: `transcribe` a clip or recording, and
//! `cut_speech` — remove its fillers and tighten its pauses on the saved
//! timeline, so that the next render plays it cut.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::compose::timeline::{Cut, SavedTimeline, TimelineItem};
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::transcribe::{CutParams, Transcript, TranscriptParams};

/// Arguments of `transcribe`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct TranscribeParams {
    /// The clip or recording (`video_1.mp4`, `video_1`, `audio_last`); absent:
    /// the newest clip or recording with sound.
    pub asset_id: Option<String>,
}

/// Arguments of `cut_speech`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct CutSpeechParams {
    /// The clip or recording; absent: the newest with sound.
    pub asset_id: Option<String>,
    /// Remove um, uh, er, "you know" …
    pub remove_fillers: Option<bool>,
    /// Shorten every longer pause to this many seconds.
    pub max_pause: Option<f64>,
}

/// Whether an asset has speech to hear: a recording (not music) or a clip
/// with sound that was not composed here.
fn has_sound(a: &Asset) -> bool {
    match a.kind {
        AssetKind::Audio => a.metadata["role"] != "music",
        AssetKind::Video => a.source != "compose" && a.metadata["has_audio"] == true,
        _ => false,
    }
}

/// The asset a request means: a full name, a stem (`video_2`), the newest
/// of a kind (`video_last`), or with none named the newest clip or
/// recording with sound.
async fn spoken_asset(studio: &Studio, session: &SessionId, id: Option<&str>) -> Result<Asset> {
    let assets = match studio.store().list_assets(session, None).await {
        Ok(assets) => assets,
        Err(Error::UnknownSession(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let last = format!("_{}", super::nlu::slots::LAST);
    let found = match id {
        None => assets.iter().rev().find(|a| has_sound(a)),
        Some(id) => match id.strip_suffix(&last) {
            Some(kind) => assets
                .iter()
                .rev()
                .find(|a| has_sound(a) && a.kind.to_string() == kind),
            None => {
                let stem = format!("{id}.");
                assets
                    .iter()
                    .find(|a| a.name.as_str() == id)
                    .or_else(|| assets.iter().find(|a| a.name.as_str().starts_with(&stem)))
            }
        },
    };
    match found {
        Some(a) => Ok(a.clone()),
        None => Err(Error::invalid(
            "asset_id",
            match id {
                Some(id) => format!("the session has no clip or recording named {id:?}"),
                None => "the session has no clip or recording with sound yet: upload one first"
                    .to_owned(),
            },
        )),
    }
}

/// The asset's kept transcript, made now when it has none yet.
async fn transcript_of(studio: &Studio, session: &SessionId, asset: &Asset) -> Result<Transcript> {
    match studio.transcript(session, &asset.name).await {
        Ok(t) => Ok(t),
        Err(Error::UnknownAsset { .. }) => {
            studio
                .transcribe(
                    session,
                    &TranscriptParams {
                        asset_id: asset.name.to_string(),
                        language: None,
                        provider: None,
                        run_async: None,
                        callback: None,
                    },
                )
                .await
        }
        Err(e) => Err(e),
    }
}

/// `transcribe`: what the clip or recording says.
pub async fn transcribe(
    studio: &Studio,
    session: &SessionId,
    p: &TranscribeParams,
) -> Result<Transcript> {
    let asset = spoken_asset(studio, session, p.asset_id.as_deref()).await?;
    transcript_of(studio, session, &asset).await
}

/// `cut_speech`: the cuts that remove the fillers and tighten the pauses of
/// a clip or recording, put on its items of the saved timeline (joined with
/// the cuts they had) and saved as a new version. With nothing saved yet, a
/// clip becomes the timeline.
pub async fn cut_speech(
    studio: &Studio,
    session: &SessionId,
    p: &CutSpeechParams,
) -> Result<Value> {
    let asset = spoken_asset(studio, session, p.asset_id.as_deref()).await?;
    transcript_of(studio, session, &asset).await?;
    let params = CutParams {
        remove_words: None,
        remove_fillers: Some(p.remove_fillers.unwrap_or(p.max_pause.is_none())),
        max_pause: p.max_pause,
    };
    let plan = studio.plan_cuts(session, &asset.name, &params).await?;
    let saved = studio.composer().saved_timeline(session, None).await?;
    let name = asset.name.as_str();
    let mut update = SavedTimeline {
        updated_at: None,
        ..saved.clone()
    };
    let mut items = 0;
    for item in update.timeline.iter_mut().filter(|i| i.asset_id == name) {
        item.cuts = Some(joined(item.cuts.as_deref().unwrap_or_default(), &plan.cuts));
        items += 1;
    }
    if items == 0 {
        if update.timeline.is_empty() && asset.kind == AssetKind::Video {
            update.timeline.push(TimelineItem {
                asset_id: name.to_owned(),
                cuts: Some(plan.cuts.clone()),
                ..Default::default()
            });
            items = 1;
        } else {
            return Err(Error::invalid(
                "asset_id",
                format!("{name} is not in the timeline: add it to a scene first, then cut it"),
            ));
        }
    }
    let saved = studio.composer().save_timeline(session, &update).await?;
    Ok(json!({
        "asset_id": name,
        "cuts": plan.cuts,
        "removed_seconds": plan.removed_seconds,
        "removed_words": plan.removed_words,
        "items": items,
        "timeline_version": saved.version,
    }))
}

/// `a` and `b` as one sorted list of cuts, overlapping ones merged.
fn joined(a: &[Cut], b: &[Cut]) -> Vec<Cut> {
    let mut all: Vec<Cut> = a.iter().chain(b).cloned().collect();
    all.sort_by(|x, y| x.start.total_cmp(&y.start));
    let mut out: Vec<Cut> = Vec::with_capacity(all.len());
    for c in all {
        match out.last_mut() {
            Some(last) if c.start <= last.end => last.end = last.end.max(c.end),
            _ => out.push(c),
        }
    }
    out
}

/// A sentence about a transcript.
pub fn transcript_summary(result: &Value) -> String {
    let name = result["asset_id"].as_str().unwrap_or("the asset");
    let words = result["words"].as_array().map_or(0, Vec::len);
    if words == 0 {
        return format!("I heard no speech in {name}.");
    }
    let text = result["text"].as_str().unwrap_or_default();
    let mut shown: String = text.chars().take(120).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{name} says ({words} words): \"{shown}\"")
}

/// A sentence about cuts made.
pub fn cuts_summary(result: &Value) -> String {
    let name = result["asset_id"].as_str().unwrap_or("the asset");
    let seconds = result["removed_seconds"].as_f64().unwrap_or(0.0);
    if seconds <= 0.0 {
        return format!("{name} has nothing to cut: no fillers or long pauses.");
    }
    format!(
        "I cut {seconds:.1} s from {name} ({} words removed) and saved the timeline; say \"make the video\" to render it.",
        result["removed_words"].as_array().map_or(0, Vec::len)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_joined_in_order_and_merged() {
        let c = |start, end| Cut { start, end };
        assert_eq!(
            joined(&[c(5.0, 6.0), c(1.0, 2.0)], &[c(1.5, 3.0), c(8.0, 9.0)]),
            [c(1.0, 3.0), c(5.0, 6.0), c(8.0, 9.0)]
        );
    }
}
