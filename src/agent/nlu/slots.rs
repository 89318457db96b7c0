//! Slot extraction: once the model has chosen the tool, these rules take the
//! tool's arguments out of the request by stripping its framing ("visualize
//! …", "Record a voiceover: …", "a TikTok caption for …") and reading the
//! few closed-set values (platform, voice, aspect ratio, asset references).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the slot patterns are valid")
}

/// Politeness and wanting, in the languages the studio speaks.
const LEAD: &str = r"(?:(?:hey|hi|hello|ok|okay|so|now|and|then|please|pls|plz|kindly|quickly|just|also|can you|could you|would you|will you|would you mind|can i get|could i get|can i have|could i have|may i have|can we get|could we get|i want you to|i'd like you to|i would like you to|i want to|i'd like to|i would like to|i want|i'd like|i would like|i'd love|i would love|i need you to|i need|we need|i'm looking for|let me see|i want to see|need|want|gimme|let's|lets|go ahead and|help me|try to|time to|bitte|kannst du|könntest du|ich möchte|ich hätte gern|ich brauche|ich will|s'il te plaît|s'il vous plaît|peux-tu|pouvez-vous|pourrais-tu|pourriez-vous|je voudrais|j'aimerais|je veux|por favor|puedes|podrías|quiero|necesito|me gustaría)\b[\s,!]*)*";

static LEAD_RE: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"(?i)^\s*{LEAD}")));

/// What a request asks to be made, once its lead words are gone.
fn strip_lead(s: &str) -> &str {
    LEAD_RE.find(s).map_or(s, |m| &s[m.end()..]).trim_start()
}

fn strip_quotes(s: &str) -> String {
    let q = |c| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»' | '„');
    let t = s.trim();
    let (first, last) = (t.chars().next(), t.chars().last());
    // Only a pair: "it's" keeps its apostrophe.
    if t.chars().count() >= 2 && first.is_some_and(q) && last.is_some_and(q) {
        t.trim_matches(q).trim().to_owned()
    } else {
        t.to_owned()
    }
}

/// A topic or prompt: no closing punctuation, no trailing "please".
fn tidy(s: &str) -> String {
    static TAIL: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:[\s,]+(?:please|pls|thanks|thank you|bitte|s'il te plaît|por favor))*[\s.!?;,…]*$",
        )
    });
    let s = strip_quotes(s);
    let s = TAIL.replace(&s, "");
    strip_quotes(&s)
}

/// The text after the request's colon ("Record a voiceover: Our story…"),
/// and the framing before it. A colon between digits (9:16, 10:30) is not one.
fn after_colon(m: &str) -> Option<(&str, &str)> {
    let bytes = m.as_bytes();
    let at = m.char_indices().find(|&(i, c)| {
        c == ':'
            && !(i > 0
                && bytes[i - 1].is_ascii_digit()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
    })?;
    let (before, after) = (&m[..at.0], m[at.0 + 1..].trim());
    (!after.is_empty()).then_some((before, after))
}

/// The first quoted passage and the message without it.
fn quoted(m: &str) -> Option<(String, String)> {
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r#"(?s)(?:^|[\s:(])(?:"(?P<a>[^"]+)"|“(?P<b>[^”]+)”|«\s*(?P<c>[^»]+?)\s*»|„(?P<d>[^“”]+)[“”]|'(?P<e>[^']+(?:'[a-z][^']*)*)'(?:$|[\s,.!?;)]))"#,
        )
    });
    let c = QUOTED.captures(m)?;
    let inner = ["a", "b", "c", "d", "e"].iter().find_map(|n| c.name(n))?;
    let whole = c.get(0)?;
    let rest = format!("{} {}", &m[..whole.start()], &m[whole.end()..]);
    Some((inner.as_str().trim().to_owned(), rest))
}

// ---------------------------------------------------------------- image

static IMAGE_FRAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)^
        (?:to\s+)?
        (?:(?:generate|create|make|draw|paint|render|visuali[sz]e|see|sketch|doodle|illustrate|design|produce|imagine|depict|show|give|get|add|insert|include|whip\s+up|craft|dream\s+up|do|conjure\s+up|come\s+up\s+with|erstelle|erstell|erzeuge|erzeug|generiere|mache|mach|zeichne|male|mal|zeig|peins|peindre|crée|cree|créer|génère|genere|générer|dessine|dessiner|fais|faire|montre|genera|generar|crea|crear|dibuja|dibujar|haz|hazme|pinta|muéstrame|muestrame)\b[\s,]*)?
        (?:(?:me|us|mir|uns|moi|nous|-moi|-nous)\b\s*)?
        (?:(?:(?:a|an|one|some|the|another|ein|eine|einen|einer|un|une|una|uno|des)\b\s*)?
           (?:(?:new|cover|header|title|background|hero|profile|album|stock|quick|nice|beautiful|pretty|cool|simple|detailed|realistic|photorealistic|cinematic|stunning|little|small|big|large|high[\s-]res|hd|4k|ai|digital|colorful|colourful|watercolor|watercolour|neues|schönes|belle|jolie|bonita|nueva|vertical|portrait|square|landscape|widescreen|wide|horizontal|tall|vertikales|quadratisches|carrée|cuadrada)\b[\s,]*)*
           (?:image|picture|photo|photograph|illustration|drawing|painting|portrait|pic|artwork|art|wallpaper|thumbnail|poster|scene|rendering|render|sketch|shot|view|visual|graphic|cover|banner|bild|foto|zeichnung|gemälde|grafik|porträt|dessin|peinture|imagen|dibujo|ilustración|pintura|retrato)s?\b
           (?:[\s,]*(?:vertical|portrait|square|landscape|widescreen|horizontal)\b[\s,]*)?
           (?:\s*(?:[:,-]|d'|(?:of|showing|that\s+shows|with|featuring|depicting|for|about|von|vom|mit|zeigt|de|du|des|con|sobre|del)\b))?\s*
        )?")
});

static ASPECT_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)[\s,;-]*
        (?:(?:in|as|with|at|im|en|au|format)\s+(?:a\s+|an\s+|the\s+)?)?
        (?:vertical|portrait|square|landscape|widescreen|horizontal|9:16|1:1|16:9|4:5|hochformat|querformat|quadratisch|format\s+portrait|formato\s+vertical|vertikal)
        (?:\s+(?:format|orientation|aspect\s+ratio|ratio|mode|shape|size|frame|image|picture|formato))?
        [\s.!]*$")
});

/// An aspect ratio said in words anywhere in the request.
pub fn aspect_ratio(m: &str, video: bool) -> Option<&'static str> {
    static VERTICAL: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:vertical|vertically|portrait|9:16|tall\s+(?:image|picture|photo|format|version)|hochformat|hochkant|vertikal|vertikales|verticale|vertikale)\b",
        )
    });
    static VIDEO_VERTICAL: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:tik\s?tok|reels?|shorts|stories|phone|mobile|handy)\b"));
    static SQUARE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\b(?:square|1:1|quadratisch|quadratisches|carrée?|cuadrad[oa])\b")
    });
    static WIDE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\b(?:landscape|widescreen|16:9|horizontal|querformat|paysage)\b")
    });
    static VIDEO_WIDE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:youtube)\b"));
    static INSTA: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:instagram|insta)\b"));
    // "a portrait of an old fisherman" is a kind of picture, not a shape.
    static PORTRAIT_OF: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\bportraits?\s+(?:of|von|de)\b"));
    let m = &PORTRAIT_OF.replace_all(m, " ");
    if VERTICAL.is_match(m) || video && VIDEO_VERTICAL.is_match(m) {
        Some("9:16")
    } else if SQUARE.is_match(m) || video && INSTA.is_match(m) {
        Some("1:1")
    } else if WIDE.is_match(m) || video && VIDEO_WIDE.is_match(m) {
        Some("16:9")
    } else {
        None
    }
}

/// `generate_image`'s arguments.
pub fn image(m: &str) -> Option<Value> {
    let body = strip_lead(m);
    let rest = IMAGE_FRAME.find(body).map_or(body, |f| &body[f.end()..]);
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    // "an image for the intro: a sunrise": the picture is after the colon.
    let rest = after_colon(rest).map_or(rest, |(_, after)| after);
    // "what a floating city might look like": the floating city.
    static LOOKS_LIKE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:what|how)\s+(?P<p>.+?)\s+(?:(?:might|would|could|will|may)\s+)?(?:looks?|look)\s+like[\s.!?]*$",
        )
    });
    let rest = match LOOKS_LIKE.captures(rest) {
        Some(c) => c.name("p").map_or(rest, |p| p.as_str()),
        None => rest,
    };
    let mut prompt = tidy(rest);
    loop {
        let cut = ASPECT_TAIL.replace(&prompt, "").into_owned();
        if cut == prompt || cut.trim().is_empty() {
            break;
        }
        prompt = tidy(&cut);
    }
    if prompt.is_empty() {
        return None;
    }
    let mut args = json!({ "prompt": prompt });
    if let Some(ratio) = aspect_ratio(m, false) {
        args["aspect_ratio"] = json!(ratio);
    }
    Some(args)
}

// ---------------------------------------------------------------- voice

