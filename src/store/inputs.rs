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
        // A cached copy another process trims between the look and the link
        // is simply fetched again.
        if tokio::fs::metadata(&entry).await.is_ok() {
            // Marks it recently used.
            let _ = std::fs::File::options()
                .append(true)
                .open(&entry)
                .and_then(|f| f.set_modified(SystemTime::now()));
            if let Ok(file) = link_into(&entry, ext, work_dir) {
                return Ok(file);
            }
        }
        let part = tempfile::Builder::new()
            .suffix(".part")
            .tempfile_in(&self.dir)?
            .into_temp_path();
        fetch(part.to_path_buf()).await?;
        // The render's own link first, so trimming cannot take it away.
        let file = link_into(&part, ext, work_dir)?;
        // Atomic: readers see a whole copy or none.
        part.persist(&entry).map_err(|e| e.error)?;
        self.trim(&entry);
        Ok(file)
    }

    /// Removes least recently used copies until the cache fits its cap
    /// (`keep`, just added, stays), and downloads a crash left unfinished.
    fn trim(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let stale = SystemTime::now() - std::time::Duration::from_secs(3600);
        let entries: Vec<_> = entries
            .flatten()
            .filter(|e| {
                let part = e.path().extension().is_some_and(|x| x == "part");
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < stale);
                !(part && old && std::fs::remove_file(e.path()).is_ok())
            })
            .collect();
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .into_iter()
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

/// A hard link to `source` in `work_dir` (a copy across filesystems),
/// deleted when the result drops.
fn link_into(source: &Path, ext: &str, work_dir: &Path) -> std::io::Result<LocalFile> {
    let make = |link: bool| {
        tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .make_in(work_dir, |path| {
                if link {
                    std::fs::hard_link(source, path)
                } else {
                    std::fs::copy(source, path).map(|_| ())
                }
            })
    };
    let file = make(true).or_else(|_| make(false))?.into_temp_path();
    Ok(LocalFile {
        path: file.to_path_buf(),
        _temp: Some(file),
    })
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
