//! `template`: a name and a language code; the components go to Meta as given, and are checked
//! against the synced template elsewhere (`template_checks`).

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{MessageContent, Template, TemplateComponent, TemplateLanguage};

use super::ValidationError;

/// WhatsApp's documented limit, in characters.
const MAX_TEMPLATE_NAME: usize = 512;

/// The message, from the request's `template` (or its `content`).
pub(super) fn content(content: Option<Value>) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "a language code like \"en_US\" or {\"code\": \"en_US\"}")]
    #[serde(untagged)]
    enum LanguageInput {
        Code(String),
        Object { code: String },
    }

    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct TemplateInput {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        language: Option<LanguageInput>,
        #[serde(default)]
        components: Vec<TemplateComponent>,
    }

    let content = content.ok_or_else(|| {
        ValidationError::new(
            "missing_template",
            r#"template is required for type template: {"name": "order_update", "language": "en"}"#,
        )
    })?;
    let input: TemplateInput = serde_json::from_value(content).map_err(|e| {
        ValidationError::new(
            "invalid_template",
            format!(
                r#"template must look like {{"name": "order_update", "language": "en", "components": [...]}} with Meta's components: {e}"#
            ),
        )
    })?;

    let name = input.name.unwrap_or_default();
    let valid_name = (1..=MAX_TEMPLATE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_name {
        return Err(ValidationError::new(
            "invalid_template_name",
            format!(
                "template.name must be the template's name: lowercase letters, digits and _ (1 to {MAX_TEMPLATE_NAME}), got {name:?}"
            ),
        ));
    }

    let code = match input.language {
        Some(LanguageInput::Code(code) | LanguageInput::Object { code }) => code,
        None => String::new(),
    };
    if !is_language_code(&code) {
        return Err(ValidationError::new(
            "invalid_template_language",
            format!(
                "template.language must be a language code such as \"en\" or \"en_US\", got {code:?}"
            ),
        ));
    }

    Ok(MessageContent::Template {
        template: Template {
            name,
            language: TemplateLanguage { code },
            components: input.components,
        },
    })
}

/// `en`, `fil`, `en_US`, `pt_BR`: Meta's template language codes.
fn is_language_code(code: &str) -> bool {
    let (language, region) = match code.split_once('_') {
        Some((language, region)) => (language, Some(region)),
        None => (code, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::test_support::*;

    #[test]
    fn template() {
        let components = json!([
            {"type": "header", "parameters": [
                {"type": "image", "image": {"link": "https://example.com/h.png"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ada"},
                {"type": "currency", "currency": {"fallback_value": "$10", "code": "USD", "amount_1000": 10000}},
            ]},
            {"type": "button", "sub_type": "url", "index": "0",
             "parameters": [{"type": "text", "text": "42"}]},
        ]);
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "template", "template": {
                    "name": "order_update", "language": "en", "components": components}}),
                envelope(
                    "template",
                    json!({"name": "order_update", "language": {"code": "en"},
                           "components": components}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
                envelope(
                    "template",
                    json!({"name": "hello_world", "language": {"code": "en_US"}}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "content": {"name": "hello_world", "language": {"code": "en_US", "policy": "deterministic"}}}),
                envelope(
                    "template",
                    json!({"name": "hello_world", "language": {"code": "en_US"}}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "template": {"name": "promo_2", "language": "fil", "components": []}}),
                envelope(
                    "template",
                    json!({"name": "promo_2", "language": {"code": "fil"}}),
                ),
            ),
        ]);
    }

    #[test]
    fn template_rules() {
        let to = "15551234567";
        let template = |t: Value| json!({"to": to, "type": "template", "template": t});
        assert_refused(vec![
            ("missing_template", json!({"to": to, "type": "template"})),
            ("invalid_template", template(json!("order_update"))),
            (
                "invalid_template",
                template(json!({"name": "a", "language": "en", "components": {}})),
            ),
            (
                "invalid_template",
                template(
                    json!({"name": "a", "language": "en", "components": [{"parameters": []}]}),
                ),
            ),
            (
                "invalid_template",
                template(json!({"name": "a", "language": "en", "lang": "en"})),
            ),
            ("invalid_template_name", template(json!({"language": "en"}))),
            (
                "invalid_template_name",
                template(json!({"name": "", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": "Order Update", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": "order-update", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": chars(513), "language": "en"})),
            ),
            ("invalid_template_language", template(json!({"name": "a"}))),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "english"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "en-US"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "en_us"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": {"code": "EN"}})),
            ),
        ]);
        assert!(send(template(json!({"name": chars(512), "language": "en"}))).is_ok());
    }
}