static VOICE_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)[\s,;-]*(?:
        (?:in|with|using|by|as|read\s+by|spoken\s+by)\s+(?:a|an|the|my)?\s*[\p{L}\s'-]{0,40}?\s*(?:voice|accent|narrator|speaker|tone)
        | (?:in|with|using)\s+(?:british|american|australian|german|french|spanish|english)(?:\s+english)?
        | (?:mit|in)\s+(?:einer|einem|der)?\s*[\p{L}\s-]{0,30}?(?:stimme|akzent)
        | auf\s+(?:deutsch|englisch|französisch|spanisch)
        | avec\s+(?:une|la)?\s*[\p{L}\s'-]{0,30}?(?:voix|accent)[\p{L}\s'-]{0,20}?
        | en\s+(?:français|anglais|allemand|espagnol|español|inglés|alemán|francés)
        | con\s+(?:una|la)?\s*[\p{L}\s-]{0,30}?(?:voz|acento)[\p{L}\s-]{0,20}?
        | (?:out\s+loud|aloud|as\s+(?:audio|speech|a\s+voice-?over)|in(?:to)?\s+(?:speech|audio|a\s+voice-?over))
        )[\s.!?]*$")
});

static VOICE_FRAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)^
        (?:to\s+)?
        (?:
          (?:text\s+to\s+speech|tts)\b
        | (?:turn|convert|change|transform|make)\s+(?:this|the\s+following|this\s+text|this\s+line|the\s+text|the\s+line)?\s*(?:in(?:to)?|to)\s+(?:speech|audio|a\s+voice-?over|voice|spoken\s+audio|an?\s+audio(?:\s+file|\s+clip)?|narration)\b
        | (?:(?:create|make|generate|record|produce|give|get|do|render|erstelle|erstell|generiere|nimm|crée|génère|enregistre|fais|genera|crea|graba|haz)\s+(?:me\s+|us\s+|mir\s+|moi\s+)?)?
          (?:(?:a|an|the|one|ein|eine|einen|un|une|una)\s+)?
          (?:[\p{L}'-]+\s+){0,4}?
          (?:voice-?over|voiceover|voice\s+over|voice\s+line|voice\s+clip|narration|audio\s+clip|audio\s+file|audio|recording|speech|sprachaufnahme|audioaufnahme|sprachausgabe|aufnahme|voix\s+off|enregistrement|narración|locución|grabación)
          (?:\s+(?:of|for|saying|that\s+says|which\s+says|reading|with\s+the\s+text|with|von|mit|die\s+sagt|de|qui\s+dit|que\s+diga|que\s+dice|con))?\b
        | (?:say|says|read|narrate|speak|voice|pronounce|announce|dictate|recite|sag|sage|sprich|lies|dis|lis|prononce|récite|di|dime|lee|narra|pronuncia)\b
          (?:\s+(?:out\s+loud|out|aloud|vor|me|mir|us))?
          (?:\s+(?:this\s+text|this\s+line|this\s+sentence|this|the\s+following\s+text|the\s+following|the\s+text|the\s+line|folgendes|folgenden\s+text|ceci|ce\s+texte|esto|este\s+texto))?\b
        )")
});

/// A voice named in the request ("use the voice en-GB-Neural2-D", "in
/// en-US-Wavenet-F"), and the request without that mention.
fn named_voice(m: &str) -> Option<(String, String)> {
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?ix)[\s,]*
            (?:(?:use|using|with|in|via|voiced\s+by|read\s+by|spoken\s+by|mit|avec|con)\s+)?
            (?:(?:the|a|der|die|la|le)\s+)?
            (?:(?:voice|stimme|voix|voz)\s+)?
            \b(?P<name>[a-z]{2,3}-[a-z]{2}-[a-z0-9]+-[a-z])\b
            (?:\s+(?:voice|stimme|voix|voz))?
            [\s,]*")
    });
    let c = NAMED.captures(m)?;
    let name = crate::tools::speech::voices::GoogleVoice::parse(&normalise_voice(&c["name"]))?;
    let name = format!(
        "{}-{}-{}-{}",
        name.language, name.region, name.family, name.letter
    );
    let whole = c.get(0)?;
    let rest = format!("{} {}", &m[..whole.start()], &m[whole.end()..]);
    Some((name, rest.trim().to_owned()))
}

/// `EN-us-neural2-d` as Google spells it: `en-US-Neural2-D`.
fn normalise_voice(name: &str) -> String {
    let parts: Vec<&str> = name.split('-').collect();
    let [language, region, family, letter] = parts.as_slice() else {
        return name.to_owned();
    };
    let mut family_chars = family.chars();
    let family = match family_chars.next() {
        Some(c) if family.chars().any(|c| c.is_ascii_uppercase()) => {
            c.to_string() + family_chars.as_str()
        }
        Some(c) => c.to_ascii_uppercase().to_string() + family_chars.as_str(),
        None => String::new(),
    };
    format!(
        "{}-{}-{family}-{}",
        language.to_ascii_lowercase(),
        region.to_ascii_uppercase(),
        letter.to_ascii_uppercase()
    )
}

/// The language of the words to speak when the request names no voice: the
/// verb it uses ("Sprich: …", "Lis ce texte : …") or, when it is clear, the
/// text itself.
fn spoken_language(framing: &str, text: &str) -> Option<&'static str> {
    static VERB: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^\s*(?:(?P<de>sprich|sag|sage|lies|nimm|erstelle|erstell|generiere)|(?P<fr>dis|lis|prononce|récite|enregistre|crée|génère)|(?P<es>di|dime|lee|narra|pronuncia|graba|genera|crea))\b",
        )
    });
    if let Some(c) = VERB.captures(framing) {
        return Some(if c.name("de").is_some() {
            "german"
        } else if c.name("fr").is_some() {
            "french"
        } else {
            "spanish"
        });
    }
    let info = whatlang::detect(text).filter(|i| i.is_reliable())?;
    match info.lang() {
        whatlang::Lang::Deu => Some("german"),
        whatlang::Lang::Fra => Some("french"),
        whatlang::Lang::Spa => Some("spanish"),
        _ => None,
    }
}

/// `synthesize_voiceover`'s arguments.
pub fn voice(m: &str) -> Option<Value> {
    let (named, m) = match named_voice(m) {
        Some((name, rest)) => (Some(name), rest),
        None => (None, m.to_owned()),
    };
    let m = m.as_str();
    let body = strip_lead(m);
    let (text, framing) = if let Some((before, after)) = after_colon(body) {
        let text = VOICE_TAIL.replace(after, "").into_owned();
        let tail = &after[text.len().min(after.len())..];
        (strip_quotes(&text), format!("{before} {tail}"))
    } else if let Some((inner, rest)) = quoted(body) {
        (inner, rest)
    } else {
        let rest = VOICE_FRAME.find(body).map_or(body, |f| &body[f.end()..]);
        // "a voice-over for the intro that says hello": what it says.
        static SAYS: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?i)^[\p{L}\d\s'-]{0,40}?\b(?:that|which)\s+says\b[\s,:]*|^[\p{L}\d\s'-]{0,40}?\bsaying\b[\s,:]*",
            )
        });
        let rest = SAYS.find(rest).map_or(rest, |f| &rest[f.end()..]);
        let rest = rest.trim_start();
        let framing_end = body.len() - rest.len();
        let text = VOICE_TAIL.replace(rest, "").into_owned();
        let text = text.trim().trim_end_matches(',').trim();
        let tail = rest.get(text.len()..).unwrap_or_default();
        (
            strip_quotes(text),
            format!("{} {tail}", &body[..framing_end]),
        )
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return None;
    }
    let mut args = json!({ "text": text });
    let described = || {
        voice_for(&framing).or_else(|| {
            spoken_language(&framing, &text)
                .and_then(|language| voice_for(&format!("{language} {framing}")))
        })
    };
    if let Some(name) = named {
        args["voice_name"] = json!(name);
    } else if let Some(name) = described() {
        args["voice_name"] = json!(name);
    }
    Some(args)
}

/// A Google-style voice for words such as "British female", "deep male" or
/// "mit einer weiblichen Stimme".
pub fn voice_for(description: &str) -> Option<&'static str> {
    let d = description.to_lowercase();
    let words: Vec<&str> = d.split(|c: char| !c.is_alphabetic()).collect();
    let female = says(&words, FEMALE);
    let male = says(&words, MALE);
    let language = ACCENTS
        .iter()
        .find(|(_, cue)| says(&words, *cue))
        .map(|(language, _)| *language)
        .or_else(|| {
            (says(&words, (&["american", "us", "usa"], &[])) || male || female).then_some("en-US")
        })?;
    Some(neural_voice(language, female && !male))
}

/// Words that describe a voice: whole words, and the beginnings of words
/// (longer than two letters) in languages that build long ones.
type Cue = (&'static [&'static str], &'static [&'static str]);

/// Whether any of `words` is one of the cue's whole words or begins with one
/// of its beginnings.
fn says(words: &[&str], (whole, beginnings): Cue) -> bool {
    whole.iter().any(|w| words.contains(w))
        || beginnings
            .iter()
            .any(|p| words.iter().any(|w| w.len() > 2 && w.starts_with(p)))
}

/// A woman's voice.
const FEMALE: Cue = (
    &[
        "female",
        "woman",
        "women",
        "girl",
        "lady",
        "feminine",
        "womans",
        "her",
        "she",
        "frau",
        "femme",
        "mujer",
        "féminine",
        "feminina",
        "femenina",
        "fille",
        "chica",
    ],
    &["weiblich", "frauen", "femenin", "fémin"],
);

/// A man's voice.
const MALE: Cue = (
    &[
        "male",
        "man",
        "men",
        "boy",
        "guy",
        "masculine",
        "deep",
        "mans",
        "him",
        "he",
        "mann",
        "homme",
        "hombre",
        "masculina",
        "garçon",
        "chico",
    ],
    &["männlich", "männer", "masculin"],
);

