//! The coordinator's template tools: `save_template` makes a template of
//! the session's saved timeline (its `{{field}}` placeholders become the
//! template's fields), `render_for_each` renders this session's template
//! once per value ("make this for each of these cities: Lisbon, Oslo,
//! Rome") as a batch. What they cannot do — nothing saved yet, no field to
//! vary, no values — they answer in plain words with `"done": false`.
//!
//! Templates belong to the asker's key (`""` on a server without keys),
//! which the caller passes down explicitly.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::Caller;
use crate::compose::SavedTimeline;
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::studio::Studio;
use crate::templates::{Owner, RenderRequest, Template, from_timeline_description, timeline_body};

/// The most values one request renders.
pub const MAX_VALUES: usize = 50;

/// The longest template name.
const NAME_CHARS: usize = 200;

/// Arguments of `save_template`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct SaveTemplateParams {
    /// The template's name (absent: "Template from <session>").
    pub name: Option<String>,
}

/// Arguments of `render_for_each`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct RenderForEachParams {
    /// One video per value, e.g. `["Lisbon", "Oslo", "Rome"]` (at most 50).
    #[serde(default)]
    pub values: Vec<String>,
    /// The template field the values fill (`city` for "each of these
    /// cities"); absent or unknown: the template's only field.
    pub field: Option<String>,
}

/// What a tool says when it did nothing.
fn answer(reason: &str, message: impl Into<String>) -> Value {
    json!({"done": false, "reason": reason, "message": message.into()})
}

fn owner<'a>(caller: &Caller<'a>) -> Owner<'a> {
    Owner {
        id: caller.key.unwrap_or_default(),
        admin: false,
    }
}

