//! Captions from the narration's word timings, to broadcast norms (the
//! Netflix and BBC timed-text guidelines): at most two lines of at most 42
//! characters (16:9) or 32 (9:16, 1:1, 4:5), cues of 0.8–7 s broken at
//! phrase boundaries, no lone word on a line when a better break exists, and
//! never two cues at once. The same cues make the `.srt` asset; the burned-in
//! captions are an ASS script at the output's own resolution (exact sizes
//! and safe-area margins), in one of three styles, rendered by libass.

use std::fmt::Write as _;

use crate::text::{WordTime, word_times};

pub use super::caption_style::{Captions, Position, Style};
use super::look::Look;
use super::timeline::Plan;

/// One caption: when it shows, and its text (lines joined by `\n`; for the
/// burned-in events, ASS text).
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

const MIN_CUE: f64 = 0.8;
const MAX_CUE: f64 = 7.0;
/// A silence this long between words always ends a cue.
const BREAK_GAP: f64 = 1.0;

/// Words that start a phrase: a line may break before them.
const PHRASE_STARTS: &[&str] = &[
    "and", "but", "or", "nor", "so", "yet", "because", "while", "when", "where", "which", "who",
    "that", "if", "although", "though", "as", "than", "until", "after", "before", "since", "for",
    "to", "of", "in", "on", "at", "by", "with", "from", "into", "over", "under", "about",
    "through", "between", "without", "across",
];
/// Words that belong with the next one: a line never ends on them.
const BINDS_FORWARD: &[&str] = &[
    "a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "that", "these",
    "those", "mr.", "mrs.", "dr.", "to",
];

fn bare(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
        .to_lowercase()
}

fn ends_phrase(word: &str) -> bool {
    word.ends_with([',', ';', ':', '.', '!', '?', '—', '–', ')'])
}

fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches(['"', '\'', '”', '’', ')'])
        .ends_with(['.', '!', '?', '…'])
}

/// The longest line for the frame: 42 characters in landscape, 32 otherwise.
pub fn max_line(width: u32, height: u32) -> usize {
    if u64::from(width) * 9 >= u64::from(height) * 16 - 16 {
        42
    } else {
        32
    }
}

/// A word as heard in the output, with the spoken item it belongs to and
/// the latest time a cue holding it may show (its scene's end).
#[derive(Clone, Debug, PartialEq)]
pub struct Spoken {
    pub word: WordTime,
    /// Which spoken item (audio part of the plan) said it: a cue never
    /// holds words of two.
    pub part: usize,
    pub until: f64,
}

