#!/usr/bin/env python3
"""Vendors the built-in image engine's subject pictures.

Writes assets/subjects/subjects.json: a curated few hundred everyday subjects
(animals, plants, food, buildings, vehicles, objects, people) from Microsoft's
Fluent Emoji Flat set (MIT), chosen and indexed by their CLDR names and tags
from emojibase-data (MIT). Both come from the npm registry at pinned versions,
so the output is reproducible; the engine embeds the JSON, so nothing is read
at run time and no network is needed. Run it only to change the set:

    python3 scripts/vendor_subjects.py            # fetches the two packages with npm pack
    python3 scripts/vendor_subjects.py DIR        # or reads them unpacked in DIR/<name>/package

Output, one subject a line:
    {"subjects": [{"id", "label", "emoji", "kind", "size", "svg"}],
     "names": {"phrase": index}, "words": {"word": index}}
`names` are whole names (labels and aliases, possibly several words) and win
over `words`, the head nouns of labels, which are only used for words that name nothing.
"""

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

FLUENT = ("@iconify-json/fluent-emoji-flat", "1.2.6")
EMOJIBASE = ("emojibase-data", "17.0.0")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "assets", "subjects")

# emojibase subgroup -> kind (the engine sizes and places a subject by kind).
SUBGROUP_KIND = {
    23: "person", 25: "person", 26: "person", 27: "person", 28: "person",
    34: "animal", 35: "bird", 36: "small_animal", 37: "animal", 38: "sea_animal",
    39: "bug", 40: "flower", 41: "plant",
    42: "food", 43: "food", 44: "food", 45: "food", 46: "food", 47: "food", 48: "object",
    50: "building", 51: "building", 52: "building", 53: "building",
    54: "vehicle", 55: "boat", 56: "aircraft",
    59: "sky", 60: "object", 62: "object", 63: "object", 64: "object", 65: "object",
    67: "object", 68: "object", 69: "object", 70: "object", 71: "object", 72: "object",
    73: "object", 75: "object", 78: "object", 79: "object", 80: "object", 81: "object",
    82: "object",
}

# Per-label overrides of the kind (size and placement).
KIND = {
    "evergreen tree": "tree", "deciduous tree": "tree", "palm tree": "tree",
    "leafless tree": "tree", "cactus": "plant",
    "elephant": "big_animal", "giraffe": "big_animal", "horse": "big_animal",
    "camel": "big_animal", "two-hump camel": "big_animal", "bison": "big_animal",
    "mammoth": "big_animal", "rhinoceros": "big_animal", "hippopotamus": "big_animal",
    "bear": "big_animal", "polar bear": "big_animal", "moose": "big_animal",
    "cow": "big_animal", "ox": "big_animal", "water buffalo": "big_animal",
    "zebra": "big_animal", "unicorn": "big_animal", "deer": "big_animal",
    "dinosaur": "big_animal", "sauropod": "big_animal", "T-Rex": "big_animal", "dragon": "big_animal",
    "mouse": "small_animal", "rat": "small_animal", "hamster": "small_animal",
    "chipmunk": "small_animal", "hedgehog": "small_animal", "rabbit": "small_animal",
    "skunk": "small_animal", "beaver": "small_animal", "otter": "small_animal",
    "bat": "flying", "bird": "flying", "dove": "flying", "eagle": "flying",
    "black bird": "flying", "phoenix": "flying", "butterfly": "flying", "honeybee": "flying",
    "parachute": "aircraft", "satellite": "sky", "rocket": "aircraft",
    "snowman": "object", "snowman without snow": "object",
    "tent": "vehicle", "circus tent": "building", "fountain": "vehicle",
    "carousel horse": "vehicle", "playground slide": "vehicle", "bicycle": "vehicle",
    "kick scooter": "object", "skateboard": "object", "roller skate": "object",
    "anchor": "object", "ring buoy": "object", "seat": "object",
    "closed umbrella": "object", "umbrella": "object", "umbrella on ground": "object",
    "bed": "furniture", "couch and lamp": "furniture", "chair": "furniture",
    "door": "furniture", "window": "furniture", "toilet": "furniture",
    "bathtub": "furniture", "shower": "furniture", "mirror": "furniture",
    "shopping cart": "vehicle", "balloon": "flying", "kite": "flying", "christmas tree": "tree", "Christmas tree": "tree",
    "robot": "person", "alien": "person", "ghost": "person",
}

