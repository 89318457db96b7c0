//! `Idempotency-Key` on any POST: the first request with a key does the work
//! and its answer is kept (in the database, so every API process sees it);
//! a retry of the same request (same method, path, media type and body)
//! within 24 hours gets the same answer — the same status and body, the same
//! job — and nothing is done again. The same key with another request is
//! 422 `idempotency_key_reused`; while the first request still runs, 409
//! `idempotency_key_in_use`. Refusals (4xx, 5xx) are not kept: they did
//! nothing, and a retry runs anew.
//!
//! The request's fingerprint is hashed as its body streams through to the
//! handler, so uploads are not held in memory; a multipart body's boundary
//! (which clients choose at random per attempt) is left out of it.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http_body::Body as _;
use sha2::{Digest, Sha256};

use super::auth::Asker;
use super::error::{ApiError, error_response};
use crate::Studio;
use crate::store::{KeptAnswer, Reservation};

pub const HEADER: &str = "idempotency-key";
/// Answers larger than this are not kept (POST answers are small JSON).
const MAX_KEPT_BYTES: u64 = 4 * 1024 * 1024;
const MAX_KEY_CHARS: usize = 255;

/// The middleware: a POST with an `Idempotency-Key` runs once, its answer
/// kept for retries; every other request passes straight through.
pub async fn idempotent(State(studio): State<Studio>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = checked_key(key) else {
        return bad_key();
    };
    let owner = req
        .extensions()
        .get::<Asker>()
        .map_or_else(|| "anonymous".to_owned(), |a| a.0.clone());
    let fingerprint = Fingerprint::of(&req);
    match studio.store().reserve_idempotency_key(&owner, &key).await {
        Err(e) => ApiError(e).into_response(),
        Ok(Reservation::Running) => in_use(),
        Ok(Reservation::Answered(kept)) => answer_again(&studio, req, fingerprint, kept).await,
        Ok(Reservation::Reserved) => {
            answer_first(&studio, (&owner, &key), req, fingerprint, next).await
        }
    }
}

/// The key, if it is 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
fn checked_key(key: &HeaderValue) -> Option<String> {
    key.to_str()
        .ok()
        .filter(|k| {
            (1..=MAX_KEY_CHARS).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
}

/// The 400 for a key that is not 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
fn bad_key() -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"),
        Some("Idempotency-Key".into()),
    )
}

/// The 409 for a key whose first request still runs (retry in a second).
fn in_use() -> Response {
    let mut response = error_response(
        StatusCode::CONFLICT,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still running; retry when it has answered".into(),
        Some("Idempotency-Key".into()),
    );
    response.headers_mut().insert(header::RETRY_AFTER, 1.into());
    response
}

/// A retry of an answered key: the kept answer again if the request is the
/// same one (read through to compare), else the 422 for a reused key.
async fn answer_again(
    studio: &Studio,
    req: Request,
    fingerprint: Fingerprint,
    kept: KeptAnswer,
) -> Response {
    let (_, body) = req.into_parts();
    // As much as the largest body a route takes (an upload).
    let limit = studio
        .config()
        .max_upload_bytes
        .saturating_add(1024 * 1024)
        .max(super::MAX_JSON_BYTES as u64);
    let Some(same) = fingerprint.matches(body, &kept.fingerprint, limit).await else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read".into(),
            None,
        );
    };
    if !same {
        return error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key".into(),
            Some("Idempotency-Key".into()),
        );
    }
    replay(kept)
}

/// The first request with a key: runs it, fingerprinting its body as it
/// streams, then keeps its answer (or, for one not to keep, releases the key).
async fn answer_first(
    studio: &Studio,
    (owner, key): (&str, &str),
    req: Request,
    fingerprint: Fingerprint,
    next: Next,
) -> Response {
    let store = studio.store();
    let (parts, body) = req.into_parts();
    let (body, hashed) = fingerprint.tap(body);
    let response = next.run(Request::from_parts(parts, body)).await;
    match keep(response, hashed.fingerprint()).await {
        (response, Some(answer)) => {
            if let Err(e) = store.keep_idempotent_answer(owner, key, &answer).await {
                tracing::warn!(error = %e, "an idempotent answer was not kept");
                let _ = store.release_idempotency_key(owner, key).await;
            }
            response
        }
        (response, None) => {
            if let Err(e) = store.release_idempotency_key(owner, key).await {
                tracing::warn!(error = %e, "an idempotency key was not released");
            }
            response
        }
    }
}

