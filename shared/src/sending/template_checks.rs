//! A template message checked against the synced template it names, as Meta would check it,
//! so a send Meta would refuse is refused before Meta is called, with the same code Meta's
//! refusal maps to (see `service::upstream_error`).

use std::collections::BTreeSet;

use http::StatusCode;
use serde_json::Value;

use crate::api::ApiError;
use crate::domain::{
    BodyParameters, ButtonKind, ButtonParameter, HeaderFormat, HeaderParameter, MessageTemplate,
};
use crate::whatsapp::outbound::{Template, TemplateComponent, TemplateParameter};

/// Meta's limit on a TEXT header's parameter.
const MAX_HEADER_TEXT: usize = 60;
/// Meta's limit on a body text parameter when the message has other components besides the
/// body…
const MAX_BODY_TEXT: usize = 1024;
/// …and when the body is the only component.
const MAX_BODY_ONLY_TEXT: usize = 32_768;
/// Meta's limit on a COPY_CODE button's coupon code.
const MAX_COUPON_CODE: usize = 15;

/// Why a template message is refused; each is a 422 whose code names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateCheckError {
    #[error("{0}")]
    Paused(String),
    #[error("{0}")]
    Disabled(String),
    /// PENDING, REJECTED, IN_APPEAL or a status Meta adds later.
    #[error("{0}")]
    NotApproved(String),
    /// A component has too few or too many parameters, or named ones that do not match.
    #[error("{0}")]
    ParameterMismatch(String),
    /// A parameter's `type` is not what its placeholder takes.
    #[error("{0}")]
    FormatMismatch(String),
    /// A parameter's value breaks Meta's rules (newline, tab, 5 spaces, missing value).
    #[error("{0}")]
    ParameterInvalid(String),
    #[error("{0}")]
    TextTooLong(String),
    /// A button component names no button of the template that takes a parameter, or a
    /// button that needs one got none.
    #[error("{0}")]
    ButtonMismatch(String),
}

impl TemplateCheckError {
    /// The API's code, the same one Meta's refusal of the same rule maps to.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Paused(_) => "template_paused",
            Self::Disabled(_) => "template_disabled",
            Self::NotApproved(_) => "template_not_approved",
            Self::ParameterMismatch(_) => "template_parameter_mismatch",
            Self::FormatMismatch(_) => "template_parameter_format_mismatch",
            Self::ParameterInvalid(_) => "template_parameter_invalid",
            Self::TextTooLong(_) => "template_text_too_long",
            Self::ButtonMismatch(_) => "template_button_mismatch",
        }
    }
}

impl From<TemplateCheckError> for ApiError {
    fn from(error: TemplateCheckError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error.code(),
            error.to_string(),
        )
    }
}

type Checked = Result<(), TemplateCheckError>;

/// Checks `message` against `template` (found by its name and language): the template is
/// APPROVED, and the header, body and button parameters are the ones it takes, within Meta's
/// rules for text. The first rule broken is reported.
pub fn check_template_message(template: &MessageTemplate, message: &Template) -> Checked {
    let named = Named(template);
    check_status(template, &named)?;
    let parameters = template.parameters();
    let of_kind = |kind: &'static str| {
        message
            .components
            .iter()
            .filter(move |c| c.kind.eq_ignore_ascii_case(kind))
    };
    // A template has one header and one body: their parameters in two components would add up
    // here and be refused by Meta (132000).
    for kind in ["header", "body"] {
        if of_kind(kind).count() > 1 {
            return Err(TemplateCheckError::ParameterMismatch(format!(
                "{named} takes one {kind} component; give all its {kind} parameters in one"
            )));
        }
    }
    let header: Vec<&TemplateParameter> = of_kind("header").flat_map(|c| &c.parameters).collect();
    let body: Vec<&TemplateParameter> = of_kind("body").flat_map(|c| &c.parameters).collect();
    let buttons: Vec<&TemplateComponent> = of_kind("button").collect();
    // Meta allows longer body parameters when the body is all the message fills.
    let body_only = message.components.iter().all(TemplateComponent::is_body);
    let max_body = if body_only {
        MAX_BODY_ONLY_TEXT
    } else {
        MAX_BODY_TEXT
    };

    check_header(&named, parameters.header.as_ref(), &header)?;
    check_body(&named, &parameters.body, &body, max_body)?;
    check_buttons(&named, &parameters.buttons, &buttons)?;
    if let Some(otp) = parameters
        .buttons
        .iter()
        .find(|b| b.kind == ButtonKind::Otp)
    {
        check_otp_code(&named, otp, &body, &buttons)?;
    }
    Ok(())
}

