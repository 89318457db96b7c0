//! The brand kit: a logo, a font and colours that a session's renders wear.
//! Titles, text overlays and captions take the kit's font and colours (the
//! karaoke word lit in its accent); its watermark — the logo — is drawn over
//! every render unless the compose says `"brand": false`. A kit is checked
//! here against the assets it names; [`Look`] is what a render needs of it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Composer;
use super::look::{FontData, Look, OverlayPosition, PRESETS, WatermarkPlacement, hex_colour};
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::{Asset, BrandScope, StoredBrand};

/// A brand kit, as `PUT .../brand` takes it and `GET` returns it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrandKit {
    /// A key's default kit only: the session that holds its logo and font.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// A picture of the session: the watermark's image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "image_2.png")]
    pub logo: Option<String>,
    /// An uploaded font (a `font` asset): titles, text overlays, captions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "font_1.ttf")]
    pub font: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colors: Option<BrandColors>,
    /// The logo drawn over every render (absent: no watermark).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
}

/// The kit's colours, `#rrggbb` each.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrandColors {
    /// Titles, text overlays and captions (default white).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "#ffffff")]
    pub text: Option<String>,
    /// A lower third's bar and the lit word of karaoke captions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "#ffcc00")]
    pub accent: Option<String>,
    /// The band behind lower thirds and labels (drawn at 85 %).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "#101020")]
    pub background: Option<String>,
}

/// Where and how the logo is drawn over every render.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Watermark {
    /// A preset (default `bottom_right`) or `{"x", "y"}`, as for overlays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<OverlayPosition>,
    /// A fraction of the frame's width (default 0.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// 0–1 (default 0.7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f64>,
    /// From the frame's edges, a fraction of its width (default 0.03).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
}

/// `#rrggbb` as bytes, or the field named.
pub fn rgb(field: &str, value: &str) -> Result<[u8; 3]> {
    let [r, g, b, _] =
        hex_colour(value, false).ok_or_else(|| Error::invalid(field, "a colour is #rrggbb"))?;
    Ok([r, g, b])
}

fn within(field: &str, value: Option<f64>, min: f64, max: f64) -> Result<()> {
    match value {
        Some(v) if !v.is_finite() || v < min || v > max => {
            Err(Error::invalid(field, format!("{v} is outside {min}–{max}")))
        }
        _ => Ok(()),
    }
}

impl BrandKit {
    /// Checks the kit against the assets of the session it names (`assets`).
    pub fn check(&self, assets: &[Asset]) -> Result<()> {
        let find = |field: &str, name: &str, kind: AssetKind, what: &str| -> Result<()> {
            match assets.iter().find(|a| a.name.as_str() == name) {
                Some(a) if a.kind == kind => Ok(()),
                Some(a) => Err(Error::invalid(
                    field,
                    format!("{name} is a {} asset; the {field} is {what}", a.kind),
                )),
                None => Err(Error::invalid(
                    field,
                    format!("the session has no asset named {name:?}"),
                )),
            }
        };
        if let Some(logo) = &self.logo {
            find("logo", logo, AssetKind::Image, "a picture")?;
        }
        if let Some(font) = &self.font {
            find(
                "font",
                font,
                AssetKind::Font,
                "an uploaded font (TTF or OTF)",
            )?;
        }
        if let Some(colors) = &self.colors {
            for (field, value) in [
                ("colors.text", &colors.text),
                ("colors.accent", &colors.accent),
                ("colors.background", &colors.background),
            ] {
                if let Some(v) = value {
                    rgb(field, v)?;
                }
            }
        }
        if let Some(w) = &self.watermark {
            if self.logo.is_none() {
                return Err(Error::invalid(
                    "watermark",
                    "a watermark draws the kit's logo: set logo too",
                ));
            }
            match &w.position {
                Some(OverlayPosition::Preset(p)) if !PRESETS.contains(&p.as_str()) => {
                    return Err(Error::invalid(
                        "watermark.position",
                        format!("unknown position {p:?}; use {}", PRESETS.join(", ")),
                    ));
                }
                Some(OverlayPosition::Point { x, y }) => {
                    within("watermark.position.x", Some(*x), -1.0, 1.0)?;
                    within("watermark.position.y", Some(*y), -1.0, 1.0)?;
                }
                _ => {}
            }
            within("watermark.width", w.width, 0.01, 1.0)?;
            within("watermark.opacity", w.opacity, 0.0, 1.0)?;
            within("watermark.margin", w.margin, 0.0, 0.5)?;
        }
        Ok(())
    }
}

impl Look {
    /// The kit's colours and font as a render's look; `logo` and `font`
    /// are the kit's assets, found (a kit's asset deleted since is left out).
    pub fn from_kit(kit: &BrandKit, logo: Option<Asset>, font: Option<Arc<FontData>>) -> Self {
        let colour = |c: Option<&String>| c.and_then(|c| rgb("", c).ok());
        let colors = kit.colors.clone().unwrap_or_default();
        let watermark = match (logo, &kit.watermark) {
            (Some(logo), Some(w)) => Some((
                logo,
                WatermarkPlacement {
                    position: w
                        .position
                        .clone()
                        .unwrap_or(OverlayPosition::Preset("bottom_right".into())),
                    width: w.width.unwrap_or(0.1),
                    opacity: w.opacity.unwrap_or(0.7),
                    margin: w.margin,
                },
            )),
            _ => None,
        };
        Look {
            font,
            text: colour(colors.text.as_ref()),
            accent: colour(colors.accent.as_ref()),
            background: colour(colors.background.as_ref()),
            watermark,
            fonts: HashMap::new(),
        }
    }
}

