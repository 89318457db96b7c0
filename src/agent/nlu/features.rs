//! The featuriser the intent model is trained and run on: word uni- and
//! bigrams plus character 3–5-grams inside words (the Snips NLU / Rasa
//! recipe), hashed into a fixed space so the model needs no vocabulary file.
//! Training and inference call the same function, so they cannot drift.

use std::collections::BTreeMap;

/// The size of the hashed feature space.
pub const BUCKETS: u32 = 1 << 20;

/// Only the first tokens decide the tool: a long text to narrate would
/// otherwise drown the request's framing.
pub const MAX_TOKENS: usize = 40;

/// Lower-cased tokens: words (digits as `0`), and `:`, `?` and `"` on their own.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || (c == '\'' || c == '’') && !word.is_empty() {
            if c.is_numeric() {
                word.push('0');
            } else if c == '’' {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
            if out.len() >= MAX_TOKENS {
                return out;
            }
        }
        let mark = match c {
            ':' => ":",
            '?' => "?",
            '"' | '“' | '”' | '«' | '»' | '„' => "\"",
            _ => continue,
        };
        out.push(mark.to_owned());
        if out.len() >= MAX_TOKENS {
            return out;
        }
    }
    if !word.is_empty() && out.len() < MAX_TOKENS {
        out.push(word);
    }
    out
}

/// Words before a request's verb ("could you please …", "bitte …").
const POLITE: &[&str] = &[
    "please",
    "pls",
    "hey",
    "hi",
    "hello",
    "ok",
    "okay",
    "so",
    "now",
    "just",
    "can",
    "could",
    "would",
    "will",
    "you",
    "i",
    "i'd",
    "i'm",
    "we",
    "like",
    "love",
    "want",
    "need",
    "to",
    "let's",
    "lets",
    "also",
    "then",
    "and",
    "kindly",
    "quickly",
    "bitte",
    "kannst",
    "du",
    "könntest",
    "ich",
    "möchte",
    "s'il",
    "te",
    "plaît",
    "peux",
    "tu",
    "pourrais",
    "je",
    "voudrais",
    "por",
    "favor",
    "puedes",
    "podrías",
    "quiero",
    "necesito",
];

/// FNV-1a over the parts, with a separator, into [`BUCKETS`].
fn hash(kind: &str, parts: &[&str]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(kind.as_bytes());
    for p in parts {
        eat(&[1]);
        eat(p.as_bytes());
    }
    (h % u64::from(BUCKETS)) as u32
}

/// The hashed, L2-normalised feature vector of a text, sorted by bucket.
pub fn features(text: &str) -> Vec<(u32, f32)> {
    let toks = tokens(text);
    let mut counts: BTreeMap<u32, f32> = BTreeMap::new();
    let mut add = |bucket: u32| *counts.entry(bucket).or_insert(0.0) = 1.0;
    let len_bucket = match toks.len() {
        0..=2 => "tiny",
        3..=6 => "short",
        7..=14 => "medium",
        15..=30 => "long",
        _ => "huge",
    };
    add(hash("len", &[len_bucket]));
    // The shape of a text to narrate: paragraphs and sentences.
    let paragraphs = text.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let sentences = text
        .split_inclusive(['.', '!', '?'])
        .filter(|s| s.trim().chars().count() > 12)
        .count();
    let shape = match (paragraphs, sentences) {
        (p, _) if p >= 2 => "paragraphs",
        (_, 0..=1) => "one-sentence",
        (_, 2) => "two-sentences",
        _ => "many-sentences",
    };
    add(hash("shape", &[shape]));
    let padded: Vec<&str> = std::iter::once("<s>")
        .chain(toks.iter().map(String::as_str))
        .chain(std::iter::once("</s>"))
        .collect();
    for pair in padded.windows(2) {
        add(hash("b", pair));
    }
    // The request's verb: the first word after the politeness.
    let mut head = toks
        .iter()
        .map(String::as_str)
        .skip_while(|t| POLITE.contains(t) || *t == ":" || *t == "?");
    if let Some(first) = head.next() {
        add(hash("head", &[first]));
        if let Some(second) = head.next() {
            add(hash("head2", &[first, second]));
        }
    }
    for tok in &toks {
        add(hash("w", &[tok]));
        let chars: Vec<char> = format!("<{tok}>").chars().collect();
        if chars.len() < 5 {
            continue;
        }
        for n in 3..=5 {
            for gram in chars.windows(n) {
                let gram: String = gram.iter().collect();
                add(hash("c", &[&gram]));
            }
        }
    }
    let norm = (counts.len() as f32).sqrt().max(1.0);
    counts.into_iter().map(|(b, v)| (b, v / norm)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lowercase_words_and_marks() {
        assert_eq!(
            tokens("Say: “Hi” to 42 people? Don’t!"),
            [
                "say", ":", "\"", "hi", "\"", "to", "00", "people", "?", "don't"
            ]
        );
        assert!(tokens("").is_empty());
        assert_eq!(tokens(&"word ".repeat(1000)).len(), MAX_TOKENS);
    }

    #[test]
    fn features_are_normalised_and_stable() {
        let f = features("Draw a cat");
        let norm: f32 = f.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(f, features("draw  a CAT"));
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(
            !features("").is_empty(),
            "the length feature is always there"
        );
        assert!(!features("\u{0}\u{7}🙂 日本語").is_empty());
    }
}
