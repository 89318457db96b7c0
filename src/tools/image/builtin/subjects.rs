//! The built-in image engine's subjects: what a prompt names ("a harbour with
//! fishing boats" → several boats; "a cat and a dog on a sofa" → a cat, a dog
//! and a sofa) and the vector picture that shows each one.
//!
//! The pictures are a curated subset of Microsoft's Fluent Emoji Flat (MIT),
//! indexed by their CLDR names (emojibase-data, MIT) plus everyday aliases,
//! vendored by `scripts/vendor_subjects.py` into `assets/subjects/` and
//! embedded in the binary, so the engine stays offline and self-contained.
//! They are rasterised with resvg. The procedural scene (sky, land, weather)
//! lives in [`super::builtin`]; this module only finds and draws subjects.

use std::collections::HashMap;
use std::sync::OnceLock;

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;
use serde::Deserialize;

static INDEX_JSON: &str = include_str!("../../../../assets/subjects/subjects.json");

/// How a subject is sized and where it stands in the scene.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Person,
    Animal,
    BigAnimal,
    SmallAnimal,
    Bird,
    Flying,
    SeaAnimal,
    Bug,
    Flower,
    Plant,
    Tree,
    Food,
    Object,
    Furniture,
    Building,
    TallBuilding,
    Vehicle,
    Boat,
    Aircraft,
    Sky,
}

impl Kind {
    /// The subject's height as a share of the picture's shorter side, for
    /// one standing at the front.
    pub fn size(self) -> f32 {
        match self {
            Kind::TallBuilding => 0.62,
            Kind::Building => 0.42,
            Kind::Tree => 0.5,
            Kind::BigAnimal => 0.34,
            Kind::Furniture => 0.5,
            Kind::Animal => 0.28,
            Kind::Person => 0.34,
            Kind::SmallAnimal | Kind::Bird | Kind::Flower => 0.16,
            Kind::Flying | Kind::Aircraft => 0.16,
            Kind::Bug => 0.1,
            Kind::Plant => 0.24,
            Kind::SeaAnimal => 0.2,
            Kind::Boat | Kind::Vehicle => 0.26,
            Kind::Sky => 0.22,
            Kind::Food | Kind::Object => 0.3,
        }
    }

    /// Subjects that float: boats, sea animals (and a lighthouse stands on
    /// the coast). They bring the sea into the scene.
    pub fn wants_water(self) -> bool {
        matches!(self, Kind::Boat | Kind::SeaAnimal | Kind::TallBuilding)
    }

    /// Subjects drawn in the sky rather than on the ground.
    pub fn in_the_air(self) -> bool {
        matches!(self, Kind::Flying | Kind::Aircraft | Kind::Sky)
    }

    /// The most copies of one subject a plural asks for.
    fn max_copies(self) -> usize {
        match self {
            Kind::TallBuilding | Kind::Sky => 1,
            Kind::Building | Kind::BigAnimal | Kind::Furniture => 2,
            Kind::Tree | Kind::Flower | Kind::Bug | Kind::Flying => 5,
            _ => 3,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Entry {
    label: String,
    kind: Kind,
    svg: String,
}

#[derive(Debug, Deserialize)]
struct Index {
    subjects: Vec<Entry>,
    names: HashMap<String, usize>,
    words: HashMap<String, usize>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The file is generated and checked by the tests: a parse failure is
        // a build defect, and an empty index only means no subjects.
        serde_json::from_str(INDEX_JSON).unwrap_or_else(|e| {
            tracing::error!("assets/subjects/subjects.json does not parse: {e}");
            Index {
                subjects: Vec::new(),
                names: HashMap::new(),
                words: HashMap::new(),
            }
        })
    })
}

/// A subject the prompt names, with how many of it to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The picture's name (the CLDR label, e.g. `motor boat`, `lighthouse`).
    pub label: String,
    pub kind: Kind,
    pub count: usize,
    id: usize,
}

/// Words that are never a subject by themselves: grammar, and the mood,
/// light, weather and setting words the scene draws on its own.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "by", "with", "for", "to", "from",
    "into", "over", "under", "near", "beside", "behind", "through", "across", "its", "their",
    "his", "her", "my", "our", "your", "is", "are", "was", "be", "this", "that", "these",
    "those", "some", "very", "light", "dark", "bright", "hot", "cold", "warm", "cool", "big",
    "small", "little", "large", "tiny", "old", "new", "young", "happy", "sad", "beautiful",
    "calm", "storm", "stormy", "rain", "rainy", "snow", "snowy", "fog", "foggy", "mist",
    "misty", "cloud", "cloudy", "sun", "sunny", "sunset", "sunrise", "dawn", "dusk", "night",
    "day", "morning", "evening", "moon", "star", "stars", "sky", "sea", "ocean", "water",
    "beach", "coast", "shore", "lake", "river", "wave", "waves", "harbour", "harbor", "forest",
    "woods", "jungle", "mountain", "mountains", "desert", "field", "city", "town", "street",
    "space", "style", "photo", "picture", "image", "illustration", "painting", "drawing",
    "present",
];

