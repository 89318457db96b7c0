//! Brand kit rows: a session's own kit, and a key's default kit for the
//! sessions that have none. The store keeps the kit's JSON as given;
//! `compose::brand` knows what it means.

use serde_json::Value;
use sqlx::Row;

use super::{Store, now, timestamp};
use crate::error::{Error, Result};
use crate::ids::SessionId;

/// Whose kit.
#[derive(Clone, Copy, Debug)]
pub enum BrandScope<'a> {
    Session(&'a SessionId),
    /// A key's default (its id; empty on a server without keys).
    Owner(&'a str),
}

impl BrandScope<'_> {
    fn key(&self) -> String {
        match self {
            BrandScope::Session(id) => format!("session:{id}"),
            BrandScope::Owner(owner) => format!("owner:{owner}"),
        }
    }
}

/// A kit as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBrand {
    pub body: Value,
    pub updated_at: String,
}

impl Store {
    pub async fn brand(&self, scope: BrandScope<'_>) -> Result<Option<StoredBrand>> {
        let row = sqlx::query("SELECT body, updated_at FROM brands WHERE scope = $1")
            .bind(scope.key())
            .fetch_optional(self.db())
            .await?;
        row.map(|row| {
            let body: String = row.try_get("body")?;
            Ok(StoredBrand {
                body: serde_json::from_str(&body)
                    .map_err(|e| Error::Internal(format!("a stored brand kit: {e}")))?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Replaces the scope's kit.
    pub async fn set_brand(&self, scope: BrandScope<'_>, body: &Value) -> Result<StoredBrand> {
        let stored = StoredBrand {
            body: body.clone(),
            updated_at: timestamp(&now()),
        };
        sqlx::query(
            "INSERT INTO brands (scope, body, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (scope) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(scope.key())
        .bind(body.to_string())
        .bind(&stored.updated_at)
        .execute(self.db())
        .await?;
        Ok(stored)
    }

    pub async fn delete_brand(&self, scope: BrandScope<'_>) -> Result<()> {
        sqlx::query("DELETE FROM brands WHERE scope = $1")
            .bind(scope.key())
            .execute(self.db())
            .await?;
        Ok(())
    }

    /// The kit a session's renders use: its own, else its owner's default
    /// (the default of a server without keys for a session nobody owns).
    pub async fn effective_brand(
        &self,
        session: &SessionId,
    ) -> Result<Option<(StoredBrand, &'static str)>> {
        if let Some(own) = self.brand(BrandScope::Session(session)).await? {
            return Ok(Some((own, "session")));
        }
        let owner = self.session_owner(session).await?.unwrap_or_default();
        Ok(self
            .brand(BrandScope::Owner(&owner))
            .await?
            .map(|kit| (kit, "default")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_session_uses_its_own_kit_else_its_owners_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::Config::with_data_dir(dir.path()))
            .await
            .unwrap();
        let session = store.create_session().await.unwrap().session_id;
        assert_eq!(store.effective_brand(&session).await.unwrap(), None);
        store
            .set_brand(
                BrandScope::Owner(""),
                &json!({"colors": {"text": "#ffffff"}}),
            )
            .await
            .unwrap();
        let (kit, source) = store.effective_brand(&session).await.unwrap().unwrap();
        assert_eq!(
            (kit.body["colors"]["text"].as_str(), source),
            (Some("#ffffff"), "default")
        );
        store
            .set_brand(
                BrandScope::Session(&session),
                &json!({"logo": "image_1.png"}),
            )
            .await
            .unwrap();
        store
            .set_brand(
                BrandScope::Session(&session),
                &json!({"logo": "image_2.png"}),
            )
            .await
            .unwrap();
        let (kit, source) = store.effective_brand(&session).await.unwrap().unwrap();
        assert_eq!(
            (kit.body["logo"].as_str(), source),
            (Some("image_2.png"), "session")
        );
        store.delete_session(&session).await.unwrap();
        assert_eq!(
            store.brand(BrandScope::Session(&session)).await.unwrap(),
            None
        );
    }
}
