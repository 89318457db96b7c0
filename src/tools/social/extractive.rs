//! The built-in offline engine: extractive, not canned. Keyphrases come from
//! YAKE (`yake-rust`, with stop words for the detected language); sentences
//! are ranked by the keyphrases they hold and by how central they are (word
//! overlap with the other sentences, a TextRank-style degree); the title is
//! a headline: the shortest complete sentence, clause or shortened sentence
//! among the best ones that carries the keyphrases (never a sentence cut
//! mid-phrase), the description the best sentences in their original order,
//! the hashtags the top keyphrases trimmed to topics — noun phrases and names,
//! no verb, adverb, number or stop-word fragments ([`super::words`]).

use std::collections::{HashMap, HashSet};

use yake_rust::{Config, StopWords, get_n_best};

use super::SocialPost;
use super::rules::hashtag;
use super::words;
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

/// Splits a phrase into words, keeping inner hyphens and apostrophes
/// ("solar-powered", "e-bike").
fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .map(|w| w.trim_matches(['-', '\'']))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A crude stem for telling duplicates apart: "lanes" and "lane" are one.
fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    match w.strip_suffix('s') {
        Some(s) if s.chars().count() > 2 && !s.ends_with('s') => s.to_owned(),
        _ => w,
    }
}

/// Trims a phrase to the topic in it: no stop words at either end; in
/// English also no verbs, adverbs, numbers, time words or leading
/// adjectives, and a noun at the end. None when no topic is left, or when
/// a verb or stop word sits inside ("roads existed", "job forever").
fn topic<'a>(phrase: &[&'a str], stop: &StopWords, english: bool) -> Option<Vec<&'a str>> {
    let is_stop = |w: &str| stop.contains(w.to_lowercase().as_str());
    let mut words: Vec<&str> = phrase.to_vec();
    while let Some(first) = words.first() {
        let weak = is_stop(first)
            || (english
                && (!words::can_be_in_topic(first)
                    || (words.len() > 1
                        && (words::is_adjective(first)
                            || words::is_vague(first)
                            || words::is_gerund(first)))));
        if !weak {
            break;
        }
        words.remove(0);
    }
    while let Some(last) = words.last() {
        // "sale starting", "village clinging": a verb after its subject.
        let verb_after_noun =
            english && words.len() > 1 && words::is_gerund(last) && !words::is_noun_gerund(last);
        if !(is_stop(last) || (english && !words::can_head_topic(last)) || verb_after_noun) {
            break;
        }
        words.pop();
    }
    // A lone "starting" or "applying" is an action, not a topic.
    if english && words.len() == 1 && words::is_gerund(words[0]) && !words::is_noun_gerund(words[0])
    {
        return None;
    }
    let fine = !words.is_empty()
        && words.len() <= 3
        && words
            .iter()
            .all(|w| !is_stop(w) && (!english || words::can_be_in_topic(w)))
        && words.iter().map(|w| w.chars().count()).sum::<usize>() > 2;
    fine.then_some(words)
}

/// Capitalised words that do not start a sentence: names ("Mill Street",
/// "Aurora X1", "Great Barrier Reef").
fn names(sentences: &[String]) -> HashSet<String> {
    let mut out = HashSet::new();
    for s in sentences {
        for w in tokens(s).into_iter().skip(1) {
            if w.chars().next().is_some_and(char::is_uppercase) && w.to_lowercase() != "i" {
                out.insert(w.to_lowercase());
            }
        }
    }
    out
}

