//! A small part-of-speech heuristic for English, so the offline engine's
//! hashtags are topics (noun phrases and names) and its titles end on a
//! whole phrase: word lists of common verbs, adjectives, adverbs, numbers
//! and time words, with the regular inflections of verbs. Not a tagger: it
//! only has to tell "#BicycleLanes" from "#BuildTwelve" or "#JobForever".

/// Base forms of common verbs (inflections are found by [`is_verb`]).
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "accept", "add", "agree", "aim", "allow", "announce", "answer", "appear", "apply",
    "approve", "argue", "arrive", "ask", "bake", "be", "become", "begin", "believe", "bring",
    "build", "buy", "call", "can", "care", "carry", "catch", "cause", "change", "charge",
    "check", "choose", "claim", "close", "come", "consider", "continue", "cost", "could",
    "create", "cross", "cut", "decide", "deliver", "describe", "design", "develop", "die", "do",
    "drain", "draw", "drive", "drop", "eat", "enjoy", "enter", "exist", "expect", "explain",
    "face", "fall", "fear", "feel", "fill", "find", "finish", "fit", "fly", "follow", "forget",
    "get", "give", "go", "grow", "happen", "have", "hear", "help", "hold", "hope", "include",
    "increase", "join", "keep", "kill", "know", "launch", "lay", "lead", "learn", "leave",
    "let", "lie", "like", "live", "look", "lose", "love", "make", "march", "may", "mean",
    "meet", "melt", "might", "miss", "move", "must", "need", "offer", "open", "own", "pay",
    "plan", "play", "prove", "protect", "provide", "pull", "push", "put", "reach", "read",
    "recover", "reduce", "remain", "remember", "remove", "report", "require", "return", "reuse",
    "ride", "rise", "roast", "run", "say", "see", "seem", "sell", "send", "serve", "set",
    "shall", "should", "show", "sit", "speak", "spend", "stand", "start", "stay", "stop",
    "suggest", "take", "talk", "tell", "tend", "think", "toss", "track", "train", "try", "turn",
    "understand", "unlock", "use", "wait", "walk", "want", "watch", "will", "win", "wish",
    "work", "would", "write", "boil", "finish", "thank", "trust", "climb", "cling",
];

/// -ing forms that name a thing or an activity ("#MachineLearning",
/// "#StreetParking"), so they may end a topic.
#[rustfmt::skip]
const NOUN_GERUNDS: &[&str] = &[
    "building", "learning", "training", "marketing", "meeting", "painting", "housing",
    "parking", "shopping", "reading", "writing", "wedding", "funding", "baking", "cooking",
    "running", "hiking", "spending", "planning", "teaching", "thinking", "design", "opening",
    "offering", "setting", "beginning", "ending", "feeling", "lighting", "heating", "printing",
    "recycling", "farming", "fishing", "camping", "skiing", "swimming", "walking", "cycling",
];

/// Irregular past forms and participles of the verbs above (and a few more).
#[rustfmt::skip]
const IRREGULAR: &[&str] = &[
    "am", "is", "are", "was", "were", "been", "being", "had", "has", "did", "does", "done",
    "went", "gone", "made", "built", "began", "begun", "brought", "bought", "came", "chose",
    "chosen", "drew", "drawn", "drove", "driven", "ate", "eaten", "fell", "fallen", "felt",
    "found", "flew", "flown", "forgot", "forgotten", "got", "gotten", "gave", "given", "grew",
    "grown", "heard", "held", "kept", "knew", "known", "laid", "led", "left", "lay", "lain",
    "lost", "meant", "met", "paid", "put", "read", "rode", "ridden", "rose", "risen", "ran",
    "said", "saw", "seen", "sold", "sent", "set", "showed", "shown", "sat", "spoke", "spoken",
    "spent", "stood", "took", "taken", "told", "thought", "understood", "won", "wrote",
    "written", "cannot", "won't", "can't", "don't", "doesn't", "didn't",
];

/// Common adjectives that say how something is, not what it is about.
#[rustfmt::skip]
const ADJECTIVES: &[&str] = &[
    "able", "bad", "beautiful", "best", "better", "big", "brutal", "cheap", "clean", "clear",
    "cold", "common", "different", "early", "easy", "entire", "expensive", "fast", "faster",
    "final", "fine", "free", "fresh", "full", "good", "great", "greater", "half", "happy",
    "hard", "high", "higher", "huge", "important", "large", "larger", "last", "late", "little",
    "local", "long", "longer", "low", "main", "many", "mixed", "more", "most", "much", "new",
    "next", "nice", "old", "only", "other", "own", "past", "perfect", "possible", "quick",
    "ready", "real", "recent", "right", "risky", "safe", "safer", "same", "short", "simple",
    "small", "smaller", "stable", "still", "strong", "such", "sure", "true", "unique",
    "various", "warm", "wet", "whole", "wonderful", "wrong", "young", "amazing", "awesome",
    "incredible", "latest", "several", "certain", "modern", "junior", "senior", "first",
    "second", "third",
];

/// Adverbs and fillers that never end a headline or make a topic.
#[rustfmt::skip]
const ADVERBS: &[&str] = &[
    "again", "ago", "almost", "already", "also", "always", "away", "back", "even", "ever",
    "forever", "here", "however", "instead", "just", "later", "meanwhile", "never", "now",
    "often", "once", "perhaps", "quite", "rather", "really", "soon", "sometimes", "still",
    "then", "there", "thus", "together", "too", "very", "well", "yet", "out", "up", "down",
    "off", "over", "about", "around", "within", "before", "after", "long",
];

