//! The coordinator's layer tools, editing the session's saved timeline as
//! `cut_speech` does: `add_logo` puts a picture (the brand kit's logo by
//! default) in a corner for the whole video, `add_text_overlay` a lower
//! third or title for some seconds, `set_clip_speed` plays a clip item
//! faster or slower. Each saves a new version (validated as a compose
//! would be) and says what it did; what it cannot do — no logo, no words
//! for a caption, no timeline, a save refused — it answers in plain words
//! with `"done": false` and leaves the timeline as it was.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::compose::overlays::{Overlay, OverlayPosition, PRESETS};
use crate::compose::timeline::{SavedTimeline, TimelineItem, limits};
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::Asset;
use crate::studio::Studio;

/// A logo's width, a fraction of the frame's.
pub const LOGO_WIDTH: f64 = 0.12;
/// Where a logo goes when the request names no place.
pub const LOGO_PLACE: &str = "top_right";
/// How long a text overlay shows when the request does not say, seconds.
pub const TEXT_SECONDS: f64 = 4.0;

/// Arguments of `add_logo`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct AddLogoParams {
    /// The picture (`image_3.png`, `image_3`, `image_last`); absent: the
    /// brand kit's logo, else the newest uploaded picture.
    pub asset_id: Option<String>,
    /// `top_left`, `top`, `top_right` (default), `left`, `center`, `right`,
    /// `bottom_left`, `bottom` or `bottom_right`.
    pub position: Option<String>,
    /// Its width as a fraction of the frame's (default 0.12).
    pub width: Option<f64>,
}

/// Arguments of `add_text_overlay`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct AddTextOverlayParams {
    /// The words shown (a name, a title); never made up: absent, the tool
    /// asks for them.
    pub text: Option<String>,
    /// A smaller second line (a lower third's role: "Mathematician").
    pub subtitle: Option<String>,
    /// `lower_third` (default: a name under a speaker), `title` (large,
    /// centred) or `label`.
    pub style: Option<String>,
    /// Seconds of the video (default 0).
    pub start: Option<f64>,
    /// Seconds of the video (default: start + duration).
    pub end: Option<f64>,
    /// How long it shows when `end` is not given (default 4).
    pub duration: Option<f64>,
    /// Show it in the video's last seconds instead.
    pub at_end: Option<bool>,
}

/// Arguments of `set_clip_speed`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct SetClipSpeedParams {
    /// Which clip: 1 = the first video clip item of the saved timeline
    /// (pictures and audio not counted), 2 the second …; -1 the last.
    pub clip: Option<i64>,
    /// Or the clip's asset (`video_1.mp4`, `video_1`): all of its items.
    pub asset_id: Option<String>,
    /// 0.25–4: 2 = twice as fast, 0.5 = half speed, 1 = normal.
    pub speed: Option<f64>,
}

/// What a tool says when it did nothing.
fn answer(reason: &str, message: impl Into<String>) -> Value {
    json!({"done": false, "reason": reason, "message": message.into()})
}

fn no_timeline(what: &str) -> Value {
    answer(
        "no_timeline",
        format!(
            "There is no saved timeline yet to {what}: make a video first (\"make a video from this text: …\" saves its timeline, or lay out the scenes in the editor), then ask me again."
        ),
    )
}

