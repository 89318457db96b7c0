//! Several sizes in one job: `outputs` renders one video (and `.srt`) per
//! size from one request, the soundtrack mixed once, all listed in the
//! job's `result.assets`; mistakes are named by output before any work.

use crate::common;

use crate::common::TestServer;
use serde_json::json;

#[tokio::test]
async fn one_job_renders_every_size_asked_for() {
    let s = TestServer::start().await;
    let (status, up) = s
        .upload("sizes", "bg.png", common::png(320, 180, [200, 40, 40]))
        .await;
    assert_eq!(status, 201, "{up}");
    let (status, voice) = s
        .post_json(
            "/api/v1/sessions/sizes/audio",
            json!({"text": "Three sizes from one request."}),
        )
        .await;
    assert_eq!(status, 201, "{voice}");

    // Mistakes are named by output, before any work.
    for (body, field) in [
        (
            json!({"output": {"width": 320, "height": 180}, "outputs": [{"width": 320, "height": 180}]}),
            "outputs",
        ),
        (json!({"outputs": []}), "outputs"),
        (
            json!({"outputs": [{"width": 320, "height": 180}, {"aspect_ratio": "3:1"}]}),
            "outputs[1].aspect_ratio",
        ),
        (
            json!({"outputs": [{"width": 320, "height": 180, "fit": "stretch"}]}),
            "outputs[0].fit",
        ),
    ] {
        let mut body = body;
        body["timeline"] = json!([{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"}]);
        let (status, err) = s.post_json("/api/v1/sessions/sizes/compose", body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }

    let (status, job) = s
        .post_json(
            "/api/v1/sessions/sizes/compose",
            json!({
                "timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"}],
                "captions": true,
                "outputs": [
                    {"width": 320, "height": 180},
                    {"width": 180, "height": 320, "fit": "contain"},
                    {"width": 240, "height": 240, "quality": "draft"}
                ]
            }),
        )
        .await;
    assert_eq!(status, 202, "several outputs are a job: {job}");
    let done = s
        .wait_for_job(
            job["status_url"].as_str().unwrap(),
            |j| j["status"] != "queued" && j["status"] != "running",
            std::time::Duration::from_secs(240),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let assets = done["result"]["assets"].as_array().unwrap();
    let videos: Vec<_> = assets.iter().filter(|a| a["type"] == "video").collect();
    let subtitles: Vec<_> = assets.iter().filter(|a| a["type"] == "subtitles").collect();
    assert_eq!((videos.len(), subtitles.len()), (3, 3), "{done}");
    assert_eq!(
        done["result"]["name"], videos[0]["name"],
        "the first video leads"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut lengths = Vec::new();
    for (video, (w, h)) in videos.iter().zip([(320, 180), (180, 320), (120, 120)]) {
        let file = common::write_file(
            dir.path(),
            video["name"].as_str().unwrap(),
            &s.download(video).await,
        );
        let probe = common::ffprobe(&file);
        let v = probe["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .unwrap();
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w), Some(h))
        );
        assert!(
            probe["streams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["codec_type"] == "audio")
        );
        lengths.push(common::duration_of(&file));
    }
    assert!(
        lengths.iter().all(|l| (l - lengths[0]).abs() < 0.05),
        "the same length: {lengths:?}"
    );
    // The soundtrack was mixed once: the later outputs reused it.
    for video in &videos[1..] {
        assert_eq!(video["metadata"]["render"]["audio_reused"], true, "{video}");
    }
}
