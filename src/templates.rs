//! Templates: one design, many videos. A template is a compose body whose
//! strings may hold `{{field}}` placeholders (titles, overlay text, asset
//! names, prompts, spoken text), and the fields they stand for. Rendering
//! one merges a row of values into the body and composes it as a job, in a
//! session of its own unless one is named.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::compose::ComposeRequest;
use crate::compose::timeline::{OutputSpec, SavedTimeline};
use crate::error::{Error, Result};
use crate::ids::{AssetName, SessionId};
use crate::jobs::{BatchStarted, BatchView};
use crate::store::StoredTemplate;
use crate::studio::{ComposeJob, ComposeOutcome, Studio};
use crate::webhooks::Callback;

/// The longest placeholder name.
const NAME_CHARS: usize = 64;
/// The longest merged text value, characters.
const TEXT_CHARS: usize = 5000;

/// A field a template's placeholders stand for.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// `text` (default) or `asset` (the name of an asset of the session
    /// the template is rendered in).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "text")]
    pub kind: Option<String>,
    /// Text: the most characters a value may have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Asset: `image`, `audio` or `video`.
    #[serde(rename = "kind", skip_serializing_if = "Option::is_none")]
    pub asset_kind: Option<String>,
    /// Used when a render's `merge` leaves the field out (absent: required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `POST /templates` and `PUT /templates/{id}` body.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    #[schema(example = "Product clip")]
    pub name: String,
    pub description: Option<String>,
    /// A compose body (timeline, overlays, output, captions, music, brand)
    /// whose strings may hold `{{field}}` placeholders.
    #[schema(value_type = Object)]
    pub body: Value,
    /// Declared fields; placeholders used but not declared are text.
    pub fields: Option<BTreeMap<String, FieldSpec>>,
}

