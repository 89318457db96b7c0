//! Templates: a compose body with `{{field}}` placeholders, rendered with a
//! row of values as a job in a new session (or a named one); generated
//! items made once per row and reused; mistakes named before any work.

use crate::common;

use crate::common::TestServer;
use serde_json::{Value, json};

fn template() -> Value {
    json!({
        "name": "City clip",
        "body": {
            "timeline": [
                {"generate": {"type": "image", "prompt": "{{city}} skyline at dusk", "width": 320, "height": 176}, "text": "{{headline}}"},
                {"generate": {"type": "audio", "text": "Welcome to {{ city }}."}}
            ],
            "output": {"width": 320, "height": 176, "fps": 10}
        },
        "fields": {"headline": {"type": "text", "max_length": 20}}
    })
}

async fn finished(s: &TestServer, started: &Value) -> Value {
    let done = s
        .wait_for_job(
            started["status_url"].as_str().unwrap(),
            |j| j["status"] != "queued" && j["status"] != "running",
            std::time::Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

#[tokio::test]
async fn a_template_renders_rows_into_videos() {
    let s = TestServer::start().await;
    for (body, field) in [
        (
            json!({"name": "x", "body": {"timline": []}}),
            "body.timline",
        ),
        (
            json!({"name": "x", "body": {"timeline": []}, "fields": {"p": {"type": "number"}}}),
            "fields.p.type",
        ),
        (json!({"name": " ", "body": {}}), "name"),
    ] {
        let (status, err) = s.post_json("/api/v1/templates", body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (status, made) = s.post_json("/api/v1/templates", template()).await;
    assert_eq!(status, 201, "{made}");
    let id = made["template_id"].as_str().unwrap().to_owned();
    assert_eq!(
        made["fields"]["city"],
        json!({}),
        "inferred as text: {made}"
    );
    assert_eq!(made["fields"]["headline"]["max_length"], 20);
    let (_, listed) = s.get_json("/api/v1/templates").await;
    assert_eq!(listed["templates"][0]["template_id"], id.as_str());

    // Wrong rows are named before anything is made.
    for (merge, field) in [
        (json!({"city": "Lisbon"}), "merge.headline"),
        (
            json!({"city": "Lisbon", "headline": "Far too long for the field"}),
            "merge.headline",
        ),
        (
            json!({"city": "Lisbon", "headline": "Hi", "town": "x"}),
            "merge.town",
        ),
    ] {
        let (status, err) = s
            .post_json(
                &format!("/api/v1/templates/{id}/renders"),
                json!({"merge": merge}),
            )
            .await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }

    // A row: a new session, a job, a video of the row's voice-over.
    let (status, started) = s
        .post_json(
            &format!("/api/v1/templates/{id}/renders"),
            json!({"merge": {"city": "Lisbon", "headline": "Hello Lisbon"}}),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let session = started["session_id"].as_str().unwrap().to_owned();
    let done = finished(&s, &started).await;
    let video = &done["result"];
    assert_eq!(video["type"], "video");
    let (_, assets) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets"))
        .await;
    let voice = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "audio")
        .unwrap()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let out = common::write_file(dir.path(), "v.mp4", &s.download(video).await);
    let spoken = voice["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!((common::duration_of(&out) - spoken).abs() < 0.3);
    // The title is the row's: drawn in the top band, white on the picture.
    let band = common::mean_colour_of_region(&out, 0.5, "200:20:60:14");
    let plain = common::mean_colour_of_region(&out, 0.5, "200:20:60:120");
    assert!(
        band.iter().sum::<f64>() > plain.iter().sum::<f64>() + 15.0,
        "title {band:?} over {plain:?}"
    );

    // The same row again in that session: nothing new is made.
    let (status, again) = s
        .post_json(
            &format!("/api/v1/templates/{id}/renders"),
            json!({"merge": {"city": "Lisbon", "headline": "Hello Lisbon"}, "session_id": session}),
        )
        .await;
    assert_eq!(status, 202, "{again}");
    finished(&s, &again).await;
    let (_, after) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets"))
        .await;
    let count = |list: &Value, kind: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .count()
    };
    assert_eq!((count(&after, "image"), count(&after, "audio")), (1, 1));
    assert_eq!(count(&after, "video"), 2);

    // A saved timeline becomes a template; templates are deleted.
    let (status, saved) = s
        .put_json(
            &format!("/api/v1/sessions/{session}/timeline"),
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let (status, copy) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/timeline/template"),
            json!({"name": "Saved"}),
        )
        .await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["body"]["timeline"][0]["asset_id"], "image_1.png");
    let copy_id = copy["template_id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/api/v1/templates/{copy_id}")).await, 204);
    let (status, _) = s.get_json(&format!("/api/v1/templates/{copy_id}")).await;
    assert_eq!(status, 404);

    // An asset field needs the session that has the asset, and the right kind.
    let (status, pic) = s
        .post_json(
            "/api/v1/templates",
            json!({"name": "Photo", "body": {"timeline": [{"asset_id": "{{photo}}", "duration": 1}]},
                   "fields": {"photo": {"type": "asset", "kind": "image"}}}),
        )
        .await;
    assert_eq!(status, 201, "{pic}");
    let pic_id = pic["template_id"].as_str().unwrap();
    let (status, err) = s
        .post_json(
            &format!("/api/v1/templates/{pic_id}/renders"),
            json!({"merge": {"photo": "image_1.png"}}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("session_id")),
        "{err}"
    );
    let (status, err) = s
        .post_json(
            &format!("/api/v1/templates/{pic_id}/renders"),
            json!({"merge": {"photo": "audio_1.mp3"}, "session_id": session}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("merge.photo")),
        "{err}"
    );
}

/// A template of one titled picture (the same picture for every row) and
/// a narration whose length sets the scene's.
fn titled(narration: &str) -> Value {
    json!({
        "name": "Titled",
        "body": {
            "timeline": [
                {"generate": {"type": "image", "prompt": "a calm grey sea at night", "width": 320, "height": 176},
                 "text": "{{title}}", "duration": 1.5},
                {"generate": {"type": "audio", "text": narration}}
            ],
            "output": {"width": 320, "height": 176, "fps": 10}
        }
    })
}

async fn post_csv(s: &TestServer, path: &str, csv: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(s.url(path))
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Bright pixels of the title band (the top of the frame) at `t`.
fn title_pixels(video: &std::path::Path, t: f64) -> usize {
    common::frame_rgb(video, t, "crop=iw:36:0:4")
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c > 200))
        .count()
}

