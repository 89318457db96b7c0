//! Makes the generated API description tell the whole truth: the statuses
//! every route can answer (keys, limits, timeouts, malformed input), and the
//! constraints the server enforces on ids and fields, written once here and
//! checked against the live server by schemathesis (`tests/it/api_contract.rs`).

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// Text fields refuse control characters other than line breaks and tabs.
const NO_CONTROL: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// ... and some must hold more than white space.
const NOT_BLANK: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// What each status means when a route answers it, beyond its own.
fn common_statuses(has_path_ids: bool, has_body: bool) -> Vec<(&'static str, &'static str)> {
    let mut statuses = vec![
        (
            "401",
            "An API key is needed (the server has keys), or the key is unknown or revoked.",
        ),
        (
            "403",
            "The request's Host is not one the server answers to (forbidden_host), or a state-changing request came from a page of another origin (forbidden_origin).",
        ),
        (
            "429",
            "A fair-use limit was reached (requests per second, jobs per client, or the studio is busy); see Retry-After.",
        ),
        (
            "503",
            "The request took longer than the server allows, or an engine it needs is missing.",
        ),
    ];
    if has_path_ids {
        statuses.push(("400", "An id in the path is malformed."));
        statuses.push((
            "404",
            "No such session (or it belongs to another key), asset, job or voice.",
        ));
    }
    if has_body {
        statuses.push(("400", "The body is malformed."));
        statuses.push(("413", "The body is larger than the server accepts."));
        statuses.push(("415", "The body is not of the media type the route takes."));
        statuses.push(("422", "A field has a value the operation cannot accept."));
    }
    statuses
}

/// Field constraints, by schema name and property: the limits come from
/// the modules whose checks enforce them (`limits` beside each validator).
fn field_constraints() -> Vec<(&'static str, &'static str, Value)> {
    use crate::compose::timeline::limits as compose;
    use crate::tools::{
        image::limits as image, social::limits as social, speech::limits as speech,
    };
    let text = |min: usize, max: usize| {
        let pattern = if min > 0 { NOT_BLANK } else { NO_CONTROL };
        json!({"minLength": min, "maxLength": max, "pattern": pattern})
    };
    let range = |(min, max): (f64, f64)| json!({"minimum": min, "maximum": max});
    let ratios: Vec<&str> = crate::frame::ASPECT_RATIOS
        .iter()
        .map(|(r, _, _)| *r)
        .collect();
    let ratio = json!({ "enum": ratios });
    let image_side = json!({"minimum": image::MIN_SIDE, "maximum": image::MAX_SIDE, "multipleOf": image::SIDE_STEP});
    let output_side =
        json!({"minimum": compose::MIN_SIDE, "maximum": compose::MAX_SIDE, "multipleOf": 2});
    let platforms: Vec<&str> = crate::tools::social::Platform::NAMES.to_vec();
    vec![
        (
            "AgentRequest",
            "message",
            text(1, crate::agent::MAX_MESSAGE_CHARS),
        ),
        (
            "AgentRequest",
            "mode",
            json!({"enum": ["interactive", "automatic"]}),
        ),
        ("ImageParams", "prompt", text(1, image::PROMPT_CHARS)),
        ("ImageParams", "negative_prompt", text(0, image::TEXT_CHARS)),
        ("ImageParams", "style", text(0, image::TEXT_CHARS)),
        ("ImageParams", "aspect_ratio", ratio.clone()),
        ("ImageParams", "width", image_side.clone()),
        ("ImageParams", "height", image_side),
        ("SpeechParams", "text", text(1, speech::TEXT_CHARS)),
        ("SpeechParams", "format", json!({ "enum": speech::FORMATS })),
        (
            "SpeechParams",
            "speaking_rate",
            range(speech::SPEAKING_RATE),
        ),
        ("SpeechParams", "pitch", range(speech::PITCH)),
        (
            "SpeechParams",
            "voice_name",
            text(0, speech::VOICE_NAME_BYTES),
        ),
        ("SocialParams", "text", text(1, social::TEXT_CHARS)),
        (
            "SocialParams",
            "max_hashtags",
            json!({"minimum": 0, "maximum": social::MAX_HASHTAGS}),
        ),
        ("SocialParams", "platform", json!({ "enum": platforms })),
        (
            "SocialParams",
            "language",
            json!({"pattern": "^[ \\t\\r\\n]*([A-Za-z]{2})?[ \\t\\r\\n]*$"}),
        ),
        ("SocialParams", "tone", text(0, social::TONE_CHARS)),
        ("ComposeRequest", "fit", json!({ "enum": compose::FITS })),
        ("SavedTimeline", "fit", json!({ "enum": compose::FITS })),
        ("SavedTimeline", "version", json!({"minimum": 0})),
        ("OutputOptions", "aspect_ratio", ratio),
        (
            "OutputOptions",
            "fps",
            json!({"minimum": compose::FPS.0, "maximum": compose::FPS.1}),
        ),
        (
            "OutputOptions",
            "quality",
            json!({ "enum": compose::QUALITIES }),
        ),
        ("OutputOptions", "width", output_side.clone()),
        ("OutputOptions", "height", output_side),
        (
            "CaptionsStyle",
            "style",
            json!({"enum": ["plain", "karaoke", "word"]}),
        ),
        (
            "CaptionsStyle",
            "position",
            json!({"enum": ["bottom", "middle"]}),
        ),
        ("MusicOptions", "volume", range(compose::VOLUME)),
        ("MusicOptions", "asset_id", asset_name()),
        ("TimelineItem", "asset_id", asset_name()),
        ("TimelineItem", "text", text(0, compose::TITLE_CHARS)),
        ("TimelineItem", "volume", range(compose::VOLUME)),
        ("UploadForm", "role", json!({"enum": ["music"]})),
        ("UploadForm", "transcript", text(0, speech::TEXT_CHARS)),
        ("Message", "role", json!({"enum": ["user", "assistant"]})),
        (
            "Callback",
            "url",
            json!({"minLength": 8, "maxLength": 2000, "pattern": "^https?://"}),
        ),
        (
            "WebhookUpdate",
            "url",
            json!({"minLength": 8, "maxLength": 2000, "pattern": "^https?://"}),
        ),
    ]
}