/// Hashtags: topics from the keyphrases (names first), then from the text's
/// own noun phrases, one per topic; a single word already inside a chosen
/// tag comes only when nothing else is left.
fn topic_tags(
    text: &str,
    sentences: &[String],
    phrases: &[yake_rust::ResultItem],
    stop: &StopWords,
    english: bool,
    tags: usize,
) -> Vec<String> {
    let names = names(sentences);
    let mut candidates: Vec<(Vec<String>, f64)> = Vec::new();
    for (rank, p) in phrases.iter().enumerate() {
        if let Some(words) = topic(&tokens(&p.raw), stop, english) {
            let is_name = words.iter().all(|w| names.contains(&w.to_lowercase()));
            let score = if is_name {
                rank as f64 * 0.5
            } else if words.len() == 1 {
                rank as f64 + 4.0
            } else {
                rank as f64
            };
            candidates.push((words.iter().map(|w| (*w).to_owned()).collect(), score));
        }
    }
    // The text's own noun phrases (runs of topic words), by frequency.
    let mut runs: Vec<(Vec<String>, usize)> = Vec::new();
    // Where each phrase (by its stems) is in `runs`: found in one lookup.
    let mut run_at: HashMap<Vec<String>, usize> = HashMap::new();
    for sentence in sentences {
        let toks = tokens(sentence);
        let mut run: Vec<&str> = Vec::new();
        for w in toks.iter().copied().chain(std::iter::once("")) {
            let keep = !w.is_empty()
                && !stop.contains(w.to_lowercase().as_str())
                && (!english || words::can_be_in_topic(w));
            if keep {
                run.push(w);
                continue;
            }
            let tail = &run[run.len().saturating_sub(2)..];
            if let Some(words) = topic(tail, stop, english) {
                let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
                let stems: Vec<String> = words.iter().map(|w| stem(w)).collect();
                match run_at.get(&stems) {
                    Some(&at) => runs[at].1 += 1,
                    None => {
                        run_at.insert(stems, runs.len());
                        runs.push((words, 1));
                    }
                }
            }
            run.clear();
        }
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.1));
    let offset = phrases.len() as f64;
    for (i, (words, n)) in runs.into_iter().enumerate() {
        // Names first; phrases the text repeats next; the rest after YAKE's.
        let score = if words.iter().all(|w| names.contains(&w.to_lowercase())) {
            i as f64 * 0.1
        } else if n >= 2 && words.len() > 1 {
            3.0 + i as f64
        } else {
            offset + i as f64 - n as f64
        };
        candidates.push((words, score));
    }
    candidates.sort_by(|a, b| a.1.total_cmp(&b.1));

    // One tag per topic: a tag inside another ("#SmartTravel" and
    // "#SmartTravelMug", "#Solar" and "#SolarPower") is one topic twice.
    // The longer one stays, at the better-ranked one's place; the shorter
    // gives its place to the next topic: fewer tags rather than the same
    // one in pieces.
    let stems = |words: &[String]| words.iter().map(|w| stem(w)).collect::<Vec<_>>();
    let inside = |small: &[String], big: &[String]| {
        small.len() <= big.len() && big.windows(small.len()).any(|w| w == small)
    };
    let mut chosen: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (words, _) in &candidates {
        let s = stems(words);
        if chosen.iter().any(|(t, _)| inside(&s, t)) {
            continue;
        }
        match chosen.iter().position(|(t, _)| inside(t, &s)) {
            Some(at) => {
                chosen.retain(|(t, _)| !inside(t, &s));
                chosen.insert(at.min(chosen.len()), (s, words.clone()));
            }
            None if chosen.len() < tags => chosen.push((s, words.clone())),
            None => break,
        }
    }
    let chosen: Vec<Vec<String>> = chosen.into_iter().map(|(_, words)| words).collect();
    let mut unique = HashSet::new();
    let mut out: Vec<String> = chosen
        .iter()
        .filter_map(|words| hashtag(&words.join(" ")))
        .filter(|t| unique.insert(t.to_lowercase()))
        .collect();
    if out.is_empty() {
        // Too short for topics: the longest words make do.
        let mut candidates = self::words(text);
        candidates.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        out = candidates
            .iter()
            .filter_map(|w| hashtag(w))
            .filter(|t| unique.insert(t.to_lowercase()))
            .take(tags.max(1))
            .collect();
    }
    out
}

/// The words of a CamelCase hashtag: `#HomeWorkouts` → Home, Workouts;
/// capitals in a row stay one word (`#CTO`, `#NASAMission` → NASA, Mission).
fn tag_words(tag: &str) -> Vec<String> {
    let chars: Vec<char> = tag.trim_start_matches('#').chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Words that cannot open a headline: they point back to something earlier.
const BAD_START: &[&str] = &[
    "it", "this", "these", "they", "those", "he", "she", "which", "who", "that", "because",
    "while", "although", "and", "but", "or", "so", "then", "also", "its", "their", "there",
];

/// Words dropped from a headline's start: "Today, ..." or "Meanwhile, ...".
const LEAD_INS: &[&str] = &[
    "today",
    "meanwhile",
    "however",
    "so",
    "and",
    "but",
    "then",
    "now",
    "also",
    "finally",
    "still",
    "yesterday",
    "recently",
];

/// Shortenings of a sentence that stay complete: its clauses, the sentence
/// without when-words ("on Tuesday", "next week"), and its main clause
/// before "to", "which", "because" or "and".
fn headline_variants(sentence: &str, english: bool) -> Vec<(String, bool)> {
    let mut out = vec![(sentence.to_owned(), true)];
    for clause in sentence.split([',', ';', ':', '—', '–', '(']) {
        out.push((clause.trim().to_owned(), false));
    }
    if !english {
        return out;
    }
    let toks: Vec<&str> = sentence.split_whitespace().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, w) in toks.iter().enumerate() {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
        let after_preposition = kept.last().is_some_and(|p: &&str| {
            [
                "on", "in", "at", "next", "last", "this", "every", "each", "per",
            ]
            .contains(&p.to_lowercase().as_str())
        });
        if words::is_time(bare) && after_preposition && i > 1 {
            kept.pop();
            continue;
        }
        kept.push(w);
    }
    let shorter = kept.join(" ");
    if shorter != sentence {
        out.push((shorter.clone(), true));
    }
    for cut in [
        " to ",
        " which ",
        " because ",
        " so that ",
        " while ",
        " and ",
        " but ",
        " that ",
    ] {
        if let Some(i) = shorter.find(cut) {
            out.push((shorter[..i].to_owned(), false));
        }
    }
    // "Scientists have found that X": X is the news, a whole clause.
    if let Some(i) = shorter.find(" that ") {
        out.push((shorter[i + " that ".len()..].to_owned(), true));
    }
    out
}