/// The accents a description may ask for, in the order they are tried.
const ACCENTS: &[(&str, Cue)] = &[
    (
        "en-GB",
        (
            &["british", "uk", "london", "england", "english"],
            &[
                "britisch", "britann", "britán", "englisch", "anglais", "inglés",
            ],
        ),
    ),
    (
        "en-AU",
        (&["australian", "aussie", "australia"], &["australi"]),
    ),
    (
        "de-DE",
        (
            &[
                "german",
                "allemand",
                "allemande",
                "alemán",
                "alemana",
                "stimme",
                "akzent",
            ],
            &["deutsch", "frauenstimm", "männerstimm"],
        ),
    ),
    (
        "fr-FR",
        (
            &[
                "french",
                "français",
                "française",
                "französisch",
                "französischen",
                "francés",
                "francesa",
                "voix",
            ],
            &[],
        ),
    ),
    (
        "es-ES",
        (
            &[
                "spanish",
                "español",
                "española",
                "espagnol",
                "espagnole",
                "spanisch",
                "spanischen",
                "voz",
                "acento",
            ],
            &[],
        ),
    ),
];

/// The Neural2 voice of a language, a woman's or a man's.
fn neural_voice(language: &str, female: bool) -> &'static str {
    match (language, female) {
        ("en-GB", true) => "en-GB-Neural2-F",
        ("en-GB", false) => "en-GB-Neural2-D",
        ("en-AU", true) => "en-AU-Neural2-C",
        ("en-AU", false) => "en-AU-Neural2-B",
        ("de-DE", true) => "de-DE-Neural2-C",
        ("de-DE", false) => "de-DE-Neural2-B",
        ("fr-FR", true) => "fr-FR-Neural2-C",
        ("fr-FR", false) => "fr-FR-Neural2-B",
        ("es-ES", true) => "es-ES-Neural2-C",
        ("es-ES", false) => "es-ES-Neural2-B",
        (_, true) => "en-US-Neural2-C",
        _ => "en-US-Neural2-D",
    }
}

// ---------------------------------------------------------------- social

/// The platform a request names (`youtube` when none).
pub fn platform(m: &str) -> &'static str {
    named_platform(m).unwrap_or("youtube")
}

/// The platform a request names, if any.
pub fn named_platform(m: &str) -> Option<&'static str> {
    static PLATFORM: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?P<tiktok>tik[\s-]?tok)\b|\b(?P<insta>instagram|insta|ig|reels?)\b|\b(?P<x>twitter|tweets?|(?:on|for|to|auf|sur|en|para|pour|an)\s+x|x\s+(?:post|thread|beitrag))\b|\b(?P<linkedin>linked[\s-]?in)\b|\b(?P<youtube>youtube|yt)\b",
        )
    });
    PLATFORM.captures(m).map(|c| {
        if c.name("tiktok").is_some() {
            "tiktok"
        } else if c.name("insta").is_some() {
            "instagram"
        } else if c.name("x").is_some() {
            "x"
        } else if c.name("linkedin").is_some() {
            "linkedin"
        } else {
            "youtube"
        }
    })
}

static POST_NOUN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:posts?|captions?|tweets?|threads?|descriptions?|blurbs?|copy|titles?|hashtags?|updates?|announcements?|teasers?|texts?|bios?|headlines?|beitrag|beiträge|posting|bildunterschrift|beschreibung|titel|légende|publication|description|titre|publicación|descripción|título|texto|leyenda|pie\s+de\s+foto)\b",
    )
});

static CONNECTOR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^[\s,-]*(?:(?:(?:on|for|to|auf|für|sur|pour|para|en|de)\s+)?(?:(?:a|an|my|our|the|this)\s+)?(?:tik[\s-]?tok|instagram|insta|twitter|x|linked[\s-]?in|youtube|yt)\s*(?:(?:video|post|reel|clip|short)s?\s*)?)?(?:,\s*)?(?:for|about|on|to\s+go\s+with|to\s+accompany|that\s+goes\s+with|to\s+(?:promote|celebrate|announce|advertise|share|highlight)|promoting|celebrating|highlighting|sharing|announcing|summari[sz]ing|describing|from|regarding|über|zum\s+thema|zu|zum|zur|für|sur|pour|à\s+propos\s+d[eu']|concernant|de|sobre|para|acerca\s+de)\b\s*",
    )
});

static MY_VIDEO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:(?:my|our|the|a|an|this|mein(?:em|en)?|unser(?:em|en)?|mon|ma|notre|mi|nuestro)\s+)?(?:new\s+|latest\s+|upcoming\s+)?(?:(?:tik[\s-]?tok|instagram|insta|youtube|linked[\s-]?in|facebook)\s+)?(?:video|vlog|clip|reel|short|film|episode|ad|advert|promo|campaign)\s+(?:about|on|of|for|über|sur|sobre)\s+",
    )
});

/// "for my lighthouse video": the post is about the lighthouse video.
static MY: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^my\s+"));

/// `generate_social_post`'s arguments.
pub fn social(m: &str) -> Option<Value> {
    let platform = platform(m);
    let body = strip_lead(m);
    let text = if let Some((_, after)) = after_colon(body) {
        strip_quotes(after)
    } else {
        let rest = match POST_NOUN.find(body) {
            Some(noun) => {
                let after = &body[noun.end()..];
                match CONNECTOR.find(after) {
                    Some(c) => &after[c.end()..],
                    None => {
                        // "...post for LinkedIn about X": the connector after the platform.
                        static LATER: LazyLock<Regex> = LazyLock::new(|| {
                            re(r"(?i)\b(?:about|on|for|über|zu|sur|sobre|pour|para|für)\s+")
                        });
                        LATER
                            .find(after)
                            .filter(|c| c.start() < 30)
                            .map_or(after, |c| &after[c.end()..])
                    }
                }
            }
            None => {
                // "write something for Twitter about …", "promote my … on
                // instagram": the verb, then the connector or the topic.
                static SOCIAL_VERB: LazyLock<Regex> = LazyLock::new(|| {
                    re(
                        r"(?i)^(?:write|compose|draft|craft|create|make|come\s+up\s+with|give\s+me|post|tweet|promote|advertise|announce|hype|market|plug|schreib|schreibe|écris|rédige|escribe|redacta)\b(?:\s+(?:something|anything|a\s+few\s+(?:words|lines)|some\s+(?:words|lines|copy)|etwas|quelque\s+chose|algo))?\s*",
                    )
                });
                SOCIAL_VERB.find(body).map_or(body, |f| &body[f.end()..])
            }
        };
        let rest = CONNECTOR.find(rest).map_or(rest, |c| &rest[c.end()..]);
        let rest = MY_VIDEO.replace(rest, "");
        let rest = MY.replace(&rest, "");
        // "… on instagram": the platform is not the topic.
        static PLATFORM_TAIL: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?i)[\s,]+(?:on|for|to|auf|für|sur|pour|en|para)\s+(?:tik[\s-]?tok|instagram|insta|twitter|x|linked[\s-]?in|youtube|yt)[\s.!?]*$",
            )
        });
        let rest = PLATFORM_TAIL.replace(&rest, "");
        tidy(&rest)
    };
    if text.is_empty() {
        return None;
    }
    Some(json!({ "text": text, "platform": platform }))
}

// ---------------------------------------------------------------- list

/// `list_assets`'s arguments: a type when exactly one kind is named.
pub fn list(m: &str) -> Value {
    static KINDS: LazyLock<[(&str, Regex); 5]> = LazyLock::new(|| {
        [
            (
                "image",
                re(
                    r"(?i)\b(?:images?|pictures?|photos?|pics|bilder|bild|fotos?|imágenes|imagenes|dessins?|illustrations?)\b",
                ),
            ),
            (
                "video",
                re(r"(?i)\b(?:videos?|vidéos?|vídeos?|clips?|movies?|films?)\b"),
            ),
            (
                "audio",
                re(
                    r"(?i)\b(?:audios?|voice-?overs?|voice\s+overs?|recordings?|narrations?|sounds?|aufnahmen|enregistrements?|grabaciones|tonspuren|voix)\b",
                ),
            ),
            (
                "social",
                re(
                    r"(?i)\b(?:posts?|social\s+posts?|captions?|tweets?|beiträge|publications?|publicaciones)\b",
                ),
            ),
            (
                "subtitles",
                re(r"(?i)\b(?:subtitles?|srt|untertitel|sous-titres|subtítulos)\b"),
            ),
        ]
    });
    let named: Vec<&str> = KINDS
        .iter()
        .filter(|(_, r)| r.is_match(m))
        .map(|(k, _)| *k)
        .collect();
    match named.as_slice() {
        [one] => json!({ "type": one }),
        _ => json!({}),
    }
}

// ---------------------------------------------------------------- compose

/// What "the last picture" becomes: `image_last`, resolved against the
/// session's assets before the call.
pub const LAST: &str = "last";

