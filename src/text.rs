//! Small text helpers shared by the tools: sentences, word-boundary cuts.

use unicode_segmentation::UnicodeSegmentation;

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