/// How messages name the template: `template "order_update" (en)`.
struct Named<'a>(&'a MessageTemplate);

impl std::fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template \"{}\" ({})", self.0.name, self.0.language)
    }
}

fn check_status(template: &MessageTemplate, named: &Named) -> Checked {
    if template.is_approved() {
        return Ok(());
    }
    let status = &template.status;
    let reason = template
        .status_reason
        .as_deref()
        .filter(|reason| !reason.trim().is_empty())
        .map_or(String::new(), |reason| format!(" ({reason})"));
    let message = match status.to_ascii_uppercase().as_str() {
        "PAUSED" => {
            return Err(TemplateCheckError::Paused(format!(
                "{named} is PAUSED{reason} for low quality; Meta resumes it after the pause, \
                 or edit it in WhatsApp Manager; send another APPROVED template meanwhile"
            )));
        }
        "DISABLED" => {
            return Err(TemplateCheckError::Disabled(format!(
                "{named} is DISABLED{reason} for low quality and cannot be sent again; create \
                 a new template in WhatsApp Manager"
            )));
        }
        _ => format!(
            "{named} is {status}{reason}; only APPROVED templates can be sent: wait for Meta's \
             review, or send another APPROVED template"
        ),
    };
    Err(TemplateCheckError::NotApproved(message))
}

fn check_header(
    named: &Named,
    expected: Option<&HeaderParameter>,
    given: &[&TemplateParameter],
) -> Checked {
    let Some(expected) = expected else {
        if given.is_empty() {
            return Ok(());
        }
        return Err(TemplateCheckError::ParameterMismatch(format!(
            "{named} has no header placeholder but {} header parameter(s) were given; remove \
             the header component",
            given.len()
        )));
    };
    let wanted = expected.format.as_str();
    let shape = match &expected.format {
        HeaderFormat::Text => r#"{"type":"text","text":"…"}"#.to_owned(),
        HeaderFormat::Location => {
            r#"{"type":"location","location":{"latitude":…,"longitude":…}}"#.to_owned()
        }
        HeaderFormat::Other(_) => return Ok(()), // A format Meta added later: Meta judges.
        media => {
            let media = media.as_str();
            format!(r#"{{"type":"{media}","{media}":{{"link":"https://…"}}}} (or "id")"#)
        }
    };
    let parameter = match given {
        [parameter] => parameter,
        _ => {
            return Err(TemplateCheckError::ParameterMismatch(format!(
                "{named} has a header of format {} that takes 1 parameter but {} were given; send \
                 {{\"type\":\"header\",\"parameters\":[{shape}]}}",
                wanted.to_ascii_uppercase(),
                given.len()
            )));
        }
    };
    if !parameter.kind.eq_ignore_ascii_case(wanted) {
        return Err(TemplateCheckError::FormatMismatch(format!(
            "{named} has a header of format {} but its parameter is of type \"{}\"; send {shape}",
            wanted.to_ascii_uppercase(),
            parameter.kind
        )));
    }
    match &expected.format {
        HeaderFormat::Text => {
            if let Some(name) = parameter
                .other
                .get("parameter_name")
                .and_then(Value::as_str)
                && expected.placeholder.as_deref() != Some(name)
            {
                return Err(TemplateCheckError::ParameterMismatch(format!(
                    "{named}'s header placeholder is {{{{{}}}}} but the header parameter names \
                     \"{name}\"",
                    expected.placeholder.as_deref().unwrap_or_default()
                )));
            }
            check_text(named, "header", parameter, MAX_HEADER_TEXT)
        }
        HeaderFormat::Location => {
            let location = parameter.other.get("location");
            let complete = location
                .is_some_and(|l| l.get("latitude").is_some() && l.get("longitude").is_some());
            if complete {
                Ok(())
            } else {
                Err(TemplateCheckError::ParameterInvalid(format!(
                    "{named}'s LOCATION header parameter needs latitude and longitude; send \
                     {shape}"
                )))
            }
        }
        _ => {
            let media = parameter.other.get(wanted);
            let complete = media.is_some_and(|m| {
                m.get("link").and_then(Value::as_str).is_some()
                    || m.get("id").and_then(Value::as_str).is_some()
            });
            if complete {
                Ok(())
            } else {
                Err(TemplateCheckError::ParameterInvalid(format!(
                    "{named}'s {} header parameter needs a link or an id; send {shape}",
                    wanted.to_ascii_uppercase()
                )))
            }
        }
    }
}

fn check_body(
    named: &Named,
    expected: &BodyParameters,
    given: &[&TemplateParameter],
    max_text: usize,
) -> Checked {
    match expected {
        BodyParameters::Positional { count } => {
            if given.len() != *count {
                let placeholders: Vec<String> =
                    (1..=*count).map(|n| format!("{{{{{n}}}}}")).collect();
                let listed = if placeholders.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", placeholders.join(", "))
                };
                return Err(TemplateCheckError::ParameterMismatch(format!(
                    "{named} has {count} body placeholder(s){listed} but {} body parameter(s) \
                     were given",
                    given.len()
                )));
            }
        }
        BodyParameters::Named { names } => check_names(named, names, given)?,
    }
    for parameter in given {
        // Meta fills a body placeholder with text, a currency or a date.
        match parameter.kind.to_ascii_lowercase().as_str() {
            "text" => check_text(named, "body", parameter, max_text)?,
            "currency" | "date_time" => {}
            other => {
                return Err(TemplateCheckError::FormatMismatch(format!(
                    "{named}'s body parameters must be of type \"text\" (or \"currency\", \
                     \"date_time\"), got \"{other}\""
                )));
            }
        }
    }
    Ok(())
}

