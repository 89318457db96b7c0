//! Small text helpers shared by the tools: sentences, word-boundary cuts,
//! and word timings estimated from a sentence's time span.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// One spoken word and when it is heard, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WordTime {
    pub text: String,
    pub start: f64,
    pub end: f64,
}

/// A rough syllable count: groups of vowels (at least 1; digits count one
/// per digit, as they are read out).
pub fn syllables(word: &str) -> usize {
    let mut count = 0;
    let mut in_vowel = false;
    for c in word.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_digit() {
            count += 1;
            in_vowel = false;
        } else {
            let vowel = "aeiouyàáâäãåèéêëìíîïòóôöõùúûüýæœø".contains(c);
            if vowel && !in_vowel {
                count += 1;
            }
            in_vowel = vowel;
        }
    }
    // A silent final e ("time", "voice") is not a syllable of its own.
    let lower = word.to_lowercase();
    if count > 1 && lower.ends_with('e') && !lower.ends_with("le") && !lower.ends_with("ee") {
        count -= 1;
    }
    count.max(1)
}

/// Spreads the words of `text` over `[start, end]`, each in proportion to
/// its syllables, with a short breath after a comma-like mark. `pauses`
/// (silences found in the audio, absolute times) refine it: a word that
/// ends a clause ends where the nearest pause inside the span starts, and
/// the next clause begins where it ends.
pub fn word_times(text: &str, start: f64, end: f64, pauses: &[(f64, f64)]) -> Vec<WordTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || end <= start {
        return Vec::new();
    }
    // Clauses: runs of words ending in , ; : — . ! ? or the text's end.
    let clause_end = |w: &str| w.ends_with([',', ';', ':', '—', '–', '.', '!', '?']);
    let mut clauses: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    for (i, w) in words.iter().enumerate() {
        if clause_end(w) || i + 1 == words.len() {
            clauses.push((from, i + 1));
            from = i + 1;
        }
    }
    // Each clause's span: by weight, then snapped to a pause where one is near.
    let weight = |range: (usize, usize)| -> f64 {
        words[range.0..range.1]
            .iter()
            .map(|w| syllables(w) as f64)
            .sum::<f64>()
            + 0.8
    };
    let total: f64 = clauses.iter().map(|c| weight(*c)).sum();
    let mut spans = Vec::with_capacity(clauses.len());
    let mut at = start;
    for (k, clause) in clauses.iter().enumerate() {
        let mut clause_end_at = at + (end - start) * weight(*clause) / total;
        let mut next_start = clause_end_at;
        if k + 1 < clauses.len() {
            let near = pauses
                .iter()
                .filter(|(a, b)| *a > at && *b < end)
                .min_by(|x, y| {
                    (x.0 - clause_end_at)
                        .abs()
                        .total_cmp(&(y.0 - clause_end_at).abs())
                });
            if let Some((a, b)) = near.filter(|(a, _)| (a - clause_end_at).abs() < 0.6) {
                clause_end_at = *a;
                next_start = *b;
            }
        } else {
            clause_end_at = end;
        }
        spans.push((at, clause_end_at));
        at = next_start;
    }
    let mut out = Vec::with_capacity(words.len());
    for ((from, to), (a, b)) in clauses.iter().zip(spans) {
        let weights: Vec<f64> = words[*from..*to]
            .iter()
            .map(|w| syllables(w) as f64)
            .collect();
        let sum: f64 = weights.iter().sum();
        let mut t = a;
        for (w, wt) in words[*from..*to].iter().zip(weights) {
            let d = (b - a) * wt / sum;
            out.push(WordTime {
                text: (*w).to_owned(),
                start: round_ms(t),
                end: round_ms(t + d),
            });
            t += d;
        }
    }
    out
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// Splits text into sentences (Unicode rules, and at line breaks), each
/// trimmed and holding at least one letter or digit.
pub fn sentences(text: &str) -> Vec<String> {
    text.split_sentence_bounds()
        .flat_map(|s| s.split('\n'))
        .map(str::trim)
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// [`sentences`], with any sentence longer than `max` characters broken
/// into pieces of at most `max`: at the last clause mark (`,` `;` `:` `—`)
/// past a third of the piece, else at the last space, else anywhere. Neural
/// voices' time and memory grow with a piece's length (Piper took 4.6 GB and
/// 40 s for 4,000 characters without a full stop, 0.36 GB and 12 s in
/// pieces).
pub fn short_sentences(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in sentences(text) {
        let mut rest = sentence.as_str();
        while rest.chars().count() > max {
            let head: String = rest.chars().take(max).collect();
            let clause = head
                .char_indices()
                .rev()
                .find(|&(i, c)| {
                    matches!(c, ',' | ';' | ':' | '—' | '–')
                        && i >= head.len() / 3
                        && head[i + c.len_utf8()..].starts_with(char::is_whitespace)
                })
                .map(|(i, c)| i + c.len_utf8());
            let cut = clause
                .or_else(|| head.rfind(char::is_whitespace).filter(|&i| i > 0))
                .unwrap_or(head.len());
            let piece = rest[..cut].trim();
            if piece.chars().any(char::is_alphanumeric) {
                out.push(piece.to_owned());
            }
            rest = rest[cut..].trim_start();
        }
        if rest.chars().any(char::is_alphanumeric) {
            out.push(rest.to_owned());
        }
    }
    out
}

/// Cuts `text` to at most `max` Unicode scalar values, at a word boundary
/// when there is one, ending with `…` when anything was cut.
pub fn cut_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(max - 1).collect();
    let at_boundary = text.chars().nth(max - 1).is_some_and(char::is_whitespace);
    let cut = if at_boundary {
        kept.as_str()
    } else {
        match kept.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &kept[..i],
            _ => kept.as_str(),
        }
    };
    let cut = cut
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '—'));
    format!("{cut}…")
}

