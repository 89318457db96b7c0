//! The built-in offline engine: extractive, not canned. Keyphrases come from
//! YAKE (`yake-rust`, with stop words for the detected language); sentences
//! are ranked by the keyphrases they hold and by how central they are (word
//! overlap with the other sentences, a TextRank-style degree); the title is
//! the most central sentence (or the top keyphrases when it is too long), the
//! description the best sentences in their original order, the hashtags the
//! top keyphrases.

use std::collections::HashSet;

use yake_rust::{Config, StopWords, get_n_best};

use super::SocialPost;
use super::rules::hashtag;
use crate::text::sentences;

/// Languages with stop-word lists here (ISO 639-1).
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "pt", "nl"];

/// The text's language as an ISO 639-1 code, when it can be told.
pub fn detect_language(text: &str) -> String {
    let code = whatlang::detect(text)
        .filter(|i| i.is_reliable() || text.len() > 60)
        .map(|i| i.lang().code());
    match code {
        Some("eng") => "en",
        Some("deu") => "de",
        Some("fra") => "fr",
        Some("spa") => "es",
        Some("ita") => "it",
        Some("por") => "pt",
        Some("nld") => "nl",
        _ => "en",
    }
    .to_owned()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 2)
        .map(str::to_lowercase)
        .collect()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// Writes a post from `text` in `language` with up to `tags` hashtags.
pub fn write_post(text: &str, language: &str, tags: usize) -> SocialPost {
    let stop = StopWords::predefined(language)
        .or_else(|| StopWords::predefined("en"))
        .unwrap_or_default();
    let stop_set: HashSet<String> = words(text)
        .into_iter()
        .filter(|w| stop.contains(w.as_str()))
        .collect();
    let config = Config {
        ngrams: 2,
        ..Config::default()
    };
    let phrases = get_n_best(20, text, &stop, &config);

    let sentences = sentences(text);
    let content: Vec<HashSet<String>> = sentences
        .iter()
        .map(|s| {
            words(s)
                .into_iter()
                .filter(|w| !stop_set.contains(w))
                .collect()
        })
        .collect();
    let scores: Vec<f64> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lower = s.to_lowercase();
            let keyphrases: f64 = phrases
                .iter()
                .enumerate()
                .filter(|(_, p)| lower.contains(p.keyword.as_str()))
                .map(|(rank, _)| 1.0 / (1.0 + rank as f64))
                .sum();
            let centrality: f64 = content
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, other)| content[i].intersection(other).count() as f64)
                .sum::<f64>()
                / ((content[i].len() as f64).sqrt() + 1.0);
            // Leads carry weight in most texts.
            let position = 1.0 / (1.0 + i as f64).sqrt();
            keyphrases + 0.5 * centrality + 0.3 * position
        })
        .collect();
    let mut ranked: Vec<usize> = (0..sentences.len()).collect();
    ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));

    // The most central sentence that fits; else the best one's first clause;
    // else the best one, cut.
    let fits = |s: &str| (12..=90).contains(&s.chars().count());
    let title = ranked
        .iter()
        .take(3)
        .map(|i| sentences[*i].as_str())
        .find(|s| fits(s))
        .map(str::to_owned)
        .or_else(|| {
            let best = sentences[*ranked.first()?].as_str();
            let clause = best
                .split([',', ';', ':', '—'])
                .next()
                .unwrap_or(best)
                .trim();
            Some(if fits(clause) {
                clause.to_owned()
            } else {
                crate::text::cut_words(best, 80)
            })
        })
        .map(|t| capitalise(t.trim_end_matches(['.', '!', ';', ':', ','])))
        .unwrap_or_else(|| capitalise(text.trim()));

    let keep = sentences.len().div_ceil(3).clamp(1, 5);
    let mut chosen: Vec<usize> = ranked.iter().take(keep).copied().collect();
    chosen.sort_unstable();
    let description = chosen
        .iter()
        .map(|i| sentences[*i].as_str())
        .collect::<Vec<_>>()
        .join(" ");

    let mut seen = HashSet::new();
    let mut hashtags: Vec<String> = phrases
        .iter()
        .filter_map(|p| hashtag(&p.raw))
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(tags)
        .collect();
    if hashtags.is_empty() {
        // Too short for keyphrases: the longest words make do.
        let mut candidates = words(text);
        candidates.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        hashtags = candidates
            .iter()
            .filter_map(|w| hashtag(w))
            .filter(|t| seen.insert(t.to_lowercase()))
            .take(tags.max(1))
            .collect();
    }
    SocialPost {
        title,
        description: if description.is_empty() {
            text.trim().to_owned()
        } else {
            description
        },
        hashtags: hashtags.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_languages() {
        assert_eq!(
            detect_language(
                "The quick brown fox jumps over the lazy dog near the river bank today."
            ),
            "en"
        );
        assert_eq!(
            detect_language(
                "Die Stadt plant neue Radwege, damit mehr Menschen mit dem Fahrrad zur Arbeit fahren."
            ),
            "de"
        );
        assert_eq!(
            detect_language(
                "Le gouvernement a annoncé une nouvelle loi sur la protection de l'environnement."
            ),
            "fr"
        );
    }

    #[test]
    fn one_word_still_makes_a_post() {
        let post = write_post("Hello", "en", 5);
        assert_eq!(post.title, "Hello");
        assert_eq!(post.description, "Hello");
        assert_eq!(post.hashtags, "#Hello");
    }
}
