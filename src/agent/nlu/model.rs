//! The trained intent model as data: one weight per (hashed feature, class)
//! plus a bias per class, stored as integers times a scale so the committed
//! JSON stays small. Inference is a sparse dot product and a softmax.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::features::{BUCKETS, features};

/// The model file's shape (`model.json`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ModelFile {
    /// The featuriser's space the model was trained in.
    pub buckets: u32,
    /// Class names, in the order of every weight row.
    pub classes: Vec<String>,
    /// A weight is `integer * scale`.
    pub scale: f32,
    pub bias: Vec<i32>,
    /// `[bucket, w_class0, w_class1, ...]` for every feature with a weight.
    pub weights: Vec<Vec<i32>>,
    /// How it was trained (for people; not read).
    #[serde(default)]
    pub trained: serde_json::Value,
}

/// A model ready to classify.
#[derive(Clone, Debug)]
pub struct Model {
    classes: Vec<String>,
    bias: Vec<f32>,
    rows: HashMap<u32, usize>,
    weights: Vec<f32>,
}

impl Model {
    /// Reads a model file; `None` when it is not one this featuriser can use.
    pub fn from_json(json: &str) -> Option<Self> {
        let file: ModelFile = serde_json::from_str(json).ok()?;
        Self::from_file(&file)
    }

    pub fn from_file(file: &ModelFile) -> Option<Self> {
        let c = file.classes.len();
        if file.buckets != BUCKETS || c == 0 || file.bias.len() != c {
            return None;
        }
        let mut rows = HashMap::with_capacity(file.weights.len());
        let mut weights = Vec::with_capacity(file.weights.len() * c);
        for row in &file.weights {
            let (&bucket, w) = row.split_first()?;
            if w.len() != c || bucket < 0 {
                return None;
            }
            rows.insert(bucket as u32, rows.len());
            weights.extend(w.iter().map(|&x| x as f32 * file.scale));
        }
        Some(Self {
            classes: file.classes.clone(),
            bias: file.bias.iter().map(|&x| x as f32 * file.scale).collect(),
            rows,
            weights,
        })
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Each class's probability for `text`, in [`Model::classes`] order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        let c = self.classes.len();
        let mut scores = self.bias.clone();
        for (bucket, value) in features(text) {
            if let Some(&row) = self.rows.get(&bucket) {
                let w = &self.weights[row * c..(row + 1) * c];
                for (s, wk) in scores.iter_mut().zip(w) {
                    *s += value * wk;
                }
            }
        }
        softmax(&mut scores);
        scores
    }

    /// The most likely class and its probability.
    pub fn predict(&self, text: &str) -> (&str, f32) {
        let p = self.probabilities(text);
        let (best, prob) =
            p.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &x)| if x > acc.1 { (i, x) } else { acc },
            );
        (self.classes[best].as_str(), prob)
    }
}

/// In place, stable for large scores.
pub fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    if sum > 0.0 {
        for s in scores.iter_mut() {
            *s /= sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_scores() {
        let mut s = [1000.0, 999.0, -1000.0];
        softmax(&mut s);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(s[0] > s[1] && s[1] > s[2]);
    }

    #[test]
    fn bad_model_files_are_refused() {
        assert!(Model::from_json("").is_none());
        assert!(Model::from_json("{}").is_none());
        let mut file = ModelFile {
            buckets: BUCKETS,
            classes: vec!["a".into(), "b".into()],
            scale: 0.001,
            bias: vec![0, 0],
            weights: vec![vec![5, 1]],
            ..Default::default()
        };
        assert!(Model::from_file(&file).is_none(), "a row one weight short");
        file.weights = vec![vec![5, 1000, -1000]];
        let model = Model::from_file(&file).unwrap();
        assert_eq!(model.probabilities("x").len(), 2);
    }
}
