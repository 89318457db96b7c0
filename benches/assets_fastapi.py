#!/usr/bin/env python3
"""FastAPI baseline for `GET /api/v1/sessions/{id}/assets` (issue 16).

The same work as the studio does for this route, on the same SQLite database
file (the benchmark copies the studio's, so both serve identical rows):

1. the bearer key (or the `studio_key` cookie) is looked up by its SHA-256
   hex digest in `api_keys` (unknown or revoked: 401, `WWW-Authenticate:
   Bearer`; no key while a key exists: 401);
2. the session's owner is read from `session_owners`; a session owned by
   another key, or made without a key, is answered 404 (admin keys see all);
3. the session's existence is checked in `sessions` (404 if absent);
4. its assets are read oldest first (`ORDER BY created_at, kind, seq`), the
   `metadata` column parsed as JSON, and answered in the studio's shape
   (asset_id, session_id, type, name, url, mime_type, size_bytes, created_at,
   source, metadata), timestamps printed as chrono prints them (RFC 3339, `Z`,
   0/3/6 fractional digits).

Four SQL queries per request, like the studio. The route is a plain `def`
(FastAPI runs it in its thread pool) with one SQLite connection per thread,
and the answer is encoded by `json.dumps` (JSONResponse, which skips
FastAPI's slower `jsonable_encoder`): the idiomatic fast path.

Run: STUDIO_DB=path/to/studio.db uvicorn assets_fastapi:app --workers 1
(the benchmark starts it with one worker, uvloop and httptools).
"""
import hashlib
import json
import os
import sqlite3
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DB_PATH = os.environ.get("STUDIO_DB", "studio.db")
KEY_PREFIX = "cs_"
KEY_COOKIE = "studio_key"
KINDS = {"image", "audio", "video", "social", "subtitles"}

app = FastAPI()
_local = threading.local()


def db():
    """This thread's connection (sqlite3 connections are not shared across threads)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        _local.conn = conn
    return conn


def error(status, code, message, headers=None):
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers)


def presented_key(request):
    """The bearer token, else the `studio_key` cookie, as the studio reads them."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.strip().partition(" ")
        if token and scheme.lower() == "bearer":
            return token.strip()
    value = request.cookies.get(KEY_COOKIE, "").strip()
    return value or None


def chrono_time(stored):
    """`2026-01-01T00:00:00.120000Z` as chrono serialises it: `...00.120Z`."""
    head, _, frac = stored.rstrip("Z").partition(".")
    micros = int((frac + "000000")[:6]) if frac else 0
    if micros == 0:
        return head + "Z"
    if micros % 1000 == 0:
        return f"{head}.{micros // 1000:03d}Z"
    return f"{head}.{micros:06d}Z"


@app.get("/api/v1/sessions/{session_id}/assets")
def list_assets(session_id: str, request: Request, type: str | None = None):
    conn = db()
    key = presented_key(request)
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if key is None:
        if conn.execute("SELECT id FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone():
            return error(401, "unauthorized", "this studio needs an API key", unauthorized)
        key_id, admin = None, False
    else:
        row = None
        if key.startswith(KEY_PREFIX) and len(key) <= 200:
            digest = hashlib.sha256(key.encode()).hexdigest()
            row = conn.execute(
                "SELECT id, admin, revoked_at FROM api_keys WHERE key_hash = ?", (digest,)
            ).fetchone()
        if row is None or row[2] is not None:
            return error(401, "unauthorized", "this API key is unknown or was revoked", unauthorized)
        key_id, admin = row[0], row[1] != 0

    hidden = error(404, "unknown_session", f"unknown session {session_id!r}")
    if not admin:
        owner = conn.execute(
            "SELECT owner FROM session_owners WHERE session_id = ?", (session_id,)
        ).fetchone()
        if owner is not None and owner[0] != key_id:
            return hidden
        if owner is None and key_id is not None:
            if conn.execute("SELECT id FROM sessions WHERE id = ?", (session_id,)).fetchone():
                return hidden  # made without a key: not this key's
    if not conn.execute("SELECT id, created_at FROM sessions WHERE id = ?", (session_id,)).fetchone():
        return hidden

    columns = "session_id, name, kind, mime_type, size_bytes, created_at, source, metadata"
    if type is None:
        rows = conn.execute(
            f"SELECT {columns} FROM assets WHERE session_id = ? ORDER BY created_at, kind, seq",
            (session_id,),
        ).fetchall()
    elif type in KINDS:
        rows = conn.execute(
            f"SELECT {columns} FROM assets WHERE session_id = ? AND kind = ? ORDER BY created_at, seq",
            (session_id, type),
        ).fetchall()
    else:
        return error(422, "invalid_request", f"unknown asset type {type!r}")
    return JSONResponse(
        [
            {
                "asset_id": name,
                "session_id": sid,
                "type": kind,
                "name": name,
                "url": f"/api/v1/sessions/{sid}/assets/{name}/content",
                "mime_type": mime,
                "size_bytes": size,
                "created_at": chrono_time(created),
                "source": source,
                "metadata": json.loads(metadata),
            }
            for sid, name, kind, mime, size, created, source, metadata in rows
        ]
    )