fn session_id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]{1,64}$"})
}

fn asset_name() -> Value {
    json!({"type": "string", "minLength": 3, "maxLength": 100, "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9]{1,8}$"})
}

/// Request bodies that accept no fields beyond those described.
const CLOSED_BODIES: &[&str] = &[
    "AgentRequest",
    "ImageParams",
    "SpeechParams",
    "SocialParams",
    "ComposeRequest",
    "TimelineItem",
    "OutputOptions",
    "MusicOptions",
    "CaptionsStyle",
    "Transition",
    "Callback",
    "WebhookUpdate",
    "TranscriptParams",
    "CutParams",
];

/// Fields a reply may leave `null`.
const NULLABLE: &[(&str, &str)] = &[("AgentReply", "arguments"), ("AgentReply", "result")];

/// The engines requests may name, per tool (configuration decides them).
#[derive(Clone, Debug, Default)]
pub struct Providers {
    pub image: Vec<String>,
    pub speech: Vec<String>,
    pub social: Vec<String>,
}

/// Completes the generated document; with `providers`, the `provider`
/// fields list the engines this server has. (A JSON value: the completed
/// document says things utoipa's types cannot, such as an enum holding null.)
pub fn complete(doc: OpenApi, providers: Option<&Providers>) -> Value {
    let mut value = serde_json::to_value(&doc).unwrap_or_else(|_| json!({}));
    complete_value(&mut value);
    if let Some(p) = providers {
        for (schema, names) in [
            ("ImageParams", &p.image),
            ("SpeechParams", &p.speech),
            ("SocialParams", &p.social),
        ] {
            let pointer = format!("/components/schemas/{schema}/properties/provider");
            if let Some(prop) = value.pointer_mut(&pointer).and_then(Value::as_object_mut) {
                let mut values: Vec<Value> = names.iter().map(|n| json!(n)).collect();
                values.push(Value::Null);
                prop.remove("type");
                prop.insert("enum".into(), Value::Array(values));
            }
        }
    }
    value
}

