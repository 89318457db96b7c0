//! Sessions and assets: metadata rows in SQL (SQLite by default, Postgres by
//! configuration; one portable schema) and bytes in [`Blobs`].
//!
//! Writing is ordered so that a failure never leaves a listed asset without
//! bytes: the bytes are stored first under a fresh random key, the metadata
//! row (which gives the asset its name) is inserted last, and the bytes are
//! removed again if the row cannot be written.

mod blobs;
mod brands;
mod gc;
mod idempotency;
mod inputs;
mod jobs;
mod keys;
mod messages;
mod render_cache;
mod templates;
mod timelines;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::{GetResult, PutPayload};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use utoipa::ToSchema;

pub use blobs::Blobs;
pub use brands::{BrandScope, StoredBrand};
pub use gc::{Collected, DEFAULT_GRACE, MissingBytes};
pub use idempotency::{KeptAnswer, Reservation};
pub use inputs::InputCache;
pub use jobs::{
    BatchRecord, EndedJob, JobClaim, JobStatus, JobTable, JobToRun, JobView, NewBatch, NewJob,
};
pub use keys::{Access, KeyInfo, Principal};
pub use messages::Message;
pub use render_cache::file_sha256;
pub use templates::StoredTemplate;
pub use timelines::{KEPT_VERSIONS, SavedDocument, VersionInfo};
pub use webhooks::{AttemptLog, Delivery, DueDelivery, WebhookSettings};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, AssetName, SessionId};

/// A literal `SELECT` of every asset column, followed by `$rest`.
macro_rules! select_assets {
    ($rest:literal) => {
        concat!(
            "SELECT session_id, name, kind, mime_type, size_bytes, created_at, source, metadata, storage_key FROM assets ",
            $rest
        )
    };
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A session as listed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Session {
    #[schema(value_type = String, example = "3f2c0a9e1b7d4c55a0e6f1d2c3b4a596")]
    pub session_id: SessionId,
    pub created_at: DateTime<Utc>,
}

/// A session with the number of assets it holds, per type.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: Session,
    pub asset_count: i64,
    /// Number of assets per type (`image`, `audio`, `video`, `social`, `subtitles`).
    pub asset_counts: BTreeMap<String, i64>,
}

/// One stored asset. `asset_id` and `name` are the same: the name is the id
/// within its session.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Asset {
    #[schema(value_type = String, example = "image_1.png")]
    pub asset_id: AssetName,
    #[schema(value_type = String, example = "demo")]
    pub session_id: SessionId,
    #[serde(rename = "type")]
    pub kind: AssetKind,
    #[schema(value_type = String, example = "image_1.png")]
    pub name: AssetName,
    /// Where the bytes are served (supports HTTP Range requests).
    #[schema(example = "/api/v1/sessions/demo/assets/image_1.png/content")]
    pub url: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
    /// The tool that made it (`image`, `speech`, `social`, `compose`) or `upload`.
    pub source: String,
    /// Kind-specific facts: width/height, duration_seconds, prompt, text, voice_name, provider ...
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    #[serde(skip)]
    pub storage_key: String,
}

/// What a tool hands the store to make a new asset; the store picks the name.
#[derive(Clone, Debug)]
pub struct NewAsset {
    pub kind: AssetKind,
    /// File extension without the dot, e.g. `png`.
    pub ext: String,
    pub mime_type: String,
    pub source: String,
    pub metadata: serde_json::Value,
    /// The job whose work made it: an attempt run again removes what the
    /// earlier attempt made (see [`Store::delete_job_outputs`]).
    pub job: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Store {
    db: AnyPool,
    blobs: Blobs,
    listings: Listings,
    /// Copies of remote objects ffmpeg reads (none with local storage).
    inputs: Option<InputCache>,
}

/// Encoded asset listings by (session, type filter), each with the session's
/// stamp (created_at, assets_version) it was read at.
type Listings = Arc<Mutex<HashMap<(String, Option<AssetKind>), (String, i64, bytes::Bytes)>>>;

/// Makes a job's result from the assets it made.
pub type JobResult = dyn Fn(&[Asset]) -> serde_json::Value + Sync;

/// Listings kept at most; beyond, the cache starts over.
const MAX_LISTINGS: usize = 1024;

impl Store {
    /// Opens (and migrates) the configured database and storage.
    pub async fn open(config: &Config) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let blobs = Blobs::open(
            config.storage_url.as_deref(),
            &config.data_dir.join("assets"),
        )?;
        let remote = !blobs.is_local();
        let mut store = Self::open_with(&config.database_url(), blobs).await?;
        if remote && config.input_cache_bytes > 0 {
            store.inputs = Some(InputCache::new(
                config.data_dir.join("cache").join("inputs"),
                config.input_cache_bytes,
            ));
        }
        Ok(store)
    }