async fn assets_of(studio: &Studio, session: &SessionId) -> Result<Vec<Asset>> {
    match studio.store().list_assets(session, None).await {
        Ok(assets) => Ok(assets),
        Err(Error::UnknownSession(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// An asset a request names: a full name, a stem (`image_2`), or the
/// newest of a kind (`image_last`; clips composed here not counted).
fn named<'a>(assets: &'a [Asset], id: &str) -> Option<&'a Asset> {
    let last = format!("_{}", super::nlu::slots::LAST);
    match id.strip_suffix(&last) {
        Some(kind) => assets.iter().rev().find(|a| {
            a.kind.to_string() == kind && !(a.kind == AssetKind::Video && a.source == "compose")
        }),
        None => {
            let stem = format!("{id}.");
            assets
                .iter()
                .find(|a| a.name.as_str() == id)
                .or_else(|| assets.iter().find(|a| a.name.as_str().starts_with(&stem)))
        }
    }
}

/// What an edit of the saved timeline came to.
enum Edited<T> {
    /// Saved as this version.
    Saved(Box<SavedTimeline>, T),
    /// Nothing saved; this is why.
    Answer(Value),
}

/// Applies `edit` to the saved timeline and saves the result as the next
/// version, only if nobody saved another in between (then once more on
/// theirs). The edit answers instead when it cannot be done; a save the
/// timeline's checks refuse is answered with their reason.
async fn edit_timeline<T>(
    studio: &Studio,
    session: &SessionId,
    mut edit: impl FnMut(&mut SavedTimeline) -> std::result::Result<T, Value>,
) -> Result<Edited<T>> {
    for attempt in 0..2 {
        let mut timeline = match studio.composer().saved_timeline(session, None).await {
            Ok(saved) => saved,
            Err(Error::UnknownSession(_)) => SavedTimeline::default(),
            Err(e) => return Err(e),
        };
        timeline.updated_at = None;
        let done = match edit(&mut timeline) {
            Ok(done) => done,
            Err(answer) => return Ok(Edited::Answer(answer)),
        };
        match studio.composer().save_timeline(session, &timeline).await {
            Ok(saved) => return Ok(Edited::Saved(Box::new(saved), done)),
            Err(Error::VersionConflict { .. }) if attempt == 0 => continue,
            Err(Error::VersionConflict { .. }) => {
                return Ok(Edited::Answer(answer(
                    "conflict",
                    "The timeline was changed by another edit while I was saving mine, twice: nothing is changed; ask me again.",
                )));
            }
            Err(Error::Invalid { message, .. }) => {
                return Ok(Edited::Answer(answer(
                    "not_saved",
                    format!("I could not save that change: {message}."),
                )));
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// The picture to put in a corner: the one named, else the brand kit's
/// logo when it is a picture of this session (a key's default kit names
/// the logo of another session: only a picture of that name here counts),
/// else the newest uploaded picture. With `source`: named, brand, upload.
async fn logo_for(
    studio: &Studio,
    session: &SessionId,
    assets: &[Asset],
    id: Option<&str>,
) -> Result<std::result::Result<(Asset, &'static str), Value>> {
    if let Some(id) = id {
        return Ok(match named(assets, id) {
            Some(a) if a.kind == AssetKind::Image => Ok((a.clone(), "named")),
            Some(a) => Err(answer(
                "not_a_picture",
                format!(
                    "{} is a {} asset, not a picture: I can put pictures in a corner (say \"put image 2 in the corner\").",
                    a.name, a.kind
                ),
            )),
            None => Err(answer(
                "unknown_asset",
                format!("This session has no picture called {id}."),
            )),
        });
    }
    let kit_logo = match studio.composer().brand(session).await {
        Ok(view) => view.logo,
        Err(Error::UnknownSession(_)) => None,
        Err(e) => return Err(e),
    };
    let picture = |name: &str| {
        assets
            .iter()
            .find(|a| a.kind == AssetKind::Image && a.name.as_str() == name)
    };
    if let Some(a) = kit_logo.as_deref().and_then(picture) {
        return Ok(Ok((a.clone(), "brand")));
    }
    if let Some(a) = assets
        .iter()
        .rev()
        .find(|a| a.kind == AssetKind::Image && a.source == "upload")
    {
        return Ok(Ok((a.clone(), "upload")));
    }
    Ok(Err(answer(
        "no_logo",
        "There is no logo to use: upload your logo (a PNG picture) or set one in the brand kit, then ask again.",
    )))
}

const CORNERS: [&str; 4] = ["top_left", "top_right", "bottom_left", "bottom_right"];

/// Puts picture `name` at `place` over the whole video: the overlay it
/// already has is moved (keeping its size, unless `width` is given), else
/// one is added. Without a place named, a picture already in a corner
/// stays there; otherwise it goes to the top right. Gives the overlay's
/// index, whether it moved, and where it is now.
fn place_picture(
    overlays: &mut Vec<Overlay>,
    name: &str,
    place: Option<&str>,
    width: Option<f64>,
) -> (usize, bool, String) {
    let existing = overlays
        .iter()
        .position(|o| o.asset_id.as_deref() == Some(name) && o.text.is_none());
    let kept = existing.and_then(|i| match &overlays[i].position {
        Some(OverlayPosition::Preset(p)) if CORNERS.contains(&p.as_str()) => Some(p.clone()),
        _ => None,
    });
    let place = place
        .map(str::to_owned)
        .or(kept)
        .unwrap_or_else(|| LOGO_PLACE.to_owned());
    match existing {
        Some(i) => {
            let o = &mut overlays[i];
            o.position = Some(OverlayPosition::Preset(place.clone()));
            if let Some(w) = width {
                o.width = Some(w);
                o.height = None;
            }
            (i, true, place)
        }
        None => {
            overlays.push(Overlay {
                asset_id: Some(name.to_owned()),
                position: Some(OverlayPosition::Preset(place.clone())),
                width: Some(width.unwrap_or(LOGO_WIDTH)),
                ..Overlay::default()
            });
            (overlays.len() - 1, false, place)
        }
    }
}

/// `add_logo`: a picture in a corner of the whole video.
pub async fn add_logo(studio: &Studio, session: &SessionId, p: &AddLogoParams) -> Result<Value> {
    // "Top Left", "top-left", "centre" as the presets spell them.
    let position = p.position.as_deref().map(|place| {
        let place = place.trim().to_lowercase().replace([' ', '-'], "_");
        if place == "centre" || place == "middle" {
            "center".to_owned()
        } else {
            place
        }
    });
    if let Some(place) = position.as_deref()
        && !PRESETS.contains(&place)
    {
        return Ok(answer(
            "position",
            format!(
                "I do not know the place {place:?}: say one of {}.",
                PRESETS.join(", ").replace('_', " ")
            ),
        ));
    }
    let assets = assets_of(studio, session).await?;
    let (logo, source) = match logo_for(studio, session, &assets, p.asset_id.as_deref()).await? {
        Ok(found) => found,
        Err(answer) => return Ok(answer),
    };
    let name = logo.name.as_str();
    let edited = edit_timeline(studio, session, |t| {
        if t.timeline.is_empty() {
            return Err(no_timeline("put a logo on"));
        }
        let overlays = t.overlays.get_or_insert_with(Vec::new);
        Ok(place_picture(overlays, name, position.as_deref(), p.width))
    })
    .await?;
    Ok(match edited {
        Edited::Answer(answer) => answer,
        Edited::Saved(saved, (index, moved, place)) => json!({
            "done": true,
            "asset_id": name,
            "source": source,
            "position": place,
            "moved": moved,
            "overlay_index": index,
            "overlay": saved.overlays.as_ref().and_then(|o| o.get(index)),
            "timeline_version": saved.version,
        }),
    })
}

/// Whether `text` is an actual caption, not a stand-in for one ("my name").
fn real_words(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    !t.is_empty()
        && !matches!(
            t,
            "my name"
                | "your name"
                | "name"
                | "the name"
                | "his name"
                | "her name"
                | "their name"
                | "title"
                | "my title"
                | "text"
                | "caption"
                | "name here"
                | "your name here"
                | "my name and title"
                | "name and title"
        )
}

/// `add_text_overlay`: a lower third, title or label for some seconds.
pub async fn add_text_overlay(
    studio: &Studio,
    session: &SessionId,
    p: &AddTextOverlayParams,
) -> Result<Value> {
    let Caption {
        style,
        text,
        subtitle,
        length,
    } = match caption_asked(p) {
        Ok(caption) => caption,
        Err(answer) => return Ok(answer),
    };
    let assets = assets_of(studio, session).await?;
    let edited = edit_timeline(studio, session, |t| {
        if t.timeline.is_empty() {
            return Err(no_timeline("add a caption to"));
        }
        let (start, end) = caption_times(t, &assets, p, length)?;
        let overlays = t.overlays.get_or_insert_with(Vec::new);
        overlays.push(Overlay {
            text: Some(text.to_owned()),
            subtitle: subtitle.map(str::to_owned),
            style: Some(style.to_owned()),
            start: Some(start),
            end: Some(end),
            ..Overlay::default()
        });
        Ok((overlays.len() - 1, start, end))
    })
    .await?;
    Ok(match edited {
        Edited::Answer(answer) => answer,
        Edited::Saved(saved, (index, start, end)) => json!({
            "done": true,
            "text": text,
            "subtitle": subtitle,
            "style": style,
            "start": start,
            "end": end,
            "overlay_index": index,
            "timeline_version": saved.version,
        }),
    })
}

/// A caption as asked: its style, words, second line and seconds on screen.
struct Caption<'a> {
    style: &'a str,
    text: &'a str,
    subtitle: Option<&'a str>,
    length: f64,
}

/// The caption a request asks for, checked; else the answer that asks for
/// what is missing or wrong.
fn caption_asked(p: &AddTextOverlayParams) -> std::result::Result<Caption<'_>, Value> {
    let style = p.style.as_deref().unwrap_or("lower_third");
    if !matches!(style, "lower_third" | "title" | "label") {
        return Err(answer(
            "style",
            format!("I do not know the style {style:?}: say lower third, title or label."),
        ));
    }
    let Some(text) = p.text.as_deref().map(str::trim).filter(|t| real_words(t)) else {
        return Err(answer(
            "needs_text",
            match style {
                "title" => "What should the title say? Say: put the title 'Big news' at the start",
                "label" => {
                    "What should the label say? Say: add a label saying New from 2 to 5 seconds"
                }
                _ => {
                    "What name should the caption show? Say: add a caption saying Ada Lovelace from 2 to 5 seconds"
                }
            },
        ));
    };
    let subtitle = p
        .subtitle
        .as_deref()
        .map(str::trim)
        .filter(|s| real_words(s));
    let length = p.duration.unwrap_or(TEXT_SECONDS);
    if !length.is_finite() || length <= 0.0 {
        return Err(answer(
            "duration",
            "A caption shows for some seconds: say for how long, e.g. \"for 4 seconds\".",
        ));
    }
    Ok(Caption {
        style,
        text,
        subtitle,
        length,
    })
}

/// When a caption `length` seconds long shows: from and to the seconds
/// asked, else from the start (or up to the video's end, for `at_end`);
/// else the answer saying why not.
fn caption_times(
    t: &SavedTimeline,
    assets: &[Asset],
    p: &AddTextOverlayParams,
    length: f64,
) -> std::result::Result<(f64, f64), Value> {
    let (start, end) = match (p.start, p.end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + length),
        (None, Some(e)) => (0.0, e),
        (None, None) if p.at_end == Some(true) => {
            let total = t
                .to_request()
                .plan(assets, f64::MAX)
                .map_err(|e| answer("not_saved", format!("I could not place it: {e}.")))?
                .total;
            ((total - length).max(0.0), total)
        }
        (None, None) => (0.0, length),
    };
    if !(start.is_finite() && end.is_finite() && start >= 0.0 && end > start) {
        return Err(answer(
            "times",
            format!(
                "A caption ends after it starts: from {start} s to {end} s does not work. Say e.g. \"from 2 to 5 seconds\"."
            ),
        ));
    }
    Ok((start, end))
}

/// The items of `timeline` a speed request means: the `clip`-th video clip
/// item (1-based, negative from the end), or every item of the clip
/// `asset_id` names, or the only clip. Else a plain answer.
fn clip_items(
    timeline: &[TimelineItem],
    assets: &[Asset],
    clip: Option<i64>,
    asset_id: Option<&str>,
) -> std::result::Result<Vec<usize>, Value> {
    let clips = video_items(timeline, assets);
    let count = match clips.len() {
        0 => {
            return Err(answer(
                "no_clip",
                "The timeline has no video clips: only clips have a speed.",
            ));
        }
        1 => "one clip".to_owned(),
        n => format!("{n} clips"),
    };
    if let Some(n) = clip {
        return nth_clip(&clips, n, &count);
    }
    if let Some(id) = asset_id {
        return items_of_clip(timeline, assets, &clips, id);
    }
    if clips.len() == 1 {
        return Ok(clips);
    }
    Err(which_clip(timeline, &clips, &count))
}

/// The timeline's items that show a video clip, in order.
fn video_items(timeline: &[TimelineItem], assets: &[Asset]) -> Vec<usize> {
    let kind_of = |name: &str| {
        assets
            .iter()
            .find(|a| a.name.as_str() == name)
            .map(|a| a.kind)
    };
    timeline
        .iter()
        .enumerate()
        .filter(|(_, item)| kind_of(&item.asset_id) == Some(AssetKind::Video))
        .map(|(i, _)| i)
        .collect()
}

/// The `n`-th of the clip items (1-based, negative from the end); else the
/// answer that there is none (the timeline has `count`).
fn nth_clip(clips: &[usize], n: i64, count: &str) -> std::result::Result<Vec<usize>, Value> {
    let at = match n {
        1.. => clips.get(n as usize - 1),
        ..=-1 => clips
            .len()
            .checked_sub(n.unsigned_abs() as usize)
            .and_then(|i| clips.get(i)),
        0 => None,
    };
    at.map(|i| vec![*i]).ok_or_else(|| {
        answer(
            "no_clip",
            format!("The timeline has {count}; there is no clip {n}."),
        )
    })
}

/// The clip items that show the asset `id` names; else the answer that it
/// is unknown, not a video or not in the timeline.
fn items_of_clip(
    timeline: &[TimelineItem],
    assets: &[Asset],
    clips: &[usize],
    id: &str,
) -> std::result::Result<Vec<usize>, Value> {
    let Some(asset) = named(assets, id) else {
        return Err(answer(
            "unknown_asset",
            format!("This session has no clip called {id}."),
        ));
    };
    if asset.kind != AssetKind::Video {
        return Err(answer(
            "not_a_clip",
            format!(
                "{} is a {} asset: only video clips have a speed.",
                asset.name, asset.kind
            ),
        ));
    }
    let items: Vec<usize> = clips
        .iter()
        .copied()
        .filter(|i| timeline[*i].asset_id == asset.name.as_str())
        .collect();
    if items.is_empty() {
        return Err(answer(
            "not_in_timeline",
            format!(
                "{} is not in the timeline: add it to a scene first, then change its speed.",
                asset.name
            ),
        ));
    }
    Ok(items)
}

/// The answer asking which of several clips (the timeline has `count`) is meant.
fn which_clip(timeline: &[TimelineItem], clips: &[usize], count: &str) -> Value {
    let names: Vec<String> = clips
        .iter()
        .enumerate()
        .map(|(k, i)| format!("clip {} is {}", k + 1, timeline[*i].asset_id))
        .collect();
    answer(
        "which_clip",
        format!(
            "Which clip? The timeline has {count} ({}): say e.g. \"make clip 2 twice as fast\".",
            names.join(", ")
        ),
    )
}

/// `set_clip_speed`: a clip item plays faster or slower. An item with a
/// given length keeps playing the same footage: its length is scaled too.
pub async fn set_clip_speed(
    studio: &Studio,
    session: &SessionId,
    p: &SetClipSpeedParams,
) -> Result<Value> {
    let Some(speed) = p.speed else {
        return Ok(answer(
            "needs_speed",
            "How fast should it play? Say e.g. \"make clip 2 twice as fast\" or \"slow clip 1 down to half speed\".",
        ));
    };
    let (min, max) = limits::SPEED;
    if !speed.is_finite() || speed < min || speed > max {
        return Ok(answer(
            "speed",
            format!("A clip plays from {min}× to {max}× its speed; {speed}× is outside that."),
        ));
    }
    let assets = assets_of(studio, session).await?;
    let total = |t: &SavedTimeline| t.to_request().plan(&assets, f64::MAX).ok().map(|p| p.total);
    let edited = edit_timeline(studio, session, |t| {
        if t.timeline.is_empty() {
            return Err(no_timeline("change a clip's speed in"));
        }
        let items = clip_items(&t.timeline, &assets, p.clip, p.asset_id.as_deref())?;
        let before = total(t);
        for &i in &items {
            let item = &mut t.timeline[i];
            let old = item.speed.unwrap_or(1.0);
            if let Some(d) = item.duration {
                item.duration = Some(d * old / speed);
            }
            item.speed = ((speed - 1.0).abs() > 1e-9).then_some(speed);
        }
        Ok((items, before))
    })
    .await?;
    Ok(match edited {
        Edited::Answer(answer) => answer,
        Edited::Saved(saved, (items, before)) => {
            let clips: Vec<&str> = items
                .iter()
                .map(|i| saved.timeline[*i].asset_id.as_str())
                .collect();
            json!({
                "done": true,
                "speed": speed,
                "items": items,
                "asset_id": clips.first(),
                "seconds_before": before,
                "seconds_after": total(&saved),
                "timeline_version": saved.version,
            })
        }
    })
}

/// "2×", "0.5×", "1.5×".
fn times_sign(x: f64) -> String {
    format!("{}×", (x * 100.0).round() / 100.0)
}

const RENDER_IT: &str = "say \"make the video\" to render it.";

/// A sentence about a layer tool's result.
pub fn summary(tool: &str, result: &Value) -> String {
    if result["done"] != true {
        return result["message"]
            .as_str()
            .unwrap_or("I did not change the timeline.")
            .to_owned();
    }
    let place = |p: &str| p.replace('_', " ");
    match tool {
        "add_logo" => {
            let name = result["asset_id"].as_str().unwrap_or("the picture");
            let what = match result["source"].as_str() {
                Some("brand") => format!("your brand logo {name}"),
                Some("upload") => format!("{name} (your newest uploaded picture)"),
                _ => name.to_owned(),
            };
            let verb = if result["moved"] == true {
                "moved"
            } else {
                "put"
            };
            let at = result["position"].as_str().unwrap_or(LOGO_PLACE);
            let at = if CORNERS.contains(&at) {
                format!("the {} corner", place(at))
            } else {
                format!("the {}", place(at))
            };
            format!(
                "I {verb} {what} in {at} for the whole video and saved the timeline; {RENDER_IT}"
            )
        }
        "add_text_overlay" => {
            let kind = match result["style"].as_str() {
                Some("title") => "a title",
                Some("label") => "a label",
                _ => "a lower third",
            };
            let mut words = result["text"].as_str().unwrap_or_default().to_owned();
            if let Some(sub) = result["subtitle"].as_str() {
                words = format!("{words} — {sub}");
            }
            let (start, end) = (
                result["start"].as_f64().unwrap_or(0.0),
                result["end"].as_f64().unwrap_or(0.0),
            );
            format!(
                "I added {kind} \"{words}\" from {} s to {} s and saved the timeline; {RENDER_IT}",
                (start * 100.0).round() / 100.0,
                (end * 100.0).round() / 100.0
            )
        }
        _ => {
            let speed = result["speed"].as_f64().unwrap_or(1.0);
            let name = result["asset_id"].as_str().unwrap_or("the clip");
            let pace = if (speed - 1.0).abs() < 1e-9 {
                "at its normal speed".to_owned()
            } else {
                format!("at {}", times_sign(speed))
            };
            let length = match (
                result["seconds_before"].as_f64(),
                result["seconds_after"].as_f64(),
            ) {
                (Some(b), Some(a)) => format!("; the video now lasts {a:.1} s (was {b:.1} s)"),
                _ => String::new(),
            };
            format!("{name} now plays {pace}{length}. I saved the timeline; {RENDER_IT}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, kind: AssetKind) -> Asset {
        Asset {
            asset_id: crate::ids::AssetName::parse(name).unwrap(),
            session_id: SessionId::parse("s").unwrap(),
            kind,
            name: crate::ids::AssetName::parse(name).unwrap(),
            url: String::new(),
            mime_type: String::new(),
            size_bytes: 1,
            created_at: chrono::Utc::now(),
            source: "upload".into(),
            metadata: json!({"duration_seconds": 2.0}),
            storage_key: String::new(),
        }
    }

    fn item(name: &str) -> TimelineItem {
        TimelineItem {
            asset_id: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn clip_two_is_the_second_clip_item_and_video_one_its_asset() {
        let assets = [
            asset("image_1.png", AssetKind::Image),
            asset("video_1.mp4", AssetKind::Video),
            asset("video_2.mp4", AssetKind::Video),
            asset("audio_1.mp3", AssetKind::Audio),
        ];
        let timeline = [
            item("image_1.png"),
            item("video_2.mp4"),
            item("audio_1.mp3"),
            item("video_1.mp4"),
            item("video_2.mp4"),
        ];
        let pick = |clip, id| clip_items(&timeline, &assets, clip, id);
        assert_eq!(pick(Some(1), None).unwrap(), [1]);
        assert_eq!(pick(Some(2), None).unwrap(), [3]);
        assert_eq!(pick(Some(-1), None).unwrap(), [4]);
        assert_eq!(pick(None, Some("video_1")).unwrap(), [3]);
        assert_eq!(pick(None, Some("video_2.mp4")).unwrap(), [1, 4]);
        assert_eq!(pick(None, Some("video_last")).unwrap(), [1, 4]);
        assert_eq!(pick(Some(4), None).unwrap_err()["reason"], "no_clip");
        assert_eq!(pick(Some(0), None).unwrap_err()["reason"], "no_clip");
        assert_eq!(
            pick(None, Some("image_1")).unwrap_err()["reason"],
            "not_a_clip"
        );
        let which = pick(None, None).unwrap_err();
        assert_eq!(which["reason"], "which_clip");
        assert!(
            which["message"]
                .as_str()
                .unwrap()
                .contains("clip 2 is video_1.mp4"),
            "{which}"
        );
        let one = [item("image_1.png"), item("video_1.mp4")];
        assert_eq!(clip_items(&one, &assets, None, None).unwrap(), [1]);
        assert_eq!(
            clip_items(&[item("image_1.png")], &assets, Some(1), None).unwrap_err()["reason"],
            "no_clip"
        );
    }

    #[test]
    fn a_picture_already_placed_moves_instead_of_doubling() {
        let mut overlays = vec![Overlay {
            text: Some("Ada".into()),
            ..Overlay::default()
        }];
        let (i, moved, at) = place_picture(&mut overlays, "image_1.png", None, None);
        assert_eq!((i, moved, at.as_str()), (1, false, "top_right"));
        assert_eq!(overlays[1].width, Some(LOGO_WIDTH));
        assert_eq!(overlays[1].start, None, "the whole video");
        let (i, moved, at) = place_picture(&mut overlays, "image_1.png", Some("top_left"), None);
        assert_eq!((i, moved, at.as_str()), (1, true, "top_left"));
        // No place named: a picture in a corner stays there.
        let (_, _, at) = place_picture(&mut overlays, "image_1.png", None, None);
        assert_eq!(at, "top_left");
        assert_eq!(overlays.len(), 2);
        overlays[1].position = Some(OverlayPosition::Preset("center".into()));
        let (_, _, at) = place_picture(&mut overlays, "image_1.png", None, Some(0.2));
        assert_eq!(at, "top_right");
        assert_eq!(overlays[1].width, Some(0.2));
        let (i, moved, _) = place_picture(&mut overlays, "image_2.png", Some("bottom"), None);
        assert_eq!((i, moved), (2, false));
    }

    #[test]
    fn stand_ins_are_not_words() {
        for t in ["my name", "My Name", "[name]", " name ", "your name here"] {
            assert!(!real_words(t), "{t}");
        }
        for t in ["Ada Lovelace", "Big news", "Name That Tune"] {
            assert!(real_words(t), "{t}");
        }
    }

    #[test]
    fn summaries_say_what_was_done() {
        let logo = json!({"done": true, "asset_id": "image_1.png", "source": "brand", "position": "top_right", "moved": false});
        assert_eq!(
            summary("add_logo", &logo),
            "I put your brand logo image_1.png in the top right corner for the whole video and saved the timeline; say \"make the video\" to render it."
        );
        let text = json!({"done": true, "text": "Ada Lovelace", "subtitle": "Mathematician", "style": "lower_third", "start": 2.0, "end": 5.0});
        assert!(
            summary("add_text_overlay", &text).starts_with(
                "I added a lower third \"Ada Lovelace — Mathematician\" from 2 s to 5 s"
            )
        );
        let speed = json!({"done": true, "speed": 2.0, "asset_id": "video_1.mp4", "seconds_before": 6.0, "seconds_after": 5.0});
        assert!(
            summary("set_clip_speed", &speed)
                .starts_with("video_1.mp4 now plays at 2×; the video now lasts 5.0 s (was 6.0 s)")
        );
        let no = answer("no_logo", "There is no logo to use.");
        assert_eq!(summary("add_logo", &no), "There is no logo to use.");
    }
}