# Subgroups (or single labels) left out: flags, symbols, faces, hands, body
# parts, maps, scenic pictures the engine draws itself, weather that drives
# the sky, signs.
SKIP_LABELS = {
    "paw prints", "pig nose", "feather", "wing", "empty nest", "nest with eggs",
    "wilted flower", "rosette", "foggy", "night with stars", "cityscape",
    "sunrise over mountains", "sunrise", "cityscape at dusk", "sunset",
    "bridge at night", "hot springs", "barber pole", "love hotel", "wedding",
    "oncoming bus", "oncoming police car", "oncoming taxi", "oncoming automobile",
    "bus stop", "motorway", "railway track", "oil drum", "fuel pump", "wheel",
    "police car light", "horizontal traffic light", "vertical traffic light",
    "stop sign", "construction", "airplane departure", "airplane arrival",
    "thermometer", "sun", "star", "glowing star", "cloud", "sun behind cloud",
    "cloud with lightning and rain", "sun behind small cloud", "sun behind large cloud",
    "sun behind rain cloud", "cloud with rain", "cloud with snow", "cloud with lightning",
    "tornado", "fog", "wind face", "cyclone", "high voltage", "snowflake", "droplet",
    "water wave", "new moon face", "first quarter moon face", "last quarter moon face",
    "full moon face", "sun with face", "new moon", "waxing crescent moon",
    "first quarter moon", "waxing gibbous moon", "full moon", "waning gibbous moon",
    "last quarter moon", "waning crescent moon", "crescent moon", "milky way",
    "shooting star", "umbrella with rain drops", "fire", "mountain", "snow-capped mountain",
    "desert", "landslide", "national park", "beach with umbrella", "camping",
    "cigarette", "coffin", "headstone", "funeral urn", "nazar amulet", "hamsa",
    "placard", "identification card", "mouse trap", "plunger", "razor", "safety pin",
    "roll of paper", "lotion bottle", "soap", "sponge", "bubbles", "toothbrush",
    "brick", "wood", "rock", "Japanese post office", "kaaba", "guide dog", "service dog",
    "front-facing baby chick", "hatching chick", "leaf fluttering in wind",
    "fallen leaf", "maple leaf", "shamrock", "four leaf clover", "herb", "seedling",
    "sheaf of rice", "pregnant man", "pregnant person", "breast-feeding", "person in bed",
    "person in steamy room", "man in steamy room", "woman in steamy room",
    "person taking bath", "merman", "mermaid", "person with skullcap",
    "woman with headscarf", "man with veil", "woman with veil", "person with veil",
    "person in suit levitating", "bride with veil", "pregnant woman",
}
# Labels taken from outside the subgroups above.
EXTRA_LABELS = {"robot", "alien", "ghost", "Christmas tree", "jack-o-lantern",
                "balloon", "wrapped gift", "fireworks", "trophy", "soccer ball",
                "basketball", "guitar", "violin", "piano", "trumpet", "drum",
                "mobile phone", "laptop", "desktop computer", "camera", "television",
                "books", "open book", "light bulb", "candle", "hourglass done",
                "alarm clock", "mantelpiece clock", "teddy bear", "kite", "crown",
                "shield", "crossed swords", "compass", "microscope", "telescope",
                "money bag", "gem stone", "key", "hammer", "wrench", "magnet",
                "syringe", "pill", "stethoscope", "package", "envelope", "pencil",
                "paintbrush", "artist palette", "crayon", "t-shirt", "dress",
                "running shoe", "top hat", "backpack", "glasses", "moai", "magic wand",
                "video game", "joystick", "game die", "chess pawn", "puzzle piece",
                "headphone", "microphone", "movie camera", "film projector",
                "clapper board", "radio", "lantern", "flashlight"}