/// Everyday names of things the set draws under another name.
const ALIASES: &[(&str, &str)] = &[
    ("school bus", "bus"),
    ("coach", "bus"),
    ("tugboat", "motor boat"),
    ("barn", "house"),
    ("farmhouse", "house with garden"),
];

/// Numbers and collective words that ask for several of a subject.
fn quantity(word: &str) -> Option<usize> {
    Some(match word {
        "two" | "pair" | "couple" | "both" => 2,
        "three" => 3,
        "four" => 4,
        "five" | "six" | "seven" | "eight" | "nine" | "ten" => 5,
        "several" | "many" | "some" | "group" | "herd" | "flock" | "fleet" | "pack" | "lots"
        | "crowd" | "row" | "family" | "school" => 3,
        _ => return None,
    })
}

/// Singular forms to try for a word that may be a plural ("boats" → "boat",
/// "ponies" → "pony", "wolves" → "wolf", "children" → "child").
fn singulars(word: &str) -> Vec<String> {
    let irregular = match word {
        "people" => Some("person"),
        "children" => Some("child"),
        "men" => Some("man"),
        "women" => Some("woman"),
        "mice" => Some("mouse"),
        "geese" => Some("goose"),
        "teeth" => Some("tooth"),
        "feet" => Some("foot"),
        "oxen" => Some("ox"),
        "cacti" => Some("cactus"),
        _ => None,
    };
    if let Some(s) = irregular {
        return vec![s.to_owned()];
    }
    let mut out = Vec::new();
    if word.chars().count() < 4 || !word.ends_with('s') || word.ends_with("ss") {
        return out;
    }
    if let Some(stem) = word.strip_suffix("ies") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("ves") {
        out.push(format!("{stem}f"));
        out.push(format!("{stem}fe"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        out.push(stem.to_owned());
    }
    if !word.ends_with("us") && !word.ends_with("is") {
        out.push(word[..word.len() - 1].to_owned());
    }
    out
}

/// Finds the subjects a prompt names, in the prompt's order: whole names
/// first (the longest wins: "fishing boats" before "boats"), then single
/// head nouns ("a red car" → automobile). At most three different subjects
/// and eight pictures in all.
pub fn find(prompt: &str) -> Vec<Subject> {
    let idx = index();
    let words = words_of(prompt);
    let mut found: Vec<Subject> = Vec::new();
    let mut i = 0;
    while i < words.len() && found.len() < 3 {
        let Some((id, n, plural)) = match_at(idx, &words, i) else {
            i += 1;
            continue;
        };
        let Some(entry) = idx.subjects.get(id) else {
            i += n;
            continue;
        };
        let count = copies_asked(&words, i, n, plural).clamp(1, entry.kind.max_copies());
        if !found.iter().any(|s| s.id == id) {
            found.push(Subject {
                label: entry.label.clone(),
                kind: entry.kind,
                count,
                id,
            });
        }
        i += n;
    }
    cap_pictures(&mut found);
    found
}

/// The prompt's words, lower-cased, split at hyphens too (the first 400).
fn words_of(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .flat_map(|w| w.split('-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(400)
        .collect()
}

/// The subject named at word `i`, the longest name first (up to four
/// words): its id, how many words name it, and whether the name was plural.
fn match_at(idx: &Index, words: &[String], i: usize) -> Option<(usize, usize, bool)> {
    for n in (1..=4).rev() {
        if i + n > words.len() {
            continue;
        }
        let phrase = &words[i..i + n];
        if STOP.contains(&phrase[0].as_str()) || STOP.contains(&phrase[n - 1].as_str()) {
            continue;
        }
        if let Some((id, plural)) = match_phrase(idx, phrase) {
            return Some((id, n, plural));
        }
    }
    None
}

/// The subject a phrase names: an alias, a whole name, a whole name with a
/// plural last word, or (for one word) a head noun. With whether it was plural.
fn match_phrase(idx: &Index, phrase: &[String]) -> Option<(usize, bool)> {
    let n = phrase.len();
    let head = phrase[..n - 1].join(" ");
    let join = |last: &str| {
        if head.is_empty() {
            last.to_owned()
        } else {
            format!("{head} {last}")
        }
    };
    let last = &phrase[n - 1];
    let alias = ALIASES
        .iter()
        .find(|(name, _)| *name == join(last))
        .and_then(|(_, to)| idx.names.get(*to).copied());
    if let Some(id) = alias {
        return Some((id, false));
    }
    if let Some(&id) = idx.names.get(&join(last)) {
        return Some((id, false));
    }
    if let Some(id) = singulars(last)
        .iter()
        .find_map(|s| idx.names.get(&join(s)).copied())
    {
        return Some((id, true));
    }
    if n == 1 {
        return idx.words.get(last).map(|&id| (id, false)).or_else(|| {
            singulars(last)
                .iter()
                .find_map(|s| idx.words.get(s).map(|&id| (id, true)))
        });
    }
    None
}

/// How many copies the words around a name (at `i`, `n` words long) ask
/// for: a number or collective word just before it, else three for a
/// plural or collective name, else one.
fn copies_asked(words: &[String], i: usize, n: usize, plural: bool) -> usize {
    // "a school bus" is one bus; "a school of fish" is several fish.
    let asked = i
        .checked_sub(1)
        .filter(|&p| words[p] != "school")
        .and_then(|p| quantity(&words[p]))
        .or_else(|| i.checked_sub(2).and_then(|p| quantity(&words[p])));
    let collective = matches!(
        words[i + n - 1].as_str(),
        "family" | "crowd" | "team" | "group" | "people"
    );
    match (asked, plural || collective) {
        (Some(q), _) => q,
        (None, true) => 3,
        (None, false) => 1,
    }
}

/// Eight pictures at most: plurals give way from the last subject back.
fn cap_pictures(found: &mut [Subject]) {
    while found.iter().map(|s| s.count).sum::<usize>() > 8 {
        if let Some(s) = found.iter_mut().rev().find(|s| s.count > 1) {
            s.count -= 1;
        } else {
            break;
        }
    }
}

/// The subject's picture as premultiplied RGBA, `size` pixels square,
/// mirrored when `flip`. None if the picture cannot be drawn.
pub fn raster(subject: &Subject, size: u32, flip: bool) -> Option<Pixmap> {
    let entry = index().subjects.get(subject.id)?;
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">{}</svg>"#,
        entry.svg
    );
    let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).ok()?;
    let size = size.clamp(4, 4096);
    let mut pixmap = Pixmap::new(size, size)?;
    let k = size as f32 / 32.0;
    let transform = if flip {
        Transform::from_row(-k, 0.0, 0.0, k, size as f32, 0.0)
    } else {
        Transform::from_scale(k, k)
    };
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    Some(pixmap)
}

/// Every subject's label, for checks that the set is complete.
pub fn labels() -> impl Iterator<Item = &'static str> {
    index().subjects.iter().map(|e| e.label.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(prompt: &str) -> Vec<(String, usize)> {
        find(prompt)
            .into_iter()
            .map(|s| (s.label, s.count))
            .collect()
    }

    #[test]
    fn the_set_parses_and_every_picture_draws() {
        assert!(index().subjects.len() > 300);
        for (id, e) in index().subjects.iter().enumerate() {
            let s = Subject {
                label: e.label.clone(),
                kind: e.kind,
                count: 1,
                id,
            };
            let px = raster(&s, 32, false).unwrap_or_else(|| panic!("{} draws", e.label));
            assert!(
                px.pixels().iter().any(|p| p.alpha() > 0),
                "{} is not blank",
                e.label
            );
        }
        assert!(labels().any(|l| l == "lighthouse"));
    }

    #[test]
    fn names_plurals_and_quantities() {
        assert_eq!(
            labels_of("A lighthouse in a storm"),
            [("lighthouse".into(), 1)]
        );
        assert_eq!(
            labels_of("a harbour with fishing boats"),
            [("motor boat".into(), 3)]
        );
        assert_eq!(
            labels_of("a cat and a dog on a sofa"),
            [
                ("cat".into(), 1),
                ("dog".into(), 1),
                ("couch and lamp".into(), 1)
            ]
        );
        assert_eq!(labels_of("two horses in a meadow"), [("horse".into(), 2)]);
        assert_eq!(labels_of("puppies"), [("dog".into(), 3)]);
        assert_eq!(labels_of("a red car"), [("automobile".into(), 1)]);
    }

    #[test]
    fn mood_weather_and_settings_are_not_subjects() {
        for prompt in [
            "A stormy night over the sea",
            "calm ocean at sunset",
            "snowy mountains at dawn",
            "a deep forest in the fog",
            "a futuristic neon city in the rain",
            "",
            "🎬🎬🎬 ----- ...",
        ] {
            assert!(find(prompt).is_empty(), "{prompt:?} -> {:?}", find(prompt));
        }
    }

    #[test]
    fn many_subjects_are_capped() {
        let s = find("cats dogs horses cows sheep ducks trees houses boats");
        assert_eq!(s.len(), 3);
        assert!(s.iter().map(|s| s.count).sum::<usize>() <= 8);
    }
}