/// Days, months and relative time words: when, not what.
#[rustfmt::skip]
const TIME: &[&str] = &[
    "today", "tomorrow", "yesterday", "tonight", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "january", "february", "march", "april", "june", "july",
    "august", "september", "october", "november", "december", "week", "weeks", "month",
    "months", "year", "years", "day", "days", "minute", "minutes", "hour", "hours", "second",
    "seconds", "morning", "evening", "night", "weekend", "time", "times", "spring", "summer",
    "autumn", "winter", "season",
];

#[rustfmt::skip]
const NUMBERS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "million", "billion", "dozen", "half",
];

/// Vague nouns that are no topic on their own.
#[rustfmt::skip]
const VAGUE: &[&str] = &[
    "thing", "things", "way", "ways", "lot", "lots", "kind", "kinds", "part", "people",
    "everyone", "everything", "someone", "something", "anyone", "anything", "nothing", "bit",
    "end", "start", "number", "plan", "plans", "idea", "fact", "case", "point", "goal",
    "chance", "sure", "fun", "stuff", "splash", "feelings", "loss",
];

fn lower(word: &str) -> String {
    word.to_lowercase()
}

/// A verb in any regular or listed irregular form ("approved", "builds",
/// "existed", "left").
pub fn is_verb(word: &str) -> bool {
    let w = lower(word);
    if VERBS.contains(&w.as_str()) || IRREGULAR.contains(&w.as_str()) {
        return true;
    }
    if let Some(stem) = w.strip_suffix("ied") {
        return VERBS.contains(&format!("{stem}y").as_str());
    }
    if let Some(stem) = w.strip_suffix("ed") {
        return has_verb_base(stem);
    }
    if w.strip_suffix("es").is_some_and(has_verb_base) {
        return true;
    }
    if let Some(stem) = w.strip_suffix('s') {
        return VERBS.contains(&stem);
    }
    false
}

/// The -ing form of a listed verb ("building", "learning", "running").
pub fn is_gerund(word: &str) -> bool {
    let w = lower(word);
    w.strip_suffix("ing").is_some_and(has_verb_base)
}

/// An -ing form that names a thing or an activity ("learning", "parking").
pub fn is_noun_gerund(word: &str) -> bool {
    NOUN_GERUNDS.contains(&lower(word).as_str())
}

/// Whether a stem left by an ending is a listed verb: as it is ("build"),
/// with its dropped "e" ("us(e)d"), or with a doubled last letter undone
/// ("runn(ing)").
fn has_verb_base(stem: &str) -> bool {
    VERBS.contains(&stem)
        || VERBS.contains(&format!("{stem}e").as_str())
        || stem
            .char_indices()
            .last()
            .filter(|(i, c)| *i > 0 && stem[..*i].ends_with(*c))
            .is_some_and(|(i, _)| VERBS.contains(&&stem[..i]))
}

/// A past form ending in -ed that is not a listed verb: "bleached",
/// "reused". Probably a verb or a participle, rarely a topic.
pub fn is_participle(word: &str) -> bool {
    let w = lower(word);
    w.len() > 4 && w.ends_with("ed") && !w.ends_with("eed") && !w.contains('-')
}

pub fn is_adjective(word: &str) -> bool {
    ADJECTIVES.contains(&lower(word).as_str())
}

pub fn is_adverb(word: &str) -> bool {
    let w = lower(word);
    ADVERBS.contains(&w.as_str()) || (w.len() > 4 && w.ends_with("ly") && !w.ends_with("ply"))
}

pub fn is_time(word: &str) -> bool {
    TIME.contains(&lower(word).as_str())
}

pub fn is_number(word: &str) -> bool {
    let w = lower(word);
    NUMBERS.contains(&w.as_str())
        || w.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

pub fn is_vague(word: &str) -> bool {
    VAGUE.contains(&lower(word).as_str())
}

/// A word that can stand in a topic (a noun phrase) at all.
pub fn can_be_in_topic(word: &str) -> bool {
    !(is_verb(word) || is_adverb(word) || is_time(word) || is_number(word) || is_participle(word))
}

/// A word that can end a topic: its head noun.
pub fn can_head_topic(word: &str) -> bool {
    // Short heads only as names or models ("X1", "AI").
    let long_enough = word.chars().count() > 2
        || (word.chars().count() == 2
            && word.chars().any(|c| c.is_uppercase() || c.is_ascii_digit()));
    can_be_in_topic(word) && !is_adjective(word) && !is_vague(word) && long_enough
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_verbs_from_nouns() {
        for verb in [
            "approved", "existed", "build", "builds", "turns", "left", "tracked",
        ] {
            assert!(is_verb(verb), "{verb}");
        }
        for noun in [
            "lanes", "council", "coffee", "roads", "street", "reef", "pasta",
        ] {
            assert!(!is_verb(noun) && can_head_topic(noun), "{noun}");
        }
        for word in ["great", "forever", "twelve", "tuesday", "quickly", "long"] {
            assert!(!can_head_topic(word), "{word}");
        }
    }
}
