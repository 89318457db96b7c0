//! The offline social engine against posts written by a person
//! (`tests/data/social_refs.json`: a text, a platform, a reference title and
//! reference hashtags): how many of the reference's hashtag words and title
//! words the engine finds (F1 over words), the platform's hashtag rules, and
//! complete titles. Prints the comparison; run it with
//! `cargo test --test it social_refs -- --nocapture`.

use std::collections::HashSet;

use serde::Deserialize;
use studio::tools::social::extractive::write_post;
use studio::tools::social::rules::{Platform, enforce};

#[derive(Deserialize)]
struct Reference {
    name: String,
    platform: String,
    text: String,
    title: String,
    hashtags: Vec<String>,
}

fn references() -> Vec<Reference> {
    serde_json::from_str(include_str!("../data/social_refs.json")).unwrap()
}

/// A crude stem, so that "lanes" meets "lane" and "roads" meets "road".
fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    match w.strip_suffix('s') {
        Some(s) if s.len() > 2 && !s.ends_with('s') => s.to_owned(),
        _ => w,
    }
}

/// The words of `#CamelCaseTags`: `#BicycleLanes` → bicycle, lane.
fn tag_words(tags: &[String]) -> HashSet<String> {
    let mut out = HashSet::new();
    for tag in tags {
        let mut word = String::new();
        for c in tag.trim_start_matches('#').chars() {
            if c.is_uppercase() && !word.is_empty() && !word.chars().all(char::is_uppercase) {
                out.insert(stem(&word));
                word.clear();
            }
            word.push(c);
        }
        if !word.is_empty() {
            out.insert(stem(&word));
        }
    }
    out
}

const LITTLE_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "from", "with", "by", "is",
    "are", "was", "be", "that", "this", "it", "its", "my", "our", "your", "we", "i",
];

fn title_words(title: &str) -> HashSet<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !LITTLE_WORDS.contains(&w.to_lowercase().as_str()))
        .map(stem)
        .collect()
}

fn f1(found: &HashSet<String>, wanted: &HashSet<String>) -> f64 {
    let hits = found.intersection(wanted).count() as f64;
    if hits == 0.0 {
        return 0.0;
    }
    let (p, r) = (hits / found.len() as f64, hits / wanted.len() as f64);
    2.0 * p * r / (p + r)
}

struct Scored {
    tags_f1: f64,
    title_f1: f64,
    title_chars: usize,
}

fn score_all() -> Vec<Scored> {
    let mut out = Vec::new();
    println!("| text | engine title | engine hashtags | hashtag F1 | title F1 |");
    println!("| --- | --- | --- | --- | --- |");
    for r in references() {
        let platform = Platform::parse(&r.platform).unwrap();
        let draft = write_post(&r.text, "en", platform.limits().default_hashtags);
        let post = enforce(&draft, platform, None);
        let tags: Vec<String> = post
            .hashtags
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let s = Scored {
            tags_f1: f1(&tag_words(&tags), &tag_words(&r.hashtags)),
            title_f1: f1(&title_words(&post.title), &title_words(&r.title)),
            title_chars: post.title.chars().count(),
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.2} |",
            r.name, post.title, post.hashtags, s.tags_f1, s.title_f1
        );
        out.push(s);
    }
    out
}

#[test]
fn posts_come_close_to_what_a_person_writes() {
    let scores = score_all();
    let n = scores.len() as f64;
    let tags = scores.iter().map(|s| s.tags_f1).sum::<f64>() / n;
    let title = scores.iter().map(|s| s.title_f1).sum::<f64>() / n;
    let chars = scores.iter().map(|s| s.title_chars).sum::<usize>() as f64 / n;
    println!(
        "mean hashtag-word F1 {tags:.2}, mean title-word F1 {title:.2}, mean title {chars:.0} characters over {n} texts"
    );
    // Floors under today's figures (0.52 and 0.51; the engine before topics
    // and headlines: 0.41 and 0.49).
    assert!(tags >= 0.47, "hashtag-word F1 fell to {tags:.2}");
    assert!(title >= 0.45, "title-word F1 fell to {title:.2}");
}

/// Words no topic starts or ends with, checked independently of the engine.
const FRAGMENT_ENDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "from", "with", "by", "is",
    "are", "was", "were", "be", "been", "has", "have", "had", "will", "can", "that", "this", "it",
    "its", "my", "our", "we", "i", "you", "great", "forever", "still", "very", "just", "also",
    "long", "new", "next", "last", "good", "best",
];

#[test]
fn hashtags_are_topics_and_titles_are_whole() {
    use studio::tools::social::words::{is_adverb, is_verb};
    for r in references() {
        let platform = Platform::parse(&r.platform).unwrap();
        let count = platform.limits().default_hashtags;
        let post = enforce(&write_post(&r.text, "en", count), platform, None);
        let tags: Vec<&str> = post.hashtags.split_whitespace().collect();
        assert!(
            tags.len() <= count && tags.len() >= count.min(5),
            "{}: {} tags for {count}: {tags:?}",
            r.name,
            tags.len()
        );
        let mut seen = HashSet::new();
        for tag in &tags {
            let body = tag.strip_prefix('#').unwrap();
            assert!(
                body.chars().next().unwrap().is_uppercase(),
                "CamelCase: {tag}"
            );
            assert!(body.chars().all(|c| c.is_alphanumeric()), "valid: {tag}");
            assert!(seen.insert(body.to_lowercase()), "{}: {tag} twice", r.name);
            let words = tag_words(&[tag.to_string()]);
            for w in &words {
                assert!(
                    !FRAGMENT_ENDS.contains(&w.as_str()),
                    "{}: {tag} holds {w:?}",
                    r.name
                );
                assert!(
                    !is_verb(w) && !is_adverb(w),
                    "{}: {tag} holds the verb or adverb {w:?}",
                    r.name
                );
            }
        }
        let title = &post.title;
        let last = title.split_whitespace().last().unwrap().to_lowercase();
        assert!(!title.contains('…'), "{}: {title}", r.name);
        assert!(
            title.chars().count() <= platform.limits().title.min(70),
            "{title}"
        );
        assert!(title.chars().next().unwrap().is_uppercase(), "{title}");
        assert!(
            !LITTLE_WORDS.contains(&last.as_str()) && !is_adverb(&last),
            "{}: {title} ends mid-phrase",
            r.name
        );
    }
}

#[test]
fn titles_never_end_mid_phrase_on_long_or_odd_texts() {
    let long = "The regional transport authority announced on Monday that it will replace every diesel bus in the northern districts with electric buses over the coming eight years, starting with the routes that carry the most passengers and pass the most schools. ".repeat(3);
    for text in [
        long.as_str(),
        "Hello",
        "great great great great",
        "!!! ??? ...",
        "Ein Haus am Meer. Die Sonne scheint.",
        "one two three",
    ] {
        let post = write_post(text, "en", 5);
        assert!(!post.title.is_empty(), "{text:?}");
        assert!(!post.title.contains('…'), "{text:?} -> {}", post.title);
        assert!(post.title.chars().count() <= 100, "{}", post.title);
    }
}
