//! Message templates: the demo set every WABA starts with, generated sets for benchmarks,
//! `GET /{wabaId}/message_templates` paging (cursors that go stale when the set changes, as
//! Meta's do), and the checks a template message meets before it is accepted.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::ids;
use super::validation::{SentComponent, TemplateRef};

/// Meta's default page size for `message_templates`.
pub const DEFAULT_PAGE_SIZE: usize = 25;

/// The largest page served. Meta documents no maximum and honours large limits; this only keeps
/// one answer bounded.
pub const MAX_PAGE_SIZE: usize = 1000;

/// `message_template_limit` of `summary` unless the settings say otherwise: Meta's limit for a
/// business that is not verified.
pub const DEFAULT_MESSAGE_TEMPLATE_LIMIT: u32 = 250;

/// `quality_score.date` of the demo templates (2026-01-01), fixed so answers are reproducible.
const QUALITY_DATE: u64 = 1_767_225_600;

/// Meta's template object: the fields the list API answers, `rejected_reason` `NONE` unless
/// rejected, and a quality score that follows the status.
fn template(
    id: &str,
    name: &str,
    language: &str,
    status: &str,
    category: &str,
    components: Value,
) -> Value {
    // Meta calls a template NAMED when its body's placeholders are names rather than numbers.
    let named = components
        .as_array()
        .into_iter()
        .flatten()
        .filter(|component| field(component, "type") == "BODY")
        .flat_map(|body| placeholders(field(body, "text")))
        .any(|name| !name.bytes().all(|byte| byte.is_ascii_digit()));
    let parameter_format = if named { "NAMED" } else { "POSITIONAL" };
    let score = match status {
        "APPROVED" => "GREEN",
        "PAUSED" | "DISABLED" => "RED",
        _ => "UNKNOWN",
    };
    json!({
        "id": id,
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "parameter_format": parameter_format,
        "components": components,
        "quality_score": {"score": score, "date": QUALITY_DATE},
        "rejected_reason": "NONE",
    })
}

/// Sets one more field of a template built by [`template`].
fn with(mut template: Value, field: &str, value: Value) -> Value {
    template[field] = value;
    template
}

