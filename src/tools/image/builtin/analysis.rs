//! What a prompt's words ask for: time of day, weather, setting, mood,
//! named colours, and the subjects it names.

use super::Rgb;
use super::subjects::{self, Kind, Subject};
use crate::tools::image::ImageRequest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeOfDay {
    Day,
    Dawn,
    Sunset,
    Night,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weather {
    Clear,
    Cloudy,
    Rain,
    Snow,
    Fog,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Field,
    Water,
    Forest,
    City,
    Mountains,
    Desert,
    Space,
    /// A room: a wall with a window on the sky, and a wooden floor.
    Indoor,
}

/// What the prompt's words ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub time: TimeOfDay,
    pub weather: Weather,
    pub setting: Setting,
    pub neon: bool,
    pub calm: bool,
    pub sparkles: bool,
    pub accent: Option<Rgb>,
    /// What the prompt names, drawn over the scenery (may be empty).
    pub subjects: Vec<Subject>,
}

pub(super) const COLOURS: &[(&str, Rgb)] = &[
    ("red", [220.0, 40.0, 50.0]),
    ("orange", [245.0, 140.0, 40.0]),
    ("yellow", [245.0, 215.0, 60.0]),
    ("gold", [230.0, 180.0, 60.0]),
    ("golden", [230.0, 180.0, 60.0]),
    ("green", [60.0, 180.0, 90.0]),
    ("teal", [30.0, 170.0, 170.0]),
    ("cyan", [40.0, 220.0, 235.0]),
    ("blue", [50.0, 100.0, 230.0]),
    ("purple", [140.0, 70.0, 200.0]),
    ("violet", [150.0, 90.0, 220.0]),
    ("pink", [240.0, 110.0, 180.0]),
    ("magenta", [230.0, 50.0, 200.0]),
    ("white", [240.0, 240.0, 240.0]),
    ("silver", [190.0, 195.0, 205.0]),
    ("brown", [130.0, 85.0, 50.0]),
];

/// Words that keep a scene outdoors even for indoor subjects.
pub(super) const OUTDOORS: &[&str] = &[
    "field",
    "meadow",
    "park",
    "garden",
    "grass",
    "farm",
    "outdoor",
    "outdoors",
    "outside",
    "hill",
    "countryside",
    "picnic",
    "yard",
];

pub(super) fn any(words: &[String], keys: &[&str]) -> bool {
    words.iter().any(|w| {
        keys.iter()
            .any(|k| w == k || (k.len() > 3 && w.starts_with(k)))
    })
}

/// Words that make it night.
const NIGHT: &[&str] = &[
    "night",
    "midnight",
    "moon",
    "moonlit",
    "stars",
    "starry",
    "dark",
    "nocturnal",
];
/// Words that make it sunset.
const SUNSET: &[&str] = &["sunset", "dusk", "evening", "twilight", "golden"];
/// Words that make it dawn.
const DAWN: &[&str] = &["sunrise", "dawn", "morning", "daybreak"];

/// Words that bring rain.
const RAIN: &[&str] = &["rain", "rainy", "storm", "stormy", "thunder", "drizzle"];
/// Words that bring snow.
const SNOW: &[&str] = &[
    "snow",
    "snowy",
    "winter",
    "blizzard",
    "frost",
    "frozen",
    "ice",
    "iceberg",
    "icebergs",
    "arctic",
    "antarctic",
    "antarctica",
    "polar",
    "icy",
];
/// Words that bring fog.
const FOG: &[&str] = &["fog", "foggy", "mist", "misty", "haze", "hazy"];
/// Words that bring clouds.
const CLOUDY: &[&str] = &["cloud", "cloudy", "overcast", "grey", "gray"];

/// Words that put the scene in space.
const SPACE: &[&str] = &[
    "space",
    "galaxy",
    "planet",
    "nebula",
    "cosmic",
    "universe",
    "astronaut",
    "orbit",
];
/// Words that put the scene in a room (matched whole, never as prefixes).
const INDOOR: &[&str] = &[
    "room",
    "rooms",
    "kitchen",
    "bedroom",
    "indoors",
    "inside",
    "cafe",
    "café",
    "restaurant",
    "office",
    "classroom",
    "sofa",
    "couch",
    "bed",
    "desk",
    "table",
    "home",
    "living",
    "interior",
    "studio",
    "library",
    "bathroom",
    "apartment",
    "flat",
];
/// Words that put the scene in a city.
const CITY: &[&str] = &[
    "city",
    "cityscape",
    "cities",
    "tower",
    "towers",
    "factory",
    "factories",
    "railway",
    "urban",
    "skyline",
    "street",
    "downtown",
    "building",
    "skyscraper",
    "cyberpunk",
    "futuristic",
    "metropolis",
    "town",
];
/// Words that put the scene by the water.
const WATER: &[&str] = &[
    "ocean", "sea", "beach", "wave", "waves", "lake", "coast", "harbor", "harbour", "river",
    "island", "shore", "pond", "iceberg", "icebergs", "bay", "fjord", "lagoon", "canal", "pier",
    "marina", "port",
];
/// Words that put the scene in a forest.
const FOREST: &[&str] = &[
    "forest", "tree", "trees", "woods", "jungle", "pine", "woodland",
];
/// Words that put the scene in the mountains.
const MOUNTAINS: &[&str] = &[
    "mountain",
    "mountains",
    "peak",
    "peaks",
    "alps",
    "summit",
    "volcano",
    "glacier",
];
/// Words that put the scene in a desert.
const DESERT: &[&str] = &["desert", "dune", "dunes", "sand", "sahara", "canyon"];

