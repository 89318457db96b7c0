//! The integration suite: one test crate (one link, one copy of the helpers).
//! Each module drives the real studio from outside; `cargo test --test it compose::`
//! runs one of them.

mod common;

mod agent;
mod api_contract;
mod api_foundation;
mod auth;
mod backends;
mod brand;
mod captions;
mod cli;
mod clients;
mod compose;
mod coordinator_layers;
mod coordinator_templates;
mod farm;
mod generated;
mod hardening;
mod hygiene;
mod idempotency;
mod image_tool;
mod incremental;
mod layers;
mod outputs;
mod piper;
mod security;
mod social_refs;
mod social_tool;
mod speech_tool;
mod templates;
mod timeline;
mod transcripts;
mod web;
mod webhooks;