/// A headline candidate cleaned: no lead-in, no end punctuation.
fn clean_headline(text: &str) -> String {
    let mut t = text
        .trim()
        .trim_end_matches(['.', '!', ';', ':', ',', '?'])
        .trim();
    loop {
        let first = t.split([' ', ',']).next().unwrap_or("");
        if !first.is_empty() && LEAD_INS.contains(&first.to_lowercase().as_str()) {
            t = t[first.len()..].trim_start_matches([',', ' ']);
        } else {
            break;
        }
    }
    capitalise(t.trim())
}

/// Whether a cleaned candidate reads as a whole headline.
fn complete(candidate: &str, whole_sentence: bool, stop: &StopWords, english: bool) -> bool {
    let toks = tokens(candidate);
    let chars = candidate.chars().count();
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
        return false;
    };
    let first = first.to_lowercase();
    let last_lower = last.to_lowercase();
    // "This lemon pasta ..." is fine; "This is ..." points back.
    let determiner = ["this", "these", "that", "those"].contains(&first.as_str())
        && toks
            .get(1)
            .is_some_and(|w| !words::is_verb(w) && !stop.contains(w.to_lowercase().as_str()));
    // A clause cut out of a sentence must still say something.
    let says = whole_sentence || !english || toks.iter().any(|w| words::is_verb(w));
    says && (3..=12).contains(&toks.len())
        && (12..=70).contains(&chars)
        && (determiner || !BAD_START.contains(&first.as_str()))
        && !stop.contains(last_lower.as_str())
        && !candidate.ends_with('…')
        && (!english
            || (!words::is_adverb(last)
                && (whole_sentence || (!words::is_verb(last) && !words::is_adjective(last)))))
}

/// Writes a post from `text` in `language` with up to `tags` hashtags.
pub fn write_post(text: &str, language: &str, tags: usize) -> SocialPost {
    let english = language == "en";
    let stop = stop_words(language);
    let config = Config {
        ngrams: 3,
        ..Config::default()
    };
    let phrases = get_n_best(60, text, &stop, &config);
    let sentences = sentences(text);
    let scores = sentence_scores(text, &sentences, &phrases, &stop);
    let mut ranked: Vec<usize> = (0..sentences.len()).collect();
    ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    let hashtags = topic_tags(text, &sentences, &phrases, &stop, english, tags);
    let title = headline(&sentences, &scores, &ranked, &hashtags, &stop, english)
        .unwrap_or_else(|| fallback_title(text, &hashtags));
    SocialPost {
        title,
        description: description(text, &sentences, &ranked),
        hashtags: hashtags.join(" "),
    }
}

/// The language's stop words (else English's, else none).
fn stop_words(language: &str) -> StopWords {
    StopWords::predefined(language)
        .or_else(|| StopWords::predefined("en"))
        .unwrap_or_default()
}

/// Each sentence's score: the keyphrases it holds, how central it is, and
/// how near the start.
fn sentence_scores(
    text: &str,
    sentences: &[String],
    phrases: &[yake_rust::ResultItem],
    stop: &StopWords,
) -> Vec<f64> {
    let stop_set: HashSet<String> = words(text)
        .into_iter()
        .filter(|w| stop.contains(w.as_str()))
        .collect();
    let content: Vec<HashSet<String>> = sentences
        .iter()
        .map(|s| {
            words(s)
                .into_iter()
                .filter(|w| !stop_set.contains(w))
                .collect()
        })
        .collect();
    let mut sentences_with: HashMap<&str, usize> = HashMap::new();
    for words in &content {
        for w in words {
            *sentences_with.entry(w.as_str()).or_default() += 1;
        }
    }
    sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lower = s.to_lowercase();
            let keyphrases: f64 = phrases
                .iter()
                .take(20)
                .enumerate()
                .filter(|(_, p)| lower.contains(p.keyword.as_str()))
                .map(|(rank, _)| 1.0 / (1.0 + rank as f64))
                .sum();
            // The words this sentence shares with each other one, summed:
            // each of its words counts once per other sentence holding it
            // (linear in the text, where comparing pairs was quadratic).
            let centrality: f64 = content[i]
                .iter()
                .map(|w| (sentences_with[w.as_str()] - 1) as f64)
                .sum::<f64>()
                / ((content[i].len() as f64).sqrt() + 1.0);
            // Leads carry weight in most texts.
            let position = 1.0 / (1.0 + i as f64).sqrt();
            keyphrases + 0.5 * centrality + 0.3 * position
        })
        .collect()
}

