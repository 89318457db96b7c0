//! The trainer behind `cargo run --release --example train_intents`:
//! multinomial logistic regression (softmax regression) with L2
//! regularisation, fitted by full-batch Adam. Full batches in a fixed order
//! make training deterministic without a random seed. It is a few dozen
//! lines, so it lives here rather than pulling a numeric stack into the build.

use std::collections::HashMap;

use serde_json::json;

use super::features::{BUCKETS, features};
use super::model::{ModelFile, softmax};

/// Training settings.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub iterations: usize,
    pub learning_rate: f32,
    /// The L2 penalty on weights (not on biases).
    pub l2: f32,
    /// Weights are stored as integers times this.
    pub scale: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            iterations: 300,
            learning_rate: 0.05,
            l2: 5e-5,
            scale: 1e-3,
        }
    }
}

/// Fits a model to `(text, class)` pairs; classes outside `classes` are skipped.
pub fn train(examples: &[(&str, &str)], classes: &[String], opts: &TrainOptions) -> ModelFile {
    let c = classes.len();
    let class_of: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let data: Vec<(Vec<(u32, f32)>, usize)> = examples
        .iter()
        .filter_map(|(text, class)| Some((features(text), *class_of.get(class)?)))
        .collect();
    let mut buckets: Vec<u32> = data
        .iter()
        .flat_map(|(x, _)| x.iter().map(|(b, _)| *b))
        .collect();
    buckets.sort_unstable();
    buckets.dedup();
    let index: HashMap<u32, usize> = buckets.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let data: Vec<(Vec<(usize, f32)>, usize)> = data
        .into_iter()
        .map(|(x, y)| (x.into_iter().map(|(b, v)| (index[&b], v)).collect(), y))
        .collect();

    let f = buckets.len();
    let n = data.len().max(1) as f32;
    let mut w = vec![0f32; f * c];
    let mut b = vec![0f32; c];
    let (mut mw, mut vw) = (vec![0f32; f * c], vec![0f32; f * c]);
    let (mut mb, mut vb) = (vec![0f32; c], vec![0f32; c]);
    let (beta1, beta2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let mut loss = 0.0;
    for step in 1..=opts.iterations {
        let mut gw: Vec<f32> = w.iter().map(|x| opts.l2 * x).collect();
        let mut gb = vec![0f32; c];
        loss = 0.0;
        for (x, y) in &data {
            let mut p = b.clone();
            for &(i, v) in x {
                for (k, pk) in p.iter_mut().enumerate() {
                    *pk += v * w[i * c + k];
                }
            }
            softmax(&mut p);
            loss -= p[*y].max(1e-12).ln() / n;
            p[*y] -= 1.0;
            for &(i, v) in x {
                for (k, pk) in p.iter().enumerate() {
                    gw[i * c + k] += v * pk / n;
                }
            }
            for (g, pk) in gb.iter_mut().zip(&p) {
                *g += pk / n;
            }
        }
        let t = step as i32;
        let (c1, c2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
        let adam = |params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]| {
            for j in 0..params.len() {
                m[j] = beta1 * m[j] + (1.0 - beta1) * grads[j];
                v[j] = beta2 * v[j] + (1.0 - beta2) * grads[j] * grads[j];
                params[j] -= opts.learning_rate * (m[j] / c1) / ((v[j] / c2).sqrt() + eps);
            }
        };
        adam(&mut w, &gw, &mut mw, &mut vw);
        adam(&mut b, &gb, &mut mb, &mut vb);
    }

    let q = |x: f32| (x / opts.scale).round() as i32;
    let weights = buckets
        .iter()
        .enumerate()
        .filter_map(|(i, bucket)| {
            let row: Vec<i32> = w[i * c..(i + 1) * c].iter().map(|&x| q(x)).collect();
            row.iter()
                .any(|&x| x != 0)
                .then(|| std::iter::once(*bucket as i32).chain(row).collect())
        })
        .collect();
    ModelFile {
        buckets: BUCKETS,
        classes: classes.to_vec(),
        scale: opts.scale,
        bias: b.iter().map(|&x| q(x)).collect(),
        weights,
        trained: json!({
            "examples": data.len(),
            "features": f,
            "iterations": opts.iterations,
            "learning_rate": short(opts.learning_rate),
            "l2": short(opts.l2),
            "final_loss": short(loss),
        }),
    }
}

/// An `f32` as the short decimal it was written as (0.0001, not 0.000099999).
fn short(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::super::model::Model;
    use super::*;

    #[test]
    fn learns_a_small_problem_deterministically() {
        let classes = vec!["image".to_owned(), "voice".to_owned()];
        let examples = [
            ("draw a cat", "image"),
            ("paint a red boat", "image"),
            ("make a picture of a dog", "image"),
            ("say hello", "voice"),
            ("read this aloud: hi", "voice"),
            ("narrate the intro", "voice"),
        ];
        let opts = TrainOptions {
            iterations: 100,
            ..Default::default()
        };
        let file = train(&examples, &classes, &opts);
        let again = train(&examples, &classes, &opts);
        assert_eq!(
            serde_json::to_string(&file).unwrap(),
            serde_json::to_string(&again).unwrap()
        );
        let model = Model::from_file(&file).unwrap();
        assert_eq!(model.predict("draw a horse").0, "image");
        assert_eq!(model.predict("say goodbye").0, "voice");
        assert_eq!(model.predict("paint the sea").0, "image");
    }

    #[test]
    fn no_examples_give_an_empty_model() {
        let file = train(&[], &["a".to_owned()], &TrainOptions::default());
        assert!(file.weights.is_empty());
        assert!(Model::from_file(&file).is_some());
    }
}
