//! The library's one error type. Each variant says whose fault it is, so the
//! HTTP layer can map it to a status and a stable `code` without guessing.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error(
        "invalid session id {0:?}: session ids are 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"
    )]
    InvalidSessionId(String),

    #[error("invalid asset name {0:?}: asset names look like image_1.png")]
    InvalidAssetName(String),

    #[error("unknown session {0:?}")]
    UnknownSession(String),

    #[error("session {session:?} has no asset named {name:?}")]
    UnknownAsset { session: String, name: String },

    #[error("unknown job {0:?}")]
    UnknownJob(String),

    /// The asset's row is there but its stored bytes are not (lost outside
    /// the studio; `studio doctor --check-storage` lists such assets).
    #[error("the stored bytes of {0} are missing; delete the asset and upload or make it again")]
    MissingBytes(String),

    /// A voice named in a path that no engine has (404).
    #[error("{0}")]
    UnknownVoice(String),

    /// A field of the request has a value the operation cannot accept (422).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// The request is not well-formed (400).
    #[error("{0}")]
    BadRequest(String),

    #[error("unsupported media: {0}")]
    UnsupportedMedia(String),

    #[error("too large: {0}")]
    TooLarge(String),

    /// The client sent its body too slowly, or stopped sending it (408).
    #[error("{0}")]
    SlowBody(String),

    /// An external provider (an image, speech or text API) failed (502).
    #[error("provider {provider} failed: {message}")]
    Provider { provider: String, message: String },

    /// The provider did not answer in time (504).
    #[error("provider {provider} timed out: {message}")]
    ProviderTimeout { provider: String, message: String },

    /// Something this machine needs is missing (an ffmpeg or espeak-ng binary).
    #[error("unavailable: {0}")]
    Unavailable(String),

    #[error("conflict: {0}")]
    Conflict(String),

    /// A conditional save named a version that is no longer the current one (409).
    #[error(
        "the timeline is at version {current}, not {expected}: another edit was saved first; load it and apply your change again"
    )]
    VersionConflict { expected: i64, current: i64 },

    #[error("the session's timeline has no version {0}")]
    UnknownVersion(i64),

    #[error("unknown template {0:?}")]
    UnknownTemplate(String),

    #[error("unknown batch {0:?}")]
    UnknownBatch(String),

    #[error("cancelled")]
    Cancelled,

    /// No key, or a key that is unknown or revoked (401).
    #[error("{0}")]
    Unauthorized(String),

    /// A fair-use limit was reached; try again after `retry_after` seconds (429).
    #[error("{message}")]
    TooMany { message: String, retry_after: u64 },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("storage error: {0}")]
    Storage(#[from] object_store::Error),

    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A field-level validation failure (HTTP 422).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn provider(provider: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Provider {
            provider: provider.into(),
            message: message.into(),
        }
    }

    /// The stable machine-readable code clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidSessionId(_) => "invalid_session_id",
            Error::InvalidAssetName(_) => "invalid_asset_name",
            Error::UnknownSession(_) => "unknown_session",
            Error::UnknownAsset { .. } => "unknown_asset",
            Error::UnknownJob(_) => "unknown_job",
            Error::MissingBytes(_) => "asset_bytes_missing",
            Error::UnknownVoice(_) => "unknown_voice",
            Error::Invalid { .. } => "invalid_request",
            Error::BadRequest(_) => "bad_request",
            Error::UnsupportedMedia(_) => "unsupported_media_type",
            Error::TooLarge(_) => "payload_too_large",
            Error::SlowBody(_) => "request_timeout",
            Error::Provider { .. } => "provider_error",
            Error::ProviderTimeout { .. } => "provider_timeout",
            Error::Unavailable(_) => "unavailable",
            Error::Conflict(_) => "conflict",
            Error::VersionConflict { .. } => "version_conflict",
            Error::UnknownVersion(_) => "unknown_version",
            Error::UnknownTemplate(_) => "unknown_template",
            Error::UnknownBatch(_) => "unknown_batch",
            Error::Cancelled => "cancelled",
            Error::Unauthorized(_) => "unauthorized",
            Error::TooMany { .. } => "too_many_requests",
            Error::Database(_)
            | Error::Migration(_)
            | Error::Storage(_)
            | Error::Io(_)
            | Error::Internal(_) => "internal_error",
        }
    }

    /// A fair-use limit was reached: wait `retry_after` seconds.
    pub fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        Error::TooMany {
            message: message.into(),
            retry_after: retry_after.max(1),
        }
    }

    /// The field a validation error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