# Aliases: everyday words and phrases for a label, checked before tags.
ALIASES = {
    "lighthouse": ["lighthouse", "light house", "beacon"],
    "motor boat": ["fishing boat", "boat", "trawler", "dinghy"],
    "sailboat": ["sailing boat", "yacht", "sailing"],
    "passenger ship": ["cruise ship", "liner", "ocean liner"],
    "ship": ["steamship", "freighter", "cargo ship"],
    "canoe": ["kayak"],
    "automobile": ["car", "sedan"],
    "sport utility vehicle": ["suv", "jeep"],
    "airplane": ["plane", "aeroplane", "jet", "aircraft"],
    "couch and lamp": ["sofa", "couch", "living room", "settee"],
    "hot beverage": ["cup of coffee", "cup of tea", "mug of coffee", "cup", "mug", "coffee", "coffee shop", "cafe", "espresso", "cappuccino", "latte", "tea"],
    "cat": ["kitten", "kitty"],
    "dog": ["puppy", "doggy", "hound"],
    "house": ["home", "cottage", "cabin"],
    "house with garden": ["garden house", "villa"],
    "office building": ["office", "skyscraper", "tower block", "headquarters"],
    "classical building": ["museum", "library", "courthouse", "parliament", "temple"],
    "castle": ["palace", "fortress", "fort"],
    "convenience store": ["shop", "store", "corner shop", "grocery", "supermarket"],
    "department store": ["mall", "shopping mall"],
    "school": ["classroom", "university", "college"],
    "hospital": ["clinic"],
    "church": ["chapel", "cathedral"],
    "evergreen tree": ["pine", "pine tree", "fir", "fir tree", "conifer"],
    "deciduous tree": ["tree", "oak", "oak tree", "maple tree"],
    "palm tree": ["palm"],
    "bicycle": ["bike", "cycling", "cyclist"],
    "person biking": ["cyclist", "cycling"],
    "person running": ["runner", "jogger", "jogging", "running"],
    "person walking": ["walker", "hiker", "pedestrian"],
    "person surfing": ["surfer", "surfing"],
    "person swimming": ["swimmer", "swimming"],
    "health worker": ["doctor", "nurse", "medic"],
    "cook": ["chef", "baker"],
    "police officer": ["policeman", "policewoman", "police", "cop"],
    "firefighter": ["fireman"],
    "technologist": ["programmer", "developer", "coder", "engineer", "hacker"],
    "office worker": ["businessman", "businesswoman", "manager", "accountant"],
    "old man": ["grandfather", "grandpa"],
    "old woman": ["grandmother", "grandma", "granny"],
    # The plain person pictures are heads; a standing figure shows a person.
    "person standing": ["person", "someone", "crowd", "family", "friend", "child", "kid",
                        "boy", "teenager", "student", "tourist", "visitor", "worker"],
    "man standing": ["man", "guy", "gentleman", "father", "dad", "husband"],
    "woman standing": ["woman", "lady", "girl", "mother", "mum", "mom", "wife"],
    "older person": ["grandparent", "elderly", "pensioner"],
    "desktop computer": ["computer", "pc"],
    "mobile phone": ["phone", "smartphone", "cellphone"],
    "laptop": ["notebook computer"],
    "books": ["book", "reading", "study"],
    "television": ["tv"],
    "wrapped gift": ["gift", "present", "birthday present"],
    "birthday cake": ["birthday", "cake"],
    "Christmas tree": ["christmas", "xmas"],
    "pizza": ["pizzeria"],
    "hamburger": ["burger", "fast food"],
    "cooked rice": ["rice"],
    "steaming bowl": ["noodles", "soup", "ramen"],
    "red apple": ["apple"],
    "tangerine": ["orange"],
    "balloon": ["balloon", "hot air balloon"],
    "hot pepper": ["chili", "chilli"],
    "bread": ["loaf", "bakery"],
    "cheese wedge": ["cheese"],
    "wine glass": ["wine"],
    "beer mug": ["beer", "pub", "bar"],
    "cocktail glass": ["cocktail"],
    "teacup without handle": ["green tea", "matcha"],
    "ice cream": ["ice cream", "gelato"],
    "rocket": ["spaceship", "spacecraft", "space shuttle"],
    "flying saucer": ["ufo"],
    "ringed planet": ["saturn", "planet"],
    "helicopter": ["chopper"],
    "train": ["railway train"],
    "locomotive": ["steam train", "steam engine"],
    "high-speed train": ["bullet train", "fast train"],
    "delivery truck": ["truck", "van", "lorry"],
    "fire engine": ["fire truck"],
    "tractor": ["farm", "farming"],
    "farmer": ["farmer"],
    "cow": ["cattle", "dairy"],
    "ewe": ["sheep", "lamb"],
    "rooster": ["cockerel"],
    "chicken": ["hen", "poultry"],
    "honeybee": ["bee"],
    "lady beetle": ["ladybug", "ladybird"],
    "spouting whale": ["whale"],
    "tropical fish": ["reef fish", "coral reef"],
    "deer": ["reindeer", "stag"],
    "T-Rex": ["dinosaur", "t rex", "tyrannosaurus"],
    "bouquet": ["flower"],
    "potted plant": ["houseplant", "plant"],
    "rainbow": ["rainbow"],
    "umbrella": ["umbrella"],
    "snowman": ["snowman"],
    "camera": ["photographer", "photography", "photo"],
    "movie camera": ["film", "movie", "cinema"],
    "microphone": ["singer", "karaoke", "podcast"],
    "guitar": ["guitarist"],
    "video game": ["gaming", "gamer"],
    "soccer ball": ["football", "soccer"],
    "robot": ["robot", "android", "ai"],
    "ghost": ["ghost", "haunted"],
    "stadium": ["arena"],
    "tent": ["camping", "campsite", "camp"],
    "Tokyo tower": ["tokyo tower", "radio tower"],
    "Statue of Liberty": ["statue of liberty", "liberty"],
    "Japanese castle": ["japanese castle"],
    "volcano": ["volcano", "eruption"],
    "desert island": ["desert island", "island"],
    "ferris wheel": ["fairground", "funfair", "amusement park"],
    "money bag": ["money", "cash", "savings"],
    "light bulb": ["idea", "invention"],
    "teddy bear": ["toy", "teddy"],
    "backpack": ["school bag", "rucksack"],
}