/// The templates a WABA starts with. Every status (APPROVED, PENDING, REJECTED, PAUSED,
/// DISABLED and a future one, IN_APPEAL), two languages of `order_update`, every header format,
/// every button kind, a NAMED template and an AUTHENTICATION one:
///
/// | name | language | status | what it covers |
/// |---|---|---|---|
/// | `hello_world` | en_US | APPROVED | TEXT header without parameters, footer |
/// | `order_update` | en, es | APPROVED | body `Hi {{1}}, your order {{2}} is {{3}}.` |
/// | `appointment_reminder` | en | APPROVED | body `Hi {{1}}, this is a reminder of your appointment at {{2}}.`, QUICK_REPLY buttons |
/// | `seasonal_promo` | en | PENDING | |
/// | `account_notice` | en | REJECTED | `rejected_reason` INVALID_FORMAT |
/// | `shipping_delay` | en | PAUSED | |
/// | `legacy_offer` | en | DISABLED | |
/// | `loyalty_invite` | en | IN_APPEAL | a status the client does not know |
/// | `delivery_tracking` | en | APPROVED | TEXT header `Order {{1}}`, URL button `https://example.com/track/{{1}}`, PHONE_NUMBER button |
/// | `product_launch` | en | APPROVED | IMAGE header, static URL button, QUICK_REPLY |
/// | `welcome_video` | en | APPROVED | VIDEO header |
/// | `invoice_ready` | en | APPROVED | DOCUMENT header, body `{{1}}` |
/// | `store_location` | en | APPROVED | LOCATION header |
/// | `coupon_offer` | en | APPROVED | COPY_CODE button |
/// | `order_confirmation` | en | APPROVED | NAMED body `{{first_name}}`, `{{order_number}}` |
/// | `verification_code` | en | APPROVED | AUTHENTICATION, OTP COPY_CODE button |
pub fn default_templates() -> Vec<Value> {
    vec![
        template(
            "1000000000000001",
            "hello_world",
            "en_US",
            "APPROVED",
            "UTILITY",
            json!([
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}
            ]),
        ),
        with(
            template(
                "1000000000000002",
                "order_update",
                "en",
                "APPROVED",
                "UTILITY",
                json!([
                    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is {{3}}.",
                     "example": {"body_text": [["Sam", "#1234", "on its way"]]}}
                ]),
            ),
            "sub_category",
            json!("ORDER_STATUS"),
        ),
        template(
            "1000000000000003",
            "appointment_reminder",
            "en",
            "APPROVED",
            "UTILITY",
            json!([
                {"type": "BODY", "text": "Hi {{1}}, this is a reminder of your appointment at {{2}}.",
                 "example": {"body_text": [["Sam", "10:00 on May 4"]]}},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Confirm"},
                    {"type": "QUICK_REPLY", "text": "Reschedule"}
                ]}
            ]),
        ),
        template(
            "1000000000000004",
            "seasonal_promo",
            "en",
            "PENDING",
            "MARKETING",
            json!([
                {"type": "BODY", "text": "Our {{1}} sale starts today: {{2}} off everything!",
                 "example": {"body_text": [["summer", "20%"]]}}
            ]),
        ),
        with(
            template(
                "1000000000000005",
                "account_notice",
                "en",
                "REJECTED",
                "UTILITY",
                json!([{"type": "BODY", "text": "Your account needs attention. Reply now!"}]),
            ),
            "rejected_reason",
            json!("INVALID_FORMAT"),
        ),
        with(
            template(
                "1000000000000006",
                "order_update",
                "es",
                "APPROVED",
                "UTILITY",
                json!([
                    {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} está {{3}}.",
                     "example": {"body_text": [["Sam", "#1234", "en camino"]]}}
                ]),
            ),
            "sub_category",
            json!("ORDER_STATUS"),
        ),
        template(
            "1000000000000007",
            "shipping_delay",
            "en",
            "PAUSED",
            "UTILITY",
            json!([
                {"type": "BODY", "text": "Your parcel {{1}} is delayed.",
                 "example": {"body_text": [["#1234"]]}}
            ]),
        ),
        template(
            "1000000000000008",
            "legacy_offer",
            "en",
            "DISABLED",
            "MARKETING",
            json!([{"type": "BODY", "text": "Last chance for our old offer!"}]),
        ),
        template(
            "1000000000000009",
            "loyalty_invite",
            "en",
            "IN_APPEAL",
            "MARKETING",
            json!([{"type": "BODY", "text": "Join our loyalty club today."}]),
        ),
        with(
            template(
                "1000000000000010",
                "delivery_tracking",
                "en",
                "APPROVED",
                "UTILITY",
                json!([
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
                     "example": {"header_text": ["#1234"]}},
                    {"type": "BODY", "text": "Your order ships today with {{1}}.",
                     "example": {"body_text": [["DHL"]]}},
                    {"type": "BUTTONS", "buttons": [
                        {"type": "URL", "text": "Track order", "url": "https://example.com/track/{{1}}",
                         "example": ["https://example.com/track/1234"]},
                        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100100"}
                    ]}
                ]),
            ),
            "sub_category",
            json!("ORDER_DETAILS"),
        ),
        template(
            "1000000000000011",
            "product_launch",
            "en",
            "APPROVED",
            "MARKETING",
            json!([
                {"type": "HEADER", "format": "IMAGE",
                 "example": {"header_handle": ["https://scontent.whatsapp.net/v/launch.jpg"]}},
                {"type": "BODY", "text": "Meet {{1}}, new in store this week.",
                 "example": {"body_text": [["the Aurora lamp"]]}},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop now", "url": "https://example.com/shop"},
                    {"type": "QUICK_REPLY", "text": "Stop promotions"}
                ]}
            ]),
        ),
        template(
            "1000000000000012",
            "welcome_video",
            "en",
            "APPROVED",
            "MARKETING",
            json!([
                {"type": "HEADER", "format": "VIDEO",
                 "example": {"header_handle": ["https://scontent.whatsapp.net/v/welcome.mp4"]}},
                {"type": "BODY", "text": "Welcome aboard! Here is a short tour."}
            ]),
        ),
        template(
            "1000000000000013",
            "invoice_ready",
            "en",
            "APPROVED",
            "UTILITY",
            json!([
                {"type": "HEADER", "format": "DOCUMENT",
                 "example": {"header_handle": ["https://scontent.whatsapp.net/v/invoice.pdf"]}},
                {"type": "BODY", "text": "Your invoice {{1}} is attached.",
                 "example": {"body_text": [["INV-0042"]]}}
            ]),
        ),
        template(
            "1000000000000014",
            "store_location",
            "en",
            "APPROVED",
            "UTILITY",
            json!([
                {"type": "HEADER", "format": "LOCATION"},
                {"type": "BODY", "text": "Our store is open today until {{1}}.",
                 "example": {"body_text": [["8 pm"]]}}
            ]),
        ),
        template(
            "1000000000000015",
            "coupon_offer",
            "en",
            "APPROVED",
            "MARKETING",
            json!([
                {"type": "BODY", "text": "Use the code below for {{1}} off your next order.",
                 "example": {"body_text": [["15%"]]}},
                {"type": "BUTTONS", "buttons": [
                    {"type": "COPY_CODE", "text": "Copy offer code", "example": "SAVE15"}
                ]}
            ]),
        ),
        template(
            "1000000000000016",
            "order_confirmation",
            "en",
            "APPROVED",
            "UTILITY",
            json!([
                {"type": "BODY", "text": "Thank you, {{first_name}}! Your order {{order_number}} is confirmed.",
                 "example": {"body_text_named_params": [
                     {"param_name": "first_name", "example": "Sam"},
                     {"param_name": "order_number", "example": "#1234"}
                 ]}}
            ]),
        ),
        template(
            "1000000000000017",
            "verification_code",
            "en",
            "APPROVED",
            "AUTHENTICATION",
            json!([
                {"type": "BODY", "text": "{{1}} is your verification code.",
                 "add_security_recommendation": false,
                 "example": {"body_text": [["123456"]]}},
                {"type": "FOOTER", "text": "This code expires in 10 minutes.", "code_expiration_minutes": 10},
                {"type": "BUTTONS", "buttons": [
                    {"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}
                ]}
            ]),
        ),
    ]
}

