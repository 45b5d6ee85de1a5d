//! The body of `POST /{phoneNumberId}/messages`, typed, and the rules Meta applies to it.
//!
//! Which code answers which rule is listed in the [module docs of the simulator](super).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::errors::GraphError;

/// The message types the Cloud API sends.
pub const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
];

/// The interactive types the Cloud API sends.
const INTERACTIVE_TYPES: &[&str] = &[
    "button",
    "list",
    "cta_url",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "location_request_message",
    "address_message",
    "call_permission_request",
];

const TEXT_BODY_MAX: usize = 4096;
const CAPTION_MAX: usize = 1024;
const BUTTON_BODY_MAX: usize = 1024;
const HEADER_TEXT_MAX: usize = 60;
const FOOTER_TEXT_MAX: usize = 60;
const BUTTONS_MAX: usize = 3;
const BUTTON_TITLE_MAX: usize = 20;
const BUTTON_ID_MAX: usize = 256;
const LIST_BUTTON_MAX: usize = 20;
const LIST_SECTIONS_MAX: usize = 10;
const LIST_ROWS_MAX: usize = 10;
const SECTION_TITLE_MAX: usize = 24;
const ROW_TITLE_MAX: usize = 24;
const ROW_ID_MAX: usize = 200;
const ROW_DESCRIPTION_MAX: usize = 72;
const CTA_DISPLAY_TEXT_MAX: usize = 20;