# Words that never pick a subject by a tag: mood, light, weather, settings
# (the engine draws those itself), colours and vague nouns.
NO_TAG_WORDS = set("""
a an the and or of in on at by with for to from into over under near beside
light dark bright hot cold warm cool big small little large tiny old new young
happy sad beautiful pretty nice good bad great calm peaceful quiet serene cozy
storm stormy rain rainy snow snowy fog foggy mist misty cloud cloudy wind windy
sun sunny sunset sunrise dawn dusk night day morning evening moon star stars sky
sea ocean water beach coast shore lake river wave waves harbour harbor port bay
forest wood woods jungle mountain mountains hill hills desert field meadow city
town village street space galaxy land world nature time life love fun party
red orange yellow green blue purple pink brown black white gray grey gold silver
face sign symbol mark button flag letter number word text heart
done die cut handle increasing decreasing left right men women note notes nib
page suit score tabs scale standing kneeling walking racing machine liquid ray
root piece slider saw net plug drop card cards food fruit drink bags hair beard
bald ear arts ata frames construction decoration ceremony chime fan disc disk
bow cap chain board worker engine leg dish box game pole streamer massage
""".split())


def fetch(workdir):
    for name, version in (FLUENT, EMOJIBASE):
        folder = os.path.join(workdir, name.replace("/", "_"))
        if os.path.isdir(os.path.join(folder, "package")):
            continue
        os.makedirs(folder, exist_ok=True)
        tgz = subprocess.check_output(
            ["npm", "pack", "--silent", f"{name}@{version}"], cwd=folder, text=True
        ).strip().splitlines()[-1]
        with tarfile.open(os.path.join(folder, tgz)) as t:
            t.extractall(folder, filter="data")
    return (os.path.join(workdir, FLUENT[0].replace("/", "_"), "package"),
            os.path.join(workdir, EMOJIBASE[0].replace("/", "_"), "package"))


def lighthouse_svg():
    """There is no lighthouse emoji: this one is drawn for the project in the
    same flat style (32x32), under the project's own licence."""
    return (
        '<path fill="#9b9b9b" d="M3 30c1-3 4-5 8-5h10c4 0 7 2 8 5z"/>'
        '<path fill="#7d7d7d" d="M5 30c1-2 3-3 6-3h3l-2 3z"/>'
        '<path fill="#f4f4f4" d="M12.2 11h7.6l1.7 15h-11z"/>'
        '<path fill="#f8312f" d="M11.95 13.2h8.1l.45 4h-9zm-.7 6.6h9.5l.45 4h-10.4z"/>'
        '<path fill="#636363" d="M11 9.5h10v1.8H11z"/>'
        '<path fill="#ffb02e" d="M13 5.5h6v4h-6z"/>'
        '<path fill="#fcd53f" d="M14.2 6.2h3.6v2.6h-3.6z"/>'
        '<path fill="#f8312f" d="M12.3 5.6L16 2.2l3.7 3.4z"/>'
        '<path fill="#636363" d="M15.4 1.2h1.2v1.4h-1.2z"/>'
        '<path fill="#433b6b" d="M14.9 22h2.2v4h-2.2z"/>'
    )


FLUENT_LICENSE = """MIT License

Copyright (c) Microsoft Corporation.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE
"""