/// `count` templates for benchmarks, `bench_0000`…: four in five APPROVED, the rest PENDING,
/// REJECTED, PAUSED or DISABLED; languages en, es, pt_BR and ar in turn; some with a TEXT or
/// IMAGE header and buttons, each with a two-parameter body.
pub fn generated_templates(count: usize) -> Vec<Value> {
    let width = count.saturating_sub(1).to_string().len().max(4);
    (0..count)
        .map(|index| {
            let status = match index % 20 {
                16 => "PENDING",
                17 => "REJECTED",
                18 => "PAUSED",
                19 => "DISABLED",
                _ => "APPROVED",
            };
            let language = ["en", "es", "pt_BR", "ar"][index % 4];
            let category = if index % 3 == 0 { "MARKETING" } else { "UTILITY" };
            let mut components = Vec::new();
            match index % 5 {
                0 => components.push(json!({"type": "HEADER", "format": "TEXT", "text": "Update {{1}}",
                                            "example": {"header_text": ["#1"]}})),
                1 => components.push(json!({"type": "HEADER", "format": "IMAGE",
                                            "example": {"header_handle": ["https://scontent.whatsapp.net/v/b.jpg"]}})),
                _ => {}
            }
            components.push(json!({"type": "BODY",
                "text": format!("Hi {{{{1}}}}, update {index} about {{{{2}}}} is ready."),
                "example": {"body_text": [["Sam", "your order"]]}}));
            components.push(json!({"type": "FOOTER", "text": "Intaj benchmark"}));
            if index % 2 == 0 {
                components.push(json!({"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                    {"type": "URL", "text": "Details", "url": "https://example.com/b/{{1}}",
                     "example": ["https://example.com/b/1"]}
                ]}));
            }
            let mut generated = template(
                &format!("3{index:015}"),
                &format!("bench_{index:0width$}"),
                language,
                status,
                category,
                Value::Array(components),
            );
            if status == "REJECTED" {
                generated["rejected_reason"] = json!("INVALID_FORMAT");
            }
            generated
        })
        .collect()
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

/// One WABA's templates and the epoch of this version of the set: cursors carry it, and a
/// cursor of another epoch is stale.
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateSet {
    pub epoch: u64,
    pub templates: Vec<Value>,
}

/// A template's new status, as `POST /_sim/templates/{wabaId}/{name}/status` and
/// [`super::SimulatorHandle::set_template_status`] set it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStatusUpdate {
    /// APPROVED, PAUSED, DISABLED, REJECTED, PENDING, or any future status.
    pub status: String,
    /// `reason` of the webhook (e.g. INVALID_FORMAT for a rejection); `NONE` when absent.
    #[serde(default)]
    pub reason: Option<String>,
    /// `other_info` of the webhook (e.g. why a template was paused).
    #[serde(default)]
    pub other_info: Option<OtherInfo>,
}

