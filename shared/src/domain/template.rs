use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A message template as Meta returns it from `GET /{wabaId}/message_templates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplate {
    pub name: String,
    /// Meta's language code, e.g. `en_US`.
    pub language: String,
    /// Meta's review status: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, …
    pub status: String,
    pub category: String,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{first_name}}`); absent on older templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    /// Meta's `components` array, kept verbatim as JSON text.
    pub components: String,
    /// Meta's template id.
    pub id: String,
    /// e.g. `ORDER_DETAILS`, `CUSTOM`; Meta gives it for some categories only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_category: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_score: Option<String>,
    /// Why Meta rejected it (`NONE` when it did not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
    /// What a status webhook said about the last status change (a pause's explanation, a
    /// rejection's reason and recommendation, a disable date); cleared by the next sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The category Meta announced it will move the template to, and when (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impending_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impending_category_at: Option<i64>,
}

impl MessageTemplate {
    /// A template with only the fields every listing has; the optional ones empty.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        language: impl Into<String>,
        status: impl Into<String>,
        category: impl Into<String>,
        components: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            language: language.into(),
            status: status.into(),
            category: category.into(),
            parameter_format: None,
            components: components.into(),
            id: id.into(),
            sub_category: None,
            quality_score: None,
            rejected_reason: None,
            status_reason: None,
            impending_category: None,
            impending_category_at: None,
        }
    }

    /// The pair a template is known by in a send: name and language.
    pub fn key(&self) -> TemplateKey {
        TemplateKey::new(&self.name, &self.language)
    }

    pub fn is_approved(&self) -> bool {
        self.status == "APPROVED"
    }
}

/// The distinct `{{…}}` names in a text; a name is letters, digits and underscores.
pub(crate) fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            found.insert(name);
            rest = &after[close + 2..];
        } else {
            // Not a placeholder (e.g. `{{{1}}`): look again one character further.
            rest = &rest[open + 1..];
        }
    }
    found
}

/// Name and language: what a send names a template by, and what a sync matches on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateKey {
    pub name: String,
    /// Meta's code with an underscore (`en_US`); `en-US`, as some webhooks spell it, is read
    /// the same.
    pub language: String,
}

impl TemplateKey {
    pub fn new(name: &str, language: &str) -> Self {
        Self {
            name: name.to_owned(),
            language: language.replace('-', "_"),
        }
    }

    /// An opaque listing cursor that resumes after this key.
    pub fn to_cursor(&self) -> String {
        hex::encode(format!("{}\u{0}{}", self.name, self.language))
    }

    pub fn from_cursor(cursor: &str) -> Option<Self> {
        let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
        let (name, language) = text.split_once('\u{0}')?;
        Some(Self::new(name, language))
    }
}

/// What a bot's last sync left besides the templates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemplateSyncState {
    /// Unix seconds of the last sync; `None` when the bot's templates were never synced.
    pub synced_at: Option<i64>,
    /// How many templates Meta allows the business account (`summary.message_template_limit`).
    pub template_limit: Option<u64>,
}

/// A bot's templates as of the last sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSet {
    /// Ordered by name, then language.
    pub templates: Vec<MessageTemplate>,
    pub state: TemplateSyncState,
}

/// What one sync read from Meta.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSync {
    /// Of two with the same name and language, the last wins.
    pub templates: Vec<MessageTemplate>,
    pub synced_at: i64,
    pub template_limit: Option<u64>,
}

/// What a sync changed, compared with the set it replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSyncCounts {
    /// New (name, language) pairs.
    pub added: usize,
    /// Pairs that existed before with different content.
    pub updated: usize,
    /// Pairs that are gone from Meta.
    pub removed: usize,
    /// Pairs whose content is the same.
    pub unchanged: usize,
}

