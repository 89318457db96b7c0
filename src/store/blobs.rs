//! Asset bytes, through the `object_store` crate: a folder on this machine by
//! default, S3- or GCS-compatible buckets by configuration, memory in tests.
//! Keys are built here only, from validated ids and random names.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{Error, Result};
use crate::ids::SessionId;

#[derive(Clone, Debug)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Set when the bytes live in a local folder: ffmpeg then reads them in place.
    local_root: Option<PathBuf>,
}

impl Blobs {
    /// Opens the configured storage; `None` means a folder `default_dir`.
    pub fn open(storage_url: Option<&str>, default_dir: &FsPath) -> Result<Self> {
        match storage_url {
            None => Self::local(default_dir),
            Some(raw) => {
                let url = url::Url::parse(raw).map_err(|e| {
                    Error::Internal(format!("STUDIO_STORAGE_URL {raw:?} is not a URL: {e}"))
                })?;
                if url.scheme() == "file" {
                    let dir = url.to_file_path().map_err(|_| {
                        Error::Internal(format!("STUDIO_STORAGE_URL {raw:?} is not a local path"))
                    })?;
                    return Self::local(&dir);
                }
                // Cloud credentials and options come from the environment
                // (AWS_ACCESS_KEY_ID, AWS_ENDPOINT, GOOGLE_SERVICE_ACCOUNT ...).
                let options = std::env::vars().filter_map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    (lower.starts_with("aws_") || lower.starts_with("google_"))
                        .then_some((lower, v))
                });
                let (store, prefix) = object_store::parse_url_opts(&url, options)?;
                Ok(Self {
                    store: Arc::from(store),
                    prefix,
                    local_root: None,
                })
            }
        }
    }

    fn local(dir: &FsPath) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(&root)?),
            prefix: Path::default(),
            local_root: Some(root),
        })
    }

    pub fn memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            prefix: Path::default(),
            local_root: None,
        }
    }

    /// A fresh key for a new object of a session: `sessions/<id>/<random>.<ext>`.
    pub fn new_key(session: &SessionId, ext: &str) -> String {
        format!("sessions/{session}/{}.{ext}", uuid::Uuid::new_v4().simple())
    }

    /// A fresh key for a cached render piece of a session: `cache/<id>/<random>.<ext>`.
    pub fn new_cache_key(session: &SessionId, ext: &str) -> String {
        format!("cache/{session}/{}.{ext}", uuid::Uuid::new_v4().simple())
    }

    fn path(&self, key: &str) -> Path {
        key.split('/')
            .fold(self.prefix.clone(), |path, part| path.join(part))
    }

    pub async fn put(&self, key: &str, payload: PutPayload) -> Result<()> {
        self.store.put(&self.path(key), payload).await?;
        Ok(())
    }

    /// Stores a finished local file. On the local backend it is moved into
    /// place (one rename, no copy); elsewhere it is uploaded.
    pub async fn put_file(&self, key: &str, file: &FsPath) -> Result<()> {
        if let Some(root) = &self.local_root {
            let target = root.join(key);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            if tokio::fs::rename(file, &target).await.is_ok() {
                return Ok(());
            }
        }
        // Streamed in parts (multipart upload on S3/GCS): a long video is
        // never held in memory whole.
        let mut source = tokio::fs::File::open(file).await?;
        let mut target = object_store::buffered::BufWriter::new(self.store.clone(), self.path(key));
        if let Err(e) = tokio::io::copy(&mut source, &mut target).await {
            let _ = target.abort().await;
            return Err(e.into());
        }
        tokio::io::AsyncWriteExt::shutdown(&mut target).await?;
        Ok(())
    }

    /// Writes an object into a local file, streamed chunk by chunk.
    pub async fn download_to(&self, key: &str, file: &FsPath) -> Result<()> {
        use futures::TryStreamExt;
        use tokio::io::AsyncWriteExt;
        let mut stream = self.get(key, None).await?.into_stream();
        let mut out = tokio::fs::File::create(file).await?;
        while let Some(chunk) = stream.try_next().await? {
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        Ok(())
    }

    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<GetResult> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        Ok(self.store.get_opts(&self.path(key), options).await?)
    }

    pub async fn read(&self, key: &str) -> Result<Bytes> {
        Ok(self.get(key, None).await?.bytes().await?)
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The object's path on this machine, when storage is a local folder.
    /// Every stored object, as `(key, meta)`, keys relative to the prefix.
    pub fn list(
        &self,
    ) -> impl futures::Stream<Item = Result<(String, object_store::ObjectMeta)>> + '_ {
        use futures::StreamExt;
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        self.store.list(prefix).map(move |meta| {
            let meta = meta?;
            let key = match meta.location.prefix_match(&self.prefix) {
                Some(parts) => parts
                    .map(|p| p.as_ref().to_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
                None => meta.location.to_string(),
            };
            Ok((key, meta))
        })
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.size(key).await?.is_some())
    }

    /// An object's size in bytes, or `None` when it does not exist.
    pub async fn size(&self, key: &str) -> Result<Option<u64>> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the bytes live in a folder on this machine.
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local_root.as_ref().map(|root| root.join(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_put_get_range_delete() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(None, dir.path()).unwrap();
        let session = SessionId::parse("s1").unwrap();
        let key = Blobs::new_key(&session, "txt");
        blobs
            .put(&key, PutPayload::from_static(b"hello world"))
            .await
            .unwrap();
        assert_eq!(blobs.read(&key).await.unwrap().as_ref(), b"hello world");
        let part = blobs
            .get(&key, Some(6..11))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(part.as_ref(), b"world");
        assert!(blobs.local_path(&key).unwrap().exists());
        blobs.delete(&key).await.unwrap();
        assert!(blobs.read(&key).await.is_err());
        blobs.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn put_file_moves_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(None, &dir.path().join("assets")).unwrap();
        let src = dir.path().join("render.tmp");
        std::fs::write(&src, b"video").unwrap();
        blobs.put_file("sessions/s/x.mp4", &src).await.unwrap();
        assert!(!src.exists());
        assert_eq!(
            blobs.read("sessions/s/x.mp4").await.unwrap().as_ref(),
            b"video"
        );
    }
}