impl TemplateStatusUpdate {
    pub fn new(status: impl Into<String>) -> Self {
        Self {
            status: status.into(),
            ..Self::default()
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_other_info(
        mut self,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.other_info = Some(OtherInfo {
            title: title.into(),
            description: description.into(),
        });
        self
    }
}

/// `other_info` of a `message_template_status_update` webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OtherInfo {
    pub title: String,
    pub description: String,
}

/// Applies `update` to `template`: its status, and `rejected_reason` (the reason when rejected,
/// `NONE` otherwise, as Meta lists them).
pub(crate) fn apply_status(template: &mut Value, update: &TemplateStatusUpdate) {
    template["status"] = json!(update.status);
    template["rejected_reason"] = if update.status == "REJECTED" {
        json!(update.reason.as_deref().unwrap_or("OTHER"))
    } else {
        json!("NONE")
    };
    if let Some(score) = match update.status.as_str() {
        "APPROVED" => Some("GREEN"),
        "PAUSED" | "DISABLED" => Some("RED"),
        _ => None,
    } {
        template["quality_score"] = json!({"score": score, "date": ids::unix_now()});
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
    pub language: Option<String>,
    pub category: Option<String>,
    /// `total_count,message_template_count,message_template_limit` (or `true` for all three).
    pub summary: Option<String>,
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
    /// How many templates match the filters, on every page.
    pub total_count: usize,
}

/// The answer body: Meta's `{"data":[…],"paging":{"cursors":{…},"next"?,"previous"?},"summary"?}`.
#[derive(Debug, Serialize)]
pub(crate) struct TemplateList {
    pub data: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Map<String, Value>>,
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

fn cursor(epoch: u64, index: usize) -> String {
    ids::encode_url_safe(format!("tpl:{epoch}:{index}").as_bytes())
}

/// The index a cursor points at. A cursor that is not ours, or that was made before the set last
/// changed, is Meta's 131059: the client restarts the listing.
fn decode_cursor(cursor: &str, epoch: u64) -> Result<usize, GraphError> {
    ids::decode_url_safe(cursor)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (cursor_epoch, index) = text.strip_prefix("tpl:")?.split_once(':')?;
            (cursor_epoch.parse::<u64>().ok()? == epoch)
                .then(|| index.parse().ok())
                .flatten()
        })
        .ok_or_else(|| GraphError::code(131059))
}

fn matches_any(value: &str, wanted: Option<&str>) -> bool {
    wanted.is_none_or(|wanted| {
        wanted
            .split(',')
            .any(|wanted| value.eq_ignore_ascii_case(wanted.trim()))
    })
}

/// The page `query` asks for, out of `set` (the WABA's whole set, in order).
pub(crate) fn page(set: &TemplateSet, query: &TemplateQuery) -> Result<TemplatePage, GraphError> {
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(limit) => limit.min(MAX_PAGE_SIZE),
            Err(_) => {
                return Err(GraphError::invalid_parameter(
                    "Param limit must be a positive integer",
                ));
            }
        },
    };
    let matching: Vec<&Value> = set
        .templates
        .iter()
        .filter(|template| matches_any(field(template, "status"), query.status.as_deref()))
        .filter(|template| matches_any(field(template, "language"), query.language.as_deref()))
        .filter(|template| matches_any(field(template, "category"), query.category.as_deref()))
        .filter(|template| {
            query
                .name
                .as_deref()
                .is_none_or(|name| field(template, "name").contains(name))
        })
        .collect();
    let (start, end) = match (query.after.as_deref(), query.before.as_deref()) {
        (Some(after), _) => {
            let start = (decode_cursor(after, set.epoch)? + 1).min(matching.len());
            (start, (start + limit).min(matching.len()))
        }
        (None, Some(before)) => {
            let end = decode_cursor(before, set.epoch)?.min(matching.len());
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(matching.len())),
    };
    let fields = requested_fields(query.fields.as_deref());
    let data = matching[start..end]
        .iter()
        .map(|template| select_fields(template, fields.as_deref()))
        .collect();
    Ok(TemplatePage {
        data,
        before: (end > start).then(|| cursor(set.epoch, start)),
        after: (end > start).then(|| cursor(set.epoch, end - 1)),
        has_next: end < matching.len(),
        has_previous: start > 0,
        limit,
        total_count: matching.len(),
    })
}

/// `summary` as Meta answers it: only the asked counts, `true` asking for all three.
pub(crate) fn summary(
    asked: &str,
    total_count: usize,
    message_template_count: usize,
    message_template_limit: u32,
) -> Option<Map<String, Value>> {
    let all = matches!(asked.trim(), "true" | "1");
    let wanted: Vec<&str> = asked.split(',').map(str::trim).collect();
    let mut summary = Map::new();
    for (name, value) in [
        ("total_count", json!(total_count)),
        ("message_template_count", json!(message_template_count)),
        ("message_template_limit", json!(message_template_limit)),
    ] {
        if all || wanted.contains(&name) {
            summary.insert(name.to_owned(), value);
        }
    }
    (!summary.is_empty()).then_some(summary)
}

/// The names in `fields=`, or `None` for every field.
pub(crate) fn requested_fields(fields: Option<&str>) -> Option<Vec<&str>> {
    fields.map(|fields| {
        fields
            .split(',')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .collect()
    })
}

/// Only the asked `fields` of a template; Graph always includes `id`.
pub(crate) fn select_fields(template: &Value, fields: Option<&[&str]>) -> Value {
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

/// Meta's checks of a template message against the template it names: it exists in that
/// language and is approved (132001, or 132015 / 132016 when paused / disabled), its header,
/// body and buttons get the parameters the template defines (132000 for counts, names and
/// button indexes; 132012 for parameter types), and text parameters are single-line (132018).
pub(crate) fn check_send(
    templates: &[Value],
    sent: &TemplateRef,
) -> Result<AcceptedTemplate, GraphError> {
    let (name, language) = (sent.name.as_str(), sent.language.as_str());
    let unknown = || {
        GraphError::code_with_details(
            132001,
            format!("template name ({name}) does not exist in {language}"),
        )
    };
    let template = templates
        .iter()
        .find(|template| field(template, "name") == name && field(template, "language") == language)
        .ok_or_else(unknown)?;
    match field(template, "status") {
        "APPROVED" => {}
        "PAUSED" => return Err(GraphError::code(132015)),
        "DISABLED" => return Err(GraphError::code(132016)),
        // PENDING, REJECTED, IN_APPEAL…: Meta answers as if there were no such template.
        _ => return Err(unknown()),
    }
    let mut header = None;
    let mut body = None;
    let mut buttons = Vec::new();
    for component in &sent.components {
        match component.kind.as_str() {
            "header" => header = Some(component),
            "body" => body = Some(component),
            "button" => buttons.push(component),
            other => {
                return Err(GraphError::invalid_parameter(format!(
                    "Param template.components.type must be one of {{header, body, button}} - got \"{other}\""
                )));
            }
        }
    }
    check_header(component_of(template, "HEADER"), header)?;
    check_body(template, body)?;
    check_buttons(component_of(template, "BUTTONS"), &buttons)?;
    Ok(AcceptedTemplate {
        category: field(template, "category").to_ascii_lowercase(),
    })
}

fn component_of<'a>(template: &'a Value, kind: &str) -> Option<&'a Value> {
    template
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|component| field(component, "type").eq_ignore_ascii_case(kind))
}