/// How one template differs between two sets; the store writes only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateDiff<'a> {
    Added(&'a MessageTemplate),
    Updated(&'a MessageTemplate),
    Removed(&'a MessageTemplate),
}

/// Compares the set a sync replaces with the new one: the changes, and the counts.
pub fn diff_templates<'a>(
    old: &'a [MessageTemplate],
    new: &'a [MessageTemplate],
) -> (Vec<TemplateDiff<'a>>, TemplateSyncCounts) {
    let old: BTreeMap<TemplateKey, &MessageTemplate> = old.iter().map(|t| (t.key(), t)).collect();
    let new: BTreeMap<TemplateKey, &MessageTemplate> = new.iter().map(|t| (t.key(), t)).collect();
    let mut changes = Vec::new();
    let mut counts = TemplateSyncCounts::default();
    for (key, template) in &new {
        match old.get(key) {
            None => {
                counts.added += 1;
                changes.push(TemplateDiff::Added(template));
            }
            Some(before) if before != template => {
                counts.updated += 1;
                changes.push(TemplateDiff::Updated(template));
            }
            Some(_) => counts.unchanged += 1,
        }
    }
    for (key, template) in &old {
        if !new.contains_key(key) {
            counts.removed += 1;
            changes.push(TemplateDiff::Removed(template));
        }
    }
    (changes, counts)
}

/// One page of a listing: filters, then at most `limit` templates after `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateQuery {
    pub status: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub after: Option<TemplateKey>,
    pub limit: usize,
}

impl TemplateQuery {
    /// Status, category and language compare without case; `name` is a substring.
    pub fn matches(&self, template: &MessageTemplate) -> bool {
        let same = |wanted: &Option<String>, value: &str| {
            wanted
                .as_deref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(value))
        };
        same(&self.status, &template.status)
            && same(&self.category, &template.category)
            && self.language.as_deref().is_none_or(|language| {
                language
                    .replace('-', "_")
                    .eq_ignore_ascii_case(&template.language)
            })
            && self
                .name
                .as_deref()
                .is_none_or(|name| template.name.contains(name))
    }
}

/// One page of a bot's templates, ordered by name then language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplatePage {
    pub templates: Vec<MessageTemplate>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TemplateKey>,
    pub state: TemplateSyncState,
}

/// Which template a webhook means: Meta's id when it gives one, else name and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    pub id: Option<String>,
    pub key: TemplateKey,
}

/// What a template webhook says changed; applied to the stored template at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateChange {
    /// `message_template_status_update`: the new status and what Meta said of it.
    Status {
        status: String,
        reason: Option<String>,
    },
    /// `message_template_quality_update`.
    Quality { score: String },
    /// `template_category_update` done: the template is in this category now.
    Category { category: String },
    /// `template_category_update` impending: Meta will move it at `at`.
    ImpendingCategory { category: String, at: Option<i64> },
    /// `message_template_components_update`: the parts Meta sends (body text, footer, buttons as
    /// Meta's list shape); what it does not send (the header) is left as it is.
    Components {
        body: Option<String>,
        footer: Option<String>,
        buttons: Option<serde_json::Value>,
    },
}

impl MessageTemplate {
    /// This template after `change`.
    pub fn apply(&mut self, change: &TemplateChange) {
        match change {
            TemplateChange::Status { status, reason } => {
                self.status = status.clone();
                self.status_reason = reason.clone();
            }
            TemplateChange::Quality { score } => self.quality_score = Some(score.clone()),
            TemplateChange::Category { category } => {
                self.category = category.clone();
                self.impending_category = None;
                self.impending_category_at = None;
            }
            TemplateChange::ImpendingCategory { category, at } => {
                self.impending_category = Some(category.clone());
                self.impending_category_at = *at;
            }
            TemplateChange::Components {
                body,
                footer,
                buttons,
            } => self.apply_components(body.as_deref(), footer.as_deref(), buttons.as_ref()),
        }
    }

    fn apply_components(
        &mut self,
        body: Option<&str>,
        footer: Option<&str>,
        buttons: Option<&serde_json::Value>,
    ) {
        use serde_json::{Value, json};
        let mut components: Vec<Value> = serde_json::from_str(&self.components).unwrap_or_default();
        let mut set = |kind: &str, replacement: Value| {
            let position = components.iter().position(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            });
            match position {
                Some(index) => components[index] = replacement,
                None => components.push(replacement),
            }
        };
        if let Some(text) = body {
            set("BODY", json!({"type": "BODY", "text": text}));
        }
        if let Some(text) = footer {
            set("FOOTER", json!({"type": "FOOTER", "text": text}));
        }
        if let Some(buttons) = buttons {
            set("BUTTONS", json!({"type": "BUTTONS", "buttons": buttons}));
        }
        // Meta's order: header, body, footer, buttons.
        let rank = |c: &Value| match c.get("type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("HEADER") => 0,
            Some(t) if t.eq_ignore_ascii_case("BODY") => 1,
            Some(t) if t.eq_ignore_ascii_case("FOOTER") => 2,
            Some(t) if t.eq_ignore_ascii_case("BUTTONS") => 3,
            _ => 4,
        };
        components.sort_by_key(rank);
        self.components = Value::Array(components).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_components(components: &str) -> MessageTemplate {
        MessageTemplate::new("1", "order_update", "en", "APPROVED", "UTILITY", components)
    }

