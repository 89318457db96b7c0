//! Captions from the narration's word timings, to broadcast norms (the
//! Netflix and BBC timed-text guidelines): at most two lines of at most 42
//! characters (16:9) or 32 (9:16, 1:1, 4:5), cues of 0.8–7 s broken at
//! phrase boundaries, no lone word on a line when a better break exists, and
//! never two cues at once. The same cues make the `.srt` asset; the burned-in
//! captions are an ASS script at the output's own resolution (exact sizes
//! and safe-area margins), in one of three styles, rendered by libass.

use std::fmt::Write as _;

use crate::text::{WordTime, word_times};

use super::timeline::Plan;

/// One caption: when it shows, and its text (lines joined by `\n`; for the
/// burned-in events, ASS text).
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// How burned-in captions look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Whole cues, white on a soft outline.
    Plain,
    /// Whole cues, the word being spoken in an accent colour.
    Karaoke,
    /// One to three words at a time, in large type.
    Word,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Bottom,
    Middle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Captions {
    pub style: Style,
    pub position: Position,
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

/// Every narrated word where it is heard in the output, clipped to the part
/// of its audio that plays. Voice-overs carry `words`; older ones and
/// uploads with a transcript are estimated from their `segments`.
pub fn words(plan: &Plan) -> Vec<(WordTime, bool)> {
    let mut out = Vec::new();
    for part in &plan.audio {
        let meta = &part.asset.metadata;
        let mut timed: Vec<WordTime> = meta["words"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|w| serde_json::from_value(w.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
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
        let n = timed.len();
        for (i, w) in timed.into_iter().enumerate() {
            let (s, e) = (w.start - part.trim_start, w.end - part.trim_start);
            // A word counts when most of it plays.
            if s < -0.05 || e > part.length + 0.05 || e <= s {
                continue;
            }
            let last = i + 1 == n;
            out.push((
                WordTime {
                    text: w.text,
                    start: part.at + s.max(0.0),
                    end: part.at + e.min(part.length),
                },
                last,
            ));
        }
    }
    out.sort_by(|a, b| a.0.start.total_cmp(&b.0.start));
    out
}

/// Groups timed words into cues: each at most two lines of `max_line`
/// characters and 7 s, ending at sentence ends and pauses, split at the best
/// phrase boundary when full; then timed so that each lasts at least 0.8 s
/// where the next allows and no two overlap.
pub fn chunk(words: &[(WordTime, bool)], max_line: usize) -> Vec<(Cue, Vec<WordTime>)> {
    let limit = 2 * max_line;
    let chars = |ws: &[WordTime]| -> usize {
        ws.iter().map(|w| w.text.chars().count()).sum::<usize>() + ws.len().saturating_sub(1)
    };
    let mut groups: Vec<Vec<WordTime>> = Vec::new();
    let mut current: Vec<WordTime> = Vec::new();
    for (word, part_end) in words {
        if let Some(last) = current.last() {
            let mut with = current.clone();
            with.push(word.clone());
            let full = chars(&with) > limit || word.end - current[0].start > MAX_CUE;
            if word.start - last.end > BREAK_GAP {
                groups.push(std::mem::take(&mut current));
            } else if full {
                // Break at the last phrase boundary in the second half, if any.
                let at = (1..current.len())
                    .rev()
                    .find(|&j| {
                        chars(&current[..j]) * 2 >= chars(&current)
                            && (ends_phrase(&current[j - 1].text)
                                || PHRASE_STARTS.contains(&bare(&current[j].text).as_str()))
                    })
                    .unwrap_or(current.len());
                let rest = current.split_off(at);
                groups.push(std::mem::replace(&mut current, rest));
            }
        }
        current.push(word.clone());
        let duration = current.last().map_or(0.0, |l| l.end) - current[0].start;
        if *part_end
            || (ends_sentence(&word.text)
                && (duration >= MIN_CUE || chars(&current) * 2 >= max_line))
        {
            groups.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let mut cues: Vec<(Cue, Vec<WordTime>)> = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let text = lines(&g, max_line).join("\n");
            let cue = Cue {
                start: g[0].start,
                end: g[g.len() - 1].end,
                text,
            };
            (cue, g)
        })
        .collect();
    for i in 0..cues.len() {
        let next = cues.get(i + 1).map(|c| c.0.start);
        let cue = &mut cues[i].0;
        let wanted = cue.end.max(cue.start + MIN_CUE).min(cue.start + MAX_CUE);
        cue.end = match next {
            Some(n) => wanted.min(n).max(cue.start + 0.01),
            None => wanted,
        };
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

/// Escapes text for an ASS event: no override blocks or escapes from it.
fn ass_text(text: &str) -> String {
    text.replace('\\', "\u{29F5}")
        .replace('{', "\u{FF5B}")
        .replace('}', "\u{FF5D}")
        .replace('\n', "\\N")
}

/// The accent colour of karaoke highlights (ASS: &HAABBGGRR), a warm yellow.
const ACCENT: &str = "&H0000D7FF&";

/// The burned-in events for a style (ASS text), from the chunked cues.
pub fn events(cues: &[(Cue, Vec<WordTime>)], style: Style) -> Vec<Cue> {
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
                            let _ = write!(text, "{{\\c{ACCENT}}}{}{{\\r}}", ass_text(&other.text));
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
pub fn ass(events: &[Cue], captions: Captions, width: u32, height: u32) -> String {
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
    let mut out = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {width}\nPlayResY: {height}\nWrapStyle: 0\nScaledBorderAndShadow: yes\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,DejaVu Sans,{:.0},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,{:.1},{:.1},{align},{:.0},{:.0},{:.0},1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
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

    fn timed(text: &str, start: f64, end: f64) -> Vec<(WordTime, bool)> {
        let words = word_times(text, start, end, &[]);
        let n = words.len();
        words
            .into_iter()
            .enumerate()
            .map(|(i, w)| (w, i + 1 == n))
            .collect()
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
        let plain = events(&cues, Style::Plain);
        assert_eq!(plain.len(), cues.len());
        let karaoke = events(&cues, Style::Karaoke);
        assert_eq!(karaoke.len(), 7, "one event per word");
        assert!(karaoke.iter().all(|e| e.text.matches("\\c&H").count() == 1));
        assert!(karaoke.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
        let word = events(&cues, Style::Word);
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
            1080,
            1920,
        );
        assert!(script.contains("PlayResX: 1080\nPlayResY: 1920"));
        assert!(
            script.contains(",2,54,54,403,1"),
            "lower fifth kept clear: {script}"
        );
        assert_eq!(ass_text("a{\\b1}b\nc"), "a\u{FF5B}\u{29F5}b1\u{FF5D}b\\Nc");
    }
}