/// A template as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Template {
    pub template_id: String,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub body: Value,
    /// Every field: declared, and inferred from the placeholders.
    pub fields: BTreeMap<String, FieldSpec>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /templates/{id}/renders` body.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The fields' values: text, or an asset's name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub merge: Map<String, Value>,
    /// A batch: one render per row of values (instead of `merge`), each in
    /// a new session unless `session_id` names one for all.
    #[schema(value_type = Option<Vec<Object>>)]
    pub merges: Option<Vec<Map<String, Value>>>,
    /// Render in this session (its assets named by `asset` fields); absent:
    /// a new session.
    pub session_id: Option<String>,
    /// Several sizes, as in compose.
    pub outputs: Option<Vec<OutputSpec>>,
    pub callback: Option<Callback>,
}

/// A render started.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RenderStarted {
    pub template_id: String,
    /// The session the video is made in.
    pub session_id: String,
    pub job_id: String,
    pub status_url: String,
    pub events_url: String,
}

/// The placeholders of one string, in order: `{{ name }}`.
fn placeholders_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if is_name(name) {
            out.push(name);
        }
        rest = &after[close + 2..];
    }
    out
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= NAME_CHARS
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every placeholder of every string in `value`.
fn placeholders(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => out.extend(placeholders_in(s).into_iter().map(str::to_owned)),
        Value::Array(items) => items.iter().for_each(|v| placeholders(v, out)),
        Value::Object(map) => map.values().for_each(|v| placeholders(v, out)),
        _ => {}
    }
}

/// `value` with every placeholder replaced by its field's value.
fn substitute(value: &Value, values: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(open) = rest.find("{{") {
                let after = &rest[open + 2..];
                let Some(close) = after.find("}}") else { break };
                let name = after[..close].trim();
                out.push_str(&rest[..open]);
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[open..open + 2 + close + 2]),
                }
                rest = &after[close + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The body as a compose request; a mistake names its place in the body.
fn as_request(body: &Value, prefix: &str) -> Result<ComposeRequest> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            prefix.to_owned()
        } else {
            format!("{prefix}.{path}")
        };
        Error::invalid(field, e.inner().to_string())
    })
}

/// Checks a template: a compose body with sensible fields; answers its
/// fields, declared and inferred.
fn check(input: &TemplateInput) -> Result<BTreeMap<String, FieldSpec>> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "a name of 1–200 characters"));
    }
    if !input.body.is_object() {
        return Err(Error::invalid(
            "body",
            "the body is a compose request (an object)",
        ));
    }
    let mut fields = input.fields.clone().unwrap_or_default();
    for (name, spec) in &fields {
        let field = |f: &str| format!("fields.{name}{f}");
        if !is_name(name) {
            return Err(Error::invalid(
                field(""),
                "a field name is letters, digits and _, starting with a letter",
            ));
        }
        match (
            spec.kind.as_deref().unwrap_or("text"),
            spec.asset_kind.as_deref(),
        ) {
            ("text", None) => {}
            ("text", Some(_)) => {
                return Err(Error::invalid(
                    field(".kind"),
                    "only asset fields have a kind",
                ));
            }
            ("asset", None | Some("image" | "audio" | "video")) => {}
            ("asset", Some(other)) => {
                return Err(Error::invalid(
                    field(".kind"),
                    format!("{other:?} is not image, audio or video"),
                ));
            }
            (other, _) => {
                return Err(Error::invalid(
                    field(".type"),
                    format!("{other:?} is not text or asset"),
                ));
            }
        }
    }
    let mut used = BTreeSet::new();
    placeholders(&input.body, &mut used);
    for name in used {
        fields.entry(name).or_default();
    }
    // The shape of a compose request, every placeholder standing for a word.
    let sample: BTreeMap<String, String> =
        fields.keys().map(|k| (k.clone(), "x".to_owned())).collect();
    as_request(&substitute(&input.body, &sample), "body")?;
    Ok(fields)
}

/// The values of a render's `merge`, checked against the fields.
/// `prefix` names the row in errors: `merge`, or `merges[3]` in a batch.
fn merged_values(
    fields: &BTreeMap<String, FieldSpec>,
    merge: &Map<String, Value>,
    prefix: &str,
) -> Result<BTreeMap<String, String>> {
    if let Some(unknown) = merge.keys().find(|k| !fields.contains_key(*k)) {
        return Err(Error::invalid(
            format!("{prefix}.{unknown}"),
            format!(
                "the template has no field {unknown:?}; its fields: {}",
                fields.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut values = BTreeMap::new();
    for (name, spec) in fields {
        let field = format!("{prefix}.{name}");
        let value = match merge.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(Error::invalid(field, "a field's value is text")),
            None => match &spec.default {
                Some(d) => d.clone(),
                None => {
                    return Err(Error::invalid(
                        field,
                        format!("the template needs {name:?}"),
                    ));
                }
            },
        };
        let limit = spec.max_length.unwrap_or(TEXT_CHARS).min(TEXT_CHARS);
        if value.chars().count() > limit {
            return Err(Error::invalid(field, format!("at most {limit} characters")));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(field, "no control characters"));
        }
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// A batch's rows from CSV text: the header row names the fields, each
/// later row is one render; an empty cell leaves its field out (its
/// default applies). Errors name the line.
pub fn merges_from_csv(text: &str) -> Result<Vec<Map<String, Value>>> {
    let bad = |line: Option<u64>, message: String| {
        let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
        Error::invalid("body", format!("{at}{message}"))
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(Some(1), e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(bad(
            Some(1),
            "the first line names the fields, separated by commas".into(),
        ));
    }
    if let Some(name) = header.iter().find(|h| !is_name(h)) {
        return Err(bad(
            Some(1),
            format!("{name:?} is not a field name (letters, digits and _)"),
        ));
    }
    let mut merges = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.position().map(|p| p.line()), e.to_string()))?;
        let merge: Map<String, Value> = header
            .iter()
            .zip(record.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(name, cell)| (name.clone(), Value::String(cell.to_owned())))
            .collect();
        merges.push(merge);
    }
    Ok(merges)
}

fn view(t: StoredTemplate) -> Result<Template> {
    Ok(Template {
        template_id: t.id,
        name: t.name,
        description: t.description,
        body: t.body,
        fields: serde_json::from_value(t.fields)
            .map_err(|e| Error::Internal(format!("a stored template's fields: {e}")))?,
        created_at: t.created_at,
        updated_at: t.updated_at,
    })
}

/// The description [`Studio::template_from_timeline`] gives its templates:
/// how the templates made of a session's timeline are found again.
pub fn from_timeline_description(session: &SessionId) -> String {
    format!("From session {session}'s saved timeline")
}

/// The body a template of this saved timeline has (its options included,
/// unset ones left out).
pub fn timeline_body(saved: &SavedTimeline) -> Result<Value> {
    let mut body = serde_json::to_value(saved.to_request())
        .map_err(|e| Error::Internal(format!("cannot encode the timeline: {e}")))?;
    if let Some(map) = body.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    Ok(body)
}

/// Who may see which templates: a key its own (`owner`), an admin all.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub id: &'a str,
    pub admin: bool,
}

impl Owner<'_> {
    fn filter(&self) -> Option<&str> {
        (!self.admin).then_some(self.id)
    }
}

impl Studio {
    pub async fn create_template(
        &self,
        owner: Owner<'_>,
        input: &TemplateInput,
    ) -> Result<Template> {
        let fields = check(input)?;
        let stored = StoredTemplate {
            id: String::new(),
            owner: owner.id.to_owned(),
            name: input.name.trim().to_owned(),
            description: input.description.clone(),
            body: input.body.clone(),
            fields: json!(fields),
            created_at: String::new(),
            updated_at: String::new(),
        };
        view(self.store().put_template(&stored).await?)
    }

    pub async fn template(&self, owner: Owner<'_>, id: &str) -> Result<Template> {
        view(self.store().template(id, owner.filter()).await?)
    }

    pub async fn templates(&self, owner: Owner<'_>) -> Result<Vec<Template>> {
        self.store()
            .list_templates(owner.filter())
            .await?
            .into_iter()
            .map(view)
            .collect()
    }

    pub async fn replace_template(
        &self,
        owner: Owner<'_>,
        id: &str,
        input: &TemplateInput,
    ) -> Result<Template> {
        let old = self.store().template(id, owner.filter()).await?;
        let fields = check(input)?;
        let stored = StoredTemplate {
            name: input.name.trim().to_owned(),
            description: input.description.clone(),
            body: input.body.clone(),
            fields: json!(fields),
            ..old
        };
        view(self.store().put_template(&stored).await?)
    }

    pub async fn delete_template(&self, owner: Owner<'_>, id: &str) -> Result<()> {
        self.store().template(id, owner.filter()).await?;
        self.store().delete_template(id).await
    }

    /// A template from a session's saved timeline (its options included).
    pub async fn template_from_timeline(
        &self,
        owner: Owner<'_>,
        session: &SessionId,
        name: &str,
    ) -> Result<Template> {
        let saved = self.composer().saved_timeline(session, None).await?;
        if saved.timeline.is_empty() {
            return Err(Error::invalid(
                "timeline",
                "the session has no saved timeline to make a template of",
            ));
        }
        let input = TemplateInput {
            name: name.to_owned(),
            description: Some(from_timeline_description(session)),
            body: timeline_body(&saved)?,
            fields: None,
        };
        self.create_template(owner, &input).await
    }

    /// Merges a row into a template and queues its render: in the session
    /// named (which the caller has checked the asker may use), else a new
    /// one owned by the asker's key. Everything is checked before the
    /// session is made.
    pub async fn render_template(
        &self,
        owner: Owner<'_>,
        key: Option<&str>,
        id: &str,
        session: Option<SessionId>,
        render: &RenderRequest,
        asker: &str,
    ) -> Result<RenderStarted> {
        let template = self.template(owner, id).await?;
        let req = self
            .merged_request(&template, &render.merge, render, session.as_ref(), "merge")
            .await?;
        let session = match session {
            Some(s) => s,
            None => self.store().create_session_for(key).await?.session_id,
        };
        match self.compose(&session, &req, Some(asker)).await? {
            ComposeOutcome::Queued(job) => Ok(RenderStarted {
                template_id: template.template_id,
                session_id: session.to_string(),
                job_id: job.job_id,
                status_url: job.status_url,
                events_url: job.events_url,
            }),
            ComposeOutcome::Done(_) => Err(Error::Internal("a template render ran inline".into())),
        }
    }

    /// Renders a template once per row of `render.merges`, as a batch of
    /// jobs fed to the workers a few at a time. Every row is checked
    /// (errors name `merges[i].<field>`) before any session is made; each
    /// row's voice-overs and pictures are made by its job.
    pub async fn render_template_batch(
        &self,
        owner: Owner<'_>,
        key: Option<&str>,
        id: &str,
        session: Option<SessionId>,
        render: &RenderRequest,
        asker: &str,
    ) -> Result<BatchStarted> {
        let template = self.template(owner, id).await?;
        let merges = render.merges.as_deref().unwrap_or_default();
        let max = self.config().limits.max_batch_rows.max(1);
        if !render.merge.is_empty() {
            return Err(Error::invalid(
                "merge",
                "give merge (one render) or merges (a batch), not both",
            ));
        }
        if merges.is_empty() || merges.len() > max {
            return Err(Error::invalid(
                "merges",
                format!("a batch has 1 to {max} rows; this one has {}", merges.len()),
            ));
        }
        if let Some(callback) = &render.callback {
            self.check_callback(callback).await?;
        }
        let mut requests = Vec::with_capacity(merges.len());
        for (i, merge) in merges.iter().enumerate() {
            let prefix = format!("merges[{i}]");
            requests.push(
                self.merged_request(&template, merge, render, session.as_ref(), &prefix)
                    .await?,
            );
        }
        let mut rows = Vec::with_capacity(requests.len());
        for request in requests {
            let session = match &session {
                Some(s) => s.clone(),
                None => self.store().create_session_for(key).await?.session_id,
            };
            rows.push((
                session,
                ComposeJob {
                    request,
                    version: None,
                },
            ));
        }
        self.jobs()
            .submit_batch(
                owner.id,
                &template.template_id,
                &rows,
                render.callback.as_ref(),
                asker,
            )
            .await
    }

    /// A batch of the asker's (an admin's: anyone's).
    pub async fn batch(&self, owner: Owner<'_>, id: &str) -> Result<BatchView> {
        self.jobs().batch(id, owner.filter()).await
    }

    /// Cancels what has not finished of a batch.
    pub async fn cancel_batch(&self, owner: Owner<'_>, id: &str) -> Result<BatchView> {
        self.jobs().cancel_batch(id, owner.filter()).await
    }

    /// One row merged into the template: the compose request it makes,
    /// with the render's outputs and callback, to run as a job. Asset
    /// fields are checked against `session`; without one there are none.
    async fn merged_request(
        &self,
        template: &Template,
        merge: &Map<String, Value>,
        render: &RenderRequest,
        session: Option<&SessionId>,
        prefix: &str,
    ) -> Result<ComposeRequest> {
        let values = merged_values(&template.fields, merge, prefix)?;
        let mut req = as_request(&substitute(&template.body, &values), "body")?;
        if render.outputs.is_some() {
            req.outputs = render.outputs.clone();
            req.output = None;
        }
        req.callback = render.callback.clone();
        req.run_async = Some(true);
        if let Some(session) = session {
            self.check_asset_fields(&template.fields, &values, session, prefix)
                .await?;
        } else if let Some((name, _)) = template
            .fields
            .iter()
            .find(|(_, f)| f.kind.as_deref() == Some("asset"))
        {
            return Err(Error::invalid(
                "session_id",
                format!("the field {name:?} names an asset: render in the session that has it"),
            ));
        }
        Ok(req)
    }

    /// Asset fields name assets of the right kind in `session`.
    async fn check_asset_fields(
        &self,
        fields: &BTreeMap<String, FieldSpec>,
        values: &BTreeMap<String, String>,
        session: &SessionId,
        prefix: &str,
    ) -> Result<()> {
        for (name, spec) in fields
            .iter()
            .filter(|(_, f)| f.kind.as_deref() == Some("asset"))
        {
            let field = format!("{prefix}.{name}");
            let value = &values[name];
            let asset = match AssetName::parse(value) {
                Ok(n) => self.store().asset(session, &n).await.ok(),
                Err(_) => None,
            }
            .ok_or_else(|| {
                Error::invalid(&field, format!("the session has no asset named {value:?}"))
            })?;
            if let Some(kind) = &spec.asset_kind
                && asset.kind.as_str() != kind
            {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{value} is a {} asset; the field takes a {kind}",
                        asset.kind
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_replaced_in_every_string() {
        let body = json!({"timeline": [{"generate": {"type": "audio", "text": "Welcome to {{ city }}!"}},
                                        {"asset_id": "{{photo}}"}],
                          "overlays": [{"text": "{{city}} in {{year}}", "subtitle": "{{ not a name }}"}]});
        let mut found = BTreeSet::new();
        placeholders(&body, &mut found);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["city", "photo", "year"]
        );
        let values = BTreeMap::from([
            ("city".to_owned(), "Lisbon".to_owned()),
            ("photo".to_owned(), "image_1.png".to_owned()),
            ("year".to_owned(), "2026".to_owned()),
        ]);
        let merged = substitute(&body, &values);
        assert_eq!(
            merged["timeline"][0]["generate"]["text"],
            "Welcome to Lisbon!"
        );
        assert_eq!(merged["timeline"][1]["asset_id"], "image_1.png");
        assert_eq!(merged["overlays"][0]["text"], "Lisbon in 2026");
        assert_eq!(merged["overlays"][0]["subtitle"], "{{ not a name }}");
    }

    #[test]
    fn merges_name_the_field_that_is_wrong() {
        let fields = BTreeMap::from([
            (
                "headline".to_owned(),
                FieldSpec {
                    max_length: Some(5),
                    ..Default::default()
                },
            ),
            (
                "city".to_owned(),
                FieldSpec {
                    default: Some("Paris".into()),
                    ..Default::default()
                },
            ),
        ]);
        let field = |merge: Value| match merged_values(&fields, merge.as_object().unwrap(), "merge")
        {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({})), "merge.headline");
        assert_eq!(field(json!({"headline": "too long"})), "merge.headline");
        assert_eq!(field(json!({"headline": "ok", "town": "x"})), "merge.town");
        assert_eq!(field(json!({"headline": ["x"]})), "merge.headline");
        let values = merged_values(
            &fields,
            json!({"headline": 42}).as_object().unwrap(),
            "merge",
        )
        .unwrap();
        assert_eq!(
            (values["headline"].as_str(), values["city"].as_str()),
            ("42", "Paris")
        );
    }

    #[test]
    fn csv_rows_are_merges_named_by_the_header() {
        let merges =
            merges_from_csv("city, title\nLisbon,\"Hello, Lisbon\"\nOslo,\n\"Rome\",Ciao\n")
                .unwrap();
        assert_eq!(merges.len(), 3);
        assert_eq!(merges[0]["title"], "Hello, Lisbon");
        assert_eq!(merges[1]["city"], "Oslo");
        assert!(
            !merges[1].contains_key("title"),
            "an empty cell is left out"
        );
        assert_eq!(merges[2]["city"], "Rome");
        let message = |text: &str| match merges_from_csv(text) {
            Err(Error::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(message("city,my title\nx,y\n").contains("\"my title\""));
        assert!(message("city,title\nx,y,z\n").contains("line 2"));
        assert!(message("").contains("first line"));
    }

    #[test]
    fn a_template_body_is_a_compose_request() {
        let input = |body: Value| TemplateInput {
            name: "t".into(),
            description: None,
            body,
            fields: None,
        };
        let field = |body: Value| match check(&input(body)) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"timline": []})), "body.timline");
        assert_eq!(
            field(json!({"timeline": [{"asset_id": "{{a}}", "duraton": 2}]})),
            "body.timeline[0].duraton"
        );
        let fields = check(&input(
            json!({"timeline": [{"asset_id": "{{photo}}", "duration": 2}]}),
        ))
        .unwrap();
        assert!(fields.contains_key("photo"));
    }
}
