//! Trains the offline coordinator's intent model from the corpus and writes
//! it where the library embeds it, then reports accuracy on the held-out
//! split (requests the model never saw):
//!
//! ```sh
//! cargo run --release --example train_intents            # train, write, report
//! cargo run --release --example train_intents -- --check # report on the shipped model only
//! cargo run --release --example train_intents -- --l2 0.0002 --iterations 300 --learning-rate 0.05
//! ```
//!
//! Training is deterministic (full-batch, fixed order, fixed split), so the
//! same corpus always gives the same `model.json`.

use std::path::Path;

use studio::agent::nlu::{self, CLASSES, model::Model, train};

fn main() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/agent/nlu");
    let corpus = std::fs::read_to_string(root.join("corpus.jsonl")).map_err(|e| e.to_string())?;
    let examples = nlu::parse_corpus(&corpus)?;
    let (held, trained): (Vec<_>, Vec<_>) = examples.iter().partition(|e| e.held_out());
    println!(
        "corpus: {} requests, {} for training, {} held out",
        examples.len(),
        trained.len(),
        held.len()
    );

    let model = if std::env::args().any(|a| a == "--check") {
        nlu::model()
            .ok_or("the shipped model.json does not load")?
            .clone()
    } else {
        let pairs: Vec<(&str, &str)> = trained
            .iter()
            .map(|e| (e.text.as_str(), e.intent.as_str()))
            .collect();
        let classes: Vec<String> = CLASSES.iter().map(|c| (*c).to_owned()).collect();
        let mut opts = train::TrainOptions::default();
        let args: Vec<String> = std::env::args().collect();
        for pair in args.windows(2) {
            let value = || {
                pair[1]
                    .parse()
                    .map_err(|_| format!("bad {} {}", pair[0], pair[1]))
            };
            match pair[0].as_str() {
                "--l2" => opts.l2 = value()?,
                "--learning-rate" => opts.learning_rate = value()?,
                "--iterations" => opts.iterations = value()? as usize,
                _ => {}
            }
        }
        let file = train::train(&pairs, &classes, &opts);
        let json = model_json(&file)?;
        std::fs::write(root.join("model.json"), &json).map_err(|e| e.to_string())?;
        println!(
            "wrote model.json: {} weighted features, {} KB ({})",
            file.weights.len(),
            json.len() / 1024,
            file.trained
        );
        Model::from_file(&file).ok_or("the new model does not load")?
    };

    let on = |set: &[&nlu::Example]| {
        nlu::evaluate(set.iter().copied(), |m| nlu::understand_with(&model, m))
    };
    let train_eval = on(&trained);
    let held_eval = on(&held);
    println!(
        "training split: tool {:.1}%, arguments {:.1}% of {}",
        100.0 * train_eval.tool_accuracy(),
        100.0 * train_eval.argument_accuracy(),
        train_eval.total
    );
    println!(
        "held-out split: tool {:.1}%, arguments {:.1}% of {}",
        100.0 * held_eval.tool_accuracy(),
        100.0 * held_eval.argument_accuracy(),
        held_eval.total
    );
    if std::env::args().any(|a| a == "--verbose") {
        for miss in &train_eval.misses {
            println!("  training miss: {miss}");
        }
    }
    for miss in &held_eval.misses {
        println!("  held-out miss: {miss}");
    }
    Ok(())
}

/// The model file with one weight row per line (small diffs, readable).
fn model_json(file: &nlu::model::ModelFile) -> Result<String, String> {
    let rows: Vec<String> = file.weights.iter().map(js).collect::<Result<_, _>>()?;
    Ok(format!(
        "{{\n\"buckets\": {},\n\"classes\": {},\n\"scale\": {},\n\"bias\": {},\n\"trained\": {},\n\"weights\": [\n{}\n]\n}}\n",
        file.buckets,
        js(&file.classes)?,
        file.scale,
        js(&file.bias)?,
        file.trained,
        rows.join(",\n")
    ))
}

fn js<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}
