//! Generated timeline items: `{"generate": {"type": "audio", "text": …}}` or
//! `{"type": "image", "prompt": …}` in place of an `asset_id`, made with the
//! session's tools when a compose starts and stored as ordinary assets.
//! Each is known by a hash of its type and parameters
//! (`metadata.generated_key`): the same parameters again reuse the asset,
//! so a second render of the same request makes nothing new.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::compose::ComposeRequest;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::image::ImageParams;
use crate::tools::speech::SpeechParams;

/// What one `generate` asks for, its parameters checked.
enum Generate {
    Image(ImageParams),
    Audio(SpeechParams),
}

impl Generate {
    /// Parses item `i`'s `generate`; errors name its fields.
    fn parse(i: usize, spec: &Value) -> Result<Self> {
        let field = |name: &str| format!("timeline[{i}].generate{name}");
        let mut params = spec
            .as_object()
            .cloned()
            .ok_or_else(|| Error::invalid(field(""), "generate is an object with a type"))?;
        let kind = params.remove("type");
        let bad = |e: serde_json::Error| Error::invalid(field(""), format!("item {i}: {e}"));
        match kind.as_ref().and_then(Value::as_str) {
            Some("image") => Ok(Generate::Image(
                serde_json::from_value(Value::Object(params)).map_err(bad)?,
            )),
            Some("audio") => Ok(Generate::Audio(
                serde_json::from_value(Value::Object(params)).map_err(bad)?,
            )),
            _ => Err(Error::invalid(
                field(".type"),
                "generate's type is \"image\" or \"audio\"",
            )),
        }
    }

    fn kind(&self) -> AssetKind {
        match self {
            Generate::Image(_) => AssetKind::Image,
            Generate::Audio(_) => AssetKind::Audio,
        }
    }

    /// The hash that names what these parameters make.
    fn key(&self) -> String {
        let described = match self {
            Generate::Image(p) => json!({"image": p}),
            Generate::Audio(p) => json!({"audio": p}),
        };
        hex::encode(Sha256::digest(described.to_string().as_bytes()))
    }
}

/// The most generated items one compose makes (each may be a long
/// voice-over or a picture: work done before the render starts).
pub const MAX_GENERATED: usize = 50;

impl Studio {
    /// The request with every generated item made (or found again) and
    /// named by its asset. Parameters are all checked before anything is
    /// made. `job`: the job making them, if one does.
    pub async fn make_generated(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
        job: Option<&str>,
    ) -> Result<ComposeRequest> {
        let Some(items) = &req.timeline else {
            return Ok(req.clone());
        };
        let mut wanted = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(spec) = &item.generate {
                if !item.asset_id.is_empty() {
                    return Err(Error::invalid(
                        format!("timeline[{i}].generate"),
                        format!("item {i}: an item names an asset_id or generates one, not both"),
                    ));
                }
                let generate = Generate::parse(i, spec)?;
                self.check_generate(i, &generate)?;
                wanted.push((i, generate));
            }
        }
        if wanted.is_empty() {
            return Ok(req.clone());
        }
        if wanted.len() > MAX_GENERATED {
            return Err(Error::invalid(
                "timeline",
                format!("at most {MAX_GENERATED} generated items in one compose"),
            ));
        }
        let mut out = req.clone();
        let timeline = out.timeline.as_mut().expect("checked above");
        for (i, generate) in wanted {
            let asset = self.generated_asset(session, &generate, job).await?;
            timeline[i].asset_id = asset.name.to_string();
            timeline[i].generate = None;
        }
        Ok(out)
    }

    /// The tools' own checks, named by the item.
    fn check_generate(&self, i: usize, generate: &Generate) -> Result<()> {
        let checked = match generate {
            Generate::Image(p) => p.validate().map(drop),
            Generate::Audio(p) => self.speech_tool().check(p),
        };
        checked.map_err(|e| match e {
            Error::Invalid { field, message } => {
                Error::invalid(format!("timeline[{i}].generate.{field}"), message)
            }
            other => other,
        })
    }

    /// The asset these parameters made before, else a new one.
    async fn generated_asset(
        &self,
        session: &SessionId,
        generate: &Generate,
        job: Option<&str>,
    ) -> Result<Asset> {
        let key = generate.key();
        let made = match self
            .store()
            .list_assets(session, Some(generate.kind()))
            .await
        {
            Ok(assets) => assets,
            Err(Error::UnknownSession(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        if let Some(asset) = made
            .into_iter()
            .find(|a| a.metadata["generated_key"] == key.as_str())
        {
            return Ok(asset);
        }
        let asset = match generate {
            Generate::Image(p) => self.generate_image(session, p, job).await?,
            Generate::Audio(p) => self.synthesize_voiceover(session, p, job).await?,
        };
        self.store()
            .set_asset_metadata(session, &asset.name, &[("generated_key", json!(key))])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parameters_have_the_same_key_and_mistakes_are_named() {
        let a = Generate::parse(0, &json!({"type": "audio", "text": "Hi."})).unwrap();
        let b = Generate::parse(3, &json!({"text": "Hi.", "type": "audio"})).unwrap();
        let c = Generate::parse(0, &json!({"type": "audio", "text": "Hi!"})).unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        let field = |spec: Value| match Generate::parse(2, &spec) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{:?}", other.map(|g| g.key())),
        };
        assert_eq!(field(json!({"prompt": "x"})), "timeline[2].generate.type");
        assert_eq!(field(json!({"type": "video"})), "timeline[2].generate.type");
        assert_eq!(
            field(json!({"type": "image", "promt": "x"})),
            "timeline[2].generate"
        );
        assert_eq!(field(json!("a cat")), "timeline[2].generate");
    }
}
