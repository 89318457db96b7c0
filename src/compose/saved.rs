//! The session's saved timeline: loaded, listed by version, and saved after
//! the same validation a compose does, so that what is saved can be
//! composed. An empty timeline may be saved (the editor's blank state).

use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::store::VersionInfo;

use super::Composer;
use super::timeline::SavedTimeline;

impl Composer {
    /// A saved version of the session's timeline (the newest with `None`).
    /// A session with nothing saved has version 0: an empty timeline.
    pub async fn saved_timeline(
        &self,
        session: &SessionId,
        version: Option<i64>,
    ) -> Result<SavedTimeline> {
        match self.store().timeline(session, version).await? {
            Some(saved) => {
                let mut timeline: SavedTimeline = serde_json::from_value(saved.document)
                    .map_err(|e| Error::Internal(format!("bad saved timeline: {e}")))?;
                timeline.version = Some(saved.version);
                timeline.updated_at = Some(saved.created_at);
                Ok(timeline)
            }
            None => match version {
                Some(v) if v != 0 => Err(Error::UnknownVersion(v)),
                _ => Ok(SavedTimeline {
                    version: Some(0),
                    ..Default::default()
                }),
            },
        }
    }

    /// The saved versions, newest first.
    pub async fn timeline_versions(&self, session: &SessionId) -> Result<Vec<VersionInfo>> {
        self.store().timeline_versions(session).await
    }

    /// Validates the timeline as a compose would and saves it as the next
    /// version; with `version` set, only if that is still the current one.
    pub async fn save_timeline(
        &self,
        session: &SessionId,
        update: &SavedTimeline,
    ) -> Result<SavedTimeline> {
        let assets = self.store().list_assets(session, None).await?;
        let req = update.to_request();
        if update.timeline.is_empty() {
            req.check_options(&assets)?;
        } else {
            req.plan(&assets, self.inner.settings.max_video_seconds)?;
        }
        let mut document = serde_json::to_value(SavedTimeline {
            version: None,
            updated_at: None,
            ..update.clone()
        })
        .map_err(|e| Error::Internal(format!("cannot encode the timeline: {e}")))?;
        if let Some(map) = document.as_object_mut() {
            map.remove("version");
            map.remove("updated_at");
        }
        let saved = self
            .store()
            .save_timeline(
                session,
                &document,
                update.timeline.len() as i64,
                update.version,
            )
            .await?;
        Ok(SavedTimeline {
            version: Some(saved.version),
            updated_at: Some(saved.created_at),
            ..update.clone()
        })
    }
}
