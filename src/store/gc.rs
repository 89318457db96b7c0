//! Nothing left behind in storage: bytes no row refers to (a crash between
//! storing bytes and writing their row) are removed once they are older than
//! a grace period, and rows whose bytes are missing are reported.

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use super::Store;
use crate::error::Result;

/// What a collection found and removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Collected {
    pub objects_checked: usize,
    pub removed: usize,
    pub removed_bytes: u64,
}

/// An asset row whose bytes are not in storage, or not all of them.
#[derive(Clone, Debug, Serialize)]
pub struct MissingBytes {
    pub session_id: String,
    pub name: String,
    pub storage_key: String,
    /// The size the row records.
    pub expected_bytes: u64,
    /// What storage holds: `None` when nothing, else a size that differs
    /// (a truncated or replaced file).
    pub found_bytes: Option<u64>,
}

/// Objects younger than this may be on their way to getting a row.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

impl Store {
    async fn referenced_keys(&self) -> Result<HashSet<String>> {
        let mut keys: HashSet<String> = sqlx::query_scalar("SELECT storage_key FROM assets")
            .fetch_all(self.db())
            .await?
            .into_iter()
            .collect();
        keys.extend(
            sqlx::query_scalar::<_, String>("SELECT storage_key FROM render_cache")
                .fetch_all(self.db())
                .await?,
        );
        Ok(keys)
    }

    /// Removes stored objects that no asset or cache row refers to and that
    /// are older than `grace`.
    pub async fn collect_orphans(&self, grace: Duration) -> Result<Collected> {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::hours(1));
        // Objects first, rows second: a row written in between only keeps
        // more objects, never fewer.
        let objects: Vec<_> = self.blobs().list().try_collect().await?;
        let referenced = self.referenced_keys().await?;
        let mut collected = Collected {
            objects_checked: objects.len(),
            ..Default::default()
        };
        for (key, meta) in objects {
            if referenced.contains(&key) || meta.last_modified > cutoff {
                continue;
            }
            // Only what this studio writes: session bytes and cached pieces.
            if !(key.starts_with("sessions/") || key.starts_with("cache/")) {
                continue;
            }
            self.blobs().delete(&key).await?;
            tracing::info!(%key, bytes = meta.size, "removed stored bytes no asset refers to");
            collected.removed += 1;
            collected.removed_bytes += meta.size;
        }
        Ok(collected)
    }

    /// Asset rows whose bytes are missing from storage.
    pub async fn missing_bytes(&self) -> Result<Vec<MissingBytes>> {
        let rows = sqlx::query(
            "SELECT session_id, name, storage_key, size_bytes FROM assets ORDER BY session_id, name",
        )
        .fetch_all(self.db())
        .await?;
        let mut missing = Vec::new();
        for row in rows {
            let key: String = row.try_get("storage_key")?;
            let expected = u64::try_from(row.try_get::<i64, _>("size_bytes")?).unwrap_or(0);
            let found = self.blobs().size(&key).await?;
            if found != Some(expected) {
                missing.push(MissingBytes {
                    session_id: row.try_get("session_id")?,
                    name: row.try_get("name")?,
                    storage_key: key,
                    expected_bytes: expected,
                    found_bytes: found,
                });
            }
        }
        Ok(missing)
    }
}

#[cfg(test)]
mod tests {
    use object_store::PutPayload;

    use super::*;
    use crate::ids::{AssetKind, SessionId};
    use crate::store::{Blobs, NewAsset};

    #[tokio::test]
    async fn orphans_past_the_grace_period_go_and_missing_bytes_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::open_with(&url, Blobs::memory()).await.unwrap();
        let s = SessionId::parse("gc").unwrap();
        let new = || NewAsset {
            kind: AssetKind::Image,
            ext: "png".into(),
            mime_type: "image/png".into(),
            source: "upload".into(),
            metadata: serde_json::json!({}),
            job: None,
        };
        let kept = store
            .put_asset(&s, None, new(), PutPayload::from_static(b"kept"))
            .await
            .unwrap();
        let orphan = Blobs::new_key(&s, "png");
        store
            .blobs()
            .put(&orphan, PutPayload::from_static(b"orphan"))
            .await
            .unwrap();
        // Within the grace period nothing goes.
        let young = store.collect_orphans(DEFAULT_GRACE).await.unwrap();
        assert_eq!((young.objects_checked, young.removed), (2, 0));
        let swept = store.collect_orphans(Duration::ZERO).await.unwrap();
        assert_eq!((swept.removed, swept.removed_bytes), (1, 6));
        assert!(store.blobs().read(&orphan).await.is_err());
        assert_eq!(
            store
                .blobs()
                .read(&kept.storage_key)
                .await
                .unwrap()
                .as_ref(),
            b"kept"
        );

        assert!(store.missing_bytes().await.unwrap().is_empty());
        // Cut short behind the studio's back: damaged, reported.
        store
            .blobs()
            .put(&kept.storage_key, PutPayload::from_static(b"ke"))
            .await
            .unwrap();
        let damaged = store.missing_bytes().await.unwrap();
        assert_eq!(
            (
                damaged.len(),
                damaged[0].expected_bytes,
                damaged[0].found_bytes
            ),
            (1, 4, Some(2))
        );
        store.blobs().delete(&kept.storage_key).await.unwrap();
        let missing = store.missing_bytes().await.unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].name, kept.name.as_str());
        assert_eq!(missing[0].found_bytes, None);
    }
}