/// A kit as `GET .../brand` answers it: the kit's fields, and where it
/// comes from.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct BrandView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub logo: Option<String>,
    pub font: Option<String>,
    pub colors: Option<BrandColors>,
    pub watermark: Option<Watermark>,
    /// `session` (its own kit), `default` (the key's default kit, for a
    /// session without one) or `none`.
    #[schema(example = "session")]
    pub source: String,
    pub updated_at: Option<String>,
}

impl BrandView {
    fn of(stored: Option<(StoredBrand, &str)>) -> Result<Self> {
        let (kit, source, updated_at) = match stored {
            Some((stored, source)) => (
                serde_json::from_value::<BrandKit>(stored.body)
                    .map_err(|e| Error::Internal(format!("a stored brand kit: {e}")))?,
                source,
                Some(stored.updated_at),
            ),
            None => (BrandKit::default(), "none", None),
        };
        Ok(BrandView {
            session_id: kit.session_id,
            logo: kit.logo,
            font: kit.font,
            colors: kit.colors,
            watermark: kit.watermark,
            source: source.into(),
            updated_at,
        })
    }
}

impl Composer {
    /// The kit a session's renders wear: its own, else its owner's default.
    pub async fn brand(&self, session: &SessionId) -> Result<BrandView> {
        BrandView::of(self.store().effective_brand(session).await?)
    }

    /// Sets the session's own kit, checked against its assets.
    pub async fn set_brand(&self, session: &SessionId, kit: &BrandKit) -> Result<BrandView> {
        if kit.session_id.is_some() {
            return Err(Error::invalid(
                "session_id",
                "a session's kit names the session's own assets; session_id is for a key's default kit",
            ));
        }
        // A kit may be the first thing a client-named session gets.
        self.store().ensure_session(session).await?;
        kit.check(&self.store().list_assets(session, None).await?)?;
        let stored = self
            .store()
            .set_brand(BrandScope::Session(session), &to_json(kit)?)
            .await?;
        BrandView::of(Some((stored, "session")))
    }

    /// Removes the session's own kit (its owner's default applies again).
    pub async fn delete_brand(&self, session: &SessionId) -> Result<()> {
        self.store()
            .delete_brand(BrandScope::Session(session))
            .await
    }

    /// A key's default kit (`owner` empty: the server's, without keys).
    pub async fn default_brand(&self, owner: &str) -> Result<BrandView> {
        BrandView::of(
            self.store()
                .brand(BrandScope::Owner(owner))
                .await?
                .map(|kit| (kit, "default")),
        )
    }

    /// Sets a key's default kit; its logo and font are assets of
    /// `home`, the session its `session_id` names (which the caller has
    /// checked the key may use).
    pub async fn set_default_brand(
        &self,
        owner: &str,
        home: Option<&SessionId>,
        kit: &BrandKit,
    ) -> Result<BrandView> {
        let assets = match home {
            Some(home) => self.store().list_assets(home, None).await?,
            None if kit.logo.is_some() || kit.font.is_some() => {
                return Err(Error::invalid(
                    "session_id",
                    "a default kit's logo and font are assets of a session: name it in session_id",
                ));
            }
            None => Vec::new(),
        };
        kit.check(&assets)?;
        let stored = self
            .store()
            .set_brand(BrandScope::Owner(owner), &to_json(kit)?)
            .await?;
        BrandView::of(Some((stored, "default")))
    }

    pub async fn delete_default_brand(&self, owner: &str) -> Result<()> {
        self.store().delete_brand(BrandScope::Owner(owner)).await
    }
}

fn to_json(kit: &BrandKit) -> Result<Value> {
    serde_json::to_value(kit).map_err(|e| Error::Internal(format!("cannot encode a kit: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kit: Value, assets: &[Asset]) -> Option<String> {
        let kit: BrandKit = serde_json::from_value(kit).unwrap();
        match kit.check(assets) {
            Err(Error::Invalid { field, .. }) => Some(field),
            Err(other) => panic!("{other}"),
            Ok(()) => None,
        }
    }

    #[test]
    fn a_kit_names_the_field_that_is_wrong() {
        assert_eq!(field(json!({}), &[]), None);
        assert_eq!(
            field(json!({"logo": "image_1.png"}), &[]).as_deref(),
            Some("logo")
        );
        assert_eq!(
            field(json!({"colors": {"accent": "#ffcc0"}}), &[]).as_deref(),
            Some("colors.accent")
        );
        assert_eq!(
            field(json!({"colors": {"text": "#ggffff"}}), &[]).as_deref(),
            Some("colors.text")
        );
        assert_eq!(
            field(json!({"watermark": {}}), &[]).as_deref(),
            Some("watermark")
        );
    }

    #[test]
    fn colours_parse() {
        assert_eq!(rgb("c", "#ffcc00").unwrap(), [255, 204, 0]);
        assert!(rgb("c", "#ffcc00aa").is_err());
        assert!(rgb("c", "#ffé00").is_err());
    }
}
