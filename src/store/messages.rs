//! The conversation with the coordinator, kept per session.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Store, now, parse_timestamp, timestamp};
use crate::error::{Error, Result};
use crate::ids::SessionId;

/// One message of the conversation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Message {
    /// `user` or `assistant`.
    pub role: String,
    pub text: String,
    /// The tool the assistant called, if any.
    pub tool: Option<String>,
    /// What the tool made (an asset, a post, a job), if anything.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Appends a message to the session's conversation (the session is
    /// created on first use). `since`: the session as the exchange found it
    /// when it began ([`Store::session_since`]); deleted meanwhile, nothing
    /// is written (`UnknownSession`) and the session is not made again.
    pub async fn append_message(
        &self,
        (session, since): (&SessionId, Option<DateTime<Utc>>),
        role: &str,
        text: &str,
        tool: Option<&str>,
        result: Option<&serde_json::Value>,
    ) -> Result<()> {
        let body = serde_json::json!({"text": text, "tool": tool, "result": result});
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(session.as_str())
        .bind(timestamp(&now()))
        .execute(&mut *tx)
        .await?;
        super::still_the_session(&mut tx, session, since).await?;
        sqlx::query(
            "INSERT INTO messages (id, session_id, created_at, role, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(session.as_str())
        .bind(timestamp(&now()))
        .bind(role)
        .bind(body.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session's conversation, oldest first.
    pub async fn messages(&self, session: &SessionId) -> Result<Vec<Message>> {
        self.session(session).await?;
        let rows = sqlx::query(
            "SELECT created_at, role, body FROM messages WHERE session_id = $1 ORDER BY created_at, id",
        )
        .bind(session.as_str())
        .fetch_all(self.db())
        .await?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                let body: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|e| Error::Internal(format!("bad message in the database: {e}")))?;
                Ok(Message {
                    role: row.try_get("role")?,
                    text: body["text"].as_str().unwrap_or_default().to_owned(),
                    tool: body["tool"].as_str().map(str::to_owned),
                    result: Some(body["result"].clone()).filter(|r| !r.is_null()),
                    created_at: parse_timestamp(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }
}
