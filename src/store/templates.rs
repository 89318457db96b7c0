//! Template rows: a compose body with placeholders and its fields, owned by
//! a key. `templates` knows what they mean.

use serde_json::Value;
use sqlx::Row;

use super::{Store, now, timestamp};
use crate::error::{Error, Result};

/// A template as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTemplate {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub description: Option<String>,
    pub body: Value,
    pub fields: Value,
    pub created_at: String,
    pub updated_at: String,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredTemplate> {
    let json = |column: &str| -> Result<Value> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| Error::Internal(format!("a stored template: {e}")))
    };
    Ok(StoredTemplate {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        body: json("body")?,
        fields: json("fields")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Stores a new template (`id` empty: a fresh one) or replaces one.
    pub async fn put_template(&self, t: &StoredTemplate) -> Result<StoredTemplate> {
        let stamp = timestamp(&now());
        let mut t = t.clone();
        if t.id.is_empty() {
            t.id = format!("tpl_{}", uuid::Uuid::new_v4().simple());
            t.created_at = stamp.clone();
        }
        t.updated_at = stamp;
        sqlx::query(
            "INSERT INTO templates (id, owner, name, description, body, fields, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
             body = excluded.body, fields = excluded.fields, updated_at = excluded.updated_at",
        )
        .bind(&t.id)
        .bind(&t.owner)
        .bind(&t.name)
        .bind(&t.description)
        .bind(t.body.to_string())
        .bind(t.fields.to_string())
        .bind(&t.created_at)
        .bind(&t.updated_at)
        .execute(self.db())
        .await?;
        Ok(t)
    }

    /// A template, if `owner` may see it (`None`: anyone's, for an admin).
    pub async fn template(&self, id: &str, owner: Option<&str>) -> Result<StoredTemplate> {
        let row = sqlx::query(
            "SELECT id, owner, name, description, body, fields, created_at, updated_at FROM templates WHERE id = $1",
        )
            .bind(id)
            .fetch_optional(self.db())
            .await?;
        match row.map(|r| from_row(&r)).transpose()? {
            Some(t) if owner.is_none_or(|o| o == t.owner) => Ok(t),
            _ => Err(Error::UnknownTemplate(id.to_owned())),
        }
    }

    /// The templates `owner` may see, newest first.
    pub async fn list_templates(&self, owner: Option<&str>) -> Result<Vec<StoredTemplate>> {
        let rows = match owner {
            Some(owner) => {
                sqlx::query(
                    "SELECT id, owner, name, description, body, fields, created_at, updated_at FROM templates WHERE owner = $1 ORDER BY created_at DESC, id",
                )
                .bind(owner)
                .fetch_all(self.db())
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT id, owner, name, description, body, fields, created_at, updated_at FROM templates ORDER BY created_at DESC, id",
                )
                .fetch_all(self.db())
                .await?
            }
        };
        rows.iter().map(from_row).collect()
    }

    pub async fn delete_template(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM templates WHERE id = $1")
            .bind(id)
            .execute(self.db())
            .await?;
        Ok(())
    }
}