/// The headline: among the best sentences' complete shortenings, the one
/// that carries the most topic words for its length (none if none is
/// complete).
fn headline(
    sentences: &[String],
    scores: &[f64],
    ranked: &[usize],
    hashtags: &[String],
    stop: &StopWords,
    english: bool,
) -> Option<String> {
    let topic_words: Vec<Vec<String>> = hashtags
        .iter()
        .map(|t| tag_words(t).iter().map(|w| stem(w)).collect())
        .collect();
    let top = scores.iter().copied().fold(f64::MIN, f64::max).max(1e-9);
    let mut best: Option<(f64, String)> = None;
    for &i in ranked.iter().take(4) {
        for (variant, whole) in headline_variants(&sentences[i], english) {
            let candidate = clean_headline(&variant);
            if !complete(&candidate, whole, stop, english) {
                continue;
            }
            // Topics held, the first ones weighing most.
            let held: HashSet<String> = tokens(&candidate).iter().map(|w| stem(w)).collect();
            let hits: f64 = topic_words
                .iter()
                .enumerate()
                .filter(|(_, words)| words.iter().all(|w| held.contains(w)))
                .map(|(rank, _)| 1.0 / ((1 + rank) * (1 + rank)) as f64)
                .sum();
            let score = scores[i] / top + 0.6 * hits - 0.012 * candidate.chars().count() as f64
                + if whole { 0.1 } else { 0.0 };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// The title when no sentence makes a headline: a short text is its own
/// ("Our new CTO"); a longer one is named by its two main topics.
fn fallback_title(text: &str, hashtags: &[String]) -> String {
    let short = text.split_whitespace().count() <= 8 && text.chars().count() <= 70;
    let topics: Vec<String> = hashtags
        .iter()
        .take(2)
        .map(|t| tag_words(t).join(" "))
        .collect();
    match topics.as_slice() {
        _ if short => capitalise(clean_headline(text).trim()),
        [a, b] => format!("{a} and {}", b.to_lowercase()),
        [a] => a.clone(),
        _ => capitalise(&crate::text::cut_words(text.trim(), 70).replace('…', "")),
    }
}

/// The description: the best third of the sentences (one to five) in their
/// order, else the whole text.
fn description(text: &str, sentences: &[String], ranked: &[usize]) -> String {
    let keep = sentences.len().div_ceil(3).clamp(1, 5);
    let mut chosen: Vec<usize> = ranked.iter().take(keep).copied().collect();
    chosen.sort_unstable();
    let description = chosen
        .iter()
        .map(|i| sentences[*i].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if description.is_empty() {
        text.trim().to_owned()
    } else {
        description
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
    fn short_topics_give_one_tag_per_topic_not_its_pieces() {
        for topic in [
            "solar power",
            "home workouts",
            "our new CTO",
            "the big sale starting on Friday",
            "podcast episodes and their hits",
            "a smart travel mug that keeps coffee hot, the Aurora Mug",
        ] {
            let post = write_post(topic, "en", 5);
            eprintln!("{topic} -> {} | {}", post.title, post.hashtags);
            let tags: Vec<String> = post
                .hashtags
                .split(' ')
                .map(|t| t.trim_start_matches('#').to_lowercase())
                .collect();
            for a in &tags {
                for b in &tags {
                    assert!(
                        a == b || !b.contains(a.as_str()),
                        "{topic}: #{a} inside #{b}"
                    );
                }
            }
            assert!(
                !tags.iter().any(|t| t.ends_with("starting")),
                "{topic}: {tags:?}"
            );
            assert!(!post.title.contains("C T O"), "{}", post.title);
        }
        assert_eq!(tag_words("#NASAMission"), ["NASA", "Mission"]);
        assert_eq!(tag_words("#AuroraX1"), ["Aurora", "X1"]);
        assert_eq!(tag_words("#CTO"), ["CTO"]);
    }

    #[test]
    fn one_word_still_makes_a_post() {
        let post = write_post("Hello", "en", 5);
        assert_eq!(post.title, "Hello");
        assert_eq!(post.description, "Hello");
        assert_eq!(post.hashtags, "#Hello");
    }
}
