//! Captions from the voice-overs' sentence timings, as SRT.

use std::fmt::Write as _;

use super::timeline::Plan;

#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Each narrated sentence where it plays in the output, clipped to the part
/// of its audio that plays.
pub fn cues(plan: &Plan) -> Vec<Cue> {
    let mut cues = Vec::new();
    for part in &plan.audio {
        let Some(segments) = part.asset.metadata["segments"].as_array() else {
            continue;
        };
        for seg in segments {
            let (Some(s), Some(e), Some(text)) = (
                seg["start"].as_f64(),
                seg["end"].as_f64(),
                seg["text"].as_str(),
            ) else {
                continue;
            };
            let (s, e) = (
                (s - part.trim_start).max(0.0),
                (e - part.trim_start).min(part.length),
            );
            if e - s < 0.05 || text.trim().is_empty() {
                continue;
            }
            cues.push(Cue {
                start: part.at + s,
                end: part.at + e,
                text: crate::text::wrap_words(text.trim(), 42),
            });
        }
    }
    cues.sort_by(|a, b| a.start.total_cmp(&b.start));
    cues
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
        assert_eq!(
            crate::text::wrap_words("one two three four", 9),
            "one two\nthree\nfour"
        );
    }
}
