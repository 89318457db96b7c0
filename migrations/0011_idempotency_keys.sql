-- An `Idempotency-Key` a client sent with a POST, per asker: reserved while
-- the first request runs (status NULL), then its answer, replayed to a retry
-- with the same request (the fingerprint) for 24 hours.
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT,
    status BIGINT,
    content_type TEXT,
    body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
