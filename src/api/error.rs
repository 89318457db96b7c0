//! Every error leaves the API in one shape:
//! `{"error": {"code": "unknown_asset", "message": "...", "field": "prompt"?}}`.
//! The extractors here turn malformed requests into that shape too, so no
//! rejection of the framework reaches a client as plain text.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::Error;

/// The error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unknown_asset`, `invalid_request`.
    #[schema(example = "unknown_asset")]
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// For `invalid_request`: the field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::InvalidSessionId(_) | Error::InvalidAssetName(_) | Error::BadRequest(_) => {
            StatusCode::BAD_REQUEST
        }
        Error::UnknownSession(_)
        | Error::UnknownAsset { .. }
        | Error::UnknownJob(_)
        | Error::MissingBytes(_)
        | Error::UnknownVoice(_)
        | Error::UnknownVersion(_)
        | Error::UnknownTemplate(_)
        | Error::UnknownBatch(_) => StatusCode::NOT_FOUND,
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::SlowBody(_) => StatusCode::REQUEST_TIMEOUT,
        Error::Conflict(_) | Error::VersionConflict { .. } | Error::Cancelled => {
            StatusCode::CONFLICT
        }
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Provider { .. } => StatusCode::BAD_GATEWAY,
        Error::ProviderTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Database(_)
        | Error::Migration(_)
        | Error::Storage(_)
        | Error::Io(_)
        | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    field: Option<String>,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
            field,
        },
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Details (paths, SQL) go to the log, not to the client.
            tracing::error!(error = %self.0, "internal error");
            "internal error; see the server log".to_owned()
        } else {
            self.0.to_string()
        };
        let mut response = error_response(
            status,
            self.0.code(),
            message,
            self.0.field().map(str::to_owned),
        );
        let headers = response.headers_mut();
        match &self.0 {
            Error::TooMany { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, (*retry_after).into());
            }
            Error::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        response
    }
}

/// JSON body extractor: requires `Content-Type: application/json`, answers
/// 400 for malformed JSON and 422 (naming the field) for wrong values.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        if !is_json {
            return Err(ApiError(Error::UnsupportedMedia(
                "send the request body as JSON with the header Content-Type: application/json"
                    .into(),
            )));
        }
        // A body declared larger than any JSON body may be is refused unread.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > super::MAX_JSON_BYTES as u64) {
            return Err(ApiError(Error::TooLarge(format!(
                "JSON bodies are limited to {} bytes",
                super::MAX_JSON_BYTES
            ))));
        }
        let body = axum::body::Bytes::from_request(req, state).await.map_err(
            |e: BytesRejection| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError(Error::TooLarge(e.body_text())),
                _ => ApiError(body_error(&e, e.body_text())),
            },
        )?;
        parse_json(&body).map(ApiJson)
    }
}

/// The error for a body that could not be read: [`Error::SlowBody`] when
/// it stalled past [`super::BODY_READ_TIMEOUT`] (tower-http's body timeout,
/// somewhere in the error's chain of causes), else a bad request.
pub fn body_error(e: &(dyn std::error::Error + 'static), text: String) -> Error {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return Error::SlowBody(format!(
                "the request body stalled: nothing arrived for {} s",
                super::BODY_READ_TIMEOUT.as_secs()
            ));
        }
        cause = c.source();
    }
    Error::BadRequest(text)
}

/// Deserialises JSON with the path of a bad value, so errors can name the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Text with control characters (NUL and the like; line breaks and tabs
    // are fine) never reaches an engine, however the JSON spells them.
    if may_hold_control_characters(body)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(field) = control_character(&value, String::new())
    {
        return Err(ApiError(Error::invalid(
            if field.is_empty() {
                "body".to_owned()
            } else {
                field
            },
            "text must not contain control characters",
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(de) {
        Ok(parsed) => Ok(parsed),
        // JSON has one kind of number: 80.0 is the integer 80 (as JSON
        // Schema says), so whole numbers written with a fraction are read
        // again as integers.
        Err(e)
            if e.inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            let mut value: serde_json::Value =
                serde_json::from_slice(body).map_err(|_| json_error(e))?;
            whole_numbers(&mut value);
            serde_path_to_error::deserialize(value).map_err(json_error)
        }
        Err(e) => Err(json_error(e)),
    }
}

/// Whether a JSON body may hold a control character in a string: escaped
/// (`\u0000`), or written raw as DEL or a C1 character (U+0080–U+009F, in
/// UTF-8 `C2 80`–`C2 9F`), which JSON allows unescaped. (Raw C0 characters
/// are not valid JSON and fail to parse.)
fn may_hold_control_characters(body: &[u8]) -> bool {
    body.contains(&0x7f)
        || body
            .windows(2)
            .any(|w| w == b"\\u" || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])))
}