/// Wraps text into lines of at most about `width` characters, at spaces.
pub fn wrap_words(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_sentences_are_spoken_in_pieces_at_clauses_or_spaces() {
        let text = format!("Short one.\n{}", ["word"; 100].join(" "));
        let pieces = short_sentences(&text, 60);
        assert_eq!(pieces[0], "Short one.");
        assert!(pieces.iter().all(|p| p.chars().count() <= 60), "{pieces:?}");
        assert_eq!(
            pieces[1..].join(" "),
            ["word"; 100].join(" "),
            "no word lost"
        );
        let clauses = short_sentences(
            "First part of it goes on, and the second part goes on as well; then a third comes",
            40,
        );
        assert_eq!(clauses[0], "First part of it goes on,");
        assert!(
            clauses.iter().all(|p| p.chars().count() <= 40),
            "{clauses:?}"
        );
        let unbroken = "x".repeat(130);
        assert_eq!(short_sentences(&unbroken, 50).concat(), unbroken);
    }

    #[test]
    fn words_share_their_sentence_by_syllables_and_snap_to_pauses() {
        assert_eq!(
            (
                syllables("cat"),
                syllables("voice"),
                syllables("beautiful"),
                syllables("2026")
            ),
            (1, 1, 3, 4)
        );
        let words = word_times("A lighthouse, beautiful tonight.", 1.0, 3.0, &[]);
        assert_eq!(words.len(), 4);
        assert_eq!((words[0].start, words[3].end), (1.0, 3.0));
        assert!(words.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
        assert!(
            words[2].end - words[2].start > words[0].end - words[0].start,
            "{words:?}"
        );
        // A pause in the audio after the comma moves the clause boundary.
        let paused = word_times("A lighthouse, beautiful tonight.", 1.0, 3.0, &[(1.9, 2.1)]);
        assert_eq!((paused[1].end, paused[2].start), (1.9, 2.1));
        assert!(word_times("", 0.0, 1.0, &[]).is_empty());
    }

    #[test]
    fn cuts_at_words_and_counts_characters() {
        assert_eq!(cut_words("short", 10), "short");
        assert_eq!(cut_words("hello big world", 12), "hello big…");
        assert_eq!(cut_words("éééé éééé", 6), "éééé…");
        assert_eq!(cut_words("abcdefghij", 5), "abcd…");
        for max in 1..30 {
            assert!(
                cut_words("Grüße aus München, schöne Stadt!", max)
                    .chars()
                    .count()
                    <= max
            );
        }
    }
}
