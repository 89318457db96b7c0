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

/// Reads the scene from the prompt (and the optional style).
pub fn analyse(prompt: &str) -> Scene {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let time = if any(
        &words,
        &[
            "night",
            "midnight",
            "moon",
            "moonlit",
            "stars",
            "starry",
            "dark",
            "nocturnal",
        ],
    ) {
        TimeOfDay::Night
    } else if any(&words, &["sunset", "dusk", "evening", "twilight", "golden"]) {
        TimeOfDay::Sunset
    } else if any(&words, &["sunrise", "dawn", "morning", "daybreak"]) {
        TimeOfDay::Dawn
    } else {
        TimeOfDay::Day
    };
    let weather = if any(
        &words,
        &["rain", "rainy", "storm", "stormy", "thunder", "drizzle"],
    ) {
        Weather::Rain
    } else if any(
        &words,
        &[
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
        ],
    ) {
        Weather::Snow
    } else if any(&words, &["fog", "foggy", "mist", "misty", "haze", "hazy"]) {
        Weather::Fog
    } else if any(&words, &["cloud", "cloudy", "overcast", "grey", "gray"]) {
        Weather::Cloudy
    } else {
        Weather::Clear
    };
    let indoor_words = [
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
    let setting = if any(
        &words,
        &[
            "space",
            "galaxy",
            "planet",
            "nebula",
            "cosmic",
            "universe",
            "astronaut",
            "orbit",
        ],
    ) {
        Setting::Space
    } else if words.iter().any(|w| indoor_words.contains(&w.as_str())) {
        Setting::Indoor
    } else if any(
        &words,
        &[
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
        ],
    ) {
        Setting::City
    } else if any(
        &words,
        &[
            "ocean", "sea", "beach", "wave", "waves", "lake", "coast", "harbor", "harbour",
            "river", "island", "shore", "pond", "iceberg", "icebergs", "bay", "fjord", "lagoon",
            "canal", "pier", "marina", "port",
        ],
    ) {
        Setting::Water
    } else if any(
        &words,
        &[
            "forest", "tree", "trees", "woods", "jungle", "pine", "woodland",
        ],
    ) {
        Setting::Forest
    } else if any(
        &words,
        &[
            "mountain",
            "mountains",
            "peak",
            "peaks",
            "alps",
            "summit",
            "volcano",
            "glacier",
        ],
    ) {
        Setting::Mountains
    } else if any(
        &words,
        &["desert", "dune", "dunes", "sand", "sahara", "canyon"],
    ) {
        Setting::Desert
    } else {
        Setting::Field
    };
    let neon = any(
        &words,
        &["neon", "cyberpunk", "synthwave", "vaporwave", "glowing"],
    );
    let calm = any(
        &words,
        &[
            "calm", "peaceful", "serene", "quiet", "gentle", "cozy", "soft",
        ],
    );
    let sparkles = any(
        &words,
        &[
            "magic",
            "magical",
            "fantasy",
            "fairy",
            "sparkle",
            "sparkling",
            "fireflies",
            "dream",
            "dreamy",
        ],
    );
    let accent = words
        .iter()
        .find_map(|w| COLOURS.iter().find(|(name, _)| name == w).map(|(_, c)| *c));
    let subjects = subjects::find(prompt);
    // Boats, sea animals and lighthouses bring the sea, and furniture a
    // room, unless the words chose a setting that fits them.
    let setting = if subjects.iter().any(|s| s.kind.wants_water())
        && matches!(
            setting,
            Setting::Field | Setting::Forest | Setting::Mountains | Setting::Desert
        ) {
        Setting::Water
    } else if setting == Setting::Field
        && !any(&words, OUTDOORS)
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
    };
    Scene {
        time,
        weather,
        setting,
        neon,
        calm,
        sparkles,
        accent,
        subjects,
    }
}

/// The scene a request asks for (the prompt and its style).
pub fn scene_of(req: &ImageRequest) -> Scene {
    match &req.style {
        Some(style) => analyse(&format!("{} {}", req.prompt, style)),
        None => analyse(&req.prompt),
    }
}