/// A NAMED template's body parameters each carry `parameter_name`, one per placeholder.
fn check_names(named: &Named, names: &[String], given: &[&TemplateParameter]) -> Checked {
    let expected: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let listed = names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mismatch = |problem: String| {
        TemplateCheckError::ParameterMismatch(format!(
            "{named} takes named body parameters {listed}, each as {{\"type\":\"text\",\
             \"parameter_name\":…,\"text\":…}}; {problem}"
        ))
    };
    let mut seen = BTreeSet::new();
    for parameter in given {
        let Some(name) = parameter
            .other
            .get("parameter_name")
            .and_then(Value::as_str)
        else {
            return Err(mismatch(
                "a body parameter has no parameter_name".to_owned(),
            ));
        };
        if !expected.contains(name) {
            return Err(mismatch(format!("\"{name}\" is not one of them")));
        }
        if !seen.insert(name) {
            return Err(mismatch(format!("\"{name}\" is given twice")));
        }
    }
    let missing: Vec<&str> = expected.difference(&seen).copied().collect();
    if !missing.is_empty() {
        return Err(mismatch(format!("missing: {}", missing.join(", "))));
    }
    Ok(())
}

/// Each `button` component names a template button that takes a parameter (by `sub_type` and
/// `index`) and gives it; every required one is given.
fn check_buttons(
    named: &Named,
    expected: &[ButtonParameter],
    given: &[&TemplateComponent],
) -> Checked {
    let takes = || {
        let listed: Vec<String> = expected
            .iter()
            .map(|b| format!("{} at index {}", b.sub_type, b.index))
            .collect();
        if listed.is_empty() {
            "none of its buttons takes a parameter".to_owned()
        } else {
            format!("its buttons taking parameters: {}", listed.join(", "))
        }
    };
    let mut seen = BTreeSet::new();
    for component in given {
        let sub_type = component
            .other
            .get("sub_type")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase());
        let Some(sub_type) = sub_type else {
            return Err(TemplateCheckError::ButtonMismatch(format!(
                "a button component of {named} has no sub_type; {}",
                takes()
            )));
        };
        if !matches!(sub_type.as_str(), "url" | "quick_reply" | "copy_code") {
            // flow, catalog, mpm, …: kinds this code does not check; Meta judges them.
            continue;
        }
        let Some(index) = component.other.get("index").and_then(index_of) else {
            return Err(TemplateCheckError::ButtonMismatch(format!(
                "a {sub_type} button component of {named} has no numeric index; {}",
                takes()
            )));
        };
        let Some(button) = expected
            .iter()
            .find(|b| b.index == index && b.sub_type == sub_type)
        else {
            return Err(TemplateCheckError::ButtonMismatch(format!(
                "{named} has no {sub_type} button taking a parameter at index {index}; {}",
                takes()
            )));
        };
        if !seen.insert(index) {
            return Err(TemplateCheckError::ButtonMismatch(format!(
                "the button at index {index} of {named} is given twice"
            )));
        }
        check_button_parameters(named, button, &component.parameters)?;
    }
    if let Some(missing) = expected
        .iter()
        .find(|b| b.required && !seen.contains(&b.index))
    {
        return Err(TemplateCheckError::ButtonMismatch(format!(
            "{named}'s {} button at index {} needs a parameter; send {{\"type\":\"button\",\
             \"sub_type\":\"{}\",\"index\":{},\"parameters\":[{{\"type\":\"{}\",…}}]}}",
            kind_name(missing.kind),
            missing.index,
            missing.sub_type,
            missing.index,
            missing.parameter_type
        )));
    }
    Ok(())
}

