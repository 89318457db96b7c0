//! A job attempt's claim: the right to record the job's outcome. Jobs are
//! run by workers (see `jobs`); the store checks the claim in the same
//! transaction that writes a job's outputs, so outputs become assets once.

use serde_json::Value;

use crate::error::Result;

/// One attempt's right to finish job `job_id`.
#[derive(Clone, Debug)]
pub struct JobClaim {
    pub job_id: String,
    pub claim: String,
}

impl JobClaim {
    /// Records the job's final `status` with its result or error, if the job
    /// is still running under this claim; false when it is not (another
    /// attempt took it over, or it was already finished).
    pub async fn record<'c, E>(
        &self,
        db: E,
        status: &str,
        result: Option<&Value>,
        error: Option<&Value>,
    ) -> Result<bool>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let progress = if status == "succeeded" {
            "1"
        } else {
            "progress"
        };
        let sql = format!(
            "UPDATE jobs SET status = $1, progress = {progress}, step = NULL, result = $2, error = $3, updated_at = $4 \
             WHERE id = $5 AND claim = $6 AND status = 'running'"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(result.map(Value::to_string))
            .bind(error.map(Value::to_string))
            .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind(&self.job_id)
            .bind(&self.claim)
            .execute(db)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AssetKind, SessionId};
    use crate::store::NewAsset;

    /// Two attempts of one job race to finish it: only the one holding the
    /// claim lists its video; the other's upload is dropped.
    #[tokio::test]
    async fn outputs_become_assets_once_however_many_attempts_finish() {
        let (dir, store) = crate::store::local_test_store().await;
        let session = SessionId::parse("race").unwrap();
        sqlx::query("INSERT INTO jobs (id, session_id, kind, status, progress, created_at, updated_at, claim) VALUES ('j', 'race', 'compose', 'running', 0, 'now', 'now', 'second')")
            .execute(store.db())
            .await
            .unwrap();
        let video = || NewAsset {
            kind: AssetKind::Video,
            ext: "mp4".into(),
            mime_type: "video/mp4".into(),
            source: "compose".into(),
            metadata: serde_json::json!({}),
            job: None,
        };
        let file = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"a render").unwrap();
            path
        };
        let result = |assets: &[crate::store::Asset]| serde_json::json!(assets[0].name);
        let stale = JobClaim {
            job_id: "j".into(),
            claim: "first".into(),
        };
        let err = store
            .put_asset_files(
                &session,
                vec![(video(), file("a.mp4"))],
                &|_, _| {},
                Some((&stale, &result)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "conflict");
        let current = JobClaim {
            job_id: "j".into(),
            claim: "second".into(),
        };
        let made = store
            .put_asset_files(
                &session,
                vec![(video(), file("b.mp4"))],
                &|_, _| {},
                Some((&current, &result)),
            )
            .await
            .unwrap();
        // Finishing again (a late duplicate) is refused too.
        assert!(
            store
                .put_asset_files(
                    &session,
                    vec![(video(), file("c.mp4"))],
                    &|_, _| {},
                    Some((&current, &result))
                )
                .await
                .is_err()
        );
        let listed = store.list_assets(&session, None).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, made[0].name);
        let (status, result): (String, String) =
            sqlx::query_as("SELECT status, result FROM jobs WHERE id = 'j'")
                .fetch_one(store.db())
                .await
                .unwrap();
        assert_eq!(status, "succeeded");
        assert_eq!(result, format!("\"{}\"", made[0].name));
        let stored = std::fs::read_dir(dir.path().join("assets/sessions/race"))
            .unwrap()
            .count();
        assert_eq!(stored, 1, "the losing uploads are gone");
    }
}
