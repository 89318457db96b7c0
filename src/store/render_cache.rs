//! The render cache: finished pieces of earlier renders (scene segments,
//! soundtracks) kept as objects and indexed by a key that hashes everything
//! that decided their bytes. Each entry records its size and the SHA-256 of
//! its bytes, so a missing, truncated or damaged object is detected before
//! it is used, dropped, and made again. Entries belong to a session (they go
//! with it) and the least recently used are evicted beyond a size cap.

use std::collections::HashSet;
use std::path::Path as FsPath;

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Blobs, LocalFile, Store, now, timestamp};
use crate::error::Result;
use crate::ids::SessionId;

/// The SHA-256 of a file, as hex.
pub async fn file_sha256(path: &FsPath) -> Result<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || -> Result<String> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(|e| crate::error::Error::Internal(format!("hashing failed: {e}")))?
}

impl Store {
    /// A readable local copy of a cached piece, verified against its recorded
    /// size and hash; `None` (and the entry dropped) when it is missing or
    /// damaged. Marks the entry as used.
    pub async fn cached_piece(
        &self,
        session: &SessionId,
        cache_key: &str,
        tmp_dir: &FsPath,
    ) -> Result<Option<LocalFile>> {
        let row = sqlx::query(
            "SELECT storage_key, size_bytes, sha256 FROM render_cache WHERE session_id = $1 AND cache_key = $2",
        )
        .bind(session.as_str())
        .bind(cache_key)
        .fetch_optional(self.db())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let storage_key: String = row.try_get("storage_key")?;
        let size: i64 = row.try_get("size_bytes")?;
        let sha: String = row.try_get("sha256")?;
        let ext = storage_key.rsplit('.').next().unwrap_or("bin");
        // Pinned: another process may evict the piece while this render
        // still has to read it (at the join).
        let local = match self
            .local_copy_of_key(&storage_key, ext, tmp_dir)
            .await
            .and_then(|l| l.pinned(tmp_dir))
        {
            Ok(local) => Some(local),
            Err(e) => {
                tracing::warn!(%cache_key, error = %e, "a cached render piece is unreadable");
                None
            }
        };
        let intact = match &local {
            Some(local) => {
                let len = tokio::fs::metadata(&local.path).await.map(|m| m.len()).ok();
                len == Some(size as u64) && file_sha256(&local.path).await.ok() == Some(sha)
            }
            None => false,
        };
        if !intact {
            tracing::warn!(%cache_key, "a cached render piece is missing or damaged; it will be made again");
            self.drop_piece(session, cache_key, &storage_key).await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE render_cache SET last_used = $1 WHERE session_id = $2 AND cache_key = $3",
        )
        .bind(timestamp(&now()))
        .bind(session.as_str())
        .bind(cache_key)
        .execute(self.db())
        .await?;
        Ok(local)
    }

    /// Keeps a finished local file as a cached piece (moved into storage when
    /// storage is local) and returns a readable path to it.
    pub async fn cache_piece(
        &self,
        session: &SessionId,
        cache_key: &str,
        file: &FsPath,
        tmp_dir: &FsPath,
    ) -> Result<LocalFile> {
        let size = tokio::fs::metadata(file).await?.len() as i64;
        let sha = file_sha256(file).await?;
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or("bin");
        let storage_key = Blobs::new_cache_key(session, ext);
        self.blobs().put_file(&storage_key, file).await?;
        let t = timestamp(&now());
        let inserted = sqlx::query(
            "INSERT INTO render_cache (session_id, cache_key, storage_key, size_bytes, sha256, created_at, last_used) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (session_id, cache_key) DO NOTHING",
        )
        .bind(session.as_str())
        .bind(cache_key)
        .bind(&storage_key)
        .bind(size)
        .bind(&sha)
        .bind(&t)
        .execute(self.db())
        .await?
        .rows_affected();
        if inserted == 0 {
            // A concurrent render (in this process or another) cached the same
            // piece first. Its copy is as good and may already be in use
            // elsewhere, so it stays; this one goes.
            let winner: Option<String> = sqlx::query_scalar(
                "SELECT storage_key FROM render_cache WHERE session_id = $1 AND cache_key = $2",
            )
            .bind(session.as_str())
            .bind(cache_key)
            .fetch_optional(self.db())
            .await?;
            let copy = match winner {
                Some(winner) => self
                    .local_copy_of_key(&winner, ext, tmp_dir)
                    .await
                    .and_then(|c| c.pinned(tmp_dir)),
                None => Err(crate::error::Error::Internal("evicted meanwhile".into())),
            };
            if let Ok(copy) = copy {
                let _ = self.blobs().delete(&storage_key).await;
                return Ok(copy);
            }
            // The winner went meanwhile (evicted): this render reads its own
            // copy, which garbage collection removes in time.
        }
        self.local_copy_of_key(&storage_key, ext, tmp_dir)
            .await?
            .pinned(tmp_dir)
    }