/// The session's saved timeline, if it has items.
async fn saved_timeline(studio: &Studio, session: &SessionId) -> Result<Option<SavedTimeline>> {
    match studio.composer().saved_timeline(session, None).await {
        Ok(saved) if !saved.timeline.is_empty() => Ok(Some(saved)),
        Ok(_) | Err(Error::UnknownSession(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn no_timeline(what: &str) -> Value {
    answer(
        "no_timeline",
        format!(
            "There is no saved timeline yet to {what}: make a video first (\"make a video from this text: …\" saves its timeline, or lay out the scenes in the editor), then ask me again."
        ),
    )
}

fn default_name(session: &SessionId) -> String {
    format!("Template from {session}")
}

fn field_list(template: &Template) -> String {
    template
        .fields
        .keys()
        .map(|f| format!("{{{{{f}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `save_template`: a template of the saved timeline.
pub async fn save_template(
    studio: &Studio,
    session: &SessionId,
    p: &SaveTemplateParams,
    caller: Caller<'_>,
) -> Result<Value> {
    if saved_timeline(studio, session).await?.is_none() {
        return Ok(no_timeline("make a template of"));
    }
    let name = p
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| default_name(session), str::to_owned);
    let name: String = name.chars().take(NAME_CHARS).collect();
    match studio
        .template_from_timeline(owner(&caller), session, &name)
        .await
    {
        Ok(template) => Ok(json!({
            "done": true,
            "template_id": template.template_id,
            "name": template.name,
            "fields": template.fields.keys().collect::<Vec<_>>(),
            "template": template,
        })),
        Err(Error::Invalid { field, message }) => Ok(answer(
            "not_saved",
            format!("I could not make the template: {field} {message}."),
        )),
        Err(e) => Err(e),
    }
}

/// The newest template made of this session's timeline that still matches
/// it; else a new one made now (`true`).
async fn template_for(
    studio: &Studio,
    session: &SessionId,
    saved: Option<&SavedTimeline>,
    owner: Owner<'_>,
) -> Result<Option<(Template, bool)>> {
    let description = from_timeline_description(session);
    let newest = studio
        .templates(owner)
        .await?
        .into_iter()
        .find(|t| t.description.as_deref() == Some(description.as_str()));
    let Some(saved) = saved else {
        // Nothing saved now: the template made earlier still renders.
        return Ok(newest.map(|t| (t, false)));
    };
    let body = timeline_body(saved)?;
    if let Some(t) = newest.filter(|t| t.body == body) {
        return Ok(Some((t, false)));
    }
    let made = studio
        .template_from_timeline(owner, session, &default_name(session))
        .await?;
    Ok(Some((made, true)))
}

/// The template field a request's noun names ("city"), else its only field.
fn field_to_vary(template: &Template, named: Option<&str>) -> Option<String> {
    let named = named.map(|n| n.trim().to_lowercase().replace([' ', '-'], "_"));
    if let Some(n) = named.as_deref()
        && let Some(f) = template.fields.keys().find(|f| f.to_lowercase() == n)
    {
        return Some(f.clone());
    }
    let mut fields = template.fields.keys();
    match (fields.next(), fields.next()) {
        (Some(only), None) => Some(only.clone()),
        _ => None,
    }
}

/// The values, trimmed, without blanks and repeats.
fn clean_values(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if !v.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.to_owned());
        }
    }
    out
}

/// `render_for_each`: a batch of this session's template, one video per value.
pub async fn render_for_each(
    studio: &Studio,
    session: &SessionId,
    p: &RenderForEachParams,
    caller: Caller<'_>,
) -> Result<Value> {
    let noun = p.field.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let example_field = noun.unwrap_or("city");
    let values = clean_values(&p.values);
    let max = MAX_VALUES.min(studio.config().limits.max_batch_rows.max(1));
    if let Some(refusal) = values_refusal(&values, max, example_field) {
        return Ok(refusal);
    }
    let owner = owner(&caller);
    let saved = saved_timeline(studio, session).await?;
    let Some((template, made)) = template_for(studio, session, saved.as_ref(), owner).await? else {
        return Ok(no_timeline("make again for each"));
    };
    let Some(field) = field_to_vary(&template, noun) else {
        return Ok(no_field(&template, example_field));
    };
    start_batch(studio, session, caller, (&template, made), field, values).await
}

/// The answer when the values are none, or more than `max`.
fn values_refusal(values: &[String], max: usize, example_field: &str) -> Option<Value> {
    if values.is_empty() {
        return Some(answer(
            "no_values",
            format!(
                "Which ones should I make it for? Name them, e.g. \"make this for each of these {}: Lisbon, Oslo, Rome\".",
                plural(example_field)
            ),
        ));
    }
    if values.len() > max {
        return Some(answer(
            "too_many",
            format!(
                "That is {} videos; I make at most {max} at a time: ask for the first {max}, then the rest.",
                values.len()
            ),
        ));
    }
    None
}

/// The answer when no field of the template is the one to vary: none is
/// marked yet, or several are and the request names none of them.
fn no_field(template: &Template, example_field: &str) -> Value {
    let message = if template.fields.is_empty() {
        format!(
            "This video has no word marked to change yet: put {{{{{example_field}}}}} where the {example_field}'s name goes in a title or a voice-over text (e.g. \"Welcome to {{{{{example_field}}}}}\"), save the timeline, and ask me again."
        )
    } else {
        format!(
            "The template has several fields ({}): say which one to change, e.g. \"make this for each of these {}: …\".",
            field_list(template),
            plural(template.fields.keys().next().map_or("city", String::as_str))
        )
    };
    json!({
        "done": false,
        "reason": "no_field",
        "message": message,
        "template_id": template.template_id,
        "fields": template.fields.keys().collect::<Vec<_>>(),
    })
}

/// Starts the batch: one row per value of `field`, in this session when the
/// template names its assets; a refusal of the rows is an answer, not an error.
async fn start_batch(
    studio: &Studio,
    session: &SessionId,
    caller: Caller<'_>,
    (template, made): (&Template, bool),
    field: String,
    values: Vec<String>,
) -> Result<Value> {
    let rows: Vec<Map<String, Value>> = values
        .iter()
        .map(|v| Map::from_iter([(field.clone(), json!(v))]))
        .collect();
    let render = RenderRequest {
        merges: Some(rows),
        ..Default::default()
    };
    let asker = caller.asker.unwrap_or("cli");
    // A timeline of uploads names this session's assets: its videos can
    // only be made here. Otherwise each gets a session of its own.
    let here = names_assets(&template.body).then(|| session.clone());
    match studio
        .render_template_batch(
            owner(&caller),
            caller.key,
            &template.template_id,
            here.clone(),
            &render,
            asker,
        )
        .await
    {
        Ok(batch) => Ok(json!({
            "done": true,
            "template_id": template.template_id,
            "template_made": made,
            "field": field,
            "values": values,
            "session_id": here.map(|s| s.to_string()),
            "batch_id": batch.batch_id,
            "status_url": batch.status_url,
            "batch": batch,
        })),
        Err(Error::Invalid { field, message }) => Ok(answer(
            "not_started",
            format!("I could not start the videos: {field} {message}."),
        )),
        Err(e) => Err(e),
    }
}

/// Whether a template body names an asset (not a `{{field}}` for one).
fn names_assets(body: &Value) -> bool {
    match body {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (k == "asset_id" && v.as_str().is_some_and(|a| !a.contains("{{"))) || names_assets(v)
        }),
        Value::Array(items) => items.iter().any(names_assets),
        _ => false,
    }
}

/// "city" → "cities", for the examples in answers.
fn plural(noun: &str) -> String {
    if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// The sentence for the user.
pub fn summary(tool: &str, result: &Value) -> String {
    if result["done"] != true {
        return result["message"]
            .as_str()
            .unwrap_or("I did not make anything.")
            .to_owned();
    }
    let str_of = |k: &str| result[k].as_str().unwrap_or_default().to_owned();
    let names = |k: &str| -> Vec<String> {
        result[k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    match tool {
        "save_template" => {
            let fields = names("fields");
            let (name, id) = (str_of("name"), str_of("template_id"));
            if fields.is_empty() {
                format!(
                    "I saved this video as the template \"{name}\" ({id}). It has no fields yet: put {{{{city}}}} where a word should change in a title or a voice-over text, then save it again."
                )
            } else {
                let marked: Vec<String> = fields.iter().map(|f| format!("{{{{{f}}}}}")).collect();
                format!(
                    "I saved this video as the template \"{name}\" ({id}) with the field{} {}. Say \"make this for each of these {}: …\" to make one video per value.",
                    if fields.len() == 1 { "" } else { "s" },
                    marked.join(", "),
                    plural(&fields[0])
                )
            }
        }
        _ => {
            let values = names("values");
            let n = values.len();
            format!(
                "Making {n} video{}, one for each {}: {}. Follow them at {}",
                if n == 1 { "" } else { "s" },
                str_of("field"),
                values.join(", "),
                str_of("status_url")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn template(fields: &[&str]) -> Template {
        Template {
            template_id: "tpl_1".into(),
            name: "t".into(),
            description: None,
            body: json!({}),
            fields: fields
                .iter()
                .map(|f| ((*f).to_owned(), Default::default()))
                .collect::<BTreeMap<_, _>>(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn the_field_is_the_one_named_else_the_only_one() {
        let one = template(&["city"]);
        assert_eq!(field_to_vary(&one, Some("city")).as_deref(), Some("city"));
        assert_eq!(field_to_vary(&one, None).as_deref(), Some("city"));
        assert_eq!(
            field_to_vary(&one, Some("product")).as_deref(),
            Some("city")
        );
        let two = template(&["city", "product"]);
        assert_eq!(
            field_to_vary(&two, Some("Product")).as_deref(),
            Some("product")
        );
        assert_eq!(field_to_vary(&two, None), None);
        assert_eq!(field_to_vary(&template(&[]), Some("city")), None);
    }

    #[test]
    fn a_body_of_uploads_names_assets() {
        assert!(names_assets(
            &json!({"timeline": [{"asset_id": "image_1.png", "text": "{{city}}"}]})
        ));
        assert!(names_assets(
            &json!({"timeline": [{"generate": {"type": "image"}}], "music": {"asset_id": "audio_2.mp3"}})
        ));
        assert!(!names_assets(
            &json!({"timeline": [{"generate": {"type": "image", "prompt": "{{city}}"}}, {"asset_id": "{{photo}}"}]})
        ));
    }

    #[test]
    fn values_are_trimmed_once_each() {
        let v: Vec<String> = [" Lisbon", "", "Oslo ", "lisbon", "Rome"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(clean_values(&v), ["Lisbon", "Oslo", "Rome"]);
    }

    #[test]
    fn plurals_for_the_examples() {
        assert_eq!(plural("city"), "cities");
        assert_eq!(plural("product"), "products");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("box"), "boxes");
    }

    #[test]
    fn summaries_name_the_template_and_the_batch() {
        let saved =
            json!({"done": true, "name": "City clip", "template_id": "tpl_9", "fields": ["city"]});
        let s = summary("save_template", &saved);
        assert!(
            s.contains("\"City clip\" (tpl_9)") && s.contains("{{city}}"),
            "{s}"
        );
        let batch = json!({"done": true, "field": "city", "values": ["Lisbon", "Oslo", "Rome"],
                           "status_url": "/api/v1/batches/batch_1"});
        assert_eq!(
            summary("render_for_each", &batch),
            "Making 3 videos, one for each city: Lisbon, Oslo, Rome. Follow them at /api/v1/batches/batch_1"
        );
        let no = json!({"done": false, "message": "put {{city}} somewhere"});
        assert_eq!(summary("render_for_each", &no), "put {{city}} somewhere");
    }
}