fn check_button_parameters(
    named: &Named,
    button: &ButtonParameter,
    given: &[TemplateParameter],
) -> Checked {
    let index = button.index;
    let wanted = button.parameter_type;
    let parameter = match given {
        [] if !button.required => return Ok(()),
        [parameter] => parameter,
        _ => {
            return Err(TemplateCheckError::ButtonMismatch(format!(
                "{named}'s {} button at index {index} takes 1 \"{wanted}\" parameter but {} \
                 were given",
                kind_name(button.kind),
                given.len()
            )));
        }
    };
    if !parameter.kind.eq_ignore_ascii_case(wanted) {
        return Err(TemplateCheckError::FormatMismatch(format!(
            "{named}'s {} button at index {index} takes a \"{wanted}\" parameter, got \"{}\"; \
             send {{\"type\":\"{wanted}\",\"{wanted}\":…}}",
            kind_name(button.kind),
            parameter.kind
        )));
    }
    match button.kind {
        ButtonKind::Url | ButtonKind::Otp => check_text(named, "button", parameter, usize::MAX),
        ButtonKind::QuickReply | ButtonKind::CopyCode => {
            let Some(value) = parameter.other.get(wanted).and_then(Value::as_str) else {
                return Err(TemplateCheckError::ParameterInvalid(format!(
                    "{named}'s button at index {index}: the \"{wanted}\" parameter needs its \
                     value as a string in \"{wanted}\""
                )));
            };
            if button.kind == ButtonKind::CopyCode && value.chars().count() > MAX_COUPON_CODE {
                return Err(TemplateCheckError::TextTooLong(format!(
                    "{named}'s coupon code is {} characters; Meta allows {MAX_COUPON_CODE}",
                    value.chars().count()
                )));
            }
            Ok(())
        }
    }
}

/// An AUTHENTICATION template's code goes in the body and again in its OTP button.
fn check_otp_code(
    named: &Named,
    otp: &ButtonParameter,
    body: &[&TemplateParameter],
    buttons: &[&TemplateComponent],
) -> Checked {
    let body_code = body.first().and_then(|p| text(p));
    let button_code = buttons
        .iter()
        .find(|c| c.other.get("index").and_then(index_of) == Some(otp.index))
        .and_then(|c| c.parameters.first())
        .and_then(text);
    if body_code.is_some() && body_code == button_code {
        return Ok(());
    }
    Err(TemplateCheckError::ButtonMismatch(format!(
        "{named} is an authentication template: send the one-time code as the body parameter \
         and again as {{\"type\":\"button\",\"sub_type\":\"url\",\"index\":{},\"parameters\":\
         [{{\"type\":\"text\",\"text\":<the same code>}}]}}; got {:?} in the body and {:?} in \
         the button",
        otp.index,
        body_code.unwrap_or_default(),
        button_code.unwrap_or_default()
    )))
}

