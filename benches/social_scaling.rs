//! How the built-in social-post engine's cost grows with the text: the
//! time per character at 10k, 20k, 50k and 100k characters, as a ratio to
//! the 10k run measured in the same run (1.0 everywhere is linear; the
//! pairwise sentence comparison it replaced gave 2.6× at 20k, ~10× at 50k
//! and ~26× at 100k, measured from outside over HTTP).
//!
//! Run: `cargo bench --bench social_scaling`.

use std::time::Instant;

use studio::tools::social::extractive::write_post;

const PARAGRAPH: &str = "Coffee spread from the highlands of Ethiopia to the ports of Yemen, \
where Sufi monks drank it to stay awake through night prayers. Merchants carried the beans \
to Cairo and Istanbul, and coffee houses became places of news, music and argument. \
European traders brought it to Venice, London and Amsterdam, where the first coffee houses \
were called penny universities. Plantations in Java, the Caribbean and Brazil followed, \
built on forced labour, and prices fell until coffee was an everyday drink. ";

fn text_of(chars: usize) -> String {
    // Varied words, so the vocabulary grows as a real long text's does.
    let mut out = String::new();
    let mut k = 0;
    while out.len() < chars {
        out.push_str(&PARAGRAPH.replace("coffee", &format!("coffee{}", k % 97)));
        k += 1;
    }
    out.truncate(out[..chars].rfind(' ').unwrap_or(chars));
    out
}

fn main() {
    let mut base = None;
    println!("{:>8} {:>10} {:>16}", "chars", "seconds", "per char vs 10k");
    for chars in [10_000, 20_000, 50_000, 100_000] {
        let text = text_of(chars);
        let runs = 3;
        let t = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(write_post(&text, "en", 5));
        }
        let secs = t.elapsed().as_secs_f64() / f64::from(runs);
        let per_char = secs / chars as f64;
        let base = *base.get_or_insert(per_char);
        println!("{chars:>8} {secs:>10.3} {:>15.2}x", per_char / base);
    }
}