/// The timed words an asset's metadata holds: a voice-over's `words`, else
/// a transcript's, else words estimated within the `segments` of an upload
/// with a typed transcript.
/// With `cuts_from_transcript`, a transcript's words come first: cuts are
/// made from its times, so its words are the ones that line up with them.
fn timed_words(meta: &serde_json::Value, cuts_from_transcript: bool) -> Vec<WordTime> {
    let list = |v: &serde_json::Value| -> Vec<WordTime> {
        v.as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|w| serde_json::from_value(w.clone()).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (first, second) = if cuts_from_transcript {
        (&meta["transcript"]["words"], &meta["words"])
    } else {
        (&meta["words"], &meta["transcript"]["words"])
    };
    let mut timed = list(first);
    if timed.is_empty() {
        timed = list(second);
    }
    if timed.is_empty() {
        for seg in meta["segments"].as_array().into_iter().flatten() {
            if let (Some(s), Some(e), Some(text)) = (
                seg["start"].as_f64(),
                seg["end"].as_f64(),
                seg["text"].as_str(),
            ) {
                timed.extend(word_times(text, s, e, &[]));
            }
        }
    }
    timed
}

/// Every spoken word where it is heard in the output — the narration's and
/// the clips' own speech (from their transcripts) — with only the words of
/// the part of its media that plays (a scene that cuts its narration short
/// captions the words spoken before the cut).
pub fn words(plan: &Plan) -> Vec<Spoken> {
    let mut out = Vec::new();
    // Each spoken item: (its words, timed from where it starts playing,
    // where it plays, for how long, the end of its scene).
    let mut items: Vec<(Vec<WordTime>, f64, f64, f64)> = Vec::new();
    for part in &plan.audio {
        // The scene it plays in ends the cues of its words.
        let until = plan
            .scenes
            .iter()
            .map(|s| s.start + s.duration)
            .find(|end| *end > part.at + 1e-6)
            .unwrap_or(plan.total)
            .min(plan.total);
        // Words in a cut are not heard; the rest move up by what was cut
        // before them.
        let timed = timed_words(&part.asset.metadata, !part.removed.is_empty())
            .into_iter()
            .filter(|w| !part.is_cut((w.start + w.end) / 2.0))
            .map(|w| WordTime {
                start: part.heard_at(w.start),
                end: part.heard_at(w.end),
                text: w.text,
            })
            .collect();
        items.push((timed, part.at, part.length, until));
    }
    for scene in plan.scenes.iter().filter(|s| s.has_sound()) {
        let timed = timed_words(&scene.visual.metadata, !scene.removed.is_empty())
            .into_iter()
            .filter(|w| !scene.is_cut((w.start + w.end) / 2.0))
            .map(|w| WordTime {
                start: scene.heard_at(w.start),
                end: scene.heard_at(w.end),
                text: w.text,
            })
            .collect();
        let end = scene.start + scene.duration;
        items.push((timed, scene.start, scene.duration, end.min(plan.total)));
    }
    for (k, (timed, at, length, until)) in items.into_iter().enumerate() {
        for w in timed {
            let (s, e) = (w.start, w.end);
            // A word counts when most of it plays.
            if s < -0.05 || e > length + 0.05 || e < s {
                continue;
            }
            out.push(Spoken {
                word: WordTime {
                    text: w.text,
                    start: at + s.max(0.0),
                    end: at + e.min(length),
                },
                part: k,
                until,
            });
        }
    }
    out.sort_by(|a, b| a.word.start.total_cmp(&b.word.start));
    out
}

/// Groups timed words into cues: each of one spoken item, at most two lines
/// of `max_line` characters and 7 s, ending at sentence ends and pauses,
/// split at the best phrase boundary when full; then timed so that none
/// overlaps the next or outlasts its scene, and none is shorter than 0.8 s
/// (lengthened into the silence after it or before it, else merged with a
/// neighbour of the same item).
pub fn chunk(words: &[Spoken], max_line: usize) -> Vec<(Cue, Vec<WordTime>)> {
    let mut groups = group_words(words, max_line);
    merge_short(&mut groups, 2 * max_line);
    timed_cues(&groups, max_line)
}

/// A cue in the making: its words, its spoken item and the latest it may end.
type Group = (Vec<WordTime>, usize, f64);

/// The characters of the words on one line, spaces between them included.
fn chars(ws: &[WordTime]) -> usize {
    ws.iter().map(|w| w.text.chars().count()).sum::<usize>() + ws.len().saturating_sub(1)
}

/// Groups the words of each spoken item, ending a group at a pause, at a
/// sentence's end, or when full (then at its best phrase boundary).
fn group_words(words: &[Spoken], max_line: usize) -> Vec<Group> {
    let limit = 2 * max_line;
    let mut groups: Vec<Group> = Vec::new();
    let mut current: Vec<WordTime> = Vec::new();
    let mut owner = (usize::MAX, f64::INFINITY);
    for spoken in words {
        let word = &spoken.word;
        if spoken.part != owner.0 && !current.is_empty() {
            groups.push((std::mem::take(&mut current), owner.0, owner.1));
        }
        owner = (spoken.part, spoken.until);
        if let Some(last) = current.last() {
            let mut with = current.clone();
            with.push(word.clone());
            let full = chars(&with) > limit || word.end - current[0].start > MAX_CUE;
            if word.start - last.end > BREAK_GAP {
                groups.push((std::mem::take(&mut current), owner.0, owner.1));
            } else if full {
                let rest = current.split_off(phrase_break(&current));
                groups.push((std::mem::replace(&mut current, rest), owner.0, owner.1));
            }
        }
        current.push(word.clone());
        let duration = current.last().map_or(0.0, |l| l.end) - current[0].start;
        if ends_sentence(&word.text) && (duration >= MIN_CUE || chars(&current) * 2 >= max_line) {
            groups.push((std::mem::take(&mut current), owner.0, owner.1));
        }
    }
    if !current.is_empty() {
        groups.push((current, owner.0, owner.1));
    }
    groups.into_iter().filter(|g| !g.0.is_empty()).collect()
}

/// Where a full group breaks: at the last phrase boundary in its second
/// half, if any, else after all its words.
fn phrase_break(current: &[WordTime]) -> usize {
    (1..current.len())
        .rev()
        .find(|&j| {
            chars(&current[..j]) * 2 >= chars(current)
                && (ends_phrase(&current[j - 1].text)
                    || PHRASE_STARTS.contains(&bare(&current[j].text).as_str()))
        })
        .unwrap_or(current.len())
}

/// The time group `i` may take: from the previous group's last word (or 0)
/// to the next group's first word or its own latest end.
fn room(groups: &[Group], i: usize) -> f64 {
    let (g, _, until) = &groups[i];
    let end = groups
        .get(i + 1)
        .map_or(*until, |n| n.0[0].start.min(*until));
    let start = if i == 0 {
        0.0
    } else {
        groups[i - 1].0.last().map_or(0.0, |w| w.end)
    };
    end - start.min(g[0].start)
}

/// Whether two runs of words still make one cue of at most `limit` characters.
fn fits(a: &[WordTime], b: &[WordTime], limit: usize) -> bool {
    let both: Vec<WordTime> = a.iter().chain(b).cloned().collect();
    chars(&both) <= limit && both[both.len() - 1].end - both[0].start <= MAX_CUE
}

/// Too short even with all the room around it: one with a neighbour of the
/// same item, when the two still make one cue; else words move over from
/// the previous group.
fn merge_short(groups: &mut Vec<Group>, limit: usize) {
    let mut i = 0;
    while i < groups.len() {
        if room(groups, i) + 1e-9 < MIN_CUE {
            let merge_prev = i > 0
                && groups[i - 1].1 == groups[i].1
                && fits(&groups[i - 1].0, &groups[i].0, limit);
            let merge_next = i + 1 < groups.len()
                && groups[i + 1].1 == groups[i].1
                && fits(&groups[i].0, &groups[i + 1].0, limit);
            if merge_prev {
                let (words, ..) = groups.remove(i);
                groups[i - 1].0.extend(words);
                i -= 1;
                continue;
            } else if merge_next {
                let (words, ..) = groups.remove(i);
                let next = &mut groups[i].0;
                next.splice(0..0, words);
                continue;
            }
            borrow_words(groups, i, limit);
        }
        i += 1;
    }
}

/// Moves words over from the end of the previous group of the same item
/// into group `i`, while that one keeps its minimum and it has room.
fn borrow_words(groups: &mut [Group], i: usize, limit: usize) {
    while i > 0
        && groups[i - 1].1 == groups[i].1
        && groups[i - 1].0.len() > 1
        && room(groups, i) + 1e-9 < MIN_CUE
    {
        let prev = &groups[i - 1].0;
        let keeps = prev[prev.len() - 2].end - prev[0].start >= MIN_CUE;
        let fits = chars(&prev[prev.len() - 1..]) + 1 + chars(&groups[i].0) <= limit;
        if !keeps || !fits {
            break;
        }
        let word = groups[i - 1].0.pop().expect("more than one word");
        groups[i].0.insert(0, word);
    }
}

/// Times the groups as cues: none overlapping the next or outlasting its
/// scene, none shorter than the minimum when there is room for it.
fn timed_cues(groups: &[Group], max_line: usize) -> Vec<(Cue, Vec<WordTime>)> {
    let mut cues: Vec<(Cue, Vec<WordTime>)> = Vec::with_capacity(groups.len());
    // Where the previous cue's time ends and this one's may begin.
    let mut free_from = 0.0_f64;
    for i in 0..groups.len() {
        let (g, _, until) = &groups[i];
        let next = groups.get(i + 1);
        let latest = next.map_or(f64::INFINITY, |n| n.0[0].start).min(*until);
        let mut start = g[0].start.max(free_from);
        let spoken_end = g[g.len() - 1].end;
        let mut end = spoken_end
            .max(start + MIN_CUE)
            .min(start + MAX_CUE)
            .min(latest);
        if end - start < MIN_CUE {
            // Lengthened into the silence before it...
            start = (end - MIN_CUE).max(free_from).min(start);
        }
        if end - start < MIN_CUE
            && let Some(n) = next
        {
            // ...or a moment into the next cue's time, when that one keeps
            // its minimum (it shows a little after its first word starts).
            let next_end = n.0[n.0.len() - 1].end.max(n.0[0].start + MIN_CUE).min(n.2);
            end = (start + MIN_CUE)
                .min(next_end - MIN_CUE)
                .min(*until)
                .max(end);
        }
        end = end.max(start + 0.01);
        free_from = end;
        let text = lines(g, max_line).join("\n");
        cues.push((Cue { start, end, text }, g.clone()));
    }
    cues
}

/// Splits a cue's words into one line, or two at the best place: both
/// within `max_line`, at punctuation or before a phrase word, never after a
/// word that binds to the next, no lone word when a better split exists,
/// and balanced (a slightly longer bottom line is preferred).
pub fn lines(words: &[WordTime], max_line: usize) -> Vec<String> {
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let joined = texts.join(" ");
    if joined.chars().count() <= max_line || texts.len() < 2 {
        return vec![joined];
    }
    let best = (1..texts.len())
        .min_by_key(|&k| {
            let (a, b) = (texts[..k].join(" "), texts[k..].join(" "));
            let (la, lb) = (a.chars().count() as i64, b.chars().count() as i64);
            let over = (la - max_line as i64).max(0) + (lb - max_line as i64).max(0);
            let mut cost = over * 1000 + (la - lb).abs() + if la > lb { 2 } else { 0 };
            if ends_phrase(texts[k - 1]) {
                cost -= 12;
            } else if PHRASE_STARTS.contains(&bare(texts[k]).as_str()) {
                cost -= 6;
            }
            if BINDS_FORWARD.contains(&bare(texts[k - 1]).as_str()) {
                cost += 40;
            }
            if texts.len() >= 3 && (k == 1 || k == texts.len() - 1) {
                cost += 60;
            }
            cost
        })
        .unwrap_or(1);
    vec![texts[..best].join(" "), texts[best..].join(" ")]
}

/// The captions of a plan as SRT cues (and their words), chunked to norms.
pub fn cues(plan: &Plan) -> Vec<(Cue, Vec<WordTime>)> {
    chunk(&words(plan), max_line(plan.width, plan.height))
}

/// Escapes text for an ASS event so that it shows as written: no override
/// blocks or escapes from it. libass draws `\{` and `\}` as braces, and a
/// backslash followed by a word joiner (U+2060, invisible) as a backslash
/// that escapes nothing.
fn ass_text(text: &str) -> String {
    text.replace('\\', "\\\u{2060}")
        .replace('{', "\\{")
        .replace('}', "\\}")
        .replace('\n', "\\N")
}

/// The accent colour of karaoke highlights, a warm yellow (a brand kit's
/// accent instead, when it has one).
const ACCENT: [u8; 3] = [255, 215, 0];

/// A colour as ASS writes it: `&HAABBGGRR&` (alpha 0: opaque).
fn ass_colour([r, g, b]: [u8; 3]) -> String {
    format!("&H00{b:02X}{g:02X}{r:02X}&")
}

/// The burned-in events for a style (ASS text), from the chunked cues;
/// karaoke lights its word in `accent` (default a warm yellow).
pub fn events(cues: &[(Cue, Vec<WordTime>)], style: Style, accent: Option<[u8; 3]>) -> Vec<Cue> {
    let accent = ass_colour(accent.unwrap_or(ACCENT));
    let mut out = Vec::new();
    for (cue, words) in cues {
        match style {
            Style::Plain => out.push(Cue {
                text: ass_text(&cue.text),
                ..cue.clone()
            }),
            Style::Karaoke => {
                // One event per word, the cue's lines with that word lit.
                let line_break = cue
                    .text
                    .split('\n')
                    .next()
                    .map_or(usize::MAX, |l| l.split_whitespace().count());
                for (i, w) in words.iter().enumerate() {
                    let start = if i == 0 { cue.start } else { w.start };
                    let end = words.get(i + 1).map_or(cue.end, |n| n.start).min(cue.end);
                    if end <= start {
                        continue;
                    }
                    let mut text = String::new();
                    for (j, other) in words.iter().enumerate() {
                        if j > 0 {
                            text.push_str(if j == line_break { "\\N" } else { " " });
                        }
                        if i == j {
                            let _ = write!(text, "{{\\c{accent}}}{}{{\\r}}", ass_text(&other.text));
                        } else {
                            text.push_str(&ass_text(&other.text));
                        }
                    }
                    out.push(Cue { start, end, text });
                }
            }
            Style::Word => {
                // One to three words at a time, ending at punctuation.
                let mut group: Vec<&WordTime> = Vec::new();
                let mut flush = |group: &mut Vec<&WordTime>, next: Option<f64>| {
                    if let (Some(first), Some(last)) = (group.first(), group.last()) {
                        let end = next
                            .unwrap_or(cue.end)
                            .min(cue.end)
                            .max(last.end.min(cue.end));
                        let text = group
                            .iter()
                            .map(|w| ass_text(&w.text))
                            .collect::<Vec<_>>()
                            .join(" ");
                        if end > first.start {
                            out.push(Cue {
                                start: first.start.max(cue.start),
                                end,
                                text,
                            });
                        }
                    }
                    group.clear();
                };
                for (i, w) in words.iter().enumerate() {
                    group.push(w);
                    let len: usize = group.iter().map(|w| w.text.chars().count() + 1).sum();
                    if group.len() == 3 || ends_phrase(&w.text) || len > 14 || i + 1 == words.len()
                    {
                        flush(&mut group, words.get(i + 1).map(|n| n.start));
                    }
                }
            }
        }
    }
    out
}

fn ass_time(t: f64) -> String {
    let cs = (t.max(0.0) * 100.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

/// A whole ASS script for a `width`×`height` frame: sizes in pixels, the
/// bottom tenth (16:9) or fifth (9:16) kept clear, events as given.
pub fn ass(events: &[Cue], captions: Captions, (width, height): (u32, u32), look: &Look) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    let landscape = max_line(width, height) == 42;
    let mut size = if landscape { h * 0.055 } else { w * 0.044 };
    if captions.style == Style::Word {
        size *= 1.9;
    }
    let tall = u64::from(height) * 9 >= u64::from(width) * 16;
    let (align, margin_v) = match captions.position {
        Position::Middle => (5, 0.0),
        Position::Bottom if tall => (2, h * 0.21),
        Position::Bottom => (2, h * 0.11),
    };
    let outline = (size / 14.0).max(1.0);
    let text = ass_colour(look.text.unwrap_or([255, 255, 255]));
    let mut out = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {width}\nPlayResY: {height}\nWrapStyle: 0\nScaledBorderAndShadow: yes\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{},{:.0},{text},{text},&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,{:.1},{:.1},{align},{:.0},{:.0},{:.0},1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        look.font
            .as_ref()
            .map_or("DejaVu Sans", |f| f.family.as_str())
            .replace(',', " "),
        size,
        outline,
        outline / 2.0,
        w * 0.05,
        w * 0.05,
        margin_v
    );
    for e in events {
        let _ = writeln!(
            out,
            "Dialogue: 0,{},{},Default,,0,0,0,,{}",
            ass_time(e.start),
            ass_time(e.end),
            e.text
        );
    }
    out
}

fn srt_time(t: f64) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

pub fn srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, cue) in cues.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            srt_time(cue.start),
            srt_time(cue.end),
            cue.text
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(text: &str, start: f64, end: f64) -> Vec<Spoken> {
        spoken(0, text, start, end, f64::INFINITY)
    }

    fn spoken(part: usize, text: &str, start: f64, end: f64, until: f64) -> Vec<Spoken> {
        word_times(text, start, end, &[])
            .into_iter()
            .map(|word| Spoken { word, part, until })
            .collect()
    }

    #[test]
    fn a_cue_never_holds_two_spoken_items_nor_outlasts_its_scene() {
        // Narration 1 cut at 5 s (its scene's end) mid-sentence; narration 2
        // starts right after, in the next scene.
        let mut words: Vec<Spoken> = spoken(0, "Coffee houses spread across Cairo", 3.0, 5.0, 5.0);
        words.extend(spoken(
            1,
            "Coffee began, legend says, on the hills.",
            5.05,
            8.0,
            9.0,
        ));
        let cues = chunk(&words, 42);
        for (cue, ws) in &cues {
            let first = words.iter().find(|s| s.word == ws[0]).unwrap().part;
            assert!(
                ws.iter()
                    .all(|w| words.iter().find(|s| s.word == *w).unwrap().part == first),
                "two narrations in one cue: {cue:?}"
            );
        }
        let first = &cues[0].0;
        assert!(first.end <= 5.0 + 1e-9, "runs past its scene: {first:?}");
        assert!(cues.windows(2).all(|w| w[0].0.end <= w[1].0.start + 1e-9));
    }

    #[test]
    fn no_cue_is_shorter_than_the_minimum() {
        // A voice-over's short tail ("in trouble.") right before the next
        // voice-over begins.
        let mut words = spoken(
            0,
            "The ship was sailing home through the long grey winter night with its tired crew, cold and hungry and in trouble.",
            4.0,
            14.81,
            30.0,
        );
        // A pause, then a short last sentence ending its voice-over just
        // before the next one begins.
        words.extend(spoken(0, "In trouble.", 16.0, 16.5, 30.0));
        words.extend(spoken(1, "Then the storm came.", 16.55, 18.0, 30.0));
        words.extend(spoken(2, "Ok.", 18.05, 18.3, 30.0));
        // Full lines leave a short tail, with no pause on either side.
        words.extend(spoken(
            3,
            "Sailors pulled ropes tight, bailing water, cursing, in trouble.",
            20.0,
            24.0,
            30.0,
        ));
        words.extend(spoken(4, "Dawn.", 24.0, 24.5, 30.0));
        let cues = chunk(&words, 12);
        for (cue, _) in &cues {
            assert!(cue.end - cue.start >= MIN_CUE - 1e-9, "{cues:?}");
        }
        assert!(
            cues.windows(2).all(|w| w[0].0.end <= w[1].0.start + 1e-9),
            "{cues:?}"
        );
    }

    #[test]
    fn formats_srt() {
        let text = srt(&[
            Cue {
                start: 0.0,
                end: 1.5,
                text: "Hi".into(),
            },
            Cue {
                start: 61.25,
                end: 3725.001,
                text: "a: 'b' %c".into(),
            },
        ]);
        assert_eq!(
            text,
            "1\n00:00:00,000 --> 00:00:01,500\nHi\n\n2\n00:01:01,250 --> 01:02:05,001\na: 'b' %c\n\n"
        );
        assert_eq!(ass_time(3725.456), "1:02:05.46");
    }

    #[test]
    fn cues_keep_to_the_norms() {
        let text = "Every story starts with a single idea, small enough to hold in one hand, yet big enough to grow into something that changes the way we see the world around us every day. The sea at sunset reminds us that endings can be beautiful.";
        for max in [42, 32] {
            let cues = chunk(&timed(text, 0.0, 16.0), max);
            assert!(cues.len() >= 3, "{cues:?}");
            for (i, (cue, words)) in cues.iter().enumerate() {
                let lines: Vec<&str> = cue.text.split('\n').collect();
                assert!(lines.len() <= 2, "{lines:?}");
                assert!(lines.iter().all(|l| l.chars().count() <= max), "{lines:?}");
                assert!(
                    lines.iter().all(|l| l.contains(' ')) || words.len() < 3,
                    "a lone word: {lines:?}"
                );
                let d = cue.end - cue.start;
                assert!((MIN_CUE - 1e-9..=MAX_CUE).contains(&d), "{d} {cue:?}");
                if let Some((next, _)) = cues.get(i + 1) {
                    assert!(cue.end <= next.start + 1e-9, "overlap");
                }
            }
            // A sentence end ends a cue.
            assert!(
                cues.iter().any(|(c, _)| c.text.ends_with("every day.")),
                "{cues:?}"
            );
        }
    }

    #[test]
    fn lines_break_at_phrases_not_after_articles() {
        let words = word_times(
            "The lighthouse keeps its promise, even when the fog rolls in",
            0.0,
            4.0,
            &[],
        );
        let two = lines(&words, 42);
        assert_eq!(
            two,
            [
                "The lighthouse keeps its promise,",
                "even when the fog rolls in"
            ]
        );
        let words = word_times(
            "We walked along the quiet harbour wall together",
            0.0,
            3.0,
            &[],
        );
        let two = lines(&words, 32);
        assert!(!two[0].ends_with(" the"), "{two:?}");
    }

    #[test]
    fn styles_make_their_events() {
        let cues = chunk(&timed("Hello there, my friend. How are you?", 1.0, 4.0), 42);
        let plain = events(&cues, Style::Plain, None);
        assert_eq!(plain.len(), cues.len());
        let karaoke = events(&cues, Style::Karaoke, None);
        assert_eq!(karaoke.len(), 7, "one event per word");
        assert!(karaoke.iter().all(|e| e.text.matches("\\c&H").count() == 1));
        assert!(karaoke.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
        let word = events(&cues, Style::Word, None);
        assert!(
            word.iter().all(|e| e.text.split(' ').count() <= 3),
            "{word:?}"
        );
        assert!(word.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
        let script = ass(
            &karaoke,
            Captions {
                style: Style::Karaoke,
                position: Position::Bottom,
            },
            (1080, 1920),
            &Look::default(),
        );
        assert!(script.contains("PlayResX: 1080\nPlayResY: 1920"));
        assert!(script.contains("Style: Default,DejaVu Sans,"), "{script}");
        assert!(karaoke[0].text.contains("\\c&H0000D7FF&"), "{karaoke:?}");
        assert!(
            script.contains(",2,54,54,403,1"),
            "lower fifth kept clear: {script}"
        );
        assert_eq!(ass_text("a{\\b1}b\nc"), "a\\{\\\u{2060}b1\\}b\\Nc");
    }

    #[test]
    fn a_brand_kit_gives_captions_its_font_and_colours() {
        let cues = chunk(&timed("Hello there, my friend.", 1.0, 3.0), 42);
        let karaoke = events(&cues, Style::Karaoke, Some([0, 255, 255]));
        assert!(karaoke[0].text.contains("\\c&H00FFFF00&"), "{karaoke:?}");
        let look = Look {
            font: Some(std::sync::Arc::new(crate::compose::look::FontData {
                key: "k".into(),
                family: "Brand, Sans".into(),
                bytes: Vec::new(),
            })),
            text: Some([255, 255, 0]),
            ..Look::default()
        };
        let captions = Captions {
            style: Style::Karaoke,
            position: Position::Bottom,
        };
        let script = ass(&karaoke, captions, (1920, 1080), &look);
        assert!(
            script.contains("Style: Default,Brand  Sans,")
                && script.contains(",&H0000FFFF&,&H0000FFFF&,&H00000000,"),
            "{script}"
        );
    }
}