    pub async fn open_with(database_url: &str, blobs: Blobs) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let db = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 30000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(database_url)
            .await?;
        MIGRATOR.run(&db).await?;
        Ok(Self {
            db,
            blobs,
            listings: Listings::default(),
            inputs: None,
        })
    }

    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    pub fn db(&self) -> &AnyPool {
        &self.db
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    // ---- sessions -------------------------------------------------------

    pub async fn create_session(&self) -> Result<Session> {
        self.create_session_for(None).await
    }

    /// Creates a session owned by `owner` (a key id), the session and its
    /// owner written in one transaction: no moment exists in which another
    /// key could claim it.
    pub async fn create_session_for(&self, owner: Option<&str>) -> Result<Session> {
        let session = Session {
            session_id: SessionId::generate(),
            created_at: now(),
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("INSERT INTO sessions (id, created_at) VALUES ($1, $2)")
            .bind(session.session_id.as_str())
            .bind(timestamp(&session.created_at))
            .execute(&mut *tx)
            .await?;
        if let Some(owner) = owner {
            sqlx::query("INSERT INTO session_owners (session_id, owner) VALUES ($1, $2)")
                .bind(session.session_id.as_str())
                .bind(owner)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(session)
    }

    /// Creates the session if it does not exist yet (client-chosen ids).
    pub async fn ensure_session(&self, id: &SessionId) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(timestamp(&now()))
        .execute(&self.db)
        .await?;
        Ok(())
    }

    pub async fn session(&self, id: &SessionId) -> Result<Session> {
        let row = sqlx::query("SELECT id, created_at FROM sessions WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| Error::UnknownSession(id.to_string()))?;
        session_from_row(&row)
    }

    pub async fn session_detail(&self, id: &SessionId) -> Result<SessionDetail> {
        let session = self.session(id).await?;
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n FROM assets WHERE session_id = $1 GROUP BY kind",
        )
        .bind(id.as_str())
        .fetch_all(&self.db)
        .await?;
        let mut asset_counts: BTreeMap<String, i64> = AssetKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        for row in rows {
            asset_counts.insert(row.try_get("kind")?, row.try_get("n")?);
        }
        Ok(SessionDetail {
            session,
            asset_count: asset_counts.values().sum(),
            asset_counts,
        })
    }

    /// Sessions `who` may see (all for `None` or an admin key), newest
    /// first, and their total count.
    pub async fn list_sessions(
        &self,
        who: Option<&Principal>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Session>, i64)> {
        const ALL: (&str, &str) = (
            "SELECT id, created_at FROM sessions ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
            "SELECT COUNT(*) FROM sessions",
        );
        const UNOWNED: (&str, &str) = (
            "SELECT s.id, s.created_at FROM sessions s LEFT JOIN session_owners o ON o.session_id = s.id \
             WHERE o.owner IS NULL ORDER BY s.created_at DESC, s.id LIMIT $1 OFFSET $2",
            "SELECT COUNT(*) FROM sessions s LEFT JOIN session_owners o ON o.session_id = s.id WHERE o.owner IS NULL",
        );
        const OWNED: (&str, &str) = (
            "SELECT s.id, s.created_at FROM sessions s JOIN session_owners o ON o.session_id = s.id \
             WHERE o.owner = $3 ORDER BY s.created_at DESC, s.id LIMIT $1 OFFSET $2",
            "SELECT COUNT(*) FROM sessions s JOIN session_owners o ON o.session_id = s.id WHERE o.owner = $1",
        );
        let owner = who.filter(|p| !p.is_admin()).map(|p| p.key_id());
        let ((page, count), owner) = match owner {
            None => (ALL, None),
            Some(None) => (UNOWNED, None),
            Some(Some(id)) => (OWNED, Some(id.to_owned())),
        };
        let mut rows = sqlx::query(page).bind(limit).bind(offset);
        let mut total = sqlx::query_scalar(count);
        if let Some(owner) = owner {
            rows = rows.bind(owner.clone());
            total = total.bind(owner);
        }
        let rows = rows.fetch_all(&self.db).await?;
        let total: i64 = total.fetch_one(&self.db).await?;
        let sessions = rows.iter().map(session_from_row).collect::<Result<_>>()?;
        Ok((sessions, total))
    }

    /// Removes a session, its assets' rows, saved timelines and cached
    /// render pieces, and then their bytes.
    pub async fn delete_session(&self, id: &SessionId) -> Result<()> {
        self.session(id).await?;
        let mut keys: Vec<String> =
            sqlx::query_scalar("SELECT storage_key FROM assets WHERE session_id = $1")
                .bind(id.as_str())
                .fetch_all(&self.db)
                .await?;
        keys.extend(self.render_cache_keys(id).await?);
        let mut tx = self.db.begin().await?;
        for statement in [
            "DELETE FROM assets WHERE session_id = $1",
            "DELETE FROM name_counters WHERE session_id = $1",
            "DELETE FROM timelines WHERE session_id = $1",
            "DELETE FROM messages WHERE session_id = $1",
            "DELETE FROM render_cache WHERE session_id = $1",
            "DELETE FROM session_owners WHERE session_id = $1",
            "DELETE FROM brands WHERE scope = 'session:' || $1",
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE session_id = $1)",
            "DELETE FROM webhook_deliveries WHERE session_id = $1",
        ] {
            sqlx::query(statement)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        jobs::delete_of_session(&mut tx, id.as_str()).await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        for key in keys {
            if let Err(e) = self.blobs.delete(&key).await {
                tracing::warn!(%key, error = %e, "could not remove the bytes of a deleted asset");
            }
        }
        Ok(())
    }

    // ---- assets ---------------------------------------------------------

    /// When the session was made, if it exists now (`None`: not yet). Work
    /// that begins in a session reads it first and hands it to the write of
    /// what it makes ([`Store::put_asset`]): a session deleted meanwhile is
    /// then not made again by that write.
    pub async fn session_since(&self, id: &SessionId) -> Result<Option<DateTime<Utc>>> {
        match self.session(id).await {
            Ok(session) => Ok(Some(session.created_at)),
            Err(Error::UnknownSession(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores bytes as a new asset of the session (created on first use).
    /// `since`: the session as the work found it when it began (see
    /// [`Store::session_since`]); deleted meanwhile, nothing is kept and
    /// the answer is `UnknownSession`.
    pub async fn put_asset(
        &self,
        session: &SessionId,
        since: Option<DateTime<Utc>>,
        new: NewAsset,
        bytes: PutPayload,
    ) -> Result<Asset> {
        let key = Blobs::new_key(session, &new.ext);
        let size = bytes.content_length() as i64;
        self.blobs.put(&key, bytes).await?;
        let inserted = async {
            let mut tx = self.db.begin().await?;
            let asset = insert_asset_row_in(&mut tx, session, new, &key, size).await?;
            still_the_session(&mut tx, session, since).await?;
            tx.commit().await?;
            Ok(asset)
        };
        match inserted.await {
            Ok(asset) => Ok(asset),
            Err(e) => {
                let _ = self.blobs.delete(&key).await;
                Err(e)
            }
        }
    }

    /// Stores a finished local file (a render, a converted upload) as a new
    /// asset, `since` as for [`Store::put_asset`]. The file is moved, not
    /// copied, when storage is local.
    pub async fn put_asset_file(
        &self,
        session: &SessionId,
        since: Option<DateTime<Utc>>,
        new: NewAsset,
        file: &FsPath,
    ) -> Result<Asset> {
        let mut made = self
            .put_files(
                session,
                since,
                vec![(new, file.to_owned())],
                &|_, _| {},
                None,
            )
            .await?;
        made.pop()
            .ok_or_else(|| Error::Internal("no asset was stored".into()))
    }

    /// Stores finished local files as new assets of the session, all or
    /// none, in order; `link` may complete each one's metadata from those
    /// stored before it. With a job's claim, the same transaction records the job's
    /// success (its result made by `result` from the new assets), and
    /// nothing is kept if the claim no longer holds: outputs of a job become
    /// assets exactly once, however many attempts race.
    pub async fn put_asset_files(
        &self,
        session: &SessionId,
        files: Vec<(NewAsset, PathBuf)>,
        link: &(dyn Fn(&[Asset], &mut NewAsset) + Sync),
        job: Option<(&JobClaim, &JobResult)>,
    ) -> Result<Vec<Asset>> {
        self.put_files(session, None, files, link, job).await
    }

    /// As [`Self::put_asset_files`], for work that began in the session as
    /// `since` found it (its `created_at`): when the session was deleted
    /// meanwhile (and perhaps made again by someone else), nothing is kept
    /// and the answer is `UnknownSession`.
    pub async fn put_work_outputs(
        &self,
        session: &SessionId,
        since: DateTime<Utc>,
        files: Vec<(NewAsset, PathBuf)>,
        link: &(dyn Fn(&[Asset], &mut NewAsset) + Sync),
        job: Option<(&JobClaim, &JobResult)>,
    ) -> Result<Vec<Asset>> {
        self.put_files(session, Some(since), files, link, job).await
    }

    async fn put_files(
        &self,
        session: &SessionId,
        since: Option<DateTime<Utc>>,
        files: Vec<(NewAsset, PathBuf)>,
        link: &(dyn Fn(&[Asset], &mut NewAsset) + Sync),
        job: Option<(&JobClaim, &JobResult)>,
    ) -> Result<Vec<Asset>> {
        let mut stored: Vec<(NewAsset, String, i64)> = Vec::new();
        let uploaded = async {
            for (new, file) in files {
                let key = Blobs::new_key(session, &new.ext);
                let size = tokio::fs::metadata(&file).await?.len() as i64;
                self.blobs.put_file(&key, &file).await?;
                stored.push((new, key, size));
            }
            Ok::<_, Error>(())
        }
        .await;
        let keys: Vec<String> = stored.iter().map(|(_, k, _)| k.clone()).collect();
        let written = async {
            uploaded?;
            let mut tx = self.db.begin().await?;
            // Written first, so the transaction holds the session's write
            // lock before it reads: two renders finishing in one session at
            // once then wait for each other (a read-then-write transaction
            // would fail on SQLite with "database is locked" instead).
            sqlx::query("UPDATE sessions SET id = id WHERE id = $1")
                .bind(session.as_str())
                .execute(&mut *tx)
                .await?;
            still_the_session(&mut tx, session, since).await?;
            let mut assets = Vec::new();
            for (mut new, key, size) in stored {
                link(&assets, &mut new);
                assets.push(insert_asset_row_in(&mut tx, session, new, &key, size).await?);
            }
            if let Some((claim, result)) = job
                && !claim
                    .record(&mut *tx, JobStatus::Succeeded, Some(&result(&assets)), None)
                    .await?
            {
                return Err(Error::Conflict(
                    "another attempt of this job has finished it".into(),
                ));
            }
            tx.commit().await?;
            Ok(assets)
        }
        .await;
        if written.is_err() {
            for key in keys {
                let _ = self.blobs.delete(&key).await;
            }
        }
        written
    }

    /// Removes the assets an unfinished job's earlier attempts made (its
    /// worker died; the job runs again from the start). Gives how many.
    pub async fn delete_job_outputs(&self, job_id: &str) -> Result<usize> {
        let rows = sqlx::query("SELECT session_id, name FROM assets WHERE job_id = $1")
            .bind(job_id)
            .fetch_all(&self.db)
            .await?;
        for row in &rows {
            let session = SessionId::parse(&row.try_get::<String, _>("session_id")?)?;
            let name = AssetName::parse(&row.try_get::<String, _>("name")?)?;
            match self.delete_asset(&session, &name).await {
                // Deleted by its user meanwhile: gone either way.
                Ok(()) | Err(Error::UnknownAsset { .. } | Error::UnknownSession(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(rows.len())
    }

    /// The session's assets, oldest first, optionally of one type.
    pub async fn list_assets(
        &self,
        session: &SessionId,
        kind: Option<AssetKind>,
    ) -> Result<Vec<Asset>> {
        let rows = match kind {
            None => {
                sqlx::query(select_assets!(
                    "WHERE session_id = $1 ORDER BY created_at, kind, seq"
                ))
                .bind(session.as_str())
                .fetch_all(&self.db)
                .await?
            }
            Some(kind) => {
                sqlx::query(select_assets!(
                    "WHERE session_id = $1 AND kind = $2 ORDER BY created_at, seq"
                ))
                .bind(session.as_str())
                .bind(kind.as_str())
                .fetch_all(&self.db)
                .await?
            }
        };
        if rows.is_empty() {
            // An empty session, or none (404). Rows imply their session: they
            // are written and deleted with it, in one transaction.
            self.session(session).await?;
        }
        rows.iter().map(asset_from_row).collect()
    }

    pub async fn asset(&self, session: &SessionId, name: &AssetName) -> Result<Asset> {
        let row = sqlx::query(select_assets!("WHERE session_id = $1 AND name = $2"))
            .bind(session.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.db)
            .await?;
        match row {
            Some(row) => asset_from_row(&row),
            None => {
                self.session(session).await?;
                Err(Error::UnknownAsset {
                    session: session.to_string(),
                    name: name.to_string(),
                })
            }
        }
    }

    /// Sets keys of an asset's metadata (a transcript and its status, say)
    /// in one transaction and marks the session's assets as changed.
    pub async fn set_asset_metadata(
        &self,
        session: &SessionId,
        name: &AssetName,
        entries: &[(&str, serde_json::Value)],
    ) -> Result<Asset> {
        let mut tx = self.db.begin().await?;
        // Written first (a no-op) so the row is this transaction's before it
        // is read: concurrent writers wait instead of failing (see put_files).
        sqlx::query("UPDATE assets SET metadata = metadata WHERE session_id = $1 AND name = $2")
            .bind(session.as_str())
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        let raw: Option<String> =
            sqlx::query_scalar("SELECT metadata FROM assets WHERE session_id = $1 AND name = $2")
                .bind(session.as_str())
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let raw = raw.ok_or_else(|| Error::UnknownAsset {
            session: session.to_string(),
            name: name.to_string(),
        })?;
        let mut metadata: serde_json::Value =
            serde_json::from_str(&raw).unwrap_or_else(|_| serde_json::json!({}));
        if !metadata.is_object() {
            metadata = serde_json::json!({});
        }
        for (key, value) in entries {
            metadata[*key] = value.clone();
        }
        sqlx::query("UPDATE assets SET metadata = $1 WHERE session_id = $2 AND name = $3")
            .bind(metadata.to_string())
            .bind(session.as_str())
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        bump_assets_version(&mut tx, session).await?;
        tx.commit().await?;
        self.asset(session, name).await
    }

    pub async fn delete_asset(&self, session: &SessionId, name: &AssetName) -> Result<()> {
        let asset = self.asset(session, name).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM assets WHERE session_id = $1 AND name = $2")
            .bind(session.as_str())
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        bump_assets_version(&mut tx, session).await?;
        tx.commit().await?;
        self.blobs.delete(&asset.storage_key).await
    }

    /// [`list_assets`](Self::list_assets) as JSON, kept while the session's
    /// stamp is unchanged: a listing costs one small query, not a read and
    /// encoding of every row. Every asset write bumps the stamp in the same
    /// transaction, whichever process makes it, and the stamp is read before
    /// the rows, so a kept listing is never older than its stamp.
    pub async fn list_assets_json(
        &self,
        session: &SessionId,
        kind: Option<AssetKind>,
    ) -> Result<bytes::Bytes> {
        let row = sqlx::query("SELECT created_at, assets_version FROM sessions WHERE id = $1")
            .bind(session.as_str())
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| Error::UnknownSession(session.to_string()))?;
        let created: String = row.try_get("created_at")?;
        let version: i64 = row.try_get("assets_version")?;
        let key = (session.as_str().to_owned(), kind);
        if let Some((c, v, bytes)) = self.listings.lock().expect("listings lock").get(&key)
            && *c == created
            && *v == version
        {
            return Ok(bytes.clone());
        }
        let assets = self.list_assets(session, kind).await?;
        let bytes = bytes::Bytes::from(
            serde_json::to_vec(&assets).map_err(|e| Error::Internal(e.to_string()))?,
        );
        let mut listings = self.listings.lock().expect("listings lock");
        if listings.len() >= MAX_LISTINGS {
            listings.clear();
        }
        listings.insert(key, (created, version, bytes.clone()));
        Ok(bytes)
    }

    /// The asset's bytes, or a range of them, as a stream.
    pub async fn open_asset(&self, asset: &Asset, range: Option<Range<u64>>) -> Result<GetResult> {
        let got = self.blobs.get(&asset.storage_key, range).await;
        got.map_err(|e| bytes_missing(e, asset))
    }

    pub async fn read_asset(&self, asset: &Asset) -> Result<bytes::Bytes> {
        let read = self.blobs.read(&asset.storage_key).await;
        read.map_err(|e| bytes_missing(e, asset))
    }

    /// A path ffmpeg can read: the stored file itself on local storage, else a
    /// downloaded copy in `tmp_dir` (removed when the returned guard drops).
    pub async fn local_copy(&self, asset: &Asset, tmp_dir: &FsPath) -> Result<LocalFile> {
        let ext = asset.name.as_str().rsplit('.').next().unwrap_or("bin");
        let copy = self
            .local_copy_of_key(&asset.storage_key, ext, tmp_dir)
            .await
            .map_err(|e| bytes_missing(e, asset))?;
        if !tokio::fs::try_exists(&copy.path).await.unwrap_or(false) {
            return Err(Error::MissingBytes(asset.name.as_str().to_owned()));
        }
        Ok(copy)
    }

    async fn local_copy_of_key(&self, key: &str, ext: &str, tmp_dir: &FsPath) -> Result<LocalFile> {
        if let Some(path) = self.blobs.local_path(key) {
            return Ok(LocalFile { path, _temp: None });
        }
        if let Some(cache) = &self.inputs {
            return cache
                .get(key, ext, tmp_dir, |path| async move {
                    self.blobs.download_to(key, &path).await
                })
                .await;
        }
        tokio::fs::create_dir_all(tmp_dir).await?;
        let temp = tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .tempfile_in(tmp_dir)?;
        self.blobs.download_to(key, temp.path()).await?;
        Ok(LocalFile {
            path: temp.path().to_owned(),
            _temp: Some(temp.into_temp_path()),
        })
    }
}

/// "Not found" from storage, for an asset whose row exists: its bytes are
/// missing (a client's 404, not the server's 500).
fn bytes_missing(e: Error, asset: &Asset) -> Error {
    match &e {
        Error::Storage(object_store::Error::NotFound { .. }) => {
            Error::MissingBytes(asset.name.as_str().to_owned())
        }
        Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            Error::MissingBytes(asset.name.as_str().to_owned())
        }
        _ => e,
    }
}

/// A readable local path for an asset; a temporary copy is deleted on drop.
#[derive(Debug)]
pub struct LocalFile {
    pub path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl LocalFile {
    /// A file of its own in `tmp_dir` (a hard link) when this one is the
    /// stored file itself, so that a process evicting or deleting the stored
    /// file never pulls it from under its reader.
    fn pinned(self, tmp_dir: &FsPath) -> Result<Self> {
        if self._temp.is_some() {
            return Ok(self);
        }
        std::fs::create_dir_all(tmp_dir)?;
        let ext = self
            .path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("bin");
        match tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .make_in(tmp_dir, |path| std::fs::hard_link(&self.path, path))
        {
            Ok(link) => {
                let link = link.into_temp_path();
                Ok(Self {
                    path: link.to_path_buf(),
                    _temp: Some(link),
                })
            }
            // Another filesystem: read in place, as before.
            Err(_) => Ok(self),
        }
    }
}

/// Fails with `UnknownSession` unless the session is still the one `since`
/// found (made then), read inside `tx` (`None`: any session will do).
pub(super) async fn still_the_session(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: &SessionId,
    since: Option<DateTime<Utc>>,
) -> Result<()> {
    let Some(since) = since else {
        return Ok(());
    };
    let row = sqlx::query("SELECT id, created_at FROM sessions WHERE id = $1")
        .bind(session.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) if session_from_row(&row)?.created_at == since => Ok(()),
        _ => Err(Error::UnknownSession(session.to_string())),
    }
}

/// Inserts an asset row (and its session, on first use) in a transaction.
async fn insert_asset_row_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: &SessionId,
    new: NewAsset,
    key: &str,
    size: i64,
) -> Result<Asset> {
    let created_at = now();
    sqlx::query(
        "INSERT INTO sessions (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(session.as_str())
    .bind(timestamp(&created_at))
    .execute(&mut **tx)
    .await?;
    bump_assets_version(tx, session).await?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO name_counters (session_id, kind, last_seq) VALUES ($1, $2, 1) \
             ON CONFLICT (session_id, kind) DO UPDATE SET last_seq = name_counters.last_seq + 1 \
             RETURNING last_seq",
    )
    .bind(session.as_str())
    .bind(new.kind.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let name = AssetName::numbered(new.kind, seq, &new.ext);
    sqlx::query(
            "INSERT INTO assets (session_id, name, kind, seq, mime_type, size_bytes, created_at, source, metadata, storage_key, job_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(session.as_str())
        .bind(name.as_str())
        .bind(new.kind.as_str())
        .bind(seq)
        .bind(&new.mime_type)
        .bind(size)
        .bind(timestamp(&created_at))
        .bind(&new.source)
        .bind(new.metadata.to_string())
        .bind(key)
        .bind(new.job)
        .execute(&mut **tx)
        .await?;
    Ok(Asset {
        url: crate::links::asset_content(session.as_str(), name.as_str()),
        asset_id: name.clone(),
        session_id: session.clone(),
        kind: new.kind,
        name,
        mime_type: new.mime_type,
        size_bytes: size,
        created_at,
        source: new.source,
        metadata: new.metadata,
        storage_key: key.to_owned(),
    })
}

/// Marks a change to a session's assets (see [`Store::list_assets_json`]).
async fn bump_assets_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    session: &SessionId,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET assets_version = assets_version + 1 WHERE id = $1")
        .bind(session.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) fn now() -> DateTime<Utc> {
    // Microsecond precision: what is stored is exactly what is returned.
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Fixed-width RFC 3339, so text order is time order in every database.
pub(crate) fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_timestamp(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Internal(format!("bad timestamp {s:?} in the database: {e}")))
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        session_id: SessionId::parse(row.try_get("id")?)?,
        created_at: parse_timestamp(row.try_get("created_at")?)?,
    })
}

fn asset_from_row(row: &AnyRow) -> Result<Asset> {
    let session_id = SessionId::parse(row.try_get("session_id")?)?;
    let name = AssetName::parse(row.try_get("name")?)?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Asset {
        url: crate::links::asset_content(session_id.as_str(), name.as_str()),
        asset_id: name.clone(),
        kind: row.try_get::<String, _>("kind")?.parse()?,
        mime_type: row.try_get("mime_type")?,
        size_bytes: row.try_get("size_bytes")?,
        created_at: parse_timestamp(row.try_get("created_at")?)?,
        source: row.try_get("source")?,
        metadata: serde_json::from_str(&metadata)
            .map_err(|e| Error::Internal(format!("bad metadata in the database: {e}")))?,
        storage_key: row.try_get("storage_key")?,
        session_id,
        name,
    })
}

/// A store for unit tests: SQLite and local files under a temporary folder
/// (the files under `<folder>/assets`).
#[cfg(test)]
pub(crate) async fn local_test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let blobs = Blobs::open(None, &dir.path().join("assets")).unwrap();
    let store = Store::open_with(&url, blobs).await.unwrap();
    (dir, store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::open_with(&url, Blobs::memory()).await.unwrap();
        (dir, store)
    }

    fn image() -> NewAsset {
        NewAsset {
            kind: AssetKind::Image,
            ext: "png".into(),
            mime_type: "image/png".into(),
            source: "test".into(),
            metadata: json!({"width": 2}),
            job: None,
        }
    }

    #[tokio::test]
    async fn names_are_sequential_per_type_and_never_reused() {
        let (_dir, store) = store().await;
        let s = SessionId::parse("s").unwrap();
        let a = store
            .put_asset(&s, None, image(), PutPayload::from_static(b"a"))
            .await
            .unwrap();
        let b = store
            .put_asset(&s, None, image(), PutPayload::from_static(b"b"))
            .await
            .unwrap();
        assert_eq!(
            (a.name.as_str(), b.name.as_str()),
            ("image_1.png", "image_2.png")
        );
        store.delete_asset(&s, &b.name).await.unwrap();
        let c = store
            .put_asset(&s, None, image(), PutPayload::from_static(b"c"))
            .await
            .unwrap();
        assert_eq!(c.name.as_str(), "image_3.png");
        let listed = store.list_assets(&s, None).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].metadata, json!({"width": 2}));
        assert_eq!(store.read_asset(&listed[1]).await.unwrap().as_ref(), b"c");
        let detail = store.session_detail(&s).await.unwrap();
        assert_eq!(detail.asset_count, 2);
        assert_eq!(detail.asset_counts["image"], 2);
    }

    #[tokio::test]
    async fn a_kept_listing_follows_writes_of_other_processes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let here = Store::open_with(&url, Blobs::memory()).await.unwrap();
        // Another process: its own store (and cache) over the same database.
        let there = Store::open_with(&url, Blobs::memory()).await.unwrap();
        let s = SessionId::parse("kept").unwrap();
        let names = |json: &bytes::Bytes| -> Vec<String> {
            let v: Vec<serde_json::Value> = serde_json::from_slice(json).unwrap();
            v.iter()
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(matches!(
            here.list_assets_json(&s, None).await,
            Err(Error::UnknownSession(_))
        ));
        there
            .put_asset(&s, None, image(), PutPayload::from_static(b"a"))
            .await
            .unwrap();
        assert_eq!(
            names(&here.list_assets_json(&s, None).await.unwrap()),
            ["image_1.png"]
        );
        let b = there
            .put_asset(&s, None, image(), PutPayload::from_static(b"b"))
            .await
            .unwrap();
        assert_eq!(
            names(&here.list_assets_json(&s, None).await.unwrap()),
            ["image_1.png", "image_2.png"]
        );
        assert!(
            names(
                &here
                    .list_assets_json(&s, Some(AssetKind::Audio))
                    .await
                    .unwrap()
            )
            .is_empty()
        );
        there.delete_asset(&s, &b.name).await.unwrap();
        assert_eq!(
            names(&here.list_assets_json(&s, None).await.unwrap()),
            ["image_1.png"]
        );
        // A session deleted and made again under the same id starts afresh.
        there.delete_session(&s).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        there
            .put_asset(&s, None, image(), PutPayload::from_static(b"cc"))
            .await
            .unwrap();
        let listed: Vec<serde_json::Value> =
            serde_json::from_slice(&here.list_assets_json(&s, None).await.unwrap()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0]["size_bytes"], 2,
            "the new session's asset: {listed:?}"
        );
    }

    /// Work that began in a session deleted before it finished keeps
    /// nothing and does not make the session again (its asset, its
    /// conversation); in a session new at its start, it makes the session.
    #[tokio::test]
    async fn work_outlived_by_its_session_does_not_bring_it_back() {
        let (_dir, store) = store().await;
        let s = SessionId::parse("brief").unwrap();
        assert_eq!(store.session_since(&s).await.unwrap(), None);
        store
            .put_asset(&s, None, image(), PutPayload::from_static(b"a"))
            .await
            .unwrap();
        let since = store.session_since(&s).await.unwrap();
        assert!(since.is_some());
        store.delete_session(&s).await.unwrap();
        let err = store
            .put_asset(&s, since, image(), PutPayload::from_static(b"b"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownSession(_)), "{err}");
        let err = store
            .append_message((&s, since), "assistant", "done", None, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownSession(_)), "{err}");
        assert!(matches!(
            store.session(&s).await,
            Err(Error::UnknownSession(_))
        ));
        let keys: Vec<String> = sqlx::query_scalar("SELECT storage_key FROM assets")
            .fetch_all(store.db())
            .await
            .unwrap();
        assert!(keys.is_empty(), "{keys:?}");
        // Made again by someone else meanwhile: still not this work's.
        store
            .append_message((&s, None), "user", "hello", None, None)
            .await
            .unwrap();
        assert!(
            store
                .put_asset(&s, since, image(), PutPayload::from_static(b"c"))
                .await
                .is_err()
        );
        assert_eq!(store.messages(&s).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn deleting_a_session_removes_rows_and_bytes() {
        let (_dir, store) = store().await;
        let s = SessionId::parse("gone").unwrap();
        let a = store
            .put_asset(&s, None, image(), PutPayload::from_static(b"a"))
            .await
            .unwrap();
        store.delete_session(&s).await.unwrap();
        assert!(matches!(
            store.session(&s).await,
            Err(Error::UnknownSession(_))
        ));
        assert!(store.blobs().read(&a.storage_key).await.is_err());
        assert!(matches!(
            store.delete_session(&s).await,
            Err(Error::UnknownSession(_))
        ));
    }
}
