//! Message templates: the defaults every WABA starts with, `GET /{wabaId}/message_templates`
//! paging, and the checks a template message meets before it is accepted.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::ids;

/// Meta's default page size for `message_templates`.
pub const DEFAULT_PAGE_SIZE: usize = 25;

/// The templates a WABA starts with: `hello_world` (en_US, APPROVED, no parameters),
/// `order_update` (en, APPROVED, body `Hi {{1}}, your order {{2}} is {{3}}.`),
/// `appointment_reminder` (en, APPROVED, NAMED parameters `customer_name` and `date`),
/// `seasonal_promo` (en, PENDING) and `account_notice` (en, REJECTED).
pub fn default_templates() -> Vec<Value> {
    vec![
        json!({
            "name": "hello_world",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}
            ],
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "1000000000000001"
        }),
        json!({
            "name": "order_update",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is {{3}}.",
                 "example": {"body_text": [["Sam", "#1234", "on its way"]]}}
            ],
            "language": "en",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "1000000000000002"
        }),
        json!({
            "name": "appointment_reminder",
            "parameter_format": "NAMED",
            "components": [
                {"type": "BODY", "text": "Hi {{customer_name}}, this is a reminder of your appointment on {{date}}.",
                 "example": {"body_text_named_params": [
                     {"param_name": "customer_name", "example": "Sam"},
                     {"param_name": "date", "example": "May 4"}
                 ]}},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Reschedule"}]}
            ],
            "language": "en",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "1000000000000003"
        }),
        json!({
            "name": "seasonal_promo",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "BODY", "text": "Our {{1}} sale starts today: {{2}} off everything!",
                 "example": {"body_text": [["summer", "20%"]]}}
            ],
            "language": "en",
            "status": "PENDING",
            "category": "MARKETING",
            "id": "1000000000000004"
        }),
        json!({
            "name": "account_notice",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "BODY", "text": "Your account needs attention. Reply now!"}
            ],
            "language": "en",
            "status": "REJECTED",
            "category": "UTILITY",
            "rejected_reason": "INVALID_FORMAT",
            "id": "1000000000000005"
        }),
    ]
}

/// Gives every template without a string `id` a fresh numeric one.
pub(crate) fn assign_ids(templates: &mut [Value]) {
    for template in templates {
        if let Some(object) = template.as_object_mut()
            && !object.get("id").is_some_and(Value::is_string)
        {
            object.insert("id".to_owned(), Value::String(ids::numeric_id()));
        }
    }
}

/// The query of `GET /{wabaId}/message_templates` that the simulator honours.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct TemplateQuery {
    pub limit: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub fields: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
}

/// One page of templates, before its URLs are made absolute.
#[derive(Debug)]
pub(crate) struct TemplatePage {
    pub data: Vec<Value>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub has_next: bool,
    pub has_previous: bool,
    pub limit: usize,
}

/// The answer body: Meta's `{"data":[…],"paging":{"cursors":{…},"next"?,"previous"?}}`.
#[derive(Debug, Serialize)]
pub(crate) struct TemplateList {
    pub data: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Paging {
    pub cursors: Cursors,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Cursors {
    pub before: String,
    pub after: String,
}

fn cursor(index: usize) -> String {
    ids::encode_url_safe(format!("tpl:{index}").as_bytes())
}

fn decode_cursor(cursor: &str, parameter: &str) -> Result<usize, GraphError> {
    ids::decode_url_safe(cursor)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix("tpl:")
                .and_then(|index| index.parse().ok())
        })
        .ok_or_else(|| {
            GraphError::invalid_parameter(format!("Param {parameter} is not a valid cursor"))
        })
}

/// The page `query` asks for, out of `templates` (the WABA's whole set, in order).
pub(crate) fn page(templates: &[Value], query: &TemplateQuery) -> Result<TemplatePage, GraphError> {
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(limit) => limit,
            Err(_) => {
                return Err(GraphError::invalid_parameter(
                    "Param limit must be a positive integer",
                ));
            }
        },
    };
    let matching: Vec<&Value> = templates
        .iter()
        .filter(|template| {
            query.status.as_deref().is_none_or(|status| {
                status
                    .split(',')
                    .any(|wanted| field(template, "status").eq_ignore_ascii_case(wanted.trim()))
            })
        })
        .filter(|template| {
            query
                .name
                .as_deref()
                .is_none_or(|name| field(template, "name").contains(name))
        })
        .collect();
    let (start, end) = match (query.after.as_deref(), query.before.as_deref()) {
        (Some(after), _) => {
            let start = (decode_cursor(after, "after")? + 1).min(matching.len());
            (start, (start + limit).min(matching.len()))
        }
        (None, Some(before)) => {
            let end = decode_cursor(before, "before")?.min(matching.len());
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(matching.len())),
    };
    let fields: Option<Vec<&str>> = query.fields.as_deref().map(|fields| {
        fields
            .split(',')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .collect()
    });
    let data = matching[start..end]
        .iter()
        .map(|template| select_fields(template, fields.as_deref()))
        .collect();
    Ok(TemplatePage {
        data,
        before: (end > start).then(|| cursor(start)),
        after: (end > start).then(|| cursor(end - 1)),
        has_next: end < matching.len(),
        has_previous: start > 0,
        limit,
    })
}