/// Asset references ("image 2", "audio_1.mp3", "the first picture", "the
/// second voice-over", "the last image") as name stems (`image_2`,
/// `image_last`), in the order they appear.
pub fn asset_refs(m: &str) -> Vec<String> {
    const KIND: &str = r"image|picture|photo|pic|img|still|audio|voice-?over|voice\s+over|voice|narration|recording|clip|video|bild|foto|imagen|audioaufnahme";
    static REF: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?:(?P<kind>{KIND})s?\s*(?:#|no\.?|nr\.?|number|num)?\s*_?(?P<n>\d+)(?:\.[a-z0-9]{{2,4}})?\b|(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|latest|newest|\d+(?:st|nd|rd|th))\s+(?P<kind2>{KIND})\b|(?P<kind3>{KIND})s?\s+(?P<word>one|two|three|four|five|six|seven|eight|nine|ten)\b)"
        ))
    });
    const ORDINALS: [&str; 10] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
    const NUMBERS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    REF.captures_iter(m)
        // "9:16" is a shape, not "video 9".
        .filter(|c| !m[c.get(0).map_or(0, |w| w.end())..].starts_with(':'))
        .filter_map(|c| {
            let (kind, n) = if let (Some(k), Some(n)) = (c.name("kind"), c.name("n")) {
                (
                    k.as_str(),
                    n.as_str().parse::<u32>().ok().filter(|n| *n > 0)?,
                )
            } else if let (Some(k), Some(o)) = (c.name("kind2"), c.name("ord")) {
                let o = o.as_str().to_ascii_lowercase();
                let n = match ORDINALS.iter().position(|w| *w == o) {
                    None if matches!(o.as_str(), "last" | "latest" | "newest") => 0,
                    Some(i) => i as u32 + 1,
                    None => o
                        .trim_end_matches(char::is_alphabetic)
                        .parse()
                        .ok()
                        .filter(|n: &u32| *n > 0)?,
                };
                (k.as_str(), n)
            } else {
                let k = c.name("kind3")?;
                let w = c.name("word")?.as_str().to_ascii_lowercase();
                (k.as_str(), NUMBERS.iter().position(|x| *x == w)? as u32 + 1)
            };
            let kind = match kind.to_ascii_lowercase().as_str() {
                "image" | "picture" | "photo" | "pic" | "img" | "still" | "bild" | "foto"
                | "imagen" => "image",
                "clip" | "video" => "video",
                _ => "audio",
            };
            Some(match n {
                0 => format!("{kind}_{LAST}"),
                n => format!("{kind}_{n}"),
            })
        })
        .collect()
}

/// `compose_video`'s arguments. No references: the saved timeline, or
/// everything in the session (the registry decides).
pub fn compose(m: &str) -> Value {
    static CAPTIONS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:captions?|captioned|subtitles?|subtitled|untertitel(?:n)?|sous-titres|sous-titré|subtítulos)\b",
        )
    });
    static NO_CAPTIONS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:without|no|ohne|sans|sin)\s+(?:any\s+)?(?:captions?|subtitles?|untertitel|sous-titres|subtítulos)\b",
        )
    });
    let mut args = json!({ "asset_ids": asset_refs(m) });
    if NO_CAPTIONS.is_match(m) {
        args["captions"] = json!(false);
    } else if CAPTIONS.is_match(m) {
        args["captions"] = json!(true);
    }
    if let Some(ratio) = aspect_ratio(m, true) {
        args["aspect_ratio"] = json!(ratio);
    }
    args
}

// ---------------------------------------------------------------- hearing

/// The pause "cut the pauses" tightens to, seconds.
pub const TIGHT_PAUSE: f64 = 0.4;

/// The clip or recording a hearing request names: a reference ("video 1",
/// "the second clip"), else the newest of the kind it names ("my clip",
/// "the recording"), else none (the newest with sound).
fn spoken_ref(m: &str) -> Option<String> {
    static CLIP: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:clips?|videos?|footage|interview|vlog|take)\b"));
    static RECORDING: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:recordings?|audio|podcast|narration|voice\s*memo|voice-?over|interview\s+audio)\b",
        )
    });
    if let Some(first) = asset_refs(m).into_iter().find(|r| !r.starts_with("image")) {
        return Some(first);
    }
    if RECORDING.is_match(m) {
        Some(format!("audio_{LAST}"))
    } else if CLIP.is_match(m) {
        Some(format!("video_{LAST}"))
    } else {
        None
    }
}

/// `transcribe`'s arguments.
pub fn transcribe(m: &str) -> Value {
    match spoken_ref(m) {
        Some(id) => json!({ "asset_id": id }),
        None => json!({}),
    }
}

/// `cut_speech`'s arguments: fillers and/or pauses, as the request asks
/// (fillers when it names neither).
pub fn cut_speech(m: &str) -> Value {
    static FILLERS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:um+s?|uh+s?|ers|erms?|ahs?|hmm+s?|fillers?|filler\s+words|hesitations?|you\s+knows?|stutters?|stammers?)\b",
        )
    });
    static PAUSES: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:pauses?|silences?|silent\s+bits|gaps?|dead\s+air|breaks?|tighten|tighter|pacing)\b",
        )
    });
    static SECONDS: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?P<n>\d+(?:\.\d+)?|\.\d+)\s*(?:s|secs?|seconds?)\b"));
    let mut args = transcribe(m);
    let fillers = FILLERS.is_match(m);
    let pauses = PAUSES.is_match(m);
    if fillers || !pauses {
        args["remove_fillers"] = json!(true);
    }
    if pauses {
        let said = SECONDS
            .captures(m)
            .and_then(|c| c["n"].parse::<f64>().ok())
            .filter(|s| (0.05..=10.0).contains(s));
        args["max_pause"] = json!(said.unwrap_or(TIGHT_PAUSE));
    }
    args
}

// ---------------------------------------------------------------- layers

/// A number as the corpus writes it: whole numbers without a fraction.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e9 {
        json!(x as i64)
    } else {
        json!((x * 1000.0).round() / 1000.0)
    }
}

/// The place a request names for a picture: a corner ("top left", "the
/// lower right-hand corner", "oben rechts"), an edge ("at the top"), the
/// centre, or none. "In the top corner" is the top right one, "the left
/// corner" the top left one.
pub fn corner(m: &str) -> Option<&'static str> {
    static NOISE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:right\s+(?:now|away|here)|all\s+right|alright|on\s+top\s+of|over\s+the\s+top|lower\s+thirds?)\b",
        )
    });
    static TOP: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:top|upper|oben|haut|arriba|superior)\b"));
    static BOTTOM: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:bottom|lower|unten|bas|abajo|inferior)\b"));
    static LEFT: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:left|links|gauche|izquierd[ao])\b"));
    static RIGHT: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:right|rechts|droite|derech[ao])\b"));
    static CENTER: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:cent(?:er|re)|middle|mitte|milieu|centro)\b"));
    static CORNER: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:corners?|ecke|coin|esquina)\b"));
    let m = m.replace(['_', '-'], " ");
    let m = NOISE.replace_all(&m, " ");
    let vertical = if TOP.is_match(&m) {
        Some("top")
    } else if BOTTOM.is_match(&m) {
        Some("bottom")
    } else {
        None
    };
    let horizontal = if LEFT.is_match(&m) {
        Some("left")
    } else if RIGHT.is_match(&m) {
        Some("right")
    } else {
        None
    };
    let corner = CORNER.is_match(&m);
    Some(match (vertical, horizontal) {
        (Some("top"), Some("left")) => "top_left",
        (Some("top"), Some(_)) => "top_right",
        (Some(_), Some("left")) => "bottom_left",
        (Some(_), Some(_)) => "bottom_right",
        (Some("top"), None) if corner => "top_right",
        (Some(_), None) if corner => "bottom_right",
        (Some("top"), None) => "top",
        (Some(_), None) => "bottom",
        (None, Some("left")) if corner => "top_left",
        (None, Some(_)) if corner => "top_right",
        (None, Some("left")) => "left",
        (None, Some(_)) => "right",
        (None, None) if CENTER.is_match(&m) => "center",
        (None, None) => return None,
    })
}

/// `add_logo`'s arguments: the picture named (none: the brand kit's logo,
/// else the newest uploaded picture) and the place named (none: the top
/// right corner).
pub fn logo(m: &str) -> Value {
    static LOGO: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:logos?|watermark\w*|brand\w*|emblem)\b"));
    let mut args = json!({});
    let refs = asset_refs(m);
    // A picture named; another kind only when the request is not about the
    // logo ("my logo on clip 2" is the logo).
    let named = refs
        .iter()
        .find(|r| r.starts_with("image"))
        .or_else(|| refs.first().filter(|_| !LOGO.is_match(m)));
    if let Some(first) = named {
        args["asset_id"] = json!(first);
    }
    if let Some(place) = corner(m) {
        args["position"] = json!(place);
    }
    args
}

/// A time in a request, seconds: `3`, `2.5`, `.5`, `1:05`.
fn seconds_of(s: &str) -> Option<f64> {
    match s.split_once(':') {
        Some((min, sec)) => Some(min.parse::<f64>().ok()? * 60.0 + sec.parse::<f64>().ok()?),
        None => s.parse().ok(),
    }
    .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

/// The times a text overlay request names, seconds of the video.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Times {
    pub start: Option<f64>,
    pub end: Option<f64>,
    /// How long it shows, when no end is named.
    pub duration: Option<f64>,
    /// "At the end": in the video's last seconds.
    pub at_end: bool,
}