    #[test]
    fn counts_distinct_body_placeholders() {
        let t = with_components(
            r#"[{"type":"HEADER","format":"TEXT","text":"Hi {{1}}"},
                {"type":"BODY","text":"Order {{1}} ships {{2}}; again {{1}}. {{ 3 }}"},
                {"type":"FOOTER","text":"{{9}}"}]"#,
        );
        assert_eq!(t.parameters().body.count(), 3);
        let named = with_components(
            r#"[{"type":"BODY","text":"Hi {{first_name}}, order {{order_id}} for {{first_name}}"}]"#,
        );
        assert_eq!(named.parameters().body.count(), 2);
    }

    #[test]
    fn no_body_or_no_placeholders_is_zero() {
        assert_eq!(with_components("[]").parameters().body.count(), 0);
        assert_eq!(with_components("not json").parameters().body.count(), 0);
        let plain = with_components(r#"[{"type":"BODY","text":"Thanks! {{}} {{ two words }}"}]"#);
        assert_eq!(plain.parameters().body.count(), 0);
        let braces = with_components(r#"[{"type":"BODY","text":"{{{1}}} and {{2}"}]"#);
        assert_eq!(braces.parameters().body.count(), 1);
    }

    #[test]
    fn sync_counts_compare_by_name_and_language() {
        let a = with_components("[]");
        let b = MessageTemplate {
            language: "es".into(),
            ..a.clone()
        };
        let c = MessageTemplate {
            name: "other".into(),
            ..a.clone()
        };
        let a2 = MessageTemplate {
            status: "PAUSED".into(),
            ..a.clone()
        };
        let (old, new) = ([a.clone(), b.clone()], [a2.clone(), c.clone()]);
        let (changes, counts) = diff_templates(&old, &new);
        assert_eq!(
            counts,
            TemplateSyncCounts {
                added: 1,
                updated: 1,
                removed: 1,
                unchanged: 0
            }
        );
        assert_eq!(
            changes,
            [
                TemplateDiff::Updated(&a2),
                TemplateDiff::Added(&c),
                TemplateDiff::Removed(&b)
            ]
        );
        let (changes, counts) = diff_templates(std::slice::from_ref(&a), std::slice::from_ref(&a));
        assert!(changes.is_empty());
        assert_eq!(counts.unchanged, 1);
    }

    #[test]
    fn cursor_round_trips_and_languages_read_with_either_separator() {
        let key = TemplateKey::new("order_update", "en-US");
        assert_eq!(key.language, "en_US");
        assert_eq!(TemplateKey::from_cursor(&key.to_cursor()), Some(key));
        assert_eq!(TemplateKey::from_cursor("zz"), None);
    }

    #[test]
    fn webhook_changes_apply_in_place() {
        let mut t = with_components(
            r#"[{"type":"HEADER","format":"TEXT","text":"Hi"},{"type":"BODY","text":"old {{1}}"}]"#,
        );
        t.apply(&TemplateChange::Status {
            status: "PAUSED".into(),
            reason: Some("FIRST_PAUSE".into()),
        });
        assert_eq!(
            (t.status.as_str(), t.status_reason.as_deref()),
            ("PAUSED", Some("FIRST_PAUSE"))
        );
        t.apply(&TemplateChange::Components {
            body: Some("new {{1}} {{2}}".into()),
            footer: Some("bye".into()),
            buttons: None,
        });
        assert_eq!(t.parameters().body.count(), 2);
        let components: serde_json::Value = serde_json::from_str(&t.components).unwrap();
        assert_eq!(components[0]["type"], "HEADER");
        assert_eq!(components[2]["text"], "bye");
        t.apply(&TemplateChange::ImpendingCategory {
            category: "MARKETING".into(),
            at: Some(5),
        });
        t.apply(&TemplateChange::Category {
            category: "MARKETING".into(),
        });
        assert_eq!(
            (t.category.as_str(), t.impending_category.as_deref()),
            ("MARKETING", None)
        );
    }
}
