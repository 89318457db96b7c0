//! A worker's local cache of inputs downloaded from remote storage (S3, GCS):
//! pictures, voice-overs and cached scene segments that ffmpeg reads from
//! disk. Stored objects never change (every write gets a new random key), so
//! a cached copy is valid for as long as it is kept. The cache is bounded:
//! after each download, least recently used copies go until it fits its cap.
//!
//! A render gets a hard link to the cached copy in its own working folder,
//! so evicting a copy never pulls a file from under a running ffmpeg.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::error::Result;

use super::LocalFile;

#[derive(Clone, Debug)]
pub struct InputCache {
    dir: PathBuf,
    cap_bytes: u64,
}

impl InputCache {
    pub fn new(dir: PathBuf, cap_bytes: u64) -> Self {
        Self { dir, cap_bytes }
    }

    fn entry(&self, key: &str, ext: &str) -> PathBuf {
        let name = hex::encode(&Sha256::digest(key.as_bytes())[..16]);
        self.dir.join(format!("{name}.{ext}"))
    }

    /// A readable copy of object `key` in `work_dir`: a link to the cached
    /// copy, made first with `fetch` (which writes the object to the path it
    /// is given) when it is not cached. The link goes when the result drops.
    pub async fn get<F, Fut>(
        &self,
        key: &str,
        ext: &str,
        work_dir: &Path,
        fetch: F,
    ) -> Result<LocalFile>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        tokio::fs::create_dir_all(&self.dir).await?;
        tokio::fs::create_dir_all(work_dir).await?;
        let entry = self.entry(key, ext);
        let hit = tokio::fs::metadata(&entry).await.is_ok();
        if hit {
            // Marks it recently used.
            let _ = std::fs::File::options()
                .append(true)
                .open(&entry)
                .and_then(|f| f.set_modified(SystemTime::now()));
        } else {
            let part = tempfile::Builder::new()
                .suffix(".part")
                .tempfile_in(&self.dir)?
                .into_temp_path();
            fetch(part.to_path_buf()).await?;
            // Atomic: readers see a whole copy or none.
            part.persist(&entry).map_err(|e| e.error)?;
        }
        let link = tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .make_in(work_dir, |path| std::fs::hard_link(&entry, path))
            .or_else(|_| {
                // Another filesystem: a copy instead of a link.
                tempfile::Builder::new()
                    .suffix(&format!(".{ext}"))
                    .make_in(work_dir, |path| std::fs::copy(&entry, path).map(|_| ()))
            })?
            .into_temp_path();
        if !hit {
            self.trim(&entry);
        }
        Ok(LocalFile {
            path: link.to_path_buf(),
            _temp: Some(link),
        })
    }

    /// Removes least recently used copies until the cache fits its cap
    /// (`keep`, just added, stays).
    fn trim(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let path = e.path();
                let whole = path.extension().is_some_and(|x| x != "part");
                let modified = meta.modified().ok()?;
                (meta.is_file() && whole).then_some((modified, meta.len(), path))
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.cap_bytes {
                break;
            }
            if path != keep && std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn put(
        cache: &InputCache,
        key: &str,
        bytes: &'static [u8],
        work: &Path,
    ) -> (LocalFile, bool) {
        let fetched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = fetched.clone();
        let file = cache
            .get(key, "bin", work, |path| async move {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                tokio::fs::write(path, bytes).await?;
                Ok(())
            })
            .await
            .unwrap();
        (file, fetched.load(std::sync::atomic::Ordering::SeqCst))
    }

    #[tokio::test]
    async fn copies_are_reused_and_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let cache = InputCache::new(dir.path().join("cache"), 25);
        let (a, fetched) = put(&cache, "sessions/s/a.bin", b"aaaaaaaaaa", &work).await;
        assert!(fetched);
        assert_eq!(std::fs::read(&a.path).unwrap(), b"aaaaaaaaaa");
        let (_, fetched) = put(&cache, "sessions/s/a.bin", b"never read", &work).await;
        assert!(!fetched, "a cached copy is not fetched again");
        std::thread::sleep(std::time::Duration::from_millis(20));
        put(&cache, "sessions/s/b.bin", b"bbbbbbbbbb", &work).await;
        std::thread::sleep(std::time::Duration::from_millis(20));
        // a is used again, so b is now the least recently used.
        put(&cache, "sessions/s/a.bin", b"never read", &work).await;
        std::thread::sleep(std::time::Duration::from_millis(20));
        put(&cache, "sessions/s/c.bin", b"cccccccccc", &work).await;
        let (_, b_fetched) = put(&cache, "sessions/s/b.bin", b"bbbbbbbbbb", &work).await;
        assert!(b_fetched, "b was evicted to keep the cap");
        // The link a render holds outlives the eviction of its copy.
        assert_eq!(std::fs::read(&a.path).unwrap(), b"aaaaaaaaaa");
        let cached: u64 = std::fs::read_dir(dir.path().join("cache"))
            .unwrap()
            .flatten()
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(cached <= 25, "{cached}");
        drop(a);
    }
}