/// A text parameter within Meta's rules: it has its text, on one line, with at most four
/// spaces in a row, and no longer than `max` characters.
fn check_text(
    named: &Named,
    component: &str,
    parameter: &TemplateParameter,
    max: usize,
) -> Checked {
    let Some(value) = text(parameter) else {
        return Err(TemplateCheckError::ParameterInvalid(format!(
            "a {component} text parameter of {named} has no \"text\"; send \
             {{\"type\":\"text\",\"text\":\"…\"}}"
        )));
    };
    if value.contains(['\n', '\r', '\t']) || value.contains("     ") {
        return Err(TemplateCheckError::ParameterInvalid(format!(
            "a {component} text parameter of {named} has a newline, a tab or more than 4 \
             consecutive spaces, which WhatsApp refuses; put the text on one line"
        )));
    }
    let length = value.chars().count();
    if length > max {
        return Err(TemplateCheckError::TextTooLong(format!(
            "a {component} text parameter of {named} is {length} characters; WhatsApp allows \
             {max} here"
        )));
    }
    Ok(())
}

fn text(parameter: &TemplateParameter) -> Option<&str> {
    parameter.other.get("text").and_then(Value::as_str)
}

/// A button's `index`: a number or a numeric string, as Meta takes both.
fn index_of(index: &Value) -> Option<usize> {
    match index {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn kind_name(kind: ButtonKind) -> &'static str {
    match kind {
        ButtonKind::Url => "URL",
        ButtonKind::QuickReply => "QUICK_REPLY",
        ButtonKind::CopyCode => "COPY_CODE",
        ButtonKind::Otp => "OTP",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(name: &str, category: &str, components: Value) -> MessageTemplate {
        // NAMED when the body's placeholders are names, as Meta sets it.
        let named = components.to_string().contains("{{first_name}}");
        MessageTemplate {
            parameter_format: Some(if named { "NAMED" } else { "POSITIONAL" }.to_owned()),
            ..MessageTemplate::new(
                "1",
                name,
                "en",
                "APPROVED",
                category,
                components.to_string(),
            )
        }
    }

    fn order_update() -> MessageTemplate {
        template(
            "order_update",
            "UTILITY",
            json!([{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is {{3}}."}]),
        )
    }

    fn order_confirmation() -> MessageTemplate {
        template(
            "order_confirmation",
            "UTILITY",
            json!([{"type": "BODY",
                    "text": "Thank you, {{first_name}}! Your order {{order_number}} is confirmed."}]),
        )
    }

    fn delivery_tracking() -> MessageTemplate {
        template(
            "delivery_tracking",
            "UTILITY",
            json!([
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                {"type": "BODY", "text": "Your order ships today with {{1}}."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track order", "url": "https://example.com/track/{{1}}"},
                    {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100100"}
                ]}
            ]),
        )
    }

    fn media(format: &str) -> MessageTemplate {
        template(
            "product_launch",
            "MARKETING",
            json!([
                {"type": "HEADER", "format": format},
                {"type": "BODY", "text": "Meet {{1}}."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop now", "url": "https://example.com/shop"},
                    {"type": "QUICK_REPLY", "text": "Stop promotions"}
                ]}
            ]),
        )
    }

    fn coupon_offer() -> MessageTemplate {
        template(
            "coupon_offer",
            "MARKETING",
            json!([
                {"type": "BODY", "text": "Use the code below for {{1}} off."},
                {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE15"}]}
            ]),
        )
    }

    fn verification_code() -> MessageTemplate {
        template(
            "verification_code",
            "AUTHENTICATION",
            json!([
                {"type": "BODY", "text": "{{1}} is your verification code."},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}
            ]),
        )
    }

    fn message(template: &MessageTemplate, components: Value) -> Template {
        let mut message = Template::new(&template.name, &template.language);
        message.components = serde_json::from_value(components).unwrap();
        message
    }

    fn text(value: &str) -> Value {
        json!({"type": "text", "text": value})
    }

    fn body(parameters: &[&str]) -> Value {
        json!({"type": "body", "parameters": parameters.iter().map(|p| text(p)).collect::<Vec<_>>()})
    }

    fn button(sub_type: &str, index: Value, parameters: Value) -> Value {
        json!({"type": "button", "sub_type": sub_type, "index": index, "parameters": parameters})
    }

    fn check(template: &MessageTemplate, components: Value) -> Result<(), &'static str> {
        check_template_message(template, &message(template, components)).map_err(|e| e.code())
    }

    #[test]
    fn status_other_than_approved_is_refused_by_its_own_code() {
        let mut t = order_update();
        let send = json!([body(&["a", "b", "c"])]);
        assert_eq!(check(&t, send.clone()), Ok(()));
        for (status, code) in [
            ("PAUSED", "template_paused"),
            ("DISABLED", "template_disabled"),
            ("PENDING", "template_not_approved"),
            ("REJECTED", "template_not_approved"),
            ("IN_APPEAL", "template_not_approved"),
            ("SOMETHING_NEW", "template_not_approved"),
        ] {
            t.status = status.to_owned();
            assert_eq!(check(&t, send.clone()), Err(code), "{status}");
        }
        t.status = "PAUSED".into();
        t.status_reason = Some("low read rate".into());
        let error = check_template_message(&t, &message(&t, send)).unwrap_err();
        assert!(
            error.to_string().contains("PAUSED (low read rate)"),
            "{error}"
        );
    }

    #[test]
    fn positional_body_needs_exactly_its_count() {
        let t = order_update();
        let error =
            check_template_message(&t, &message(&t, json!([body(&["a", "b"])]))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "template \"order_update\" (en) has 3 body placeholder(s) ({{1}}, {{2}}, {{3}}) but \
             2 body parameter(s) were given"
        );
        assert_eq!(error.code(), "template_parameter_mismatch");
        assert_eq!(
            check(&t, json!([body(&["a", "b", "c", "d"])])),
            Err("template_parameter_mismatch")
        );
        assert_eq!(check(&t, json!([])), Err("template_parameter_mismatch"));
        // Split over two body components, the count adds up but Meta refuses it.
        assert_eq!(
            check(&t, json!([body(&["a"]), body(&["b", "c"])])),
            Err("template_parameter_mismatch")
        );
        let image = json!({"type": "body", "parameters": [
            text("a"), text("b"), {"type": "image", "image": {"id": "1"}}]});
        assert_eq!(
            check(&t, json!([image])),
            Err("template_parameter_format_mismatch")
        );
        let currency = json!({"type": "body", "parameters": [text("a"), text("b"),
            {"type": "currency", "currency": {"fallback_value": "$1", "code": "USD", "amount_1000": 1000}}]});
        assert_eq!(check(&t, json!([currency])), Ok(()));
    }

    #[test]
    fn named_body_needs_each_name_once() {
        let t = order_confirmation();
        let named = |first: &str, second: &str| {
            json!([{"type": "body", "parameters": [
                {"type": "text", "text": "Sam", "parameter_name": first},
                {"type": "text", "text": "#1", "parameter_name": second}
            ]}])
        };
        assert_eq!(check(&t, named("first_name", "order_number")), Ok(()));
        assert_eq!(check(&t, named("order_number", "first_name")), Ok(()));
        for (first, second) in [
            ("first_name", "first_name"),
            ("name", "order_number"),
            ("first_name", "ORDER_NUMBER"),
        ] {
            assert_eq!(
                check(&t, named(first, second)),
                Err("template_parameter_mismatch"),
                "{first} {second}"
            );
        }
        let error =
            check_template_message(&t, &message(&t, json!([body(&["Sam", "#1"])]))).unwrap_err();
        assert_eq!(error.code(), "template_parameter_mismatch");
        assert!(
            error
                .to_string()
                .contains("\"first_name\", \"order_number\""),
            "{error}"
        );
        let one = json!([{"type": "body", "parameters": [
            {"type": "text", "text": "Sam", "parameter_name": "first_name"}]}]);
        let error = check_template_message(&t, &message(&t, one)).unwrap_err();
        assert!(
            error.to_string().contains("missing: order_number"),
            "{error}"
        );
    }

    #[test]
    fn a_text_header_needs_one_text_parameter() {
        let t = delivery_tracking();
        let rest = || {
            [
                body(&["DHL"]),
                button("url", json!(0), json!([text("1234")])),
            ]
        };
        let with_header = |header: Value| {
            let [b, u] = rest();
            check(&t, json!([header, b, u]))
        };
        let [b, u] = rest();
        assert_eq!(check(&t, json!([b, u])), Err("template_parameter_mismatch"));
        assert_eq!(
            with_header(json!({"type": "header", "parameters": [text("#1234")]})),
            Ok(())
        );
        assert_eq!(
            with_header(json!({"type": "header", "parameters": [text("#1"), text("#2")]})),
            Err("template_parameter_mismatch")
        );
        assert_eq!(
            with_header(
                json!({"type": "header", "parameters": [{"type": "image", "image": {"id": "1"}}]})
            ),
            Err("template_parameter_format_mismatch")
        );
        let long = "x".repeat(61);
        assert_eq!(
            with_header(json!({"type": "header", "parameters": [text(&long)]})),
            Err("template_text_too_long")
        );
        assert_eq!(
            with_header(json!({"type": "header", "parameters": [text(&long[..60])]})),
            Ok(())
        );
    }

    #[test]
    fn a_media_or_location_header_needs_its_parameter() {
        let rest = || {
            [
                body(&["the lamp"]),
                button("quick_reply", json!(1), json!([])),
            ]
        };
        for format in ["IMAGE", "VIDEO", "DOCUMENT"] {
            let t = media(format);
            let kind = format.to_ascii_lowercase();
            let [b, q] = rest();
            assert_eq!(
                check(&t, json!([b, q])),
                Err("template_parameter_mismatch"),
                "{format} missing"
            );
            let header = json!({"type": "header", "parameters": [{"type": kind, kind.clone(): {"link": "https://example.com/f"}}]});
            let [b, q] = rest();
            assert_eq!(check(&t, json!([header, b, q])), Ok(()), "{format}");
            let by_id = json!({"type": "header", "parameters": [{"type": kind, kind.clone(): {"id": "123"}}]});
            let [b, q] = rest();
            assert_eq!(check(&t, json!([by_id, b, q])), Ok(()), "{format} id");
            let empty = json!({"type": "header", "parameters": [{"type": kind, kind.clone(): {}}]});
            let [b, q] = rest();
            assert_eq!(
                check(&t, json!([empty, b, q])),
                Err("template_parameter_invalid"),
                "{format} empty"
            );
            let wrong = json!({"type": "header", "parameters": [text("x")]});
            let [b, q] = rest();
            assert_eq!(
                check(&t, json!([wrong, b, q])),
                Err("template_parameter_format_mismatch"),
                "{format} wrong"
            );
        }
        let t = media("LOCATION");
        let location = |value: Value| {
            let [b, q] = rest();
            check(
                &t,
                json!([{"type": "header", "parameters": [{"type": "location", "location": value}]}, b, q]),
            )
        };
        assert_eq!(location(json!({"latitude": 1.5, "longitude": 2.5})), Ok(()));
        assert_eq!(
            location(json!({"latitude": 1.5})),
            Err("template_parameter_invalid")
        );
    }

    #[test]
    fn a_header_given_to_a_template_without_header_parameter_is_refused() {
        let t = order_update();
        let send = json!([{"type": "header", "parameters": [text("x")]}, body(&["a", "b", "c"])]);
        assert_eq!(check(&t, send), Err("template_parameter_mismatch"));
    }

    #[test]
    fn a_url_button_with_a_variable_needs_its_text() {
        let t = delivery_tracking();
        let header = || json!({"type": "header", "parameters": [text("#1234")]});
        let send = |buttons: Vec<Value>| {
            let mut components = vec![header(), body(&["DHL"])];
            components.extend(buttons);
            check(&t, Value::Array(components))
        };
        assert_eq!(
            send(vec![button("url", json!(0), json!([text("1234")]))]),
            Ok(())
        );
        assert_eq!(
            send(vec![button("URL", json!("0"), json!([text("1234")]))]),
            Ok(())
        );
        assert_eq!(send(vec![]), Err("template_button_mismatch"));
        assert_eq!(
            send(vec![button("url", json!(0), json!([]))]),
            Err("template_button_mismatch")
        );
        // Index 1 is a PHONE_NUMBER button: it takes nothing.
        assert_eq!(
            send(vec![
                button("url", json!(0), json!([text("1234")])),
                button("url", json!(1), json!([text("x")]))
            ]),
            Err("template_button_mismatch")
        );
        assert_eq!(
            send(vec![button("quick_reply", json!(0), json!([]))]),
            Err("template_button_mismatch")
        );
        assert_eq!(
            send(vec![button(
                "url",
                json!(0),
                json!([{"type": "payload", "payload": "x"}])
            )]),
            Err("template_parameter_format_mismatch")
        );
        assert_eq!(
            send(vec![button("url", json!("first"), json!([text("1234")]))]),
            Err("template_button_mismatch")
        );
        assert_eq!(
            send(vec![
                json!({"type": "button", "index": 0, "parameters": [text("1234")]})
            ]),
            Err("template_button_mismatch")
        );
    }

    #[test]
    fn quick_replies_take_an_optional_payload_and_static_urls_nothing() {
        let t = media("IMAGE");
        let header =
            || json!({"type": "header", "parameters": [{"type": "image", "image": {"id": "1"}}]});
        let send = |buttons: Vec<Value>| {
            let mut components = vec![header(), body(&["the lamp"])];
            components.extend(buttons);
            check(&t, Value::Array(components))
        };
        assert_eq!(send(vec![]), Ok(()));
        let payload = json!([{"type": "payload", "payload": "stop"}]);
        assert_eq!(send(vec![button("quick_reply", json!(1), payload)]), Ok(()));
        assert_eq!(
            send(vec![button("quick_reply", json!(1), json!([text("stop")]))]),
            Err("template_parameter_format_mismatch")
        );
        assert_eq!(
            send(vec![button("url", json!(0), json!([text("x")]))]),
            Err("template_button_mismatch")
        );
        // A kind this code does not check is left to Meta.
        assert_eq!(send(vec![button("flow", json!(2), json!([]))]), Ok(()));
    }

    #[test]
    fn a_copy_code_button_needs_its_coupon_code() {
        let t = coupon_offer();
        let send = |buttons: Vec<Value>| {
            let mut components = vec![body(&["15%"])];
            components.extend(buttons);
            check(&t, Value::Array(components))
        };
        let coupon = |code: &str| json!([{"type": "coupon_code", "coupon_code": code}]);
        assert_eq!(
            send(vec![button("copy_code", json!(0), coupon("SAVE15"))]),
            Ok(())
        );
        assert_eq!(send(vec![]), Err("template_button_mismatch"));
        assert_eq!(
            send(vec![button(
                "copy_code",
                json!(0),
                coupon("A_CODE_TOO_LONG_X")
            )]),
            Err("template_text_too_long")
        );
        assert_eq!(
            send(vec![button(
                "copy_code",
                json!(0),
                json!([{"type": "coupon_code"}])
            )]),
            Err("template_parameter_invalid")
        );
    }

    #[test]
    fn an_authentication_template_has_the_same_code_in_body_and_button() {
        let t = verification_code();
        let otp = |body_code: &str, button_code: Option<&str>| {
            let mut components = vec![body(&[body_code])];
            if let Some(code) = button_code {
                components.push(button("url", json!(0), json!([text(code)])));
            }
            check(&t, Value::Array(components))
        };
        assert_eq!(otp("123456", Some("123456")), Ok(()));
        assert_eq!(otp("123456", None), Err("template_button_mismatch"));
        assert_eq!(
            otp("123456", Some("654321")),
            Err("template_button_mismatch")
        );
        assert_eq!(
            check(
                &t,
                json!([button("url", json!(0), json!([text("123456")]))])
            ),
            Err("template_parameter_mismatch")
        );
    }

    #[test]
    fn text_parameters_follow_meta_rules() {
        let t = order_update();
        for bad in ["two\nlines", "a\ttab", "five     spaces"] {
            assert_eq!(
                check(&t, json!([body(&[bad, "b", "c"])])),
                Err("template_parameter_invalid"),
                "{bad:?}"
            );
        }
        assert_eq!(
            check(&t, json!([body(&["four    spaces", "b", "c"])])),
            Ok(())
        );
        let no_text =
            json!([{"type": "body", "parameters": [{"type": "text"}, text("b"), text("c")]}]);
        assert_eq!(check(&t, no_text), Err("template_parameter_invalid"));
        // Alone, a body parameter may be long; beside other components, 1024 characters.
        let long = "x".repeat(1025);
        assert_eq!(check(&t, json!([body(&[&long, "b", "c"])])), Ok(()));
        let huge = "x".repeat(32_769);
        assert_eq!(
            check(&t, json!([body(&[&huge, "b", "c"])])),
            Err("template_text_too_long")
        );
        let tracking = delivery_tracking();
        let send = json!([
            {"type": "header", "parameters": [text("#1")]},
            body(&[&long]),
            button("url", json!(0), json!([text("1")]))
        ]);
        assert_eq!(check(&tracking, send), Err("template_text_too_long"));
    }

    #[test]
    fn refusals_are_422_with_their_code() {
        let error = ApiError::from(TemplateCheckError::Paused("paused".into()));
        assert_eq!(
            (error.status, error.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "template_paused")
        );
    }
}
