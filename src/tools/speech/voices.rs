//! Voice names. Google-style names (`<lang>-<REGION>-<Family>-<Letter>`, e.g.
//! `en-US-Neural2-D`) work with every provider: each maps the language and the
//! named voice's gender to a voice of its own.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
}

/// One voice a provider offers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Voice {
    #[schema(example = "en-US-Neural2-D")]
    pub name: String,
    #[schema(example = "en-US")]
    pub language_code: String,
    /// `male`, `female`, or absent when unknown.
    pub gender: Option<Gender>,
    pub provider: String,
}

/// A parsed Google-style voice name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoogleVoice {
    /// `en`
    pub language: String,
    /// `US`
    pub region: String,
    /// `Neural2`
    pub family: String,
    /// `D`
    pub letter: char,
}

impl GoogleVoice {
    pub fn parse(name: &str) -> Option<Self> {
        let parts: Vec<&str> = name.split('-').collect();
        let [language, region, family, letter] = parts.as_slice() else {
            return None;
        };
        let ok = (2..=3).contains(&language.len())
            && language.chars().all(|c| c.is_ascii_lowercase())
            && region.len() == 2
            && region.chars().all(|c| c.is_ascii_uppercase())
            && !family.is_empty()
            && family.chars().all(|c| c.is_ascii_alphanumeric())
            && letter.len() == 1
            && letter.chars().all(|c| c.is_ascii_uppercase());
        ok.then(|| GoogleVoice {
            language: (*language).to_owned(),
            region: (*region).to_owned(),
            family: (*family).to_owned(),
            letter: letter.chars().next().unwrap_or('A'),
        })
    }

    /// `en-US`: the first two parts of the name, as Google's API wants it.
    pub fn language_code(&self) -> String {
        format!("{}-{}", self.language, self.region)
    }

    /// The gender of Google's voice with this letter, from Google's published
    /// voice list for the common languages; `None` where it is not known.
    pub fn gender(&self) -> Option<Gender> {
        use Gender::{Female as F, Male as M};
        let table: &[(char, Gender)] = match self.language_code().as_str() {
            "en-US" => &[
                ('A', M),
                ('B', M),
                ('C', F),
                ('D', M),
                ('E', F),
                ('F', F),
                ('G', F),
                ('H', F),
                ('I', M),
                ('J', M),
            ],
            "en-GB" => &[
                ('A', F),
                ('B', M),
                ('C', F),
                ('D', M),
                ('F', F),
                ('N', F),
                ('O', M),
            ],
            "en-AU" => &[('A', F), ('B', M), ('C', F), ('D', M)],
            "en-IN" => &[('A', F), ('B', M), ('C', M), ('D', F)],
            "de-DE" => &[('A', F), ('B', M), ('C', F), ('D', M), ('E', M), ('F', F)],
            "fr-FR" => &[('A', F), ('B', M), ('C', F), ('D', M), ('E', F)],
            "es-ES" => &[('A', F), ('B', M), ('C', F), ('D', F), ('E', M), ('F', F)],
            "it-IT" => &[('A', F), ('B', F), ('C', M), ('D', M)],
            _ => &[],
        };
        table
            .iter()
            .find(|(l, _)| *l == self.letter)
            .map(|(_, g)| *g)
    }
}

/// The Google-style voices the original design used; every provider lists them.
pub const COMMON_VOICES: &[&str] = &[
    "en-US-Neural2-D",
    "en-US-Neural2-C",
    "en-US-Neural2-I",
    "en-US-Wavenet-D",
    "en-US-Wavenet-F",
    "en-US-Wavenet-H",
    "en-US-Wavenet-J",
    "en-GB-Neural2-D",
    "en-GB-Neural2-F",
    "de-DE-Neural2-B",
    "de-DE-Neural2-C",
    "fr-FR-Neural2-B",
    "fr-FR-Neural2-C",
    "es-ES-Neural2-B",
    "es-ES-Neural2-C",
];

/// The common Google-style voices as `provider` lists them: those `serves`
/// accepts.
pub fn common_voices(provider: &str, serves: impl Fn(&GoogleVoice) -> bool) -> Vec<Voice> {
    COMMON_VOICES
        .iter()
        .filter_map(|name| GoogleVoice::parse(name).map(|g| (name, g)))
        .filter(|(_, g)| serves(g))
        .map(|(name, g)| Voice {
            name: (*name).to_owned(),
            language_code: g.language_code(),
            gender: g.gender(),
            provider: provider.to_owned(),
        })
        .collect()
}

/// How a Google-style name maps to OpenAI's voices: female letters take
/// `nova`, `shimmer`, `coral`, `sage` in turn; male ones `onyx`, `echo`,
/// `ash`, `fable`; unknown gender takes `alloy`. OpenAI's own voice names
/// pass through unchanged.
pub fn openai_voice(name: &str) -> Option<&'static str> {
    const OPENAI: &[&str] = &[
        "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
        "verse",
    ];
    if let Some(v) = OPENAI.iter().find(|v| **v == name) {
        return Some(v);
    }
    let voice = GoogleVoice::parse(name)?;
    let index = (voice.letter as usize - 'A' as usize) / 2;
    Some(match voice.gender() {
        Some(Gender::Female) => ["nova", "shimmer", "coral", "sage"][index % 4],
        Some(Gender::Male) => ["onyx", "echo", "ash", "fable"][index % 4],
        None => "alloy",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_google_names() {
        let v = GoogleVoice::parse("en-US-Neural2-D").unwrap();
        assert_eq!(v.language_code(), "en-US");
        assert_eq!(v.gender(), Some(Gender::Male));
        assert_eq!(
            GoogleVoice::parse("en-GB-Neural2-F").unwrap().gender(),
            Some(Gender::Female)
        );
        assert_eq!(
            GoogleVoice::parse("de-DE-Wavenet-B").unwrap().language,
            "de"
        );
        assert_eq!(GoogleVoice::parse("xx-YY-Foo-Z").unwrap().gender(), None);
        for bad in [
            "en-US",
            "en-us-Neural2-D",
            "english",
            "en-US-Neural2-DD",
            "en-US-Neu ral-D",
            "",
        ] {
            assert!(GoogleVoice::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn maps_to_openai_voices() {
        assert_eq!(openai_voice("en-US-Neural2-D"), Some("echo"));
        assert_eq!(openai_voice("en-US-Wavenet-F"), Some("coral"));
        assert_eq!(openai_voice("en-US-Neural2-C"), Some("shimmer"));
        assert_eq!(openai_voice("nova"), Some("nova"));
        assert_eq!(openai_voice("zz-ZZ-X-A"), Some("alloy"));
        assert_eq!(openai_voice("robot"), None);
    }
}