#[tokio::test]
async fn a_csv_batch_makes_a_video_per_row_with_its_title() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = studio::config::Config::with_data_dir(dir.path());
    config.limits.max_batch_rows = 3;
    let s = TestServer::start_with(config).await;
    let (status, made) = s.post_json("/api/v1/templates", titled("Hello.")).await;
    assert_eq!(status, 201, "{made}");
    let renders = format!(
        "/api/v1/templates/{}/renders",
        made["template_id"].as_str().unwrap()
    );

    // Rows are checked before anything is made, each named by its place.
    let (status, err) = s
        .post_json(
            &renders,
            json!({"merges": [{"title": "A"}, {"titel": "B"}]}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("merges[1].titel")),
        "{err}"
    );
    let (status, err) = s
        .post_json(&renders, json!({"merges": [{"title": "A"}, {}]}))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("merges[1].title")),
        "{err}"
    );
    let (status, err) = post_csv(&s, &renders, "title\na\nb\nc\nd\n").await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("merges")),
        "at most 3 rows: {err}"
    );
    let (status, err) = post_csv(&s, &renders, "my title\na\n").await;
    assert_eq!(status, 422, "{err}");
    let (_, sessions) = s.get_json("/api/v1/sessions").await;
    assert_eq!(
        sessions["sessions"].as_array().map(Vec::len),
        Some(0),
        "nothing made: {sessions}"
    );

    // Three rows of CSV: three jobs at once, three videos.
    let (status, batch) = post_csv(&s, &renders, "title\nI\nWWWWWWWWWWWW\nWWWWWW\n").await;
    assert_eq!(status, 202, "{batch}");
    let jobs = batch["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{batch}");
    for (i, job) in jobs.iter().enumerate() {
        assert_eq!(job["row"], i);
        finished(&s, job).await;
    }
    let (status, view) = s.get_json(batch["status_url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "finished", "{view}");
    assert_eq!(view["counts"]["succeeded"], 3, "{view}");
    assert_eq!(view["progress"], 1.0);
    let mut widths = Vec::new();
    for row in view["rows"].as_array().unwrap() {
        let video = &row["result"];
        assert_eq!(video["type"], "video", "{row}");
        let out = common::write_file(dir.path(), "row.mp4", &s.download(video).await);
        let probe = common::ffprobe(&out);
        assert_eq!(probe["streams"][0]["width"], 320);
        widths.push(title_pixels(&out, 0.7));
    }
    // Each video carries its own row's title: the longer the title, the
    // more of the band it lights.
    assert!(
        widths[0] < widths[2] && widths[2] < widths[1],
        "title widths by row {widths:?}"
    );
}

#[tokio::test]
async fn a_batch_leaves_room_for_single_renders_and_cancels_midway() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = studio::config::Config::with_data_dir(dir.path());
    // A share of 2: a batch runs one row at a time and leaves one slot.
    config.limits.max_jobs_per_client = 2;
    let s = TestServer::start_with(config).await;
    let long = "The harbour wakes before the sun. Boats come in with the night's catch, \
                gulls circle the masts, and the market opens its shutters one by one. \
                By seven the square smells of coffee, salt and fresh bread.";
    let (_, made) = s.post_json("/api/v1/templates", titled(long)).await;
    let renders = format!(
        "/api/v1/templates/{}/renders",
        made["template_id"].as_str().unwrap()
    );
    let rows: Vec<Value> = (0..6)
        .map(|i| json!({"title": format!("Row {i}")}))
        .collect();
    let (status, batch) = s.post_json(&renders, json!({"merges": rows})).await;
    assert_eq!(status, 202, "{batch}");
    let jobs = batch["jobs"].as_array().unwrap().clone();
    let batch_url = batch["status_url"].as_str().unwrap().to_owned();

    // The first row starts; the other five wait their turn.
    let first = s
        .wait_for_job(
            jobs[0]["status_url"].as_str().unwrap(),
            |j| j["status"] == "running",
            std::time::Duration::from_secs(60),
        )
        .await;
    assert_eq!(first["status"], "running");
    let (_, view) = s.get_json(&batch_url).await;
    assert_eq!(view["counts"]["queued"], 5, "{view}");
    assert_eq!(view["counts"]["running"], 1, "{view}");

    // The key's own single render is not locked out by the batch.
    let single_session = s.post_json("/api/v1/sessions", json!({})).await.1;
    let single_session = single_session["session_id"].as_str().unwrap();
    let (status, single) = s
        .post_json(
            &renders,
            json!({"merge": {"title": "Single"}, "session_id": single_session}),
        )
        .await;
    assert_eq!(status, 202, "a single render beside the batch: {single}");

    // Cancelled midway: the five waiting rows end at once, never run.
    let resp = s.client.delete(s.url(&batch_url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let view: Value = resp.json().await.unwrap();
    let rows = view["rows"].as_array().unwrap();
    for row in &rows[1..] {
        assert_eq!(row["status"], "cancelled", "{row}");
    }
    let first = s
        .wait_for_job(
            jobs[0]["status_url"].as_str().unwrap(),
            |j| j["status"] != "running",
            std::time::Duration::from_secs(60),
        )
        .await;
    assert!(
        first["status"] == "cancelled" || first["status"] == "succeeded",
        "{first}"
    );
    finished(&s, &single).await;
    let (_, view) = s.get_json(&batch_url).await;
    assert_eq!(view["status"], "finished", "{view}");
    assert!(view["counts"]["cancelled"].as_u64().unwrap() >= 5, "{view}");
    for job in &jobs[1..] {
        let (_, assets) = s
            .get_json(&format!(
                "/api/v1/sessions/{}/assets",
                job["session_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(assets, json!([]), "a cancelled row made nothing");
    }
    let (status, _) = s.get_json("/api/v1/batches/batch_nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_batch_in_one_session_makes_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = studio::config::Config::with_data_dir(dir.path());
    // Many rows at once, all finishing in the one session.
    config.jobs.worker_concurrency = 6;
    config.limits.max_jobs_per_client = 12;
    let s = TestServer::start_with(config).await;
    let (_, made) = s.post_json("/api/v1/templates", titled("Hi.")).await;
    let renders = format!(
        "/api/v1/templates/{}/renders",
        made["template_id"].as_str().unwrap()
    );
    let session = s.post_json("/api/v1/sessions", json!({})).await.1;
    let session = session["session_id"].as_str().unwrap().to_owned();
    // Rows finish side by side in one session: none may trip over another.
    let rows: Vec<Value> = (0..12)
        .map(|i| json!({"title": format!("Row {i}")}))
        .collect();
    let (status, batch) = post_csv(
        &s,
        &format!("{renders}?session_id={session}"),
        &format!(
            "title\n{}\n",
            rows.iter()
                .map(|r| r["title"].as_str().unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
    .await;
    assert_eq!(status, 202, "{batch}");
    for job in batch["jobs"].as_array().unwrap() {
        assert_eq!(job["session_id"], session.as_str());
        finished(&s, job).await;
    }
    let videos = s.count_assets(&session, "video").await;
    let (_, view) = s.get_json(batch["status_url"].as_str().unwrap()).await;
    let made: Vec<&str> = view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"]["name"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(videos, 12, "rows made {made:?}");
}