/// "from 2 to 5 seconds", "between 2 and 5 s", "2-5 s", "at 3 s for 4
/// seconds", "for the first 5 seconds", "until 6 s", "at the start", "at
/// the end".
pub fn times(m: &str) -> Times {
    const T: &str = r"(\d+:\d{1,2}(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)";
    const UNIT: &str = r"(?:s|secs?|seconds?|sek|sekunden?|secondes?|segundos?)\b";
    static RANGE: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?:from|between|von|de|entre|desde)\s+(?:(?:the\s+)?second\s+)?{T}\s*(?:{UNIT})?\s*(?:to|and|until|till|through|thru|-|–|bis|à|a|y|hasta)\s*(?:(?:the\s+)?second\s+)?{T}\s*(?:{UNIT})?"
        ))
    });
    static BARE_RANGE: LazyLock<Regex> =
        LazyLock::new(|| re(&format!(r"(?i)\b{T}\s*(?:-|–|to)\s*{T}\s*{UNIT}")));
    static START: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?:at|from|starting\s+at|starting|start\s+at|starts\s+at|beginning\s+at|after|bei|ab|à|a\s+los?)\s+(?:(?:the\s+)?second\s+{T}\b|{T}\s*{UNIT})"
        ))
    });
    static LENGTH: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?:for|für|pendant|durante)\s+(?:(?:the|die|les|los)\s+(?P<first>first|ersten|premières|primeros)\s+)?{T}\s*{UNIT}"
        ))
    });
    static UNTIL: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?:until|till|up\s+to|to|bis|jusqu'à|hasta)\s+(?:(?:the\s+)?second\s+)?{T}\s*{UNIT}"
        ))
    });
    static AT_START: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:at\s+the\s+(?:very\s+)?(?:start|beginning|opening)|to\s+open|in\s+the\s+(?:intro|opening)|as\s+(?:an?\s+)?(?:intro|opening)|at\s+first|am\s+anfang|au\s+début|al\s+(?:principio|inicio|comienzo))\b",
        )
    });
    static AT_END: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:at\s+the\s+(?:very\s+)?end|to\s+close|in\s+the\s+outro|as\s+(?:an?\s+)?outro|am\s+ende|à\s+la\s+fin|al\s+final)\b",
        )
    });
    let mut t = Times::default();
    if let Some(c) = RANGE.captures(m).or_else(|| BARE_RANGE.captures(m)) {
        t.start = seconds_of(&c[1]);
        t.end = seconds_of(&c[2]);
        return t;
    }
    let start = START.captures(m).and_then(|c| {
        c.get(1)
            .or_else(|| c.get(2))
            .and_then(|v| seconds_of(v.as_str()))
    });
    let length = LENGTH.captures(m);
    let first = length.as_ref().is_some_and(|c| c.name("first").is_some());
    let length = length.and_then(|c| c.get(2).and_then(|v| seconds_of(v.as_str())));
    let until = UNTIL.captures(m).and_then(|c| seconds_of(&c[1]));
    t.start = start.or_else(|| (first || AT_START.is_match(m)).then_some(0.0));
    t.at_end = t.start.is_none() && AT_END.is_match(m);
    match (t.start, length, until) {
        (_, _, Some(end)) => t.end = Some(end),
        (Some(s), Some(l), None) => t.end = Some(s + l),
        (None, Some(l), None) => t.duration = Some(l),
        _ => {}
    }
    t
}

/// A text overlay's style: `lower_third` (names, captions under a
/// speaker; the default), `title` or `label`.
pub fn text_style(m: &str) -> &'static str {
    static LOWER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:lower[\s-]?thirds?|name\s*(?:tag|plate|card|strap)s?|captions?|(?:under|below|beneath|underneath)\s+(?:me|him|her|them|the\s+speaker)|my\s+name|(?:his|her|their)\s+name|bauchbinde|bandeau|rótulo)\b",
        )
    });
    static TITLE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:titles?|heading|headline|title\s+card|intro\s+text|big\s+text|titel|überschrift|titre|título)\b",
        )
    });
    static LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:label|tag|sticker)s?\b"));
    if LOWER.is_match(m) {
        "lower_third"
    } else if TITLE.is_match(m) {
        "title"
    } else if LABEL.is_match(m) {
        "label"
    } else {
        "lower_third"
    }
}

/// Where the words of an overlay end: the times, places and style that
/// follow them ("… from 2 to 5 s", "… under me", "… as a title").
fn words_end(s: &str) -> usize {
    static TAIL: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?ix)(?:^|\s+|,\s*)(?:
              (?:from|between|at|starting|start|for|until|till|up\s+to|during|after|von|ab|bis|für|de|desde|entre|pendant|durante)\s+(?:the\s+(?:first\s+)?)?(?:second\s+)?[\d.]
            | at\s+the\s+(?:very\s+)?(?:start|beginning|end|opening|top|bottom)
            | (?:to\s+open|to\s+close|in\s+the\s+(?:intro|outro|opening))
            | (?:under|below|beneath|underneath|over|on\s+top\s+of)\s+(?:me|him|her|them|my|the|this|our)\b
            | (?:on|in|onto|into|to)\s+(?:the|my|this|our)\s+(?:video|clip|intro|screen|timeline|scene|frame)
            | on\s+screen
            | as\s+(?:a|an|the)\s+(?:lower[\s-]?third|title|caption|label|name\s*tag|headline|heading)
            | (?:am\s+anfang|am\s+ende|au\s+début|à\s+la\s+fin|al\s+(?:principio|inicio|final))
            | (?:please|pls|thanks|thank\s+you|bitte|s'il\s+te\s+plaît|por\s+favor)\s*[.!?]*$
            )")
    });
    TAIL.find(s).map_or(s.len(), |f| f.start())
}

/// Words that stand for a name the request does not give.
fn placeholder(text: &str) -> bool {
    static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:(?:my|your|his|her|their|our|the|a|some|the\s+speaker'?s|a\s+person'?s)\s+)?(?:full\s+)?(?:name|names|title|job\s+title|job|role|name\s+and\s+(?:job\s+)?(?:title|role|job)|text|caption|something|words?|it)$|^(?:me|us|him|her|them|myself|you)$|^\[.*\]$|^<.*>$",
        )
    });
    PLACEHOLDER.is_match(text.trim())
}

/// A lower third's "Ada Lovelace, Mathematician": the name and the line
/// under it.
fn name_and_role(text: &str) -> (String, Option<String>) {
    static SPLIT: LazyLock<Regex> = LazyLock::new(|| re(r"\s*,\s+|\s+[-–—|]\s+"));
    match SPLIT.find(text) {
        Some(f) if f.start() > 0 && f.end() < text.len() => (
            text[..f.start()].trim().to_owned(),
            Some(tidy(&text[f.end()..])).filter(|s| !s.is_empty()),
        ),
        _ => (text.to_owned(), None),
    }
}

/// The words a text overlay shows: quoted (kept as written; a second
/// quote is the line under it), after "saying", "with the text", "called",
/// a colon, or right after the kind of overlay ("the title Big news").
/// None when the request gives no actual words ("with my name").
pub fn overlay_words(m: &str, style: &str) -> Option<(String, Option<String>)> {
    if let Some((inner, rest)) = quoted(m) {
        if placeholder(&inner) || inner.is_empty() {
            return None;
        }
        let second = quoted(&rest)
            .map(|(s, _)| s)
            .filter(|s| !s.is_empty() && style == "lower_third");
        return Some((inner, second));
    }
    static MARKER: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?ix)(?:
              \b(?:saying|says|that\s+says|which\s+says|reading|that\s+reads|which\s+reads|with\s+the\s+(?:text|words?|name|caption|title|line)|with\s+text|called|titled|named|showing|with\s+the\s+name\s+of|the\s+text|mit\s+dem\s+text|avec\s+le\s+texte|con\s+el\s+texto|que\s+diga|qui\s+dit)\b
            | \bmy\s+name\s*(?:\bis\b|,|:|-)
            | \b(?:lower[\s-]?third|name\s*tag|caption)\s+(?:for|of)\b
            )\s*:?\s*")
    });
    static KIND: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:title|heading|headline|lower[\s-]?third|caption|label|banner|name\s*tag|text)\s*:?\s+",
        )
    });
    static FUNCTION_WORD: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:at|from|for|with|to|on|in|under|below|over|that|which|of|the|my|a|an|and|between|until|starting|during|across|when|while|here|there|somewhere|please|as|saying|card|overlay|bar|text|too|also|now|into|onto|about|like|where|this|it|me)\b",
        )
    });
    let rest = if let Some(c) = after_colon(m) {
        c.1
    } else if let Some(f) = MARKER.find(m) {
        &m[f.end()..]
    } else {
        let f = KIND.find_iter(m).last()?;
        let rest = &m[f.end()..];
        if FUNCTION_WORD.is_match(rest) {
            return None;
        }
        rest
    };
    let words = tidy(&rest[..words_end(rest)]);
    if words.is_empty() || placeholder(&words) {
        return None;
    }
    Some(if style == "lower_third" {
        name_and_role(&words)
    } else {
        (words, None)
    })
}

/// `add_text_overlay`'s arguments: the words (none when the request gives
/// none: the tool asks for them), the style and the times named.
pub fn text_overlay(m: &str) -> Value {
    let style = text_style(m);
    let mut args = json!({ "style": style });
    if let Some((text, subtitle)) = overlay_words(m, style) {
        args["text"] = json!(text);
        if let Some(subtitle) = subtitle {
            args["subtitle"] = json!(subtitle);
        }
    }
    let t = times(m);
    if let Some(s) = t.start {
        args["start"] = num(s);
    }
    if let Some(e) = t.end {
        args["end"] = num(e);
    }
    if let Some(d) = t.duration {
        args["duration"] = num(d);
    }
    if t.at_end {
        args["at_end"] = json!(true);
    }
    args
}

