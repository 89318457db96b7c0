//! The API's public addresses, as answers, webhook payloads and the
//! coordinator's replies give them: built here, once, for every layer that
//! names one (an asset's `url`, a job's `status_url`, a batch's). The routes
//! that answer at them are declared in `api`.

/// Where an asset's bytes are served.
pub fn asset_content(session: &str, name: &str) -> String {
    format!("/api/v1/sessions/{session}/assets/{name}/content")
}

/// A job's status (`GET`; `DELETE` cancels it).
pub fn job_status(session: &str, id: &str) -> String {
    format!("/api/v1/sessions/{session}/jobs/{id}")
}

/// A job's event stream (server-sent events of its status).
pub fn job_events(session: &str, id: &str) -> String {
    format!("{}/events", job_status(session, id))
}

/// A batch's status (`GET`; `DELETE` cancels its unfinished rows).
pub fn batch(id: &str) -> String {
    format!("/api/v1/batches/{id}")
}

#[cfg(test)]
mod tests {
    /// The addresses are the routes `api` serves (checked over HTTP by the
    /// integration tests; spelled out here so a change is seen in review).
    #[test]
    fn addresses_read_as_the_routes() {
        assert_eq!(
            super::asset_content("s1", "image_1.png"),
            "/api/v1/sessions/s1/assets/image_1.png/content"
        );
        assert_eq!(
            super::job_events("s1", "j"),
            "/api/v1/sessions/s1/jobs/j/events"
        );
        assert_eq!(super::batch("batch_1"), "/api/v1/batches/batch_1");
    }
}
