//! `/api/v1/sessions/{id}/assets`: list, show, delete assets and serve their
//! bytes (ETag, conditional GET and single-range requests for seeking).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiPath, ApiQuery, ErrorBody};
use crate::ids::{AssetKind, AssetName};
use crate::store::Asset;
use crate::studio::Studio;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Only assets of this type: image, audio, video, social, subtitles.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<AssetKind>)]
    kind: Option<String>,
}

/// The asset named in the path (the session comes with [`AuthorizedSession`]).
#[derive(Deserialize)]
pub struct AssetPath {
    name: String,
}

impl AssetPath {
    pub fn name(&self) -> Result<AssetName, ApiError> {
        Ok(AssetName::parse(&self.name)?)
    }
}

/// List a session's assets, oldest first.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/assets", tag = "assets", operation_id = "listAssets",
    params(("session_id" = String, Path), Filter),
    responses((status = 200, body = [Asset], description = "The session's assets, oldest first"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiQuery(filter): ApiQuery<Filter>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let session = session.id();
    let kind = filter
        .kind
        .as_deref()
        .map(str::parse::<AssetKind>)
        .transpose()?;
    let listing = studio.store().list_assets_json(session, kind).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        listing,
    )
        .into_response())
}

/// Show one asset's metadata.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/assets/{name}", tag = "assets", operation_id = "getAsset",
    params(("session_id" = String, Path), ("name" = String, Path, example = "image_1.png")),
    responses((status = 200, body = Asset, description = "The asset: type, name, url, metadata"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(path): ApiPath<AssetPath>,
) -> Result<Json<Asset>, ApiError> {
    let (session, name) = (session.id(), path.name()?);
    Ok(Json(studio.store().asset(session, &name).await?))
}

/// Delete one asset.
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}/assets/{name}", tag = "assets", operation_id = "deleteAsset",
    params(("session_id" = String, Path), ("name" = String, Path)),
    responses((status = 204, description = "The asset and its file are gone"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(path): ApiPath<AssetPath>,
) -> Result<StatusCode, ApiError> {
    let (session, name) = (session.id(), path.name()?);
    studio.store().delete_asset(session, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The asset's bytes. Supports `Range: bytes=...` (one range), `ETag` and
/// `If-None-Match`.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/assets/{name}/content", tag = "assets", operation_id = "getAssetContent",
    params(("session_id" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "The bytes"), (status = 206, description = "A range of the bytes"),
        (status = 304, description = "Not modified since the copy the client holds (If-None-Match)"), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn content(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(path): ApiPath<AssetPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (session, name) = (session.id(), path.name()?);
    let asset = studio.store().asset(session, &name).await?;
    let len = asset.size_bytes as u64;
    let etag = etag_of(&asset);
    let mut common = validator_headers(&etag);
    if not_modified(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    common.insert(header::CONTENT_TYPE, header_value(&asset.mime_type));
    common.insert(
        header::CONTENT_DISPOSITION,
        header_value(&format!("inline; filename=\"{}\"", asset.name)),
    );
    let range = match range_to_send(&headers, &etag, len) {
        RangeRequest::None => None,
        RangeRequest::Single(start, end) => Some((start, end)),
        RangeRequest::Unsatisfiable => return Ok(unsatisfiable(len)),
    };
    let (status, body_range) = match range {
        Some((start, end)) => {
            common.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {start}-{end}/{len}")),
            );
            (StatusCode::PARTIAL_CONTENT, Some(start..end + 1))
        }
        None => (StatusCode::OK, None),
    };
    let size = body_range.as_ref().map_or(len, |r| r.end - r.start);
    common.insert(header::CONTENT_LENGTH, header_value(&size.to_string()));
    let result = studio.store().open_asset(&asset, body_range).await?;
    let stream = result.into_stream().map_err(std::io::Error::other);
    Ok((status, common, Body::from_stream(stream)).into_response())
}

/// The asset's ETag. The storage key is random and never rewritten: a
/// strong validator.
fn etag_of(asset: &Asset) -> String {
    format!(
        "\"{}\"",
        asset.storage_key.rsplit('/').next().unwrap_or_default()
    )
}

/// The headers every answer about the content carries: its ETag, that it
/// takes ranges, and how long it may be cached.
fn validator_headers(etag: &str) -> HeaderMap {
    let mut common = HeaderMap::new();
    common.insert(header::ETAG, header_value(etag));
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    common
}

/// Whether the client holds this copy already: If-None-Match compares
/// weakly (RFC 9110 §13.1.2): W/"x" matches "x".
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| {
            inm.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        })
}

/// The range asked for, if any, and if the representation is still the
/// one the client has (If-Range, a strong match); else the whole content
/// (RFC 9110 §13.1.5).
fn range_to_send(headers: &HeaderMap, etag: &str, len: u64) -> RangeRequest {
    let current = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    match requested_range(headers, len) {
        _ if !current => RangeRequest::None,
        asked => asked,
    }
}

/// The 416 for a range outside the asset's `len` bytes.
fn unsatisfiable(len: u64) -> Response {
    let mut resp = super::error::error_response(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
        format!("the requested range is outside the asset's {len} bytes"),
        None,
    );
    resp.headers_mut().insert(
        header::CONTENT_RANGE,
        header_value(&format!("bytes */{len}")),
    );
    resp
}

enum RangeRequest {
    None,
    Single(u64, u64),
    Unsatisfiable,
}

/// RFC 9110: a malformed Range header is ignored; a well-formed one outside
/// the content is 416; several ranges are answered with the whole content.
fn requested_range(headers: &HeaderMap, len: u64) -> RangeRequest {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeRequest::None;
    };
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return RangeRequest::None;
    };
    match parsed.validate(len) {
        Ok(ranges) if ranges.len() == 1 => {
            RangeRequest::Single(*ranges[0].start(), *ranges[0].end())
        }
        Ok(_) => RangeRequest::None,
        Err(_) => RangeRequest::Unsatisfiable,
    }
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"abc\"";
        assert!(not_modified(
            &with(header::IF_NONE_MATCH, "W/\"abc\""),
            etag
        ));
        assert!(not_modified(
            &with(header::IF_NONE_MATCH, "\"x\", \"abc\""),
            etag
        ));
        assert!(not_modified(&with(header::IF_NONE_MATCH, "*"), etag));
        assert!(!not_modified(
            &with(header::IF_NONE_MATCH, "\"abcd\""),
            etag
        ));
        assert!(!not_modified(&HeaderMap::new(), etag));
    }

    #[test]
    fn a_range_only_of_the_copy_the_client_has() {
        let etag = "\"abc\"";
        let mut headers = with(header::RANGE, "bytes=0-9");
        assert!(matches!(
            range_to_send(&headers, etag, 100),
            RangeRequest::Single(0, 9)
        ));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert!(matches!(
            range_to_send(&headers, etag, 100),
            RangeRequest::Single(0, 9)
        ));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert!(matches!(
            range_to_send(&headers, etag, 100),
            RangeRequest::None
        ));
        let mut headers = with(header::RANGE, "bytes=200-300");
        assert!(matches!(
            range_to_send(&headers, etag, 100),
            RangeRequest::Unsatisfiable
        ));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert!(matches!(
            range_to_send(&headers, etag, 100),
            RangeRequest::None
        ));
    }
}