/// Words that ask for slower.
static SPEED_SLOW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:slow|slower|slowed|slowing|slo-?mo|slow[\s-]?motion|decelerate|langsamer|verlangsam\w*|ralenti\w*|plus\s+lent|más\s+lento|ralentiza\w*|cámara\s+lenta|zeitlupe)\b",
    )
});
/// Words that ask for faster.
static SPEED_FAST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:fast|faster|speed\s*up|speeds\s+up|sped\s+up|speeding\s+up|(?:speed|sped)\b.{0,30}?\bup|quick|quicker|quickly|accelerate|hurry|schneller|beschleunig\w*|rapide|plus\s+vite|accélère\w*|rápido|más\s+rápido|acelera\w*)\b",
    )
});
/// Words that ask for the normal speed again.
static SPEED_NORMAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:normal|original|regular|real[\s-]?time|natural|usual)\s+(?:speed|pace|tempo|rate)\b|\b(?:reset|undo|remove)\s+(?:the\s+)?speed\b|\bnormale\s+geschwindigkeit\b|\bvitesse\s+normale\b|\bvelocidad\s+normal\b",
    )
});
/// A factor: "1.5x", "3 times", "x2".
static SPEED_FACTOR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:\b(?P<a>\d+(?:\.\d+)?|\.\d+)\s*(?:x|×|times|mal|fois|veces)(?:\s|$|[.,!?])|(?:\bx|×)\s*(?P<b>\d+(?:\.\d+)?|\.\d+)\b)",
    )
});
/// A percentage: "50%", "80 percent".
static SPEED_PERCENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?P<p>\d+(?:\.\d+)?)\s*(?:%|percent|per\s+cent|prozent)"));
/// A percentage that is a change: "by 20%", "50% faster".
static SPEED_BY_PERCENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:by|um|de|en)\s+\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent|prozent)|\d+(?:\.\d+)?\s*(?:%|percent|per\s+cent|prozent)\s+(?:faster|slower|quicker|more|less|schneller|langsamer)",
    )
});
/// A speed set to a number: "speed to 1.25".
static SPEED_TO: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\bspeed\b.*?\b(?:to|at|of|=)\s*(?P<n>\d+(?:\.\d+)?|\.\d+)\s*(?:x|×)?(?:\s|$|[.,!?])")
});
/// A factor in words: "twice", "half", "three times".
static SPEED_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?P<w>twice|double|doppelt|doble|quadruple|triple|thrice|half|halve|halved|halb|halbe|halber|halben|moitié|mitad|quarter|viertel|one\s+and\s+a\s+half|(?:one|two|three|four)\s+times)\b",
    )
});

/// The speed a request asks for: "twice as fast" 2, "half speed" 0.5,
/// "1.5x" 1.5, "50% faster" 1.5, "three times slower" 1/3, "normal speed"
/// 1; "speed up" alone 1.5, "slow down" / "slow motion" alone 0.5.
pub fn speed_factor(m: &str) -> Option<f64> {
    let slow = SPEED_SLOW.is_match(m);
    let fast = SPEED_FAST.is_match(m);
    let toward = |f: f64| if slow && !fast && f > 1.0 { 1.0 / f } else { f };
    if SPEED_NORMAL.is_match(m) {
        return Some(1.0);
    }
    if let Some(c) = SPEED_FACTOR.captures(m) {
        let v = c
            .name("a")
            .or_else(|| c.name("b"))?
            .as_str()
            .parse::<f64>()
            .ok()?;
        return (v > 0.0).then(|| toward(v));
    }
    if let Some(c) = SPEED_PERCENT.captures(m) {
        let p = c["p"].parse::<f64>().ok()? / 100.0;
        return Some(percent_speed(p, SPEED_BY_PERCENT.is_match(m), slow));
    }
    if let Some(c) = SPEED_TO.captures(m) {
        return c["n"].parse::<f64>().ok().filter(|v| *v > 0.0);
    }
    if let Some(c) = SPEED_WORDS.captures(m) {
        return Some(toward(word_factor(&c["w"])));
    }
    if slow {
        Some(0.5)
    } else if fast {
        Some(1.5)
    } else {
        None
    }
}

/// The speed a percentage `p` (a fraction) asks for: a change of it when
/// `by` ("by 20%", "50% faster"), slower or faster; else the speed itself.
fn percent_speed(p: f64, by: bool, slow: bool) -> f64 {
    if by {
        if slow { 1.0 - p } else { 1.0 + p }
    } else {
        p
    }
}

/// The factor a word names ("twice" 2, "half" 0.5, "one and a half" 1.5).
fn word_factor(word: &str) -> f64 {
    let w = word.to_lowercase();
    let w = w.split_whitespace().collect::<Vec<_>>().join(" ");
    match w.as_str() {
        "twice" | "double" | "doppelt" | "doble" | "two times" => 2.0,
        "triple" | "thrice" | "three times" => 3.0,
        "quadruple" | "four times" => 4.0,
        "half" | "halve" | "halved" | "halb" | "halbe" | "halber" | "halben" | "moitié"
        | "mitad" => 0.5,
        "quarter" | "viertel" => 0.25,
        "one and a half" => 1.5,
        _ => 1.0,
    }
}

/// Which clip item a speed request means: "clip 2", "the first clip", "the
/// last video" (1-based among the timeline's clips; -1 the last).
pub fn clip_index(m: &str) -> Option<i64> {
    const ORDINALS: [&str; 10] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ];
    const NUMBERS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    static CLIP: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\bclips?\s*(?:#|no\.?|nr\.?|number|num)?\s*(?:(?P<n>\d+)\b|(?P<word>one|two|three|four|five|six|seven|eight|nine|ten)\b)|\b(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|latest|final|\d+(?:st|nd|rd|th))\s+(?:video\s+)?(?:clip|video)\b",
        )
    });
    let c = CLIP.captures(m)?;
    if let Some(n) = c.name("n") {
        return n.as_str().parse::<i64>().ok().filter(|n| *n > 0);
    }
    if let Some(w) = c.name("word") {
        let w = w.as_str().to_lowercase();
        return NUMBERS.iter().position(|x| *x == w).map(|i| i as i64 + 1);
    }
    let o = c.name("ord")?.as_str().to_lowercase();
    match ORDINALS.iter().position(|x| *x == o) {
        Some(i) => Some(i as i64 + 1),
        None if matches!(o.as_str(), "last" | "latest" | "final") => Some(-1),
        None => o
            .trim_end_matches(char::is_alphabetic)
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0),
    }
}

/// `set_clip_speed`'s arguments: the clip ("clip 2": the timeline's second
/// clip; "video 1": the items of `video_1.*`) and the speed.
pub fn speed(m: &str) -> Value {
    // "my clip three times faster" names a speed, not clip 3.
    static FACTORS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+(?:\.\d+)?)\s*(?:x|×|times|mal|fois|veces)\b",
        )
    });
    let mut args = json!({});
    let which = FACTORS.replace_all(m, " ");
    if let Some(n) = clip_index(&which) {
        args["clip"] = json!(n);
    } else if let Some(first) = asset_refs(&which).into_iter().next() {
        args["asset_id"] = json!(first);
    }
    if let Some(f) = speed_factor(m) {
        args["speed"] = num(f);
    }
    args
}

// ---------------------------------------------------------------- templates

/// `save_template`'s arguments: the name the request gives ("… called
/// City clip", "… named 'Weekly news'"), if any.
pub fn save_template(m: &str) -> Value {
    static CALLED: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:called|named|titled|entitled|name\s+it|call\s+it|with\s+the\s+name|under\s+the\s+name|genannt|namens|nenne\s+es|appelée?|nommée?|llamad[oa]|con\s+el\s+nombre)\s+(?P<name>.+)$",
        )
    });
    let name = match quoted(m) {
        Some((inner, _)) => Some(inner),
        None => CALLED.captures(m).map(|c| tidy(&c["name"])),
    };
    match name.filter(|n| !n.is_empty()) {
        Some(n) => json!({ "name": n }),
        None => json!({}),
    }
}

/// What "each" ranges over: "for each of these cities", "for every
/// product", "one per city", "for all the following countries".
static EACH_NOUN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:for\s+(?:each|every|all)|per|each|every)(?:\s+(?:of|these|those|the|my|our|following|\d+))*\s+(?P<noun>[a-z][a-z_-]*)\b",
    )
});

/// Words after "each" that are not a field: "each of them", "every one".
const NOT_FIELDS: &[&str] = &[
    "one",
    "ones",
    "video",
    "videos",
    "clip",
    "clips",
    "version",
    "versions",
    "them",
    "item",
    "items",
    "value",
    "values",
    "entry",
    "entries",
    "word",
    "words",
    "thing",
    "things",
    "option",
    "options",
    "row",
    "rows",
    "line",
    "lines",
    "list",
    "in",
    "and",
    "other",
    "time",
    "times",
    "variant",
    "variants",
    "copy",
    "copies",
    "template",
    "below",
    "of",
    "these",
    "those",
    "the",
    "my",
    "our",
    "following",
];

/// "cities" → "city", "products" → "product", "boxes" → "box".
fn singular(noun: &str) -> String {
    let n = noun.to_lowercase();
    if let Some(stem) = n.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["ches", "shes", "sses", "xes", "zes"]
        .iter()
        .any(|end| n.ends_with(end))
    {
        n[..n.len() - 2].to_owned()
    } else if n.ends_with('s') && !n.ends_with("ss") && n.len() > 3 {
        n[..n.len() - 1].to_owned()
    } else {
        n
    }
}

/// The field a request's noun names: "these cities" → `city`.
pub fn each_field(m: &str) -> Option<String> {
    let c = EACH_NOUN.captures(m)?;
    let noun = c["noun"].to_lowercase();
    (!NOT_FIELDS.contains(&noun.as_str())).then(|| singular(&noun).replace('-', "_"))
}