/// The envelope every message has; the per-type object stays raw until `type` says which it is.
#[derive(Debug, Deserialize)]
struct Envelope {
    messaging_product: Option<String>,
    recipient_type: Option<String>,
    to: Option<String>,
    recipient: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    context: Option<Value>,
    biz_opaque_callback_data: Option<String>,
    #[serde(flatten)]
    objects: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct Context {
    message_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Text {
    body: Option<String>,
    #[serde(rename = "preview_url")]
    _preview_url: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Media {
    id: Option<String>,
    link: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
}

/// Meta accepts coordinates as numbers or numeric strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Coordinate {
    Number(f64),
    Text(String),
}

impl Coordinate {
    fn value(&self) -> Option<f64> {
        match self {
            Coordinate::Number(number) => Some(*number),
            Coordinate::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Location {
    latitude: Option<Coordinate>,
    longitude: Option<Coordinate>,
}

#[derive(Debug, Deserialize)]
struct Contact {
    name: Option<ContactName>,
}

#[derive(Debug, Deserialize)]
struct ContactName {
    formatted_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Interactive {
    #[serde(rename = "type")]
    kind: Option<String>,
    header: Option<Header>,
    body: Option<TextField>,
    footer: Option<TextField>,
    action: Option<Action>,
}

#[derive(Debug, Deserialize)]
struct Header {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TextField {
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Action {
    buttons: Option<Vec<ReplyButton>>,
    button: Option<String>,
    sections: Option<Vec<Section>>,
    name: Option<String>,
    parameters: Option<CtaParameters>,
}

#[derive(Debug, Deserialize)]
struct ReplyButton {
    #[serde(rename = "type")]
    kind: Option<String>,
    reply: Option<Reply>,
}

#[derive(Debug, Deserialize)]
struct Reply {
    id: Option<String>,
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Section {
    title: Option<String>,
    #[serde(default)]
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CtaParameters {
    display_text: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Template {
    name: Option<String>,
    language: Option<Language>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Debug, Deserialize)]
struct Language {
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Component {
    #[serde(rename = "type")]
    kind: Option<String>,
    sub_type: Option<String>,
    /// Meta takes the button index as a number or a string of digits.
    index: Option<Value>,
    #[serde(default)]
    parameters: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Parameter {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Reaction {
    message_id: Option<String>,
    emoji: Option<String>,
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recipient {
    /// `to`: the `wa_id` (digits, without `+`).
    Phone(String),
    /// `recipient`: a business-scoped user id such as `US.13491208655302741918`.
    UserId(String),
}

impl Recipient {
    /// The digits or the BSUID: the key of per-recipient settings.
    pub fn key(&self) -> &str {
        match self {
            Recipient::Phone(digits) | Recipient::UserId(digits) => digits,
        }
    }
}

/// The template a template message names, and the parameters it gives each component.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateRef {
    pub name: String,
    pub language: String,
    pub components: Vec<SentComponent>,
}

/// One entry of `template.components` of a send; checked against the template in
/// [`super::templates::check_send`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SentComponent {
    /// `header`, `body` or `button`, lowercase.
    pub kind: String,
    /// `url`, `quick_reply` or `copy_code` for a button, lowercase.
    pub sub_type: Option<String>,
    pub index: Option<usize>,
    pub parameters: Vec<Value>,
}

/// A message that passed every structural rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidMessage {
    /// The body as parsed (for the outbox).
    pub request: Value,
    pub recipient: Recipient,
    /// `to` or `recipient` exactly as sent (`contacts[].input`).
    pub input: String,
    pub kind: String,
    pub template: Option<TemplateRef>,
    pub biz_opaque_callback_data: Option<String>,
}

/// Applies Meta's rules to a `/messages` body.
pub(crate) fn validate(body: &[u8]) -> Result<ValidMessage, GraphError> {
    // Graph reads a body that is not a JSON object as no parameters at all.
    let request = match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::Object(Map::new()),
    };
    let envelope: Envelope = parse(&request, "message")?;

    match present(&envelope.messaging_product) {
        None => return Err(GraphError::required("messaging_product")),
        Some("whatsapp") => {}
        Some(other) => {
            return Err(GraphError::invalid_parameter(format!(
                "Param messaging_product must be \"whatsapp\", got \"{other}\""
            )));
        }
    }
    if let Some(recipient_type) = present(&envelope.recipient_type)
        && recipient_type != "individual"
    {
        return Err(GraphError::invalid_parameter(format!(
            "Param recipient_type must be \"individual\", got \"{recipient_type}\""
        )));
    }
    let (recipient, input) = recipient(&envelope)?;

    let kind = present(&envelope.kind).unwrap_or("text").to_owned();
    if !MESSAGE_TYPES.contains(&kind.as_str()) {
        return Err(GraphError::invalid_parameter(format!(
            "Param type must be one of {{{}}} - got \"{kind}\"",
            MESSAGE_TYPES.join(", ")
        )));
    }
    let object = envelope.objects.get(&kind).filter(|value| !value.is_null());
    let object = object.ok_or_else(|| GraphError::required(&kind))?;
    let mut template = None;
    match kind.as_str() {
        "text" => text(object)?,
        "image" | "audio" | "video" | "document" | "sticker" => media(&kind, object)?,
        "location" => location(object)?,
        "contacts" => contacts(object)?,
        "interactive" => interactive(object)?,
        "template" => template = Some(template_ref(object)?),
        "reaction" => reaction(object)?,
        _ => unreachable!("checked against MESSAGE_TYPES"),
    }
    if let Some(context) = envelope.context.as_ref().filter(|value| !value.is_null()) {
        let context: Context = parse(context, "context")?;
        if present(&context.message_id).is_none() {
            return Err(GraphError::required("context.message_id"));
        }
    }

    Ok(ValidMessage {
        recipient,
        input,
        kind,
        template,
        biz_opaque_callback_data: envelope.biz_opaque_callback_data,
        request,
    })
}

fn parse<T: DeserializeOwned>(value: &Value, path: &str) -> Result<T, GraphError> {
    T::deserialize(value)
        .map_err(|error| GraphError::invalid_parameter(format!("Param {path} is invalid: {error}")))
}

/// The string if it is there and not blank.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.trim().is_empty())
}

fn required<'a>(value: &'a Option<String>, path: &str) -> Result<&'a str, GraphError> {
    present(value).ok_or_else(|| GraphError::required(path))
}

fn at_most(text: &str, max: usize, path: &str) -> Result<(), GraphError> {
    let length = text.chars().count();
    if length > max {
        return Err(GraphError::invalid_value(format!(
            "Param {path} must be at most {max} characters long, got {length}"
        )));
    }
    Ok(())
}

fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace)
    })
}

fn recipient(envelope: &Envelope) -> Result<(Recipient, String), GraphError> {
    match (present(&envelope.to), present(&envelope.recipient)) {
        (None, None) => Err(GraphError::required("to")),
        (Some(_), Some(_)) => Err(GraphError::invalid_parameter(
            "Only one of the params to and recipient may be set",
        )),
        (Some(to), None) => {
            let digits = to.strip_prefix('+').unwrap_or(to);
            if !(7..=15).contains(&digits.len())
                || !digits.bytes().all(|byte| byte.is_ascii_digit())
            {
                return Err(GraphError::invalid_parameter(format!(
                    "Param to must be a phone number in international format (digits with country code), got \"{to}\""
                )));
            }
            Ok((Recipient::Phone(digits.to_owned()), to.to_owned()))
        }
        (None, Some(user_id)) => {
            if !is_bsuid(user_id) {
                return Err(GraphError::invalid_parameter(format!(
                    "Param recipient must be a business-scoped user id such as US.13491208655302741918, got \"{user_id}\""
                )));
            }
            Ok((Recipient::UserId(user_id.to_owned()), user_id.to_owned()))
        }
    }
}

/// `CC.` followed by an alphanumeric id, e.g. `US.13491208655302741918`.
pub(crate) fn is_bsuid(text: &str) -> bool {
    let Some((country, id)) = text.split_once('.') else {
        return false;
    };
    country.len() == 2
        && country.bytes().all(|byte| byte.is_ascii_uppercase())
        && !id.is_empty()
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

fn text(object: &Value) -> Result<(), GraphError> {
    let text: Text = parse(object, "text")?;
    let body = required(&text.body, "text.body")?;
    at_most(body, TEXT_BODY_MAX, "text.body")
}

fn media(kind: &str, object: &Value) -> Result<(), GraphError> {
    let media: Media = parse(object, kind)?;
    match (present(&media.id), present(&media.link)) {
        (None, None) => return Err(GraphError::required(&format!("{kind}.id or {kind}.link"))),
        (Some(_), Some(_)) => {
            return Err(GraphError::invalid_parameter(format!(
                "Param {kind} must have only one of id and link"
            )));
        }
        (None, Some(link)) if !is_http_url(link) => {
            return Err(GraphError::invalid_value(format!(
                "Param {kind}.link must be an http(s) URL"
            )));
        }
        _ => {}
    }
    if let Some(caption) = &media.caption {
        if !matches!(kind, "image" | "video" | "document") {
            return Err(GraphError::invalid_parameter(format!(
                "Param {kind}.caption is not supported"
            )));
        }
        at_most(caption, CAPTION_MAX, &format!("{kind}.caption"))?;
    }
    if media.filename.is_some() && kind != "document" {
        return Err(GraphError::invalid_parameter(format!(
            "Param {kind}.filename is not supported"
        )));
    }
    Ok(())
}

fn location(object: &Value) -> Result<(), GraphError> {
    let location: Location = parse(object, "location")?;
    for (coordinate, path, limit) in [
        (&location.latitude, "location.latitude", 90.0),
        (&location.longitude, "location.longitude", 180.0),
    ] {
        let coordinate = coordinate
            .as_ref()
            .ok_or_else(|| GraphError::required(path))?;
        match coordinate.value() {
            Some(value) if (-limit..=limit).contains(&value) => {}
            _ => {
                return Err(GraphError::invalid_value(format!(
                    "Param {path} must be a number between -{limit} and {limit}"
                )));
            }
        }
    }
    Ok(())
}

fn contacts(object: &Value) -> Result<(), GraphError> {
    let contacts: Vec<Contact> = parse(object, "contacts")?;
    if contacts.is_empty() {
        return Err(GraphError::required("contacts[0]"));
    }
    for (index, contact) in contacts.iter().enumerate() {
        let formatted_name = contact
            .name
            .as_ref()
            .and_then(|name| present(&name.formatted_name));
        if formatted_name.is_none() {
            return Err(GraphError::required(&format!(
                "contacts[{index}].name.formatted_name"
            )));
        }
    }
    Ok(())
}

fn interactive(object: &Value) -> Result<(), GraphError> {
    let interactive: Interactive = parse(object, "interactive")?;
    let kind = required(&interactive.kind, "interactive.type")?;
    if !INTERACTIVE_TYPES.contains(&kind) {
        return Err(GraphError::invalid_parameter(format!(
            "Param interactive.type must be one of {{{}}} - got \"{kind}\"",
            INTERACTIVE_TYPES.join(", ")
        )));
    }
    if !matches!(kind, "button" | "list" | "cta_url") {
        // Flows, catalogues and the rest: only their envelope is checked.
        return interactive
            .action
            .as_ref()
            .map(|_| ())
            .ok_or_else(|| GraphError::required("interactive.action"));
    }
    let body = interactive
        .body
        .as_ref()
        .and_then(|body| present(&body.text));
    let body = body.ok_or_else(|| GraphError::required("interactive.body.text"))?;
    at_most(
        body,
        if kind == "list" {
            TEXT_BODY_MAX
        } else {
            BUTTON_BODY_MAX
        },
        "interactive.body.text",
    )?;
    if let Some(header) = &interactive.header {
        if kind == "list"
            && header
                .kind
                .as_deref()
                .is_some_and(|header_kind| header_kind != "text")
        {
            return Err(GraphError::invalid_parameter(
                "Param interactive.header.type must be text for a list",
            ));
        }
        if let Some(text) = &header.text {
            at_most(text, HEADER_TEXT_MAX, "interactive.header.text")?;
        }
    }
    if let Some(text) = interactive
        .footer
        .as_ref()
        .and_then(|footer| footer.text.as_deref())
    {
        at_most(text, FOOTER_TEXT_MAX, "interactive.footer.text")?;
    }
    let action = interactive
        .action
        .as_ref()
        .ok_or_else(|| GraphError::required("interactive.action"))?;
    match kind {
        "button" => reply_buttons(action),
        "list" => list(action),
        _ => cta_url(action),
    }
}

fn reply_buttons(action: &Action) -> Result<(), GraphError> {
    let buttons = action
        .buttons
        .as_deref()
        .ok_or_else(|| GraphError::required("interactive.action.buttons"))?;
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return Err(GraphError::invalid_value(format!(
            "Param interactive.action.buttons must have between 1 and {BUTTONS_MAX} buttons, got {}",
            buttons.len()
        )));
    }
    let mut ids = Vec::with_capacity(buttons.len());
    for (index, button) in buttons.iter().enumerate() {
        let path = format!("interactive.action.buttons[{index}]");
        if button.kind.as_deref().is_some_and(|kind| kind != "reply") {
            return Err(GraphError::invalid_parameter(format!(
                "Param {path}.type must be reply"
            )));
        }
        let reply = button
            .reply
            .as_ref()
            .ok_or_else(|| GraphError::required(&format!("{path}.reply")))?;
        let title = required(&reply.title, &format!("{path}.reply.title"))?;
        at_most(title, BUTTON_TITLE_MAX, &format!("{path}.reply.title"))?;
        let id = required(&reply.id, &format!("{path}.reply.id"))?;
        at_most(id, BUTTON_ID_MAX, &format!("{path}.reply.id"))?;
        if ids.contains(&id) {
            return Err(GraphError::invalid_value(format!(
                "Param {path}.reply.id must be unique, \"{id}\" repeats"
            )));
        }
        ids.push(id);
    }
    Ok(())
}

fn list(action: &Action) -> Result<(), GraphError> {
    let button = required(&action.button, "interactive.action.button")?;
    at_most(button, LIST_BUTTON_MAX, "interactive.action.button")?;
    let sections = action
        .sections
        .as_deref()
        .ok_or_else(|| GraphError::required("interactive.action.sections"))?;
    if sections.is_empty() || sections.len() > LIST_SECTIONS_MAX {
        return Err(GraphError::invalid_value(format!(
            "Param interactive.action.sections must have between 1 and {LIST_SECTIONS_MAX} sections, got {}",
            sections.len()
        )));
    }
    let rows: usize = sections.iter().map(|section| section.rows.len()).sum();
    if rows == 0 || rows > LIST_ROWS_MAX {
        return Err(GraphError::invalid_value(format!(
            "Param interactive.action.sections must have between 1 and {LIST_ROWS_MAX} rows in total, got {rows}"
        )));
    }
    let mut ids = Vec::with_capacity(rows);
    for (section_index, section) in sections.iter().enumerate() {
        let path = format!("interactive.action.sections[{section_index}]");
        match present(&section.title) {
            Some(title) => at_most(title, SECTION_TITLE_MAX, &format!("{path}.title"))?,
            None if sections.len() > 1 => {
                return Err(GraphError::required(&format!("{path}.title")));
            }
            None => {}
        }
        for (row_index, row) in section.rows.iter().enumerate() {
            let path = format!("{path}.rows[{row_index}]");
            let title = required(&row.title, &format!("{path}.title"))?;
            at_most(title, ROW_TITLE_MAX, &format!("{path}.title"))?;
            let id = required(&row.id, &format!("{path}.id"))?;
            at_most(id, ROW_ID_MAX, &format!("{path}.id"))?;
            if let Some(description) = &row.description {
                at_most(
                    description,
                    ROW_DESCRIPTION_MAX,
                    &format!("{path}.description"),
                )?;
            }
            if ids.contains(&id) {
                return Err(GraphError::invalid_value(format!(
                    "Param {path}.id must be unique, \"{id}\" repeats"
                )));
            }
            ids.push(id);
        }
    }
    Ok(())
}

fn cta_url(action: &Action) -> Result<(), GraphError> {
    if required(&action.name, "interactive.action.name")? != "cta_url" {
        return Err(GraphError::invalid_parameter(
            "Param interactive.action.name must be cta_url",
        ));
    }
    let parameters = action
        .parameters
        .as_ref()
        .ok_or_else(|| GraphError::required("interactive.action.parameters"))?;
    let display_text = required(
        &parameters.display_text,
        "interactive.action.parameters.display_text",
    )?;
    at_most(
        display_text,
        CTA_DISPLAY_TEXT_MAX,
        "interactive.action.parameters.display_text",
    )?;
    let url = required(&parameters.url, "interactive.action.parameters.url")?;
    if !is_http_url(url) {
        return Err(GraphError::invalid_value(
            "Param interactive.action.parameters.url must be an http(s) URL",
        ));
    }
    Ok(())
}

fn template_ref(object: &Value) -> Result<TemplateRef, GraphError> {
    let template: Template = parse(object, "template")?;
    let name = required(&template.name, "template.name")?;
    let language = template
        .language
        .as_ref()
        .ok_or_else(|| GraphError::required("template.language"))?;
    let language = required(&language.code, "template.language.code")?;
    let mut components = Vec::new();
    for component in template.components {
        let kind = required(&component.kind, "template.components.type")?.to_ascii_lowercase();
        for parameter in &component.parameters {
            let parameter: Parameter = parse(parameter, "template.components.parameters")?;
            let parameter_kind = required(&parameter.kind, "template.components.parameters.type")?;
            if parameter_kind == "text" && parameter.text.is_none() {
                return Err(GraphError::invalid_parameter(
                    "Parameter 'text' is mandatory for component parameter type 'text'",
                ));
            }
        }
        let index = match &component.index {
            None | Some(Value::Null) => None,
            Some(index) => Some(
                index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|text| text.trim().parse().ok()))
                    .and_then(|index| usize::try_from(index).ok())
                    .ok_or_else(|| {
                        GraphError::invalid_parameter(
                            "Param template.components.index must be a non-negative integer",
                        )
                    })?,
            ),
        };
        components.push(SentComponent {
            kind,
            sub_type: present(&component.sub_type).map(str::to_ascii_lowercase),
            index,
            parameters: component.parameters,
        });
    }
    Ok(TemplateRef {
        name: name.to_owned(),
        language: language.to_owned(),
        components,
    })
}

fn reaction(object: &Value) -> Result<(), GraphError> {
    let reaction: Reaction = parse(object, "reaction")?;
    required(&reaction.message_id, "reaction.message_id")?;
    // An empty emoji removes a reaction, so only its absence is an error.
    reaction
        .emoji
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| GraphError::required("reaction.emoji"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: Value) -> Result<ValidMessage, GraphError> {
        validate(body.to_string().as_bytes())
    }

    fn code(body: Value) -> u32 {
        check(body).expect_err("should be refused").error.code
    }

    fn message(kind: &str, object: Value) -> Value {
        json!({"messaging_product": "whatsapp", "to": "15551234567", "type": kind, kind: object})
    }

    #[test]
    fn a_plain_text_is_accepted_and_type_defaults_to_text() {
        let valid = check(
            json!({"messaging_product": "whatsapp", "to": "+15551234567", "text": {"body": "hi"}}),
        )
        .unwrap();
        assert_eq!(valid.kind, "text");
        assert_eq!(valid.recipient, Recipient::Phone("15551234567".into()));
        assert_eq!(valid.input, "+15551234567");
    }

    #[test]
    fn the_envelope_rules() {
        let refused = check(json!({"to": "15551234567", "text": {"body": "hi"}})).unwrap_err();
        assert_eq!(
            refused.error.message,
            "(#100) The parameter messaging_product is required."
        );
        assert_eq!(
            code(json!({"messaging_product": "sms", "to": "15551234567", "text": {"body": "x"}})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "text": {"body": "x"}})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "1 555", "text": {"body": "x"}})),
            100
        );
        assert_eq!(
            code(
                json!({"messaging_product": "whatsapp", "to": "15551234567", "recipient": "US.1", "text": {"body": "x"}})
            ),
            100
        );
        assert_eq!(code(message("fax", json!({}))), 100);
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "image"})),
            100
        );
        assert_eq!(
            code(
                json!({"messaging_product": "whatsapp", "recipient_type": "group", "to": "15551234567", "text": {"body": "x"}})
            ),
            100
        );
        assert!(validate(b"not json").is_err());
    }

    #[test]
    fn a_bsuid_recipient_is_accepted() {
        let valid = check(json!({"messaging_product": "whatsapp", "recipient": "US.13491208655302741918", "type": "text", "text": {"body": "hi"}}))
            .unwrap();
        assert_eq!(
            valid.recipient,
            Recipient::UserId("US.13491208655302741918".into())
        );
        assert_eq!(
            code(
                json!({"messaging_product": "whatsapp", "recipient": "13491208655302741918", "text": {"body": "x"}})
            ),
            100
        );
    }

    #[test]
    fn text_limits() {
        assert_eq!(code(message("text", json!({"body": ""}))), 100);
        assert_eq!(
            code(message("text", json!({"body": "x".repeat(4097)}))),
            131009
        );
        assert!(check(message("text", json!({"body": "é".repeat(4096)}))).is_ok());
        assert_eq!(code(message("text", json!({"body": 5}))), 100);
    }

    #[test]
    fn media_rules() {
        assert!(
            check(message(
                "image",
                json!({"link": "https://example.com/a.jpg", "caption": "c"})
            ))
            .is_ok()
        );
        assert!(
            check(message(
                "document",
                json!({"id": "123", "filename": "a.pdf"})
            ))
            .is_ok()
        );
        assert_eq!(code(message("image", json!({}))), 100);
        assert_eq!(
            code(message(
                "image",
                json!({"id": "1", "link": "https://example.com/a.jpg"})
            )),
            100
        );
        assert_eq!(
            code(message("image", json!({"link": "ftp://example.com/a.jpg"}))),
            131009
        );
        assert_eq!(
            code(message(
                "video",
                json!({"id": "1", "caption": "x".repeat(1025)})
            )),
            131009
        );
        assert_eq!(
            code(message("sticker", json!({"id": "1", "caption": "no"}))),
            100
        );
        assert_eq!(
            code(message("image", json!({"id": "1", "filename": "a.jpg"}))),
            100
        );
    }

    #[test]
    fn location_and_contacts() {
        assert!(
            check(message(
                "location",
                json!({"latitude": 52.5, "longitude": "13.4"})
            ))
            .is_ok()
        );
        assert_eq!(
            code(message("location", json!({"latitude": 91, "longitude": 0}))),
            131009
        );
        assert_eq!(code(message("location", json!({"latitude": 1}))), 100);
        assert!(
            check(message(
                "contacts",
                json!([{"name": {"formatted_name": "Sam"}}])
            ))
            .is_ok()
        );
        assert_eq!(code(message("contacts", json!([{"name": {}}]))), 100);
        assert_eq!(code(message("contacts", json!([]))), 100);
    }

    fn buttons(titles: &[&str]) -> Value {
        let buttons: Vec<Value> = titles
            .iter()
            .enumerate()
            .map(|(index, title)| json!({"type": "reply", "reply": {"id": format!("b{index}"), "title": title}}))
            .collect();
        json!({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": buttons}})
    }

    #[test]
    fn reply_buttons() {
        assert!(check(message("interactive", buttons(&["Yes", "No"]))).is_ok());
        assert_eq!(code(message("interactive", buttons(&[]))), 131009);
        assert_eq!(
            code(message("interactive", buttons(&["a", "b", "c", "d"]))),
            131009
        );
        assert_eq!(
            code(message("interactive", buttons(&["a title longer than 20"]))),
            131009
        );
        let no_body = json!({"type": "button", "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "a"}}]}});
        assert_eq!(code(message("interactive", no_body)), 100);
        assert_eq!(
            code(message(
                "interactive",
                json!({"type": "carousel_of_doom", "action": {}})
            )),
            100
        );
    }

    fn list_of(rows_per_section: &[usize], row_title: &str) -> Value {
        let sections: Vec<Value> = rows_per_section
            .iter()
            .enumerate()
            .map(|(section, rows)| {
                let rows: Vec<Value> = (0..*rows)
                    .map(|row| json!({"id": format!("r{section}-{row}"), "title": row_title}))
                    .collect();
                json!({"title": format!("S{section}"), "rows": rows})
            })
            .collect();
        json!({"type": "list", "body": {"text": "Menu"}, "action": {"button": "Choose", "sections": sections}})
    }

    #[test]
    fn lists() {
        assert!(check(message("interactive", list_of(&[3, 7], "Row"))).is_ok());
        assert_eq!(
            code(message("interactive", list_of(&[6, 5], "Row"))),
            131009
        );
        assert_eq!(
            code(message("interactive", list_of(&[1; 11], "Row"))),
            131009
        );
        assert_eq!(
            code(message(
                "interactive",
                list_of(&[1], "a row title of 25 chars!!")
            )),
            131009
        );
        assert_eq!(code(message("interactive", list_of(&[0], "Row"))), 131009);
    }

    #[test]
    fn cta_url() {
        let cta = |text: &str, url: &str| json!({"type": "cta_url", "body": {"text": "See"}, "action": {"name": "cta_url", "parameters": {"display_text": text, "url": url}}});
        assert!(check(message("interactive", cta("Open", "https://example.com"))).is_ok());
        assert_eq!(
            code(message("interactive", cta("Open", "example.com"))),
            131009
        );
        assert_eq!(
            code(message(
                "interactive",
                cta("an overly long display", "https://example.com")
            )),
            131009
        );
    }

    #[test]
    fn templates_and_reactions() {
        let valid = check(message(
            "template",
            json!({"name": "order_update", "language": {"code": "en"}, "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Sam"}, {"type": "text", "text": "#1"}, {"type": "text", "text": "shipped"}]}
            ]}),
        ))
        .unwrap();
        let template = valid.template.unwrap();
        assert_eq!(
            (template.name.as_str(), template.language.as_str()),
            ("order_update", "en")
        );
        assert_eq!(template.components[0].kind, "body");
        assert_eq!(template.components[0].parameters.len(), 3);
        let button = check(message(
            "template",
            json!({"name": "x", "language": {"code": "en"}, "components": [
                {"type": "button", "sub_type": "URL", "index": "1", "parameters": [{"type": "text", "text": "1234"}]}
            ]}),
        ))
        .unwrap()
        .template
        .unwrap();
        assert_eq!(
            (
                button.components[0].sub_type.as_deref(),
                button.components[0].index
            ),
            (Some("url"), Some(1))
        );
        assert_eq!(
            code(message(
                "template",
                json!({"name": "x", "language": {"code": "en"}, "components": [{"type": "button", "index": "first"}]})
            )),
            100
        );
        assert_eq!(
            code(message("template", json!({"language": {"code": "en"}}))),
            100
        );
        assert_eq!(
            code(message("template", json!({"name": "x", "language": {}}))),
            100
        );
        assert_eq!(
            code(message(
                "template",
                json!({"name": "x", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "text"}]}]})
            )),
            100
        );
        assert!(
            check(message(
                "reaction",
                json!({"message_id": "wamid.x", "emoji": ""})
            ))
            .is_ok()
        );
        assert_eq!(
            code(message("reaction", json!({"message_id": "wamid.x"}))),
            100
        );
        assert_eq!(code(message("reaction", json!({"emoji": "👍"}))), 100);
    }

    #[test]
    fn context_needs_a_message_id() {
        let mut body = message("text", json!({"body": "hi"}));
        body["context"] = json!({"message_id": "wamid.abc"});
        assert!(check(body.clone()).is_ok());
        body["context"] = json!({});
        assert_eq!(code(body), 100);
    }
}