def write_licence(base_dir):
    """assets/subjects/LICENSE: whose pictures and names these are."""
    emojibase = open(os.path.join(base_dir, "LICENSE")).read().strip()
    with open(os.path.join(OUT, "LICENSE"), "w") as f:
        f.write(
            "assets/subjects/subjects.json holds pictures from Fluent Emoji Flat by\n"
            "Microsoft Corporation (https://github.com/microsoft/fluentui-emoji), MIT,\n"
            f"taken from the npm package {FLUENT[0]}@{FLUENT[1]}, and emoji names\n"
            f"from emojibase-data (https://emojibase.dev), MIT, npm {EMOJIBASE[0]}@{EMOJIBASE[1]}.\n"
            "The \"lighthouse\" picture is drawn for this project (its own licence).\n"
            "Made by scripts/vendor_subjects.py.\n\n"
            "== Fluent Emoji ==\n\n" + FLUENT_LICENSE +
            "\n== emojibase-data ==\n\n" + emojibase + "\n"
        )


def main():
    workdir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="vendor-subjects-")
    fluent_dir, base_dir = fetch(workdir)
    icons = json.load(open(os.path.join(fluent_dir, "icons.json")))
    chars = json.load(open(os.path.join(fluent_dir, "chars.json")))
    emoji = json.load(open(os.path.join(base_dir, "en", "data.json")))

    def body_of(hexcode):
        for key in (hexcode.lower(), hexcode.lower().replace("-fe0f", "")):
            name = chars.get(key)
            if name and name in icons["icons"]:
                icon = icons["icons"][name]
                size = (icon.get("width", icons["width"]), icon.get("height", icons["height"]))
                return name, icon["body"], size
        return None

    subjects = []
    for e in emoji:
        label = e["label"]
        kind = KIND.get(label) or SUBGROUP_KIND.get(e.get("subgroup"))
        if label in EXTRA_LABELS:
            kind = KIND.get(label, "object")
        if not kind or label in SKIP_LABELS:
            continue
        if e.get("group") == 1 and e.get("subgroup") not in (23, 25, 26, 27, 28):
            continue
        if label.startswith(("flag", "family")) or "face" in label.split():
            continue
        found = body_of(e["hexcode"])
        if not found:
            continue
        name, body, size = found
        if size != (32, 32):
            continue
        subjects.append({"id": name, "label": label, "emoji": e["emoji"], "kind": kind, "svg": body})
    subjects.append({"id": "lighthouse", "label": "lighthouse", "emoji": "",
                     "kind": "tall_building", "svg": lighthouse_svg()})

    by_label = {s["label"].lower(): i for i, s in enumerate(subjects)}
    names = {}
    # Aliases first (curated), then labels.
    for label, aliases in ALIASES.items():
        i = by_label.get(label.lower())
        if i is None:
            print(f"vendor_subjects: alias target {label!r} is not in the set", file=sys.stderr)
            continue
        for a in aliases:
            names.setdefault(a.lower(), i)
    for i, s in enumerate(subjects):
        label = re.sub(r"[^a-z0-9 ]+", " ", s["label"].lower()).strip()
        label = re.sub(r"\s+", " ", label)
        names.setdefault(label, i)

    # Single words: the head noun of each label ("motor boat" -> boat,
    # "couch and lamp" -> couch), for a word that names nothing by itself.
    # Tags are not used: they are too loose ("dinner" -> fish, "family" -> crown).
    words = {}
    candidates = {}
    for i, s in enumerate(subjects):
        label = re.sub(r"[^a-z0-9 ]+", " ", s["label"].lower()).split()
        for joint in ("with", "of", "and", "in", "on"):
            if joint in label:
                label = label[: label.index(joint)]
        if not label:
            continue
        head = label[-1]
        if head in NO_TAG_WORDS or len(head) < 3 or head in names:
            continue
        candidates.setdefault(head, []).append(i)
    for head, idx in sorted(candidates.items()):
        words[head] = min(idx, key=lambda i: (len(subjects[i]["label"]), subjects[i]["label"]))

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "subjects.json"), "w") as f:
        f.write('{"source": "Fluent Emoji Flat (MIT, Microsoft) via npm %s@%s; names and tags from %s@%s (MIT)",\n'
                % (FLUENT[0], FLUENT[1], EMOJIBASE[0], EMOJIBASE[1]))
        f.write('"subjects": [\n')
        f.write(",\n".join(json.dumps(s, ensure_ascii=False) for s in subjects))
        f.write('\n],\n"names": ')
        f.write(json.dumps(dict(sorted(names.items())), ensure_ascii=False, indent=0))
        f.write(',\n"words": ')
        f.write(json.dumps(dict(sorted(words.items())), ensure_ascii=False, indent=0))
        f.write("}\n")
    write_licence(base_dir)
    print(f"vendor_subjects: {len(subjects)} subjects, {len(names)} names, {len(words)} words",
          file=sys.stderr)


if __name__ == "__main__":
    main()