/// The values of a list: "Lisbon, Oslo and Rome" → three; "and", "&",
/// "und", "et", "y", semicolons and lines separate them too.
pub fn list_values(list: &str) -> Vec<String> {
    static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\s*(?:[,;\n•]|\s+(?:and|&|und|et|y|plus)\s+)\s*(?:(?:and|und|et|y)\s+)?")
    });
    static TAIL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\s+(?:too|as\s+well|also|each)$"));
    SEPARATOR
        .split(list.trim())
        .map(|v| {
            let v = v.trim().trim_start_matches(['-', '*']).trim();
            let v = tidy(v);
            TAIL.replace(&v, "").trim().to_owned()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// `render_for_each`'s arguments: the values (after the colon, after the
/// noun "each" ranges over, or after "for": "do the same for Paris, Berlin
/// and Madrid") and the field the noun names.
pub fn for_each(m: &str) -> Value {
    static FOR: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:for|für|pour|para)\s+(?P<list>.+)$"));
    static NOT_A_LIST: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:each|every|all|these|those|the\s+following|them|jede[nrs]?|chaque|cada|tod[oa]s)\b",
        )
    });
    static AFTER_NOUN: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)^\s*(?:[—–-]|\b(?:namely|like|such\s+as|i\.e\.)\b)\s*(?P<list>.+)$")
    });
    let field = each_field(m);
    let list = if let Some((_, after)) = after_colon(m) {
        Some(after.to_owned())
    } else if let Some(noun) = EACH_NOUN.captures(m).and_then(|c| c.name("noun")) {
        AFTER_NOUN
            .captures(&m[noun.end()..])
            .map(|c| c["list"].to_owned())
    } else {
        FOR.captures(m)
            .map(|c| c["list"].to_owned())
            .filter(|l| !NOT_A_LIST.is_match(l))
    };
    let values = list.as_deref().map(list_values).unwrap_or_default();
    let mut args = json!({});
    if !values.is_empty() {
        args["values"] = json!(values);
    }
    if let Some(f) = field {
        args["field"] = json!(f);
    }
    args
}

// ---------------------------------------------------------------- pipeline

/// `run_full_pipeline`'s arguments: the text to narrate, or a topic, and
/// the platform and aspect ratio when the request names them.
pub fn pipeline(m: &str) -> Option<Value> {
    let mut args = pipeline_source(m)?;
    // Only the request's framing names a platform, not the text to narrate.
    let said = args["text"]
        .as_str()
        .or(args["topic"].as_str())
        .unwrap_or_default();
    let framing = if !said.is_empty() && said.len() < m.len() {
        m.replace(said, " ")
    } else {
        String::new()
    };
    if let Some(p) = named_platform(&framing) {
        args["platform"] = json!(p);
    }
    if let Some(ratio) = aspect_ratio(&framing, true) {
        args["aspect_ratio"] = json!(ratio);
    }
    Some(args)
}