/// Only the asked `fields` of a template; Graph always includes `id`.
fn select_fields(template: &Value, fields: Option<&[&str]>) -> Value {
    let (Some(fields), Some(object)) = (fields, template.as_object()) else {
        return template.clone();
    };
    let selected: Map<String, Value> = object
        .iter()
        .filter(|(key, _)| key.as_str() == "id" || fields.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Value::Object(selected)
}

fn field<'a>(template: &'a Value, name: &str) -> &'a str {
    template
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// What a template message needs to know about its template once accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AcceptedTemplate {
    /// Lowercase category (`utility`, `marketing`, `authentication`) for pricing.
    pub category: String,
}

/// Meta's checks of a template message: the template exists in that language and is approved
/// (132001, or 132015 / 132016 when paused / disabled), and the body gets as many parameters as
/// it has placeholders (132000).
pub(crate) fn check_send(
    templates: &[Value],
    name: &str,
    language: &str,
    body_parameters: usize,
) -> Result<AcceptedTemplate, GraphError> {
    let template = templates
        .iter()
        .find(|template| field(template, "name") == name && field(template, "language") == language)
        .ok_or_else(|| {
            GraphError::code_with_details(
                132001,
                format!("template name ({name}) does not exist in {language}"),
            )
        })?;
    match field(template, "status") {
        "APPROVED" => {}
        "PAUSED" => return Err(GraphError::code(132015)),
        "DISABLED" => return Err(GraphError::code(132016)),
        _ => {
            return Err(GraphError::code_with_details(
                132001,
                format!("template name ({name}) does not exist in {language}"),
            ));
        }
    }
    let expected = body_placeholders(template);
    if expected != body_parameters {
        return Err(GraphError::code_with_details(
            132000,
            format!(
                "body: number of localizable_params ({body_parameters}) does not match the expected number of params ({expected})"
            ),
        ));
    }
    Ok(AcceptedTemplate {
        category: field(template, "category").to_ascii_lowercase(),
    })
}

/// The number of distinct `{{…}}` placeholders in the template's BODY.
fn body_placeholders(template: &Value) -> usize {
    let body = template
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|component| field(component, "type").eq_ignore_ascii_case("body"))
        .map(|component| field(component, "text"))
        .unwrap_or_default();
    placeholders(body).len()
}

/// The distinct placeholder names of `text`, in order of first appearance.
pub(crate) fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            break;
        };
        let name = after_open[..close].trim();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
        rest = &after_open[close + 2..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(count: usize) -> Vec<Value> {
        (0..count).map(|index| json!({"name": format!("t{index}"), "language": "en", "status": "APPROVED"})).collect()
    }

    #[test]
    fn placeholders_are_counted_once_each() {
        assert_eq!(
            placeholders("Hi {{1}}, your order {{2}} is {{3}}."),
            ["1", "2", "3"]
        );
        assert_eq!(
            placeholders("{{name}} and {{ name }} and {{date}}"),
            ["name", "date"]
        );
        assert!(placeholders("no params {{").is_empty());
    }

    #[test]
    fn pages_follow_cursors_to_the_end() {
        let templates = numbered(60);
        let mut query = TemplateQuery::default();
        let mut seen = Vec::new();
        loop {
            let page = page(&templates, &query).unwrap();
            seen.extend(
                page.data
                    .iter()
                    .map(|template| field(template, "name").to_owned()),
            );
            if !page.has_next {
                break;
            }
            query.after = page.after;
        }
        assert_eq!(seen.len(), 60);
        assert_eq!(seen[59], "t59");
    }

    #[test]
    fn before_goes_back_one_page() {
        let templates = numbered(60);
        let second = page(
            &templates,
            &TemplateQuery {
                after: Some(cursor(24)),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(second.has_previous);
        let first = page(
            &templates,
            &TemplateQuery {
                before: second.before,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(field(&first.data[0], "name"), "t0");
        assert_eq!(first.data.len(), 25);
    }

    #[test]
    fn fields_select_but_keep_the_id() {
        let templates = default_templates();
        let page = page(
            &templates,
            &TemplateQuery {
                fields: Some("name,status".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let first = page.data[0].as_object().unwrap();
        assert_eq!(first.len(), 3);
        assert!(first.contains_key("id"));
    }

    #[test]
    fn sending_checks_existence_status_and_parameter_count() {
        let templates = default_templates();
        assert!(check_send(&templates, "order_update", "en", 3).is_ok());
        assert_eq!(
            check_send(&templates, "order_update", "en", 2)
                .unwrap_err()
                .error
                .code,
            132000
        );
        assert_eq!(
            check_send(&templates, "order_update", "fr", 3)
                .unwrap_err()
                .error
                .code,
            132001
        );
        assert_eq!(
            check_send(&templates, "seasonal_promo", "en", 2)
                .unwrap_err()
                .error
                .code,
            132001
        );
        assert_eq!(
            check_send(&templates, "hello_world", "en_US", 0)
                .unwrap()
                .category,
            "utility"
        );
        assert!(check_send(&templates, "appointment_reminder", "en", 2).is_ok());
    }
}
