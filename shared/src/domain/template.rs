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
}

/// Only what placeholder counting needs from a component.
#[derive(Deserialize)]
struct Component {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

impl MessageTemplate {
    pub fn is_approved(&self) -> bool {
        self.status == "APPROVED"
    }

    /// How many distinct parameters the BODY text asks for: `{{1}}` … or `{{name}}`, each
    /// counted once however often it appears. 0 when there is no body or `components` is not
    /// the array Meta sends.
    pub fn body_placeholder_count(&self) -> usize {
        let Ok(components) = serde_json::from_str::<Vec<Component>>(&self.components) else {
            return 0;
        };
        components
            .iter()
            .find(|c| c.kind.eq_ignore_ascii_case("BODY"))
            .and_then(|c| c.text.as_deref())
            .map_or(0, |text| placeholders(text).len())
    }
}

/// The distinct `{{…}}` names in a text; a name is letters, digits and underscores.
fn placeholders(text: &str) -> BTreeSet<&str> {
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

/// A bot's templates as of the last sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSet {
    /// Ordered by name, then language.
    pub templates: Vec<MessageTemplate>,
    /// Unix seconds of the last sync; `None` when the bot's templates were never synced.
    pub synced_at: Option<i64>,
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
}

impl TemplateSyncCounts {
    /// Compares the set a sync replaces with the new one; templates are identified by name and
    /// language.
    pub fn between(old: &[MessageTemplate], new: &[MessageTemplate]) -> Self {
        let key = |t: &MessageTemplate| (t.name.clone(), t.language.clone());
        let old: BTreeMap<_, _> = old.iter().map(|t| (key(t), t)).collect();
        let new: BTreeMap<_, _> = new.iter().map(|t| (key(t), t)).collect();
        let mut counts = Self {
            removed: old.keys().filter(|k| !new.contains_key(*k)).count(),
            ..Self::default()
        };
        for (k, template) in &new {
            match old.get(k) {
                None => counts.added += 1,
                Some(before) if before != template => counts.updated += 1,
                Some(_) => {}
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_components(components: &str) -> MessageTemplate {
        MessageTemplate {
            name: "order_update".into(),
            language: "en".into(),
            status: "APPROVED".into(),
            category: "UTILITY".into(),
            parameter_format: None,
            components: components.into(),
            id: "1".into(),
        }
    }

    #[test]
    fn counts_distinct_body_placeholders() {
        let t = with_components(
            r#"[{"type":"HEADER","format":"TEXT","text":"Hi {{1}}"},
                {"type":"BODY","text":"Order {{1}} ships {{2}}; again {{1}}. {{ 3 }}"},
                {"type":"FOOTER","text":"{{9}}"}]"#,
        );
        assert_eq!(t.body_placeholder_count(), 3);
        let named = with_components(
            r#"[{"type":"BODY","text":"Hi {{first_name}}, order {{order_id}} for {{first_name}}"}]"#,
        );
        assert_eq!(named.body_placeholder_count(), 2);
    }

    #[test]
    fn no_body_or_no_placeholders_is_zero() {
        assert_eq!(with_components("[]").body_placeholder_count(), 0);
        assert_eq!(with_components("not json").body_placeholder_count(), 0);
        let plain = with_components(r#"[{"type":"BODY","text":"Thanks! {{}} {{ two words }}"}]"#);
        assert_eq!(plain.body_placeholder_count(), 0);
        let braces = with_components(r#"[{"type":"BODY","text":"{{{1}}} and {{2}"}]"#);
        assert_eq!(braces.body_placeholder_count(), 1);
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
        let counts = TemplateSyncCounts::between(&[a.clone(), b.clone()], &[a2, c]);
        assert_eq!(
            counts,
            TemplateSyncCounts {
                added: 1,
                updated: 1,
                removed: 1
            }
        );
        assert_eq!(
            TemplateSyncCounts::between(std::slice::from_ref(&a), std::slice::from_ref(&a)),
            TemplateSyncCounts::default()
        );
    }
}
