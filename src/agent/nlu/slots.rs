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
    let has = |list: &[&str]| list.iter().any(|w| words.contains(w));
    let starts = |list: &[&str]| {
        list.iter()
            .any(|p| words.iter().any(|w| w.len() > 2 && w.starts_with(p)))
    };
    let female = has(&[
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
    ]) || starts(&["weiblich", "frauen", "femenin", "fémin"]);
    let male = has(&[
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
    ]) || starts(&["männlich", "männer", "masculin"]);
    let language = if has(&["british", "uk", "london", "england", "english"])
        || starts(&[
            "britisch", "britann", "britán", "englisch", "anglais", "inglés",
        ]) {
        "en-GB"
    } else if has(&["australian", "aussie", "australia"]) || starts(&["australi"]) {
        "en-AU"
    } else if has(&[
        "german",
        "allemand",
        "allemande",
        "alemán",
        "alemana",
        "stimme",
        "akzent",
    ]) || starts(&["deutsch", "frauenstimm", "männerstimm"])
    {
        "de-DE"
    } else if has(&[
        "french",
        "français",
        "française",
        "französisch",
        "französischen",
        "francés",
        "francesa",
        "voix",
    ]) {
        "fr-FR"
    } else if has(&[
        "spanish",
        "español",
        "española",
        "espagnol",
        "espagnole",
        "spanisch",
        "spanischen",
        "voz",
        "acento",
    ]) {
        "es-ES"
    } else if has(&["american", "us", "usa"]) || male || female {
        "en-US"
    } else {
        return None;
    };
    Some(match (language, female && !male) {
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
    })
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
            );
        }
    }
}
