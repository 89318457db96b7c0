//! `Idempotency-Key`s: the first request with a key reserves it, its answer
//! is kept, and a retry of the same request gets that answer again instead
//! of the work being done twice, from any API process (the database holds
//! them).

use sqlx::Row;

use super::{Store, now};
use crate::error::Result;

/// How long a key's answer is kept.
pub const KEEP_SECONDS: i64 = 24 * 3600;
/// A reservation older than this belongs to a request that died with its
/// process; the key is free again.
const ABANDONED_SECONDS: i64 = 3 * 3600;

/// A kept answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptAnswer {
    pub fingerprint: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What reserving a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The key is this request's: do the work, then `keep_answer` or `release`.
    Reserved,
    /// A request with this key is still running.
    Running,
    /// A request with this key has answered.
    Answered(KeptAnswer),
}

impl Store {
    /// Reserves `key` for `owner`, or says what holds it.
    pub async fn reserve_idempotency_key(&self, owner: &str, key: &str) -> Result<Reservation> {
        let now = now().timestamp();
        for _ in 0..2 {
            let row = sqlx::query(
                "SELECT fingerprint, status, content_type, body, created_at FROM idempotency_keys \
                 WHERE owner = $1 AND idem_key = $2",
            )
            .bind(owner)
            .bind(key)
            .fetch_optional(self.db())
            .await?;
            if let Some(row) = row {
                let created: i64 = row.try_get("created_at")?;
                let status: Option<i64> = row.try_get("status")?;
                let stale = match status {
                    Some(_) => now - created > KEEP_SECONDS,
                    None => now - created > ABANDONED_SECONDS,
                };
                if !stale {
                    return Ok(match status {
                        None => Reservation::Running,
                        Some(status) => Reservation::Answered(KeptAnswer {
                            fingerprint: row
                                .try_get::<Option<String>, _>("fingerprint")?
                                .unwrap_or_default(),
                            status: u16::try_from(status).unwrap_or(500),
                            content_type: row.try_get("content_type")?,
                            body: row
                                .try_get::<Option<String>, _>("body")?
                                .unwrap_or_default(),
                        }),
                    });
                }
                sqlx::query(
                    "DELETE FROM idempotency_keys WHERE owner = $1 AND idem_key = $2 AND created_at = $3",
                )
                .bind(owner)
                .bind(key)
                .bind(created)
                .execute(self.db())
                .await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (owner, idem_key, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (owner, idem_key) DO NOTHING",
            )
            .bind(owner)
            .bind(key)
            .bind(now)
            .execute(self.db())
            .await?;
            if inserted.rows_affected() == 1 {
                // Answers past their time go as keys are used.
                sqlx::query("DELETE FROM idempotency_keys WHERE owner = $1 AND created_at < $2")
                    .bind(owner)
                    .bind(now - KEEP_SECONDS)
                    .execute(self.db())
                    .await?;
                return Ok(Reservation::Reserved);
            }
            // Another request reserved it in between: look again.
        }
        Ok(Reservation::Running)
    }

    /// Keeps the answer to the request that reserved `key`.
    pub async fn keep_idempotent_answer(
        &self,
        owner: &str,
        key: &str,
        answer: &KeptAnswer,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET fingerprint = $3, status = $4, content_type = $5, body = $6 \
             WHERE owner = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(owner)
        .bind(key)
        .bind(&answer.fingerprint)
        .bind(i64::from(answer.status))
        .bind(answer.content_type.as_deref())
        .bind(&answer.body)
        .execute(self.db())
        .await?;
        Ok(())
    }

    /// Frees a reserved key whose request did no lasting work (it failed
    /// before reading its body, or the server failed): a retry runs anew.
    pub async fn release_idempotency_key(&self, owner: &str, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE owner = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(owner)
        .bind(key)
        .execute(self.db())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_is_reserved_once_answered_then_replayed_and_released_keys_are_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::Config::with_data_dir(dir.path()))
            .await
            .unwrap();
        assert_eq!(
            store.reserve_idempotency_key("alice", "k1").await.unwrap(),
            Reservation::Reserved
        );
        assert_eq!(
            store.reserve_idempotency_key("alice", "k1").await.unwrap(),
            Reservation::Running
        );
        // Keys are per asker.
        assert_eq!(
            store.reserve_idempotency_key("bob", "k1").await.unwrap(),
            Reservation::Reserved
        );
        let answer = KeptAnswer {
            fingerprint: "f".into(),
            status: 202,
            content_type: Some("application/json".into()),
            body: "{\"job_id\":\"j\"}".into(),
        };
        store
            .keep_idempotent_answer("alice", "k1", &answer)
            .await
            .unwrap();
        assert_eq!(
            store.reserve_idempotency_key("alice", "k1").await.unwrap(),
            Reservation::Answered(answer.clone())
        );
        // Releasing never drops a kept answer.
        store.release_idempotency_key("alice", "k1").await.unwrap();
        assert_eq!(
            store.reserve_idempotency_key("alice", "k1").await.unwrap(),
            Reservation::Answered(answer)
        );
        store.release_idempotency_key("bob", "k1").await.unwrap();
        assert_eq!(
            store.reserve_idempotency_key("bob", "k1").await.unwrap(),
            Reservation::Reserved
        );
    }
}