fn pipeline_source(m: &str) -> Option<Value> {
    static TOPIC: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:video|movie|film|clip|reel|short|documentary|explainer|story|vid|videos|vidéo|vídeo)\b.*?\b(?:about|on|explaining|covering|regarding|über|zum\s+thema|sur|à\s+propos\s+d[eu']|sobre|acerca\s+de)\s+(?P<topic>.+)$",
        )
    });
    static TOPIC_FIRST: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^(?:explain|tell\s+the\s+story\s+of|show\s+the\s+story\s+of|erkläre|explique|explica)\s+(?P<topic>.+?)(?:\s+(?:in|as|with)\s+(?:a|an)\s+(?:\w+\s+)?(?:video|clip|film))?$",
        )
    });
    let body = m.trim();
    if let Some((_, after)) = after_colon(body) {
        return Some(json!({ "text": after }));
    }
    // A framing line or sentence, then the text.
    static FRAMING_LINE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:video|vid|movie|film|clip|reel|vidéo|vídeo)\b[^.!?]*$"));
    if let Some((first, rest)) = body.split_once('\n')
        && !rest.trim().is_empty()
        && first.chars().count() < 120
        && FRAMING_LINE.is_match(first)
    {
        return Some(json!({ "text": rest.trim() }));
    }
    let lead = strip_lead(body);
    if body.chars().count() < 200
        && let Some(c) = TOPIC.captures(lead).or_else(|| TOPIC_FIRST.captures(lead))
    {
        let topic = tidy(&c["topic"]);
        if !topic.is_empty() {
            return Some(json!({ "topic": topic }));
        }
    }
    Some(json!({ "text": body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_stripped_from_prompts() {
        for (m, prompt) in [
            (
                "visualize a cozy coffee shop on a rainy day",
                "a cozy coffee shop on a rainy day",
            ),
            (
                "render a scene of a busy market in Marrakech",
                "a busy market in Marrakech",
            ),
            ("Generate an image of a cat", "a cat"),
            (
                "Could you please draw me a fox in the snow?",
                "a fox in the snow",
            ),
            ("Erstelle ein Bild von einem Leuchtturm", "einem Leuchtturm"),
            ("Dessine-moi un mouton", "un mouton"),
            (
                "a red bicycle against a yellow wall",
                "a red bicycle against a yellow wall",
            ),
        ] {
            assert_eq!(image(m).unwrap()["prompt"], prompt, "{m}");
        }
        let v = image("draw a lighthouse at night in portrait format").unwrap();
        assert_eq!(
            v,
            json!({"prompt": "a lighthouse at night", "aspect_ratio": "9:16"})
        );
        let s = image("square picture of a forest").unwrap();
        assert_eq!(s, json!({"prompt": "a forest", "aspect_ratio": "1:1"}));
        assert_eq!(image("generate an image"), None);
    }

    #[test]
    fn the_text_to_speak_and_the_voice() {
        for (m, text, name) in [
            (
                "Record a voiceover: Our story begins in a small village.",
                "Our story begins in a small village.",
                None,
            ),
            (
                "Turn this into speech: The market opens at nine.",
                "The market opens at nine.",
                None,
            ),
            (
                "say 'Welcome to the show' in a British male voice",
                "Welcome to the show",
                Some("en-GB-Neural2-D"),
            ),
            (
                "read aloud Good morning everyone, with a deep male voice",
                "Good morning everyone",
                Some("en-US-Neural2-D"),
            ),
            (
                "Sag „Guten Morgen“ mit einer weiblichen Stimme",
                "Guten Morgen",
                Some("de-DE-Neural2-C"),
            ),
            (
                "In a female voice, read: It's time.",
                "It's time.",
                Some("en-US-Neural2-C"),
            ),
            (
                "create a voiceover saying thanks for watching",
                "thanks for watching",
                None,
            ),
        ] {
            let args = voice(m).unwrap();
            assert_eq!(args["text"], text, "{m}");
            assert_eq!(args["voice_name"].as_str(), name, "{m}");
        }
        assert_eq!(voice("say"), None);
    }

    #[test]
    fn social_topic_and_platform() {
        for (m, text, platform) in [
            (
                "Write a TikTok caption for my lighthouse video",
                "lighthouse video",
                "tiktok",
            ),
            (
                "I need a LinkedIn post about remote work productivity",
                "remote work productivity",
                "linkedin",
            ),
            (
                "Suggest hashtags for a travel vlog in Japan",
                "a travel vlog in Japan",
                "youtube",
            ),
            (
                "write a post for LinkedIn about hiring engineers",
                "hiring engineers",
                "linkedin",
            ),
            (
                "draft a tweet about the city bike lanes",
                "the city bike lanes",
                "x",
            ),
            (
                "create an Instagram post for: Summer sale starts today",
                "Summer sale starts today",
                "instagram",
            ),
        ] {
            assert_eq!(
                social(m).unwrap(),
                json!({"text": text, "platform": platform}),
                "{m}"
            );
        }
    }

    #[test]
    fn references_ordinals_and_options() {
        assert_eq!(
            asset_refs("use image 2 with the second voice-over"),
            ["image_2", "audio_2"]
        );
        assert_eq!(
            asset_refs("put the first picture and audio 3 together"),
            ["image_1", "audio_3"]
        );
        assert_eq!(
            asset_refs("combine image_1.png with audio_1.mp3"),
            ["image_1", "audio_1"]
        );
        assert!(asset_refs("make the video").is_empty());
        assert_eq!(
            asset_refs("use the last picture with audio 1"),
            ["image_last", "audio_1"]
        );
        assert!(asset_refs("image 0").is_empty());
        assert_eq!(
            compose("make it vertical"),
            json!({"asset_ids": [], "aspect_ratio": "9:16"})
        );
        assert_eq!(
            compose("make it for TikTok"),
            json!({"asset_ids": [], "aspect_ratio": "9:16"})
        );
        assert_eq!(list("which images and audio do I have?"), json!({}));
        assert_eq!(list("show me my pictures"), json!({"type": "image"}));
    }

    #[test]
    fn pipeline_text_or_topic() {
        assert_eq!(
            pipeline("turn this text into a video: Cats sleep. They hunt.").unwrap(),
            json!({"text": "Cats sleep. They hunt."})
        );
        assert_eq!(
            pipeline("Create a short video about black holes.").unwrap(),
            json!({"topic": "black holes"})
        );
    }

    #[test]
    fn corners_and_places() {
        for (m, place) in [
            ("put my logo in the corner", None),
            ("add my logo top left", Some("top_left")),
            (
                "put image 3 in the bottom right corner",
                Some("bottom_right"),
            ),
            ("logo in the lower-left corner", Some("bottom_left")),
            ("put it upper right", Some("top_right")),
            ("logo top_left please", Some("top_left")),
            ("put the logo in the top corner", Some("top_right")),
            ("put the logo in the bottom corner", Some("bottom_right")),
            ("logo in the left corner", Some("top_left")),
            ("put my logo at the top", Some("top")),
            ("put my logo at the bottom", Some("bottom")),
            ("logo on the right", Some("right")),
            ("put my logo in the middle", Some("center")),
            ("put my logo in the corner right now", None),
            ("watermark the video with my logo", None),
            ("logo on top of the video", None),
            ("mein Logo oben links", Some("top_left")),
            ("mon logo en bas à droite", Some("bottom_right")),
        ] {
            assert_eq!(corner(m), place, "{m}");
        }
        assert_eq!(
            logo("put image 3 in the bottom right corner"),
            json!({"asset_id": "image_3", "position": "bottom_right"})
        );
        assert_eq!(logo("watermark the video with my logo"), json!({}));
        assert_eq!(
            logo("put my logo on clip 2 top left"),
            json!({"position": "top_left"})
        );
        assert_eq!(
            logo("put video 2 in the corner"),
            json!({"asset_id": "video_2"})
        );
    }

    #[test]
    fn caption_times() {
        let t = |start: Option<f64>, end: Option<f64>| Times {
            start,
            end,
            ..Times::default()
        };
        for (m, want) in [
            ("from 2 to 5 seconds", t(Some(2.0), Some(5.0))),
            ("from 2s to 5s", t(Some(2.0), Some(5.0))),
            ("between 1.5 and 4 s", t(Some(1.5), Some(4.0))),
            ("2-5 s", t(Some(2.0), Some(5.0))),
            ("from 0:02 to 0:05", t(Some(2.0), Some(5.0))),
            ("at 3 s for 4 seconds", t(Some(3.0), Some(7.0))),
            ("at second 3", t(Some(3.0), None)),
            (
                "starting at 10 seconds until 12 seconds",
                t(Some(10.0), Some(12.0)),
            ),
            ("for the first 5 seconds", t(Some(0.0), Some(5.0))),
            ("until 6 s", t(None, Some(6.0))),
            ("at the start", t(Some(0.0), None)),
            ("von 2 bis 5 Sekunden", t(Some(2.0), Some(5.0))),
            ("de 2 à 5 secondes", t(Some(2.0), Some(5.0))),
            ("add a caption", t(None, None)),
        ] {
            assert_eq!(times(m), want, "{m}");
        }
        assert_eq!(
            times("for 6 seconds"),
            Times {
                duration: Some(6.0),
                ..Times::default()
            }
        );
        assert_eq!(
            times("at the end"),
            Times {
                at_end: true,
                ..Times::default()
            }
        );
    }

    #[test]
    fn caption_words_and_style() {
        assert_eq!(
            text_overlay("add a caption with my name under me from 2 to 5 seconds"),
            json!({"style": "lower_third", "start": 2, "end": 5})
        );
        assert_eq!(
            text_overlay("add a lower third saying Ada Lovelace, Mathematician from 2 to 5 s"),
            json!({"style": "lower_third", "text": "Ada Lovelace", "subtitle": "Mathematician", "start": 2, "end": 5})
        );
        assert_eq!(
            text_overlay("put the title 'Big news' at the start"),
            json!({"style": "title", "text": "Big news", "start": 0})
        );
        assert_eq!(
            text_overlay("add the title Big News at 3 s for 4 seconds"),
            json!({"style": "title", "text": "Big News", "start": 3, "end": 7})
        );
        assert_eq!(
            text_overlay("add a caption saying Grace Hopper - Admiral under me"),
            json!({"style": "lower_third", "text": "Grace Hopper", "subtitle": "Admiral"})
        );
        assert_eq!(
            text_overlay("lower third: Ada Lovelace"),
            json!({"style": "lower_third", "text": "Ada Lovelace"})
        );
        assert_eq!(
            text_overlay("put my name, Ada Lovelace, under me at 1 s"),
            json!({"style": "lower_third", "text": "Ada Lovelace", "start": 1})
        );
        assert_eq!(
            text_overlay("add a title saying Thanks for watching at the end"),
            json!({"style": "title", "text": "Thanks for watching", "at_end": true})
        );
        assert_eq!(
            text_overlay("add a name tag with my name"),
            json!({"style": "lower_third"})
        );
        assert_eq!(
            text_overlay("add a title to the video"),
            json!({"style": "title"})
        );
        // Quoted words are kept as written; a second quote is the line under.
        assert_eq!(
            text_overlay("add a lower third \"Ada Lovelace, Countess\" \"Mathematician\""),
            json!({"style": "lower_third", "text": "Ada Lovelace, Countess", "subtitle": "Mathematician"})
        );
    }

    #[test]
    fn speed_words() {
        for (m, want) in [
            ("make clip 2 twice as fast", Some(2.0)),
            ("slow the first clip down to half speed", Some(0.5)),
            ("speed up video 1 by 1.5x", Some(1.5)),
            ("play it at 1.5 times the speed", Some(1.5)),
            ("make it 3x faster", Some(3.0)),
            ("x2 speed on clip 1", Some(2.0)),
            ("make clip 1 twice as slow", Some(0.5)),
            ("slow clip 2 down by 2x", Some(0.5)),
            ("three times slower", Some(1.0 / 3.0)),
            ("make it 50% faster", Some(1.5)),
            ("slow it down by 25%", Some(0.75)),
            ("play clip 1 at 150% speed", Some(1.5)),
            ("set the speed of clip 1 to 0.75", Some(0.75)),
            ("quarter speed", Some(0.25)),
            ("double the speed of the last clip", Some(2.0)),
            ("one and a half times faster", Some(1.5)),
            ("back to normal speed", Some(1.0)),
            ("speed up clip 2", Some(1.5)),
            ("slow motion for clip 1", Some(0.5)),
            ("change the speed of clip 2", None),
        ] {
            assert_eq!(speed_factor(m), want, "{m}");
        }
        assert_eq!(
            speed("make clip 2 twice as fast"),
            json!({"clip": 2, "speed": 2})
        );
        assert_eq!(
            speed("slow the first clip down to half speed"),
            json!({"clip": 1, "speed": 0.5})
        );
        assert_eq!(
            speed("speed up video 1 by 1.5x"),
            json!({"asset_id": "video_1", "speed": 1.5})
        );
        assert_eq!(
            speed("make the last clip 2x faster"),
            json!({"clip": -1, "speed": 2})
        );
        assert_eq!(
            speed("speed up video_2.mp4 by 2x"),
            json!({"asset_id": "video_2", "speed": 2})
        );
        assert_eq!(speed("make it faster"), json!({"speed": 1.5}));
        assert_eq!(
            speed("make my clip three times faster"),
            json!({"speed": 3})
        );
    }

    #[test]
    fn no_panic_on_odd_input() {
        for m in [
            "",
            " ",
            ":",
            "\"",
            "'",
            "“",
            "\u{0}\u{1b}[31m",
            "🙂🙂🙂",
            &"ä".repeat(30_000),
            "9:16:",
            "say:",
            "«»",
        ] {
            let _ = (
                image(m),
                voice(m),
                social(m),
                list(m),
                compose(m),
                pipeline(m),
                logo(m),
                text_overlay(m),
                speed(m),
            );
        }
    }

    #[test]
    fn a_template_takes_the_name_given() {
        for (m, args) in [
            ("save this as a template", json!({})),
            ("make a template of this", json!({})),
            (
                "save this video as a template called City clip",
                json!({"name": "City clip"}),
            ),
            (
                "save it as a template named 'Weekly news'",
                json!({"name": "Weekly news"}),
            ),
            (
                "turn this into a template and call it Product promo, please",
                json!({"name": "Product promo"}),
            ),
            (
                "speichere das als Vorlage namens Stadtclip",
                json!({"name": "Stadtclip"}),
            ),
        ] {
            assert_eq!(save_template(m), args, "{m}");
        }
    }

    #[test]
    fn for_each_takes_the_values_and_the_field() {
        for (m, args) in [
            (
                "make this for each of these cities: Lisbon, Oslo, Rome",
                json!({"values": ["Lisbon", "Oslo", "Rome"], "field": "city"}),
            ),
            (
                "do the same for Paris, Berlin and Madrid",
                json!({"values": ["Paris", "Berlin", "Madrid"]}),
            ),
            (
                "make one for each product: mug, cap, scarf",
                json!({"values": ["mug", "cap", "scarf"], "field": "product"}),
            ),
            (
                "one video per country: Spain; Italy & Greece.",
                json!({"values": ["Spain", "Italy", "Greece"], "field": "country"}),
            ),
            (
                "render it for every city - Lisbon, Porto, and Faro",
                json!({"values": ["Lisbon", "Porto", "Faro"], "field": "city"}),
            ),
            (
                "can you make it for Lisbon and Porto too?",
                json!({"values": ["Lisbon", "Porto"]}),
            ),
            (
                "make this for each of them: \"New York\", 'São Paulo'",
                json!({"values": ["New York", "São Paulo"]}),
            ),
            (
                "make this for each of these cities",
                json!({"field": "city"}),
            ),
            (
                "mach das für jede Stadt: Berlin, Hamburg und München",
                json!({"values": ["Berlin", "Hamburg", "München"]}),
            ),
            (
                "one for each dish:\n- paella\n- ramen\n- tacos",
                json!({"values": ["paella", "ramen", "tacos"], "field": "dish"}),
            ),
        ] {
            assert_eq!(for_each(m), args, "{m}");
        }
        assert_eq!(singular("countries"), "country");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("languages"), "language");
        assert_eq!(singular("glass"), "glass");
        assert_eq!(each_field("for each of them"), None);
        assert_eq!(each_field("make it for each of these: Oslo, Rome"), None);
    }
}