fn complete_value(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !matches!(method.as_str(), "get" | "post" | "put" | "delete" | "patch") {
                    continue;
                }
                complete_operation(path, op);
            }
        }
    }
    // Reached by pointer: indexing a JSON value to write would add the
    // schema or field as null where it is missing.
    let Some(schemas) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    for (schema, field, constraints) in field_constraints() {
        let prop = schemas
            .pointer_mut(&format!("/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut);
        if let (Some(prop), Some(extra)) = (prop, constraints.as_object()) {
            // Nullable `type: [string, null]` keeps its null: constraints apply to the value.
            if extra.contains_key("enum")
                && prop["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("null")))
            {
                // A plain enum that holds null (not `type: [string, null]`
                // beside it, which client generators turn into a union of
                // three types).
                let mut values = extra["enum"].as_array().cloned().unwrap_or_default();
                values.push(Value::Null);
                prop.remove("type");
                prop.insert("enum".into(), Value::Array(values));
                continue;
            }
            for (k, v) in extra {
                prop.insert(k.clone(), v.clone());
            }
        }
    }
    for schema in CLOSED_BODIES {
        if let Some(s) = schemas.get_mut(*schema).and_then(Value::as_object_mut) {
            s.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    for (schema, field) in NULLABLE {
        if let Some(prop) = schemas
            .pointer_mut(&format!("/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut)
            && let Some(t) = prop.get("type").cloned().filter(Value::is_string)
        {
            prop.insert("type".into(), json!([t, "null"]));
        }
    }
}

fn complete_operation(path: &str, op: &mut Value) {
    let has_path_ids = path.contains('{');
    let has_body = op.get("requestBody").is_some();
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            let schema = match (p["name"].as_str(), p["in"].as_str()) {
                (Some("session_id"), Some("path")) => session_id(),
                (Some("name"), Some("path")) if path.contains("/assets/") => asset_name(),
                (Some("name"), Some("path")) => {
                    json!({"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9_.-]{1,100}$"})
                }
                (Some("job_id"), Some("path")) => {
                    json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]{1,64}$"})
                }
                _ => continue,
            };
            p["schema"] = schema;
        }
    }
    let error = json!({
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    });
    let responses = &mut op["responses"];
    if !responses.is_object() {
        *responses = json!({});
    }
    let common = common_statuses(has_path_ids, has_body);
    for (status, description) in &common {
        if responses.get(*status).is_none() {
            let mut r = error.clone();
            r["description"] = json!(description);
            responses[*status] = r;
        }
    }
    // Every response says what it means (OpenAPI requires it): a status a
    // route lists without words of its own means what it means everywhere.
    if let Some(responses) = responses.as_object_mut() {
        for (status, r) in responses.iter_mut() {
            if r.get("description").is_some() {
                continue;
            }
            let meaning = common
                .iter()
                .find(|(s, _)| s == status)
                .map(|(_, d)| *d)
                .or_else(|| status_meaning(status))
                .unwrap_or("See the error's code and message.");
            r["description"] = json!(meaning);
        }
    }
}

/// What a status means on any route, for those not among the common ones.
fn status_meaning(status: &str) -> Option<&'static str> {
    Some(match status {
        "400" => "An id in the path, or the body, is malformed.",
        "404" => "No such session (or it belongs to another key), asset, job or voice.",
        "409" => "Another change was saved first.",
        "413" => "The body is larger than the server accepts.",
        "415" => "The body is not of the media type the route takes.",
        "416" => "The range asked for lies outside the content.",
        "422" => "A field has a value the operation cannot accept; `field` names it.",
        "502" => "The provider the server calls failed.",
        "503" => "An engine the route needs is missing, or the server is busy.",
        "504" => "The provider did not answer in time.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_the_common_statuses_and_ids_are_constrained() {
        let doc = complete(crate::api::openapi_raw(), None);
        let list = &doc["paths"]["/api/v1/sessions"]["get"];
        let names: Vec<(&str, &str)> = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
            .collect();
        assert_eq!(names, vec![("limit", "query"), ("offset", "query")]);
        for status in ["401", "403", "429", "503"] {
            assert!(list["responses"][status].is_object(), "{status}");
        }
        let image = &doc["paths"]["/api/v1/sessions/{session_id}/image"]["post"];
        for status in ["400", "404", "413", "415", "422", "429"] {
            assert!(image["responses"][status].is_object(), "{status}");
        }
        assert_eq!(
            image["parameters"][0]["schema"]["pattern"],
            "^[A-Za-z0-9_-]{1,64}$"
        );
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default();
                assert!(ids.insert(id.to_owned()), "{method} {path}: {id} again");
                for (status, r) in op["responses"].as_object().unwrap() {
                    assert!(
                        r["description"].is_string(),
                        "{method} {path} {status} has no description"
                    );
                }
            }
        }
        assert!(ids.contains("createSession") && ids.contains("getAssetContent"));
        assert!(
            doc["paths"]["/api/v1/sessions"]["post"]
                .get("parameters")
                .is_none(),
            "no null is added where the document has nothing"
        );
        let params = &doc["components"]["schemas"]["ImageParams"];
        assert_eq!(params["properties"]["width"]["multipleOf"], 8);
        assert_eq!(params["properties"]["prompt"]["minLength"], 1);
        assert_eq!(params["additionalProperties"], false);
        let reply = &doc["components"]["schemas"]["AgentReply"]["properties"];
        assert_eq!(reply["result"]["type"], json!(["object", "null"]));
        assert!(
            doc["components"]["schemas"]["Message"]["properties"]["role"]["enum"]
                .as_array()
                .is_some()
        );
    }

    #[test]
    fn the_patterns_say_what_the_server_checks() {
        // The JSON-Schema patterns use \uXXXX; check the same sets in Rust terms.
        let translate = |p: &str| {
            let mut out = String::new();
            let mut rest = p;
            while let Some(i) = rest.find("\\u") {
                out.push_str(&rest[..i]);
                out.push_str(&format!("\\x{{{}}}", &rest[i + 2..i + 6]));
                rest = &rest[i + 6..];
            }
            out.push_str(rest);
            regex::Regex::new(&out).unwrap()
        };
        let not_blank = translate(NOT_BLANK);
        let no_control = translate(NO_CONTROL);
        assert!(not_blank.is_match("a cat\non a sofa\t"));
        assert!(!not_blank.is_match("   "));
        assert!(!not_blank.is_match("a\u{0}b"));
        assert!(!not_blank.is_match("a\u{85}b"));
        assert!(no_control.is_match(""));
        assert!(!no_control.is_match("\u{7f}"));
    }
}