/// Whole floating-point numbers (`80.0`, `1e2`) as integers, everywhere.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = if f < 0.0 {
                    Value::from(f as i64)
                } else {
                    Value::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError(Error::BadRequest(format!("malformed JSON: {inner}")));
        }
        let path = e.path().to_string();
        let message = inner.to_string();
        let quoted = |prefix: &str| {
            message
                .split_once(prefix)
                .map(|(_, rest)| rest.split('`').next().unwrap_or_default().to_owned())
        };
        let field = if let Some(name) = quoted("missing field `") {
            name
        } else if let Some(name) = quoted("unknown field `") {
            // The path ends at the object that holds the unknown key (or
            // already names it): the field is the key itself.
            match path.as_str() {
                "." => name,
                p if p.ends_with(&name) => p.to_owned(),
                p => format!("{p}.{name}"),
            }
        } else if path != "." {
            path
        } else {
            "body".to_owned()
        };
        let message = strip_position(&message);
        ApiError(Error::invalid(field, message))
    }
}

/// The path of the first string holding a control character other than a
/// line break or a tab, if any.
fn control_character(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| {
        s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    };
    match value {
        Value::String(s) if bad(s) => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if bad(k) {
                return Some(here);
            }
            control_character(v, here)
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 17"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Path extractor whose rejections use the error shape.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError(Error::BadRequest(e.body_text())))
    }
}

/// Query extractor whose rejections use the error shape (422: a bad value).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError(Error::invalid("query", e.body_text())))
    }
}

/// `application/json` or `application/*+json`, with optional parameters.
fn is_json_media_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Req {
        prompt: String,
        width: Option<u32>,
    }

    #[test]
    fn control_characters_are_refused_with_their_field() {
        let e = parse_json::<serde_json::Value>(br#"{"text": "Hi\u0000there"}"#)
            .unwrap_err()
            .0;
        assert_eq!(e.field(), Some("text"));
        let e = parse_json::<serde_json::Value>(
            br#"{"timeline": [{"text": "a"}, {"text": "\u001b[31m"}]}"#,
        )
        .unwrap_err()
        .0;
        assert_eq!(e.field(), Some("timeline[1].text"));
        assert!(parse_json::<serde_json::Value>(br#"{"text": "line\nbreak\ttab \u00e9"}"#).is_ok());
    }

    #[test]
    fn whole_numbers_with_a_fraction_are_integers() {
        let r = parse_json::<Req>(br#"{"prompt": "x", "width": 80.0}"#).unwrap();
        assert_eq!(r.width, Some(80));
        let e = parse_json::<Req>(br#"{"prompt": "x", "width": 80.5}"#)
            .unwrap_err()
            .0;
        assert_eq!(e.field(), Some("width"));
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Req>(br#"{"width": 3}"#).unwrap_err().0;
        assert_eq!(e.field(), Some("prompt"));
        let e = parse_json::<Req>(br#"{"prompt": "x", "width": "wide"}"#)
            .unwrap_err()
            .0;
        assert_eq!(e.field(), Some("width"));
        let e = parse_json::<Req>(br#"{"prompt": "#).unwrap_err().0;
        assert_eq!(e.code(), "bad_request");
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        use crate::compose::ComposeRequest;
        let e = parse_json::<ComposeRequest>(br#"{"captoins": true}"#)
            .unwrap_err()
            .0;
        assert_eq!(e.field(), Some("captoins"));
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = parse_json::<ComposeRequest>(
            br#"{"timeline": [{"asset_id": "a.png"}, {"asset_id": "b.png", "duraton": 3}]}"#,
        )
        .unwrap_err()
        .0;
        assert_eq!(e.field(), Some("timeline[1].duraton"));
        let e = parse_json::<ComposeRequest>(br#"{"output": {"fsp": 30}}"#)
            .unwrap_err()
            .0;
        assert_eq!(e.field(), Some("output.fsp"));
    }
}