fn parameters(sent: Option<&SentComponent>) -> &[Value] {
    sent.map_or(&[], |component| component.parameters.as_slice())
}

fn parameter_kind(parameter: &Value) -> &str {
    field(parameter, "type")
}

fn count_mismatch(component: &str, got: usize, expected: usize) -> GraphError {
    GraphError::code_with_details(
        132000,
        format!(
            "{component}: number of localizable_params ({got}) does not match the expected number of params ({expected})"
        ),
    )
}

fn format_mismatch(component: &str, expected: &str, received: &str) -> GraphError {
    let received = if received.is_empty() {
        "UNKNOWN".to_owned()
    } else {
        received.to_ascii_uppercase()
    };
    GraphError::code_with_details(
        132012,
        format!("{component}: Format mismatch, expected {expected}, received {received}"),
    )
}

/// Meta refuses text parameters with a newline, a tab or more than four spaces in a row.
fn check_text(parameter: &Value) -> Result<(), GraphError> {
    let text = field(parameter, "text");
    if text.contains(['\n', '\t']) || text.contains("     ") {
        return Err(GraphError::code_with_details(
            132018,
            "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        ));
    }
    Ok(())
}

/// A media or location header needs exactly one parameter of that type; a TEXT header one text
/// parameter per placeholder (a header without placeholders, none).
fn check_header(header: Option<&Value>, sent: Option<&SentComponent>) -> Result<(), GraphError> {
    let given = parameters(sent);
    let format = header.map_or("TEXT", |header| field(header, "format"));
    let format = format.to_ascii_uppercase();
    if matches!(format.as_str(), "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION") {
        let wanted = format.to_ascii_lowercase();
        return match given {
            [] => Err(format_mismatch("header", &format, "")),
            [parameter] if parameter_kind(parameter) == wanted => {
                let object = parameter.get(&wanted).filter(|object| object.is_object());
                let complete = object.is_some_and(|object| {
                    if wanted == "location" {
                        object.get("latitude").is_some() && object.get("longitude").is_some()
                    } else {
                        object.get("id").is_some() || object.get("link").is_some()
                    }
                });
                if complete {
                    Ok(())
                } else {
                    Err(GraphError::required(&format!(
                        "template.components.parameters.{wanted}"
                    )))
                }
            }
            [parameter] => Err(format_mismatch(
                "header",
                &format,
                parameter_kind(parameter),
            )),
            _ => Err(count_mismatch("header", given.len(), 1)),
        };
    }
    let expected = header.map_or(0, |header| placeholders(field(header, "text")).len());
    if given.len() != expected {
        return Err(count_mismatch("header", given.len(), expected));
    }
    for parameter in given {
        if parameter_kind(parameter) != "text" {
            return Err(format_mismatch("header", "TEXT", parameter_kind(parameter)));
        }
        check_text(parameter)?;
    }
    Ok(())
}

/// One parameter per distinct placeholder; a NAMED template's parameters each name one.
fn check_body(template: &Value, sent: Option<&SentComponent>) -> Result<(), GraphError> {
    let given = parameters(sent);
    let text = component_of(template, "BODY").map_or("", |body| field(body, "text"));
    let names = placeholders(text);
    if given.len() != names.len() {
        return Err(count_mismatch("body", given.len(), names.len()));
    }
    let named = field(template, "parameter_format").eq_ignore_ascii_case("NAMED");
    let mut seen = BTreeSet::new();
    for parameter in given {
        let kind = parameter_kind(parameter);
        if !matches!(kind, "text" | "currency" | "date_time") {
            return Err(format_mismatch("body", "TEXT", kind));
        }
        if named {
            let parameter_name = field(parameter, "parameter_name");
            if !names.contains(&parameter_name) || !seen.insert(parameter_name) {
                return Err(GraphError::code_with_details(
                    132000,
                    format!(
                        "body: parameter_name ({parameter_name}) does not match a named parameter of the template ({}), or is repeated",
                        names.join(", ")
                    ),
                ));
            }
        }
        if kind == "text" {
            check_text(parameter)?;
        }
    }
    Ok(())
}

/// Whether a template button takes a parameter at send time (and must get one): a URL with a
/// variable, an OTP button (its code), a COPY_CODE button (the coupon code).
fn takes_parameter(button: &Value) -> bool {
    match field(button, "type").to_ascii_uppercase().as_str() {
        "URL" => field(button, "url").contains("{{"),
        "OTP" | "COPY_CODE" => true,
        _ => false,
    }
}

/// Each `button` component names a button of the template by `index` and `sub_type`: `url` for a
/// URL button with a variable or an OTP button (one text parameter), `quick_reply` (optional
/// `payload` parameter), `copy_code` (one `coupon_code` parameter).
fn check_buttons(buttons: Option<&Value>, sent: &[&SentComponent]) -> Result<(), GraphError> {
    let buttons: &[Value] = buttons
        .and_then(|component| component.get("buttons"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut given = BTreeSet::new();
    for component in sent {
        let sub_type = component
            .sub_type
            .as_deref()
            .ok_or_else(|| GraphError::required("template.components.sub_type"))?;
        let index = component
            .index
            .ok_or_else(|| GraphError::required("template.components.index"))?;
        let button = buttons.get(index);
        let button_type = button.map_or(String::new(), |button| {
            field(button, "type").to_ascii_uppercase()
        });
        let (fits, parameter, optional) = match sub_type {
            "url" => (
                button.is_some_and(|button| takes_parameter(button) && button_type != "COPY_CODE"),
                "text",
                false,
            ),
            "quick_reply" => (button_type == "QUICK_REPLY", "payload", true),
            "copy_code" => (button_type == "COPY_CODE", "coupon_code", false),
            other => {
                return Err(GraphError::invalid_parameter(format!(
                    "Param template.components.sub_type must be one of {{url, quick_reply, copy_code}} - got \"{other}\""
                )));
            }
        };
        if !fits || !given.insert(index) {
            return Err(GraphError::code_with_details(
                132000,
                format!(
                    "button: the template has no {sub_type} button taking a parameter at index {index}, or it is given twice"
                ),
            ));
        }
        let expected = usize::from(!optional);
        match component.parameters.as_slice() {
            [] if optional => {}
            [only] => {
                if parameter_kind(only) != parameter {
                    return Err(format_mismatch("button", parameter, parameter_kind(only)));
                }
                if only.get(parameter).is_none_or(Value::is_null) {
                    return Err(GraphError::required(&format!(
                        "template.components.parameters.{parameter}"
                    )));
                }
                if parameter == "text" {
                    check_text(only)?;
                }
            }
            other => return Err(count_mismatch("button", other.len(), expected)),
        }
    }
    if let Some(index) =
        (0..buttons.len()).find(|index| takes_parameter(&buttons[*index]) && !given.contains(index))
    {
        return Err(GraphError::code_with_details(
            132000,
            format!("button: the button at index {index} needs a parameter and got none"),
        ));
    }
    Ok(())
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

    fn numbered(count: usize) -> TemplateSet {
        TemplateSet {
            epoch: 7,
            templates: (0..count)
                .map(|index| json!({"name": format!("t{index}"), "language": "en", "status": "APPROVED"}))
                .collect(),
        }
    }

    fn code(result: Result<impl std::fmt::Debug, GraphError>) -> u32 {
        result.unwrap_err().error.code
    }

    fn text(value: &str) -> Value {
        json!({"type": "text", "text": value})
    }

    fn component(kind: &str, parameters: Vec<Value>) -> SentComponent {
        SentComponent {
            kind: kind.to_owned(),
            sub_type: None,
            index: None,
            parameters,
        }
    }

    fn button(sub_type: &str, index: usize, parameters: Vec<Value>) -> SentComponent {
        SentComponent {
            sub_type: Some(sub_type.to_owned()),
            index: Some(index),
            ..component("button", parameters)
        }
    }

    fn send(name: &str, language: &str, components: Vec<SentComponent>) -> TemplateRef {
        TemplateRef {
            name: name.to_owned(),
            language: language.to_owned(),
            components,
        }
    }

    /// A send that fills every parameter `template` defines, as a careful client would.
    fn valid_send(template: &Value) -> TemplateRef {
        let mut components = Vec::new();
        if let Some(header) = component_of(template, "HEADER") {
            let format = field(header, "format").to_ascii_lowercase();
            let parameters: Vec<Value> = match format.as_str() {
                "location" => vec![
                    json!({"type": "location", "location": {"latitude": 1.5, "longitude": 2.5}}),
                ],
                "text" => placeholders(field(header, "text"))
                    .iter()
                    .map(|_| text("#1"))
                    .collect(),
                media => vec![json!({"type": media, media: {"link": "https://example.com/f"}})],
            };
            if !parameters.is_empty() {
                components.push(component("header", parameters));
            }
        }
        let body = component_of(template, "BODY").map_or("", |body| field(body, "text"));
        let named = field(template, "parameter_format") == "NAMED";
        let parameters: Vec<Value> = placeholders(body)
            .into_iter()
            .map(|name| {
                if named {
                    json!({"type": "text", "text": "x", "parameter_name": name})
                } else {
                    text("x")
                }
            })
            .collect();
        components.push(component("body", parameters));
        let buttons = component_of(template, "BUTTONS")
            .and_then(|component| component.get("buttons"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, template_button) in buttons.iter().enumerate() {
            if field(template_button, "type") == "COPY_CODE" {
                components.push(button(
                    "copy_code",
                    index,
                    vec![json!({"type": "coupon_code", "coupon_code": "SAVE15"})],
                ));
            } else if takes_parameter(template_button) {
                components.push(button("url", index, vec![text("1234")]));
            }
        }
        send(
            field(template, "name"),
            field(template, "language"),
            components,
        )
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
        let set = numbered(60);
        let mut query = TemplateQuery::default();
        let mut seen = Vec::new();
        loop {
            let page = page(&set, &query).unwrap();
            assert_eq!(page.total_count, 60);
            seen.extend(
                page.data
                    .iter()
                    .map(|template| field(template, "name").to_owned()),
            );
            if !page.has_next {
                assert!(page.after.is_some(), "the last page keeps its cursors");
                break;
            }
            query.after = page.after;
        }
        assert_eq!(seen.len(), 60);
        assert_eq!(seen[59], "t59");
    }

    #[test]
    fn before_goes_back_one_page() {
        let set = numbered(60);
        let second = page(
            &set,
            &TemplateQuery {
                after: Some(cursor(7, 24)),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(second.has_previous);
        let first = page(
            &set,
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
    fn cursors_of_another_epoch_or_not_ours_are_131059() {
        let set = numbered(60);
        for stale in [
            cursor(6, 24),
            "bm90LWEtY3Vyc29y".to_owned(),
            "%%%".to_owned(),
        ] {
            let query = TemplateQuery {
                after: Some(stale),
                ..Default::default()
            };
            let error = page(&set, &query).unwrap_err();
            assert_eq!(error.error.code, 131059);
            assert_eq!(error.error.message, "(#131059) Invalid cursor");
        }
    }

    #[test]
    fn large_limits_are_honoured_up_to_the_cap() {
        let set = numbered(1200);
        let query = |limit: &str| TemplateQuery {
            limit: Some(limit.to_owned()),
            ..Default::default()
        };
        assert_eq!(page(&set, &query("500")).unwrap().data.len(), 500);
        let capped = page(&set, &query("5000")).unwrap();
        assert_eq!(
            (capped.data.len(), capped.limit),
            (MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        );
        assert_eq!(code(page(&set, &query("many"))), 100);
    }

    #[test]
    fn fields_select_but_keep_the_id() {
        let set = TemplateSet {
            epoch: 1,
            templates: default_templates(),
        };
        let page = page(
            &set,
            &TemplateQuery {
                fields: Some("name,status,quality_score".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let first = page.data[0].as_object().unwrap();
        assert_eq!(first.len(), 4);
        assert!(first.contains_key("id") && first.contains_key("quality_score"));
    }

    #[test]
    fn summary_answers_the_asked_counts() {
        let asked = summary("total_count,message_template_limit", 3, 9, 250).unwrap();
        assert_eq!(
            Value::Object(asked),
            json!({"total_count": 3, "message_template_limit": 250})
        );
        assert_eq!(summary("true", 1, 2, 3).unwrap().len(), 3);
        assert!(summary("nothing_known", 3, 9, 250).is_none());
    }

    #[test]
    fn the_demo_set_covers_what_clients_meet() {
        let templates = default_templates();
        let statuses: BTreeSet<&str> = templates.iter().map(|t| field(t, "status")).collect();
        for status in [
            "APPROVED",
            "PENDING",
            "REJECTED",
            "PAUSED",
            "DISABLED",
            "IN_APPEAL",
        ] {
            assert!(statuses.contains(status), "{status}");
        }
        let formats: BTreeSet<String> = templates
            .iter()
            .filter_map(|t| component_of(t, "HEADER"))
            .map(|header| field(header, "format").to_owned())
            .collect();
        assert_eq!(formats.len(), 5, "{formats:?}");
        for template in &templates {
            assert!(template["quality_score"]["date"].is_u64());
            let rejected = field(template, "status") == "REJECTED";
            assert_eq!(field(template, "rejected_reason") != "NONE", rejected);
        }
        let reminder = templates
            .iter()
            .find(|t| field(t, "name") == "appointment_reminder")
            .unwrap();
        assert_eq!(field(reminder, "parameter_format"), "POSITIONAL");
        let named = templates
            .iter()
            .find(|t| field(t, "name") == "order_confirmation")
            .unwrap();
        assert_eq!(field(named, "parameter_format"), "NAMED");
    }

    #[test]
    fn every_approved_template_accepts_a_complete_send() {
        let mut templates = default_templates();
        templates.extend(generated_templates(40));
        for template in templates
            .iter()
            .filter(|t| field(t, "status") == "APPROVED")
        {
            let sent = valid_send(template);
            assert!(
                check_send(&templates, &sent).is_ok(),
                "{}: {:?}",
                field(template, "name"),
                check_send(&templates, &sent)
            );
        }
        let reminder = send(
            "appointment_reminder",
            "en",
            vec![component("body", vec![text("Sam"), text("10:00")])],
        );
        assert_eq!(
            check_send(&templates, &reminder).unwrap().category,
            "utility"
        );
    }

    #[test]
    fn unknown_unapproved_paused_and_disabled_templates_are_refused() {
        let templates = default_templates();
        let three = || component("body", vec![text("a"), text("b"), text("c")]);
        assert_eq!(
            code(check_send(
                &templates,
                &send("order_update", "fr", vec![three()])
            )),
            132001
        );
        assert!(check_send(&templates, &send("order_update", "es", vec![three()])).is_ok());
        for (name, expected) in [
            ("seasonal_promo", 132001),
            ("account_notice", 132001),
            ("loyalty_invite", 132001),
            ("shipping_delay", 132015),
            ("legacy_offer", 132016),
        ] {
            assert_eq!(
                code(check_send(&templates, &send(name, "en", vec![]))),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn parameters_must_fit_the_template() {
        let templates = default_templates();
        let check = |name: &str, components: Vec<SentComponent>| {
            check_send(&templates, &send(name, "en", components))
        };
        // Body counts, names and text.
        assert_eq!(
            code(check(
                "order_update",
                vec![component("body", vec![text("a")])]
            )),
            132000
        );
        let named = |first: &str| {
            vec![component(
                "body",
                vec![
                    json!({"type": "text", "text": "Sam", "parameter_name": first}),
                    json!({"type": "text", "text": "#1", "parameter_name": "order_number"}),
                ],
            )]
        };
        assert!(check("order_confirmation", named("first_name")).is_ok());
        assert_eq!(code(check("order_confirmation", named("name"))), 132000);
        assert_eq!(
            code(check("order_confirmation", named("order_number"))),
            132000
        );
        let plain = vec![component("body", vec![text("Sam"), text("#1")])];
        assert_eq!(code(check("order_confirmation", plain)), 132000);
        for bad in ["two\nlines", "a\ttab", "five     spaces"] {
            let body = component("body", vec![text(bad), text("b")]);
            assert_eq!(
                code(check("appointment_reminder", vec![body])),
                132018,
                "{bad:?}"
            );
        }
        // Headers.
        let launch_body = || component("body", vec![text("the lamp")]);
        assert_eq!(code(check("product_launch", vec![launch_body()])), 132012);
        let video = json!({"type": "video", "video": {"link": "https://example.com/v.mp4"}});
        assert_eq!(
            code(check(
                "product_launch",
                vec![component("header", vec![video]), launch_body()]
            )),
            132012
        );
        let image = json!({"type": "image", "image": {"id": "123"}});
        assert!(
            check(
                "product_launch",
                vec![component("header", vec![image]), launch_body()]
            )
            .is_ok()
        );
        let tracking_body = || component("body", vec![text("DHL")]);
        let track = || button("url", 0, vec![text("1234")]);
        assert_eq!(
            code(check("delivery_tracking", vec![tracking_body(), track()])),
            132000
        );
        let image = json!({"type": "image", "image": {"id": "123"}});
        assert_eq!(
            code(check(
                "delivery_tracking",
                vec![component("header", vec![image]), tracking_body(), track()]
            )),
            132012
        );
        let header = || component("header", vec![text("#1234")]);
        assert!(
            check(
                "delivery_tracking",
                vec![header(), tracking_body(), track()]
            )
            .is_ok()
        );
        // Buttons.
        assert_eq!(
            code(check("delivery_tracking", vec![header(), tracking_body()])),
            132000
        );
        let call = button("url", 1, vec![text("x")]);
        assert_eq!(
            code(check(
                "delivery_tracking",
                vec![header(), tracking_body(), track(), call]
            )),
            132000
        );
        let image = json!({"type": "image", "image": {"id": "123"}});
        let static_url = button("url", 0, vec![text("x")]);
        assert_eq!(
            code(check(
                "product_launch",
                vec![component("header", vec![image]), launch_body(), static_url]
            )),
            132000
        );
        let reminder_body = || component("body", vec![text("Sam"), text("10:00")]);
        let payload = json!({"type": "payload", "payload": "confirm"});
        assert!(
            check(
                "appointment_reminder",
                vec![reminder_body(), button("quick_reply", 1, vec![payload])]
            )
            .is_ok()
        );
        assert_eq!(
            code(check(
                "appointment_reminder",
                vec![reminder_body(), button("quick_reply", 1, vec![text("x")])]
            )),
            132012
        );
        assert_eq!(
            code(check(
                "appointment_reminder",
                vec![reminder_body(), button("url", 0, vec![text("x")])]
            )),
            132000
        );
        let coupon_body = || component("body", vec![text("15%")]);
        let coupon = json!({"type": "coupon_code", "coupon_code": "SAVE15"});
        assert!(
            check(
                "coupon_offer",
                vec![coupon_body(), button("copy_code", 0, vec![coupon])]
            )
            .is_ok()
        );
        assert_eq!(code(check("coupon_offer", vec![coupon_body()])), 132000);
        // Authentication: the code in the body and in the OTP button.
        let otp = |code: &str| {
            vec![
                component("body", vec![text(code)]),
                button("url", 0, vec![text(code)]),
            ]
        };
        assert!(check("verification_code", otp("123456")).is_ok());
        assert_eq!(
            code(check("verification_code", otp("123456")[..1].to_vec())),
            132000
        );
    }
}