/// The answer to keep, if it is one: a success (a refusal did nothing, as
/// in Stripe's API: a retry runs anew, and may succeed once the session
/// holds what it lacked), to a request that was read whole or whose route
/// reads no body, and small.
async fn keep(response: Response, fingerprint: Option<String>) -> (Response, Option<KeptAnswer>) {
    let passing = !response.status().is_success();
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_KEPT_BYTES);
    let Some(fingerprint) = fingerprint.filter(|_| !passing && small) else {
        return (response, None);
    };
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_BYTES as usize).await else {
        return (
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the answer could not be read".into(),
                None,
            ),
            None,
        );
    };
    let answer = String::from_utf8(bytes.to_vec())
        .ok()
        .map(|body| KeptAnswer {
            fingerprint,
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body,
        });
    (Response::from_parts(parts, Body::from(bytes)), answer)
}

fn replay(kept: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    if let Some(ct) = kept
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// A request's fingerprint, hashed as its body streams.
struct Fingerprint {
    /// The route alone (method, path, query): what a request whose route
    /// never reads its body is (`POST /sessions`).
    route: String,
    hasher: Sha256,
    /// A multipart body's delimiter (`--` and the boundary), left out.
    delimiter: Option<Vec<u8>>,
    /// The tail that may hold the start of a delimiter.
    carry: Vec<u8>,
    /// The body is empty: nothing to wait for.
    empty: bool,
}

impl Fingerprint {
    fn of(req: &Request) -> Self {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let delimiter = (essence == "multipart/form-data")
            .then(|| multipart_boundary(content_type))
            .flatten()
            .map(|b| format!("--{b}").into_bytes());
        let mut hasher = Sha256::new();
        for part in [
            req.method().as_str(),
            req.uri().path(),
            req.uri().query().unwrap_or_default(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let route = format!("route:{}", hex::encode(hasher.clone().finalize()));
        hasher.update(essence.as_bytes());
        hasher.update([0]);
        Fingerprint {
            route,
            hasher,
            delimiter,
            carry: Vec::new(),
            empty: req.body().size_hint().exact() == Some(0),
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        let Some(delimiter) = &self.delimiter else {
            self.hasher.update(chunk);
            return;
        };
        self.carry.extend_from_slice(chunk);
        let finder = memchr::memmem::Finder::new(delimiter);
        let mut start = 0;
        while let Some(i) = finder.find(&self.carry[start..]) {
            self.hasher.update(&self.carry[start..start + i]);
            start += i + delimiter.len();
        }
        // Keep what may be the start of a delimiter split across chunks.
        let keep = (delimiter.len() - 1).min(self.carry.len() - start);
        let end = self.carry.len() - keep;
        self.hasher.update(&self.carry[start..end]);
        self.carry.drain(..end);
    }

    fn finish(mut self) -> String {
        let rest = std::mem::take(&mut self.carry);
        self.hasher.update(&rest);
        hex::encode(self.hasher.finalize())
    }

    /// Whether `kept` is this request's fingerprint; reads the body
    /// through (the retry will not run) unless the first request's route
    /// never read its body.
    /// A body longer than `limit` (more than any route takes) cannot be
    /// the kept request's: it is not read further.
    async fn matches(self, body: Body, kept: &str, limit: u64) -> Option<bool> {
        if kept.starts_with("route:") {
            return Some(kept == self.route);
        }
        Some(self.drain(body, limit).await?.is_some_and(|f| f == kept))
    }

    /// The fingerprint, or `Some(None)` when the body is over `limit`.
    async fn drain(mut self, body: Body, limit: u64) -> Option<Option<String>> {
        let mut stream = body.into_data_stream();
        let mut read = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.ok()?;
            read += chunk.len() as u64;
            if read > limit {
                return Some(None);
            }
            self.update(&chunk);
        }
        Some(Some(self.finish()))
    }

    /// Passes the body on, hashing it. The fingerprint is there once the
    /// handler has read the body to its end (at once for an empty body),
    /// or, when it read none of it, is the route's.
    fn tap(self, body: Body) -> (Body, Tapped) {
        if self.empty {
            let done = Some(self.finish());
            return (
                body,
                Tapped {
                    done: Arc::new(Mutex::new(done)),
                    rest: None,
                },
            );
        }
        let route = self.route.clone();
        let done = Arc::new(Mutex::new(None));
        let hashing = Arc::new(Mutex::new(Some(self)));
        let reading = hashing.clone();
        let read_any = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let read = read_any.clone();
        let chunks = body.into_data_stream().map(move |chunk| {
            read.store(true, std::sync::atomic::Ordering::Relaxed);
            if let (Ok(bytes), Ok(mut f)) = (&chunk, reading.lock())
                && let Some(f) = f.as_mut()
            {
                f.update(bytes);
            }
            chunk
        });
        let finished = done.clone();
        let end = futures::stream::once(async move {
            let f = hashing.lock().ok().and_then(|mut f| f.take());
            if let (Some(f), Ok(mut done)) = (f, finished.lock()) {
                *done = Some(f.finish());
            }
            Ok(Bytes::new())
        });
        let tapped = Tapped {
            done,
            rest: Some((route, read_any)),
        };
        (Body::from_stream(chunks.chain(end)), tapped)
    }
}

/// The fingerprint of a request handed to its handler.
struct Tapped {
    done: Arc<Mutex<Option<String>>>,
    rest: Option<(String, Arc<std::sync::atomic::AtomicBool>)>,
}

impl Tapped {
    /// The request's fingerprint once its handler has answered: `None` when
    /// it read part of the body only (it stopped before doing anything).
    fn fingerprint(self) -> Option<String> {
        if let Some(done) = self.done.lock().ok().and_then(|mut d| d.take()) {
            return Some(done);
        }
        match self.rest {
            Some((route, read_any)) if !read_any.load(std::sync::atomic::Ordering::Relaxed) => {
                Some(route)
            }
            _ => None,
        }
    }
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(content_type: &str, chunks: &[&[u8]]) -> String {
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/sessions/s/uploads")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from("x"))
            .unwrap();
        let mut f = Fingerprint::of(&req);
        for c in chunks {
            f.update(c);
        }
        f.finish()
    }

    #[tokio::test]
    async fn a_retry_larger_than_any_route_takes_is_not_read_through() {
        let req = || {
            Request::builder()
                .method("POST")
                .uri("/api/v1/sessions/s/compose")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::empty())
                .unwrap()
        };
        let body = || Body::from(vec![b' '; 4096]);
        let kept = Fingerprint::of(&req())
            .drain(body(), 10_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Fingerprint::of(&req()).matches(body(), &kept, 10_000).await,
            Some(true)
        );
        assert_eq!(
            Fingerprint::of(&req()).drain(body(), 1000).await,
            Some(None)
        );
        assert_eq!(
            Fingerprint::of(&req()).matches(body(), &kept, 1000).await,
            Some(false)
        );
    }

    #[test]
    fn a_multipart_body_is_the_same_request_whatever_its_boundary_and_chunks() {
        let body = |b: &str| {
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nPNGDATA\r\n--{b}--\r\n"
            )
        };
        let one = body("XyZ123");
        let two = body("other-boundary-4");
        let a = fingerprint("multipart/form-data; boundary=XyZ123", &[one.as_bytes()]);
        let (x, y) = two.as_bytes().split_at(5);
        let b = fingerprint(
            "multipart/form-data; boundary=\"other-boundary-4\"",
            &[x, y],
        );
        assert_eq!(a, b, "a delimiter split across chunks is still left out");
        let c = fingerprint(
            "multipart/form-data; boundary=XyZ123",
            &[one.replace("PNGDATA", "PNGDATB").as_bytes()],
        );
        assert_ne!(a, c);
        let json = fingerprint("application/json", &[b"{\"a\":", b"1}"]);
        assert_eq!(json, fingerprint("application/json", &[b"{\"a\":1}"]));
        assert_ne!(json, fingerprint("application/json", &[b"{\"a\":2}"]));
    }
}
