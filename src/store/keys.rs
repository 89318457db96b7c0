//! API keys and who owns which session. A key is 32 random bytes shown once
//! when it is made; the database keeps only its SHA-256 hash (the norm for
//! high-entropy random secrets: no salt or slow hash is needed).

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, now, timestamp};
use crate::error::{Error, Result};
use crate::ids::SessionId;

/// Every key starts with this, so a leaked one is easy to recognise.
const PREFIX: &str = "cs_";

/// A key as listed (never the key itself).
#[derive(Clone, Debug, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    pub admin: bool,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Who is asking: a key, or nobody (the open, local default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Key { id: String, admin: bool },
    Anonymous,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Key { admin: true, .. })
    }

    /// The key id sessions are recorded under, if any.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Principal::Key { id, .. } => Some(id),
            Principal::Anonymous => None,
        }
    }
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<KeyInfo> {
    Ok(KeyInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// What a session lookup found for an asker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The session is the asker's (or the asker is an admin).
    Allowed,
    /// The session does not exist yet (nobody has claimed it).
    Unclaimed,
    /// The session belongs to someone else: answer as if it did not exist.
    Hidden,
}

impl Store {
    /// Makes a key; returns it (to be shown once) and its listing.
    pub async fn create_key(&self, name: &str, admin: bool) -> Result<(String, KeyInfo)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "give the key a name of 1 to 100 printable characters",
            ));
        }
        // Names are how people revoke keys: they must not pass for an id or
        // be taken by a key in use.
        if name.starts_with("key_") {
            return Err(Error::invalid(
                "name",
                "names starting with key_ look like key ids; choose another",
            ));
        }
        if self
            .list_keys()
            .await?
            .iter()
            .any(|k| k.name == name && k.revoked_at.is_none())
        {
            return Err(Error::invalid(
                "name",
                format!("a key named {name:?} is in use; choose another name or revoke it first"),
            ));
        }
        let key = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
        );
        let info = KeyInfo {
            id: format!("key_{}", hex::encode(random_bytes::<6>()?)),
            name: name.to_owned(),
            admin,
            created_at: timestamp(&now()),
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, admin, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&info.id)
        .bind(&info.name)
        .bind(hash(&key))
        .bind(i64::from(admin))
        .bind(&info.created_at)
        .execute(self.db())
        .await?;
        Ok((key, info))
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, admin, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(self.db())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes a key by id or by name (a name must match one key only).
    pub async fn revoke_key(&self, id_or_name: &str) -> Result<KeyInfo> {
        let keys = self.list_keys().await?;
        // An id names one key; a name, the key in use by that name.
        let matches: Vec<KeyInfo> = match keys.iter().find(|k| k.id == id_or_name) {
            Some(key) => vec![key.clone()],
            None => {
                let named: Vec<KeyInfo> = keys
                    .iter()
                    .filter(|k| k.name == id_or_name)
                    .cloned()
                    .collect();
                let in_use: Vec<KeyInfo> = named
                    .iter()
                    .filter(|k| k.revoked_at.is_none())
                    .cloned()
                    .collect();
                if in_use.is_empty() { named } else { in_use }
            }
        };
        let key = match matches.as_slice() {
            [one] => one.clone(),
            [] => return Err(Error::invalid("key", format!("no key {id_or_name:?}"))),
            _ => {
                return Err(Error::invalid(
                    "key",
                    format!("several keys are named {id_or_name:?}: revoke one by its id"),
                ));
            }
        };
        let at = timestamp(&now());
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(&at)
            .bind(&key.id)
            .execute(self.db())
            .await?;
        Ok(KeyInfo {
            revoked_at: key.revoked_at.or(Some(at)),
            ..key
        })
    }

    /// Whether any key that is not revoked exists (then requests need one).
    pub async fn keys_in_use(&self) -> Result<bool> {
        let n: Option<String> =
            sqlx::query_scalar("SELECT id FROM api_keys WHERE revoked_at IS NULL LIMIT 1")
                .fetch_optional(self.db())
                .await?;
        Ok(n.is_some())
    }

    /// The asker a presented key stands for; unknown or revoked keys are refused.
    pub async fn authenticate(&self, key: &str) -> Result<Principal> {
        Ok(self.authenticate_for(key, None).await?.0)
    }

    /// [`authenticate`](Self::authenticate), and in the same query the owner
    /// of `session` (`None`: nobody owns it), which every session route needs
    /// next: one round trip to the database instead of two.
    pub async fn authenticate_for(
        &self,
        key: &str,
        session: Option<&SessionId>,
    ) -> Result<(Principal, Option<String>)> {
        let refused = || Error::Unauthorized("this API key is unknown or was revoked".into());
        if !key.starts_with(PREFIX) || key.len() > 200 {
            return Err(refused());
        }
        let row = sqlx::query(
            "SELECT id, admin, revoked_at, \
             (SELECT owner FROM session_owners WHERE session_id = $2) AS owner \
             FROM api_keys WHERE key_hash = $1",
        )
        .bind(hash(key))
        .bind(session.map(SessionId::as_str))
        .fetch_optional(self.db())
        .await?
        .ok_or_else(refused)?;
        if row.try_get::<Option<String>, _>("revoked_at")?.is_some() {
            return Err(refused());
        }
        let principal = Principal::Key {
            id: row.try_get("id")?,
            admin: row.try_get::<i64, _>("admin")? != 0,
        };
        Ok((principal, row.try_get("owner")?))
    }

    /// Whether `who` may use session `id`. With `claim`, a session nobody
    /// owns yet becomes `who`'s (first come, first served; race-safe).
    pub async fn session_access(
        &self,
        id: &SessionId,
        who: &Principal,
        claim: bool,
    ) -> Result<Access> {
        if who.is_admin() {
            return Ok(Access::Allowed);
        }
        let owner = self.session_owner(id).await?;
        self.session_access_with_owner(id, who, claim, owner).await
    }

    /// [`session_access`](Self::session_access) when the session's owner
    /// has been read already (by [`authenticate_for`](Self::authenticate_for)).
    pub async fn session_access_with_owner(
        &self,
        id: &SessionId,
        who: &Principal,
        claim: bool,
        owner: Option<String>,
    ) -> Result<Access> {
        if who.is_admin() {
            return Ok(Access::Allowed);
        }
        let exists = || async {
            Ok::<_, Error>(
                sqlx::query_scalar::<_, String>("SELECT id FROM sessions WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(self.db())
                    .await?
                    .is_some(),
            )
        };
        match (owner, who.key_id()) {
            (Some(owner), Some(me)) => Ok(if owner == me {
                Access::Allowed
            } else {
                Access::Hidden
            }),
            (Some(_), None) => Ok(Access::Hidden),
            (None, None) => Ok(Access::Allowed),
            (None, Some(me)) => {
                if exists().await? {
                    // Made without a key: not this key's.
                    return Ok(Access::Hidden);
                }
                if !claim {
                    return Ok(Access::Unclaimed);
                }
                self.claim_session(id, me).await?;
                Ok(match self.session_owner(id).await?.as_deref() {
                    Some(owner) if owner == me => Access::Allowed,
                    _ => Access::Hidden,
                })
            }
        }
    }

    pub(crate) async fn session_owner(&self, id: &SessionId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT owner FROM session_owners WHERE session_id = $1")
                .bind(id.as_str())
                .fetch_optional(self.db())
                .await?,
        )
    }

    /// Makes `key_id` the owner of session `id` unless someone owns it already.
    async fn claim_session(&self, id: &SessionId, key_id: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO session_owners (session_id, owner) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(key_id)
        .execute(self.db())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::open_with(&url, super::super::Blobs::memory())
            .await
            .unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_key_is_stored_as_a_hash_and_can_be_revoked() {
        let (_dir, store) = store().await;
        assert!(!store.keys_in_use().await.unwrap());
        let (key, info) = store.create_key("alice", false).await.unwrap();
        assert!(key.starts_with("cs_") && key.len() > 40);
        let hashes: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
            .fetch_all(store.db())
            .await
            .unwrap();
        assert_eq!(hashes, vec![hash(&key)]);
        assert!(!hashes[0].contains(&key[3..]));
        assert!(store.keys_in_use().await.unwrap());
        assert_eq!(
            store.authenticate(&key).await.unwrap(),
            Principal::Key {
                id: info.id.clone(),
                admin: false
            }
        );
        assert!(store.authenticate("cs_nope").await.is_err());
        store.revoke_key("alice").await.unwrap();
        assert!(matches!(
            store.authenticate(&key).await,
            Err(Error::Unauthorized(_))
        ));
        assert!(!store.keys_in_use().await.unwrap());
        assert!(store.create_key(" ", false).await.is_err());
        // Names cannot pass for ids, nor be taken twice while in use; an id
        // always names its key (a reviewer made one impossible to revoke).
        assert!(store.create_key("key_6adc2cf23f30", false).await.is_err());
        let (_, first) = store.create_key("carol", false).await.unwrap();
        assert!(store.create_key("carol", false).await.is_err());
        assert_eq!(store.revoke_key(&first.id).await.unwrap().id, first.id);
        let (_, second) = store.create_key("carol", false).await.unwrap();
        assert_eq!(
            store.revoke_key("carol").await.unwrap().id,
            second.id,
            "the name means the key in use"
        );
        assert_eq!(store.revoke_key(&info.id).await.unwrap().id, info.id);
    }

    #[tokio::test]
    async fn sessions_belong_to_the_first_key_that_uses_them() {
        let (_dir, store) = store().await;
        let (_, a) = store.create_key("a", false).await.unwrap();
        let (_, b) = store.create_key("b", false).await.unwrap();
        let a = Principal::Key {
            id: a.id,
            admin: false,
        };
        let b = Principal::Key {
            id: b.id,
            admin: false,
        };
        let admin = Principal::Key {
            id: "x".into(),
            admin: true,
        };
        let s = SessionId::parse("shared-name").unwrap();
        assert_eq!(
            store.session_access(&s, &b, false).await.unwrap(),
            Access::Unclaimed
        );
        assert_eq!(
            store.session_access(&s, &a, true).await.unwrap(),
            Access::Allowed
        );
        assert_eq!(
            store.session_access(&s, &b, true).await.unwrap(),
            Access::Hidden
        );
        assert_eq!(
            store
                .session_access(&s, &Principal::Anonymous, true)
                .await
                .unwrap(),
            Access::Hidden
        );
        assert_eq!(
            store.session_access(&s, &admin, false).await.unwrap(),
            Access::Allowed
        );
    }
}