    async fn drop_piece(
        &self,
        session: &SessionId,
        cache_key: &str,
        storage_key: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM render_cache WHERE session_id = $1 AND cache_key = $2")
            .bind(session.as_str())
            .bind(cache_key)
            .execute(self.db())
            .await?;
        self.blobs().delete(storage_key).await
    }

    /// Total bytes the render cache holds.
    pub async fn render_cache_bytes(&self) -> Result<i64> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(size_bytes) AS BIGINT) FROM render_cache")
                .fetch_one(self.db())
                .await?;
        Ok(total.unwrap_or(0))
    }

    /// Evicts the least recently used pieces until the cache holds at most
    /// `cap` bytes, sparing the `(session, cache_key)` pairs in `in_use`
    /// (renders are reading them). Returns how many were evicted.
    pub async fn evict_render_cache(
        &self,
        cap: u64,
        in_use: &HashSet<(String, String)>,
    ) -> Result<usize> {
        let mut total = self.render_cache_bytes().await?;
        if total <= cap as i64 {
            return Ok(0);
        }
        let rows = sqlx::query(
            "SELECT session_id, cache_key, storage_key, size_bytes FROM render_cache ORDER BY last_used, cache_key",
        )
        .fetch_all(self.db())
        .await?;
        let mut evicted = 0;
        for row in rows {
            if total <= cap as i64 {
                break;
            }
            let session: String = row.try_get("session_id")?;
            let cache_key: String = row.try_get("cache_key")?;
            if in_use.contains(&(session.clone(), cache_key.clone())) {
                continue;
            }
            let session = SessionId::parse(&session)?;
            let storage_key: String = row.try_get("storage_key")?;
            let size: i64 = row.try_get("size_bytes")?;
            self.drop_piece(&session, &cache_key, &storage_key).await?;
            total -= size;
            evicted += 1;
        }
        Ok(evicted)
    }

    /// The storage keys of a session's cached pieces (deleted with it).
    pub(super) async fn render_cache_keys(&self, session: &SessionId) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT storage_key FROM render_cache WHERE session_id = $1")
                .bind(session.as_str())
                .fetch_all(self.db())
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two renders (in two processes, say) make the same piece at once: the
    /// first copy stays, since its render may be reading it right now.
    #[tokio::test]
    async fn a_piece_cached_twice_keeps_the_copy_already_in_use() {
        let (dir, store) = super::super::local_test_store().await;
        let session = SessionId::parse("race").unwrap();
        store.ensure_session(&session).await.unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let (a, b) = (tmp.join("a.m4a"), tmp.join("b.m4a"));
        std::fs::write(&a, b"the same soundtrack").unwrap();
        std::fs::write(&b, b"the same soundtrack").unwrap();
        let key = || async {
            sqlx::query_scalar::<_, String>("SELECT storage_key FROM render_cache")
                .fetch_one(store.db())
                .await
                .unwrap()
        };
        let first = store
            .cache_piece(&session, "audio", &a, &tmp)
            .await
            .unwrap();
        let kept = key().await;
        let second = store
            .cache_piece(&session, "audio", &b, &tmp)
            .await
            .unwrap();
        assert_eq!(key().await, kept, "the first copy stays cached");
        assert!(dir.path().join("assets").join(&kept).exists());
        assert_eq!(
            std::fs::read(&first.path).unwrap(),
            std::fs::read(&second.path).unwrap()
        );
        let objects = std::fs::read_dir(dir.path().join("assets/cache/race"))
            .unwrap()
            .count();
        assert_eq!(objects, 1, "the losing copy is not kept");
        let cached = store.cached_piece(&session, "audio", &tmp).await.unwrap();
        assert!(cached.is_some());
    }

    /// Another process evicts a piece a render here has checked and will
    /// read at the join: the render's file stays readable.
    #[tokio::test]
    async fn eviction_never_pulls_a_piece_from_under_its_reader() {
        let (dir, store) = super::super::local_test_store().await;
        let session = SessionId::parse("pin").unwrap();
        store.ensure_session(&session).await.unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let file = tmp.join("made.mp4");
        std::fs::write(&file, b"a scene").unwrap();
        store
            .cache_piece(&session, "scene", &file, &tmp)
            .await
            .unwrap();
        let reading = store
            .cached_piece(&session, "scene", &tmp)
            .await
            .unwrap()
            .unwrap();
        // A process that knows nothing of this render trims the cache to 0.
        let evicted = store.evict_render_cache(0, &HashSet::new()).await.unwrap();
        assert_eq!(evicted, 1);
        assert!(
            store
                .cached_piece(&session, "scene", &tmp)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(std::fs::read(&reading.path).unwrap(), b"a scene");
        let path = reading.path.clone();
        drop(reading);
        assert!(!path.exists(), "the render's link goes with it");
    }
}
