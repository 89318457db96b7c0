//! Platform rules, enforced on every post whatever engine wrote it: length
//! limits (in Unicode scalar values, cut at word boundaries) and hashtags
//! that are unique, valid and CamelCase.

use std::collections::HashSet;

use super::SocialPost;
use crate::error::{Error, Result};
use crate::text::cut_words;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Youtube,
    Tiktok,
    Instagram,
    X,
    Linkedin,
}

/// One platform's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub title: usize,
    pub description: usize,
    /// What the platform counts as one post, if it bounds the whole: X counts
    /// title, description and hashtags; TikTok, Instagram and LinkedIn their
    /// caption (description and hashtags).
    pub whole: Option<(usize, bool)>,
    pub max_hashtags: usize,
    pub default_hashtags: usize,
}

impl Platform {
    /// The names `parse` takes (`twitter` is X's old name).
    pub const NAMES: &[&str] = &["youtube", "tiktok", "instagram", "x", "twitter", "linkedin"];

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "youtube" => Platform::Youtube,
            "tiktok" => Platform::Tiktok,
            "instagram" => Platform::Instagram,
            "x" | "twitter" => Platform::X,
            "linkedin" => Platform::Linkedin,
            other => {
                return Err(Error::invalid(
                    "platform",
                    format!("{other:?} is not one of youtube, tiktok, instagram, x, linkedin"),
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Youtube => "youtube",
            Platform::Tiktok => "tiktok",
            Platform::Instagram => "instagram",
            Platform::X => "x",
            Platform::Linkedin => "linkedin",
        }
    }

    pub fn limits(self) -> Limits {
        match self {
            Platform::Youtube => Limits {
                title: 100,
                description: 5000,
                whole: None,
                max_hashtags: 15,
                default_hashtags: 5,
            },
            Platform::Tiktok => Limits {
                title: 100,
                description: 2200,
                whole: Some((2200, false)),
                max_hashtags: 10,
                default_hashtags: 5,
            },
            Platform::Instagram => Limits {
                title: 100,
                description: 2200,
                whole: Some((2200, false)),
                max_hashtags: 30,
                default_hashtags: 10,
            },
            Platform::X => Limits {
                title: 100,
                description: 280,
                whole: Some((280, true)),
                max_hashtags: 5,
                default_hashtags: 3,
            },
            Platform::Linkedin => Limits {
                title: 200,
                description: 3000,
                whole: Some((3000, false)),
                max_hashtags: 10,
                default_hashtags: 5,
            },
        }
    }
}

/// Turns a phrase into a hashtag: letters, digits and underscores only,
/// each word capitalised (`urban design` → `#UrbanDesign`).
pub fn hashtag(phrase: &str) -> Option<String> {
    let body: String = phrase
        .trim_start_matches('#')
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>())
                .unwrap_or_default();
            first + chars.as_str()
        })
        .collect();
    let body: String = body.chars().take(60).collect();
    // A tag of digits only is not a hashtag anywhere.
    (body.chars().any(char::is_alphabetic)).then(|| format!("#{body}"))
}

/// Unique (case-insensitively), valid hashtags from free text: `"#a b, #c"`.
pub fn hashtags(text: &str, max: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    let tokens: Vec<&str> = if text.contains('#') {
        text.split('#').collect()
    } else {
        text.split([',', ' ', '\n']).collect()
    };
    tokens
        .into_iter()
        .filter_map(hashtag)
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(max)
        .collect()
}

fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_keep_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(clean)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Holds a post to the platform's rules.
pub fn enforce(post: &SocialPost, platform: Platform, max_hashtags: Option<usize>) -> SocialPost {
    let limits = platform.limits();
    let max_tags = max_hashtags
        .unwrap_or(limits.default_hashtags)
        .min(limits.max_hashtags);
    let mut tags = hashtags(&post.hashtags, max_tags);
    let mut title = cut_words(&clean(&post.title), limits.title);
    let mut description = cut_words(
        &clean_keep_paragraphs(&post.description),
        limits.description,
    );

    if let Some((whole, counts_title)) = limits.whole {
        let len = |s: &str| s.chars().count();
        let fixed = |title: &str, tags: &[String]| {
            let t = if counts_title { len(title) + 1 } else { 0 };
            t + if tags.is_empty() {
                0
            } else {
                len(&tags.join(" ")) + 1
            }
        };
        // Keep some description: hashtags go first, then the title shortens.
        let wanted = len(&description).min(40);
        while !tags.is_empty() && whole.saturating_sub(fixed(&title, &tags)) < wanted {
            tags.pop();
        }
        if counts_title && whole.saturating_sub(fixed(&title, &tags)) < wanted {
            title = cut_words(&title, whole / 3);
        }
        description = cut_words(&description, whole.saturating_sub(fixed(&title, &tags)));
    }
    SocialPost {
        title,
        description,
        hashtags: tags.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_valid_unique_camel_case() {
        assert_eq!(hashtag("urban design").as_deref(), Some("#UrbanDesign"));
        assert_eq!(hashtag("#sci-fi!").as_deref(), Some("#SciFi"));
        assert_eq!(hashtag("Grüne Städte").as_deref(), Some("#GrüneStädte"));
        assert_eq!(hashtag("2024"), None);
        assert_eq!(hashtag("!!!"), None);
        assert_eq!(
            hashtags("#FuturisticCity #futuristiccity #Urban Design #SciFi", 10),
            vec!["#FuturisticCity", "#UrbanDesign", "#SciFi"]
        );
    }

    #[test]
    fn x_posts_fit_280_characters() {
        let post = SocialPost {
            title: "A title that is reasonably long for a post".into(),
            description: "word ".repeat(200),
            hashtags: "#One #Two #Three #Four #Five #Six".into(),
        };
        let out = enforce(&post, Platform::X, None);
        let whole = format!("{} {} {}", out.title, out.description, out.hashtags);
        assert!(whole.chars().count() <= 280, "{}", whole.chars().count());
        assert!(out.hashtags.split(' ').count() <= 3);
        assert!(out.description.ends_with('…'));
    }

    #[test]
    fn instagram_caps_hashtags_and_youtube_titles() {
        let tags: String = (0..50).map(|i| format!("#tag{i}x ")).collect();
        let post = SocialPost {
            title: "t ".repeat(80),
            description: "d".into(),
            hashtags: tags,
        };
        let ig = enforce(&post, Platform::Instagram, Some(100));
        assert_eq!(ig.hashtags.split(' ').count(), 30);
        let yt = enforce(&post, Platform::Youtube, None);
        assert!(yt.title.chars().count() <= 100);
        assert_eq!(yt.hashtags.split(' ').count(), 5);
    }

    #[test]
    fn every_documented_platform_name_parses() {
        for name in Platform::NAMES {
            assert!(Platform::parse(name).is_ok(), "{name}");
        }
        assert!(Platform::parse("myspace").is_err());
    }
}