/// Words that light the scene with neon.
const NEON: &[&str] = &["neon", "cyberpunk", "synthwave", "vaporwave", "glowing"];
/// Words that make the scene calm.
const CALM: &[&str] = &[
    "calm", "peaceful", "serene", "quiet", "gentle", "cozy", "soft",
];
/// Words that scatter sparkles over the scene.
const SPARKLES: &[&str] = &[
    "magic",
    "magical",
    "fantasy",
    "fairy",
    "sparkle",
    "sparkling",
    "fireflies",
    "dream",
    "dreamy",
];

/// Reads the scene from the prompt (and the optional style).
pub fn analyse(prompt: &str) -> Scene {
    let words = words_of(prompt);
    let subjects = subjects::find(prompt);
    Scene {
        time: time_of(&words),
        weather: weather_of(&words),
        setting: setting_for_subjects(setting_of(&words), &words, &subjects),
        neon: any(&words, NEON),
        calm: any(&words, CALM),
        sparkles: any(&words, SPARKLES),
        accent: accent_of(&words),
        subjects,
    }
}

/// The prompt's words, lower-cased, split at anything not alphanumeric.
fn words_of(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The time of day the words ask for (day unless named).
fn time_of(words: &[String]) -> TimeOfDay {
    if any(words, NIGHT) {
        TimeOfDay::Night
    } else if any(words, SUNSET) {
        TimeOfDay::Sunset
    } else if any(words, DAWN) {
        TimeOfDay::Dawn
    } else {
        TimeOfDay::Day
    }
}

/// The weather the words ask for (clear unless named).
fn weather_of(words: &[String]) -> Weather {
    if any(words, RAIN) {
        Weather::Rain
    } else if any(words, SNOW) {
        Weather::Snow
    } else if any(words, FOG) {
        Weather::Fog
    } else if any(words, CLOUDY) {
        Weather::Cloudy
    } else {
        Weather::Clear
    }
}

/// The setting the words name (a field unless named).
fn setting_of(words: &[String]) -> Setting {
    if any(words, SPACE) {
        Setting::Space
    } else if words.iter().any(|w| INDOOR.contains(&w.as_str())) {
        Setting::Indoor
    } else if any(words, CITY) {
        Setting::City
    } else if any(words, WATER) {
        Setting::Water
    } else if any(words, FOREST) {
        Setting::Forest
    } else if any(words, MOUNTAINS) {
        Setting::Mountains
    } else if any(words, DESERT) {
        Setting::Desert
    } else {
        Setting::Field
    }
}

/// The first named colour among the words, if any.
fn accent_of(words: &[String]) -> Option<Rgb> {
    words
        .iter()
        .find_map(|w| COLOURS.iter().find(|(name, _)| name == w).map(|(_, c)| *c))
}

/// The setting adjusted for the subjects: boats, sea animals and lighthouses
/// bring the sea, and furniture a room, unless the words chose a setting that
/// fits them.
fn setting_for_subjects(setting: Setting, words: &[String], subjects: &[Subject]) -> Setting {
    if subjects.iter().any(|s| s.kind.wants_water())
        && matches!(
            setting,
            Setting::Field | Setting::Forest | Setting::Mountains | Setting::Desert
        )
    {
        Setting::Water
    } else if setting == Setting::Field
        && !any(words, OUTDOORS)
        && !subjects.is_empty()
        && (subjects.iter().any(|s| s.kind == Kind::Furniture)
            || subjects
                .iter()
                .all(|s| matches!(s.kind, Kind::Food | Kind::Object | Kind::Furniture)))
    {
        // A sofa, or a cup of coffee with no outdoor words, is indoors.
        Setting::Indoor
    } else {
        setting
    }
}

/// The scene a request asks for (the prompt and its style).
pub fn scene_of(req: &ImageRequest) -> Scene {
    match &req.style {
        Some(style) => analyse(&format!("{} {}", req.prompt, style)),
        None => analyse(&req.prompt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_words_match_whole_while_others_match_as_prefixes() {
        // "flatland" is no flat and "tables" no table, but "forests" is a forest.
        assert_eq!(
            setting_of(&words_of("a flatland of tables")),
            Setting::Field
        );
        assert_eq!(setting_of(&words_of("Misty forests")), Setting::Forest);
        assert_eq!(weather_of(&words_of("Misty forests")), Weather::Fog);
        assert_eq!(time_of(&words_of("the golden hour")), TimeOfDay::Sunset);
    }
}
