//! Saved timelines: a versioned JSON document per session. Every save is a
//! new row; the newest row is the session's timeline. The version number is
//! the row's primary key, so two concurrent saves can never both become the
//! same version: the loser of the race gets a conflict (a conditional save)
//! or tries again on top of the winner (an unconditional one).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Store, now, parse_timestamp, timestamp};
use crate::error::{Error, Result};
use crate::ids::SessionId;

/// How many versions are kept per session (older ones are pruned on save).
pub const KEPT_VERSIONS: i64 = 200;

/// One saved version of a session's timeline.
#[derive(Clone, Debug)]
pub struct SavedDocument {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub document: serde_json::Value,
}

/// A version as listed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VersionInfo {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    /// Number of items on the timeline.
    pub items: i64,
}

impl Store {
    /// The newest version number of the session's timeline (0: none saved).
    pub async fn timeline_version(&self, session: &SessionId) -> Result<i64> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM timelines WHERE session_id = $1")
                .bind(session.as_str())
                .fetch_one(self.db())
                .await?;
        Ok(v.unwrap_or(0))
    }

    /// A saved version (the newest when `version` is `None`); `None` when the
    /// session has nothing saved. The session must exist.
    pub async fn timeline(
        &self,
        session: &SessionId,
        version: Option<i64>,
    ) -> Result<Option<SavedDocument>> {
        self.session(session).await?;
        let row = match version {
            Some(v) => {
                sqlx::query(
                    "SELECT version, created_at, document FROM timelines WHERE session_id = $1 AND version = $2",
                )
                .bind(session.as_str())
                .bind(v)
                .fetch_optional(self.db())
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT version, created_at, document FROM timelines WHERE session_id = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(session.as_str())
                .fetch_optional(self.db())
                .await?
            }
        };
        row.map(|row| {
            let document: String = row.try_get("document")?;
            Ok(SavedDocument {
                version: row.try_get("version")?,
                created_at: parse_timestamp(row.try_get("created_at")?)?,
                document: serde_json::from_str(&document)
                    .map_err(|e| Error::Internal(format!("bad timeline in the database: {e}")))?,
            })
        })
        .transpose()
    }

    /// The saved versions, newest first.
    pub async fn timeline_versions(&self, session: &SessionId) -> Result<Vec<VersionInfo>> {
        self.session(session).await?;
        let rows = sqlx::query(
            "SELECT version, created_at, items FROM timelines WHERE session_id = $1 ORDER BY version DESC",
        )
        .bind(session.as_str())
        .fetch_all(self.db())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VersionInfo {
                    version: row.try_get("version")?,
                    created_at: parse_timestamp(row.try_get("created_at")?)?,
                    items: row.try_get("items")?,
                })
            })
            .collect()
    }

    /// Saves `document` as the next version. With `expected`, only when the
    /// current version is `expected` (else [`Error::VersionConflict`]).
    /// The session must exist.
    pub async fn save_timeline(
        &self,
        session: &SessionId,
        document: &serde_json::Value,
        items: i64,
        expected: Option<i64>,
    ) -> Result<SavedDocument> {
        self.session(session).await?;
        loop {
            let current = self.timeline_version(session).await?;
            if let Some(expected) = expected.filter(|e| *e != current) {
                return Err(Error::VersionConflict { expected, current });
            }
            let created_at = now();
            let inserted = sqlx::query(
                "INSERT INTO timelines (session_id, version, created_at, items, document) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (session_id, version) DO NOTHING",
            )
            .bind(session.as_str())
            .bind(current + 1)
            .bind(timestamp(&created_at))
            .bind(items)
            .bind(document.to_string())
            .execute(self.db())
            .await?
            .rows_affected();
            if inserted == 0 {
                // Another save took this version number first.
                continue;
            }
            sqlx::query("DELETE FROM timelines WHERE session_id = $1 AND version <= $2")
                .bind(session.as_str())
                .bind(current + 1 - KEPT_VERSIONS)
                .execute(self.db())
                .await?;
            return Ok(SavedDocument {
                version: current + 1,
                created_at,
                document: document.clone(),
            });
        }
    }
}
