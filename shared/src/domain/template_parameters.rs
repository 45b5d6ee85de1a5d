//! What a sender must give to fill a template: read once from the template's `components`, so
//! the send checks and the template listing describe a template the same way.

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::template::{MessageTemplate, placeholders};

/// The parameters a send of a template must (or may) carry, by component.
///
/// Serialised (in the template listing, as each template's `parameters`) as:
///
/// ```json
/// {
///   "header": {"format": "text", "placeholder": "1"},
///   "body": {"format": "positional", "count": 2},
///   "buttons": [
///     {"index": 0, "kind": "url", "subType": "url", "parameterType": "text",
///      "required": true, "text": "Track order", "url": "https://example.com/track/{{1}}"},
///     {"index": 1, "kind": "quick_reply", "subType": "quick_reply",
///      "parameterType": "payload", "required": false, "text": "Stop"}
///   ]
/// }
/// ```
///
/// - `header`: `null` when the send gives no header parameter (no header, or a TEXT header
///   without a placeholder); else `format` is `text` (one `{"type":"text"}` parameter;
///   `placeholder` is its name), `image`, `video`, `document` (one parameter of that type with
///   `link` or `id`) or `location` (one `location` parameter with `latitude` and `longitude`).
///   A format Meta adds later is given in lowercase and not checked.
/// - `body`: `{"format":"positional","count":n}`: n parameters in the order `{{1}}`…`{{n}}`; or
///   `{"format":"named","names":[…]}` (sorted): one parameter per name, each with
///   `parameter_name`.
/// - `buttons`: only the buttons a send gives a parameter to, each sent as
///   `{"type":"button","sub_type":subType,"index":index,"parameters":[{"type":parameterType,…}]}`.
///   `kind` is `url` (a URL with a `{{1}}` suffix), `otp` (an AUTHENTICATION template's code
///   button: the same code as the body's), `copy_code` (the coupon code) or `quick_reply` (an
///   optional payload, `required: false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateParameters {
    pub header: Option<HeaderParameter>,
    pub body: BodyParameters,
    pub buttons: Vec<ButtonParameter>,
}

/// The header's one parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderParameter {
    pub format: HeaderFormat,
    /// A TEXT header's placeholder name (`1`, or a NAMED template's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

/// Meta's header `format`, lowercase: also the `type` of the parameter that fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderFormat {
    Text,
    Image,
    Video,
    Document,
    Location,
    /// A format this code does not know yet (lowercase): passed to Meta unchecked.
    Other(String),
}

impl HeaderFormat {
    fn from_meta(format: &str) -> Self {
        match format.to_ascii_uppercase().as_str() {
            "TEXT" => Self::Text,
            "IMAGE" => Self::Image,
            "VIDEO" => Self::Video,
            "DOCUMENT" => Self::Document,
            "LOCATION" => Self::Location,
            _ => Self::Other(format.to_ascii_lowercase()),
        }
    }

    /// The parameter `type` that fills the header: `text`, `image`, …
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Video => "video",
            Self::Document => "document",
            Self::Location => "location",
            Self::Other(format) => format,
        }
    }
}

impl Serialize for HeaderFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What the body's placeholders ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "format", rename_all = "camelCase")]
pub enum BodyParameters {
    /// `{{1}}` … `{{count}}`: that many parameters, in order.
    Positional { count: usize },
    /// `{{first_name}}` …: one parameter per name, each naming it in `parameter_name`.
    Named { names: Vec<String> },
}

impl BodyParameters {
    /// How many parameters the body takes.
    pub fn count(&self) -> usize {
        match self {
            Self::Positional { count } => *count,
            Self::Named { names } => names.len(),
        }
    }
}

/// What kind of template button takes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonKind {
    /// A URL button whose `url` ends in a `{{1}}` variable.
    Url,
    QuickReply,
    CopyCode,
    /// An AUTHENTICATION template's one-time-code button (COPY_CODE, ONE_TAP, ZERO_TAP).
    Otp,
}

impl ButtonKind {
    /// The `sub_type` a send names the button with: Meta sends an OTP button as `url`.
    pub fn sub_type(self) -> &'static str {
        match self {
            Self::Url | Self::Otp => "url",
            Self::QuickReply => "quick_reply",
            Self::CopyCode => "copy_code",
        }
    }

    /// The `type` of the button's one parameter.
    pub fn parameter_type(self) -> &'static str {
        match self {
            Self::Url | Self::Otp => "text",
            Self::QuickReply => "payload",
            Self::CopyCode => "coupon_code",
        }
    }
}

/// One template button a send gives a parameter to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ButtonParameter {
    /// The button's position in the template's `buttons`, which a send names it by.
    pub index: usize,
    pub kind: ButtonKind,
    /// `kind.sub_type()`, spelled out for callers of the listing.
    pub sub_type: &'static str,
    /// `kind.parameter_type()`, spelled out for callers of the listing.
    pub parameter_type: &'static str,
    /// Whether a send without it is refused (every kind but `quick_reply`).
    pub required: bool,
    /// The button's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A URL button's template URL, with its `{{1}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An OTP button's `otp_type`: `COPY_CODE`, `ONE_TAP` or `ZERO_TAP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_type: Option<String>,
}

impl MessageTemplate {
    /// What a send of this template must give: header, body and button parameters. A template
    /// whose `components` is not Meta's array asks for nothing.
    pub fn parameters(&self) -> TemplateParameters {
        let components: Vec<Value> = serde_json::from_str(&self.components).unwrap_or_default();
        let component = |kind: &str| {
            components
                .iter()
                .find(|c| text_of(c, "type").eq_ignore_ascii_case(kind))
        };
        let named = self
            .parameter_format
            .as_deref()
            .is_some_and(|format| format.eq_ignore_ascii_case("NAMED"));

        let header = component("HEADER").and_then(|header| {
            // Meta leaves `format` out of a plain text header.
            let format = HeaderFormat::from_meta(field(header, "format").unwrap_or("TEXT"));
            if format != HeaderFormat::Text {
                return Some(HeaderParameter {
                    format,
                    placeholder: None,
                });
            }
            // Meta allows one placeholder in a TEXT header.
            let placeholder = placeholders(text_of(header, "text")).first()?.to_string();
            Some(HeaderParameter {
                format,
                placeholder: Some(placeholder),
            })
        });

        let body_text = component("BODY").map_or("", |body| text_of(body, "text"));
        let names = placeholders(body_text);
        let body = if named {
            BodyParameters::Named {
                names: names.iter().map(|name| (*name).to_owned()).collect(),
            }
        } else {
            BodyParameters::Positional { count: names.len() }
        };

        let buttons = component("BUTTONS")
            .and_then(|buttons| buttons.get("buttons"))
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
            .filter_map(|(index, button)| button_parameter(index, button))
            .collect();

        TemplateParameters {
            header,
            body,
            buttons,
        }
    }
}

/// The parameter a template button takes at send time; `None` for buttons that take none
/// (a static URL, PHONE_NUMBER, FLOW, CATALOG, …).
fn button_parameter(index: usize, button: &Value) -> Option<ButtonParameter> {
    let kind = match text_of(button, "type").to_ascii_uppercase().as_str() {
        "URL" if text_of(button, "url").contains("{{") => ButtonKind::Url,
        "QUICK_REPLY" => ButtonKind::QuickReply,
        "COPY_CODE" => ButtonKind::CopyCode,
        "OTP" => ButtonKind::Otp,
        _ => return None,
    };
    let owned = |name: &str| field(button, name).map(str::to_owned);
    Some(ButtonParameter {
        index,
        kind,
        sub_type: kind.sub_type(),
        parameter_type: kind.parameter_type(),
        required: kind != ButtonKind::QuickReply,
        text: owned("text"),
        url: (kind == ButtonKind::Url).then(|| owned("url")).flatten(),
        otp_type: (kind == ButtonKind::Otp)
            .then(|| owned("otp_type"))
            .flatten(),
    })
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

fn text_of<'a>(value: &'a Value, name: &str) -> &'a str {
    field(value, name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(format: &str, components: Value) -> MessageTemplate {
        MessageTemplate {
            parameter_format: Some(format.to_owned()),
            ..MessageTemplate::new(
                "1",
                "t",
                "en",
                "APPROVED",
                "UTILITY",
                components.to_string(),
            )
        }
    }

    #[test]
    fn positional_body_counts_distinct_placeholders() {
        let t = template(
            "POSITIONAL",
            json!([{"type": "BODY", "text": "Hi {{1}}, order {{2}} is {{3}}; {{1}}"}]),
        );
        let parameters = t.parameters();
        assert_eq!(parameters.body, BodyParameters::Positional { count: 3 });
        assert_eq!(parameters.header, None);
        assert!(parameters.buttons.is_empty());
    }

    #[test]
    fn named_body_lists_its_names() {
        let t = template(
            "NAMED",
            json!([{"type": "BODY", "text": "Thanks {{first_name}}! Order {{order_number}}."}]),
        );
        assert_eq!(
            t.parameters().body,
            BodyParameters::Named {
                names: vec!["first_name".into(), "order_number".into()]
            }
        );
    }

    #[test]
    fn headers_take_a_parameter_of_their_format() {
        let header = |component: Value| {
            template(
                "POSITIONAL",
                json!([component, {"type": "BODY", "text": "x"}]),
            )
            .parameters()
            .header
        };
        assert_eq!(
            header(json!({"type": "HEADER", "format": "TEXT", "text": "Hello"})),
            None
        );
        assert_eq!(
            header(json!({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"})),
            Some(HeaderParameter {
                format: HeaderFormat::Text,
                placeholder: Some("1".into())
            })
        );
        for (format, expected) in [
            ("IMAGE", HeaderFormat::Image),
            ("VIDEO", HeaderFormat::Video),
            ("DOCUMENT", HeaderFormat::Document),
            ("LOCATION", HeaderFormat::Location),
            ("GIF", HeaderFormat::Other("gif".into())),
        ] {
            assert_eq!(
                header(json!({"type": "HEADER", "format": format})).map(|h| h.format),
                Some(expected),
                "{format}"
            );
        }
    }

    #[test]
    fn only_buttons_that_take_a_parameter_are_listed() {
        let t = template(
            "POSITIONAL",
            json!([
                {"type": "BODY", "text": "x"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop", "url": "https://example.com/shop"},
                    {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550100100"},
                    {"type": "QUICK_REPLY", "text": "Stop"},
                    {"type": "COPY_CODE", "example": "SAVE15"}
                ]}
            ]),
        );
        let buttons = t.parameters().buttons;
        let summary: Vec<_> = buttons
            .iter()
            .map(|b| (b.index, b.kind, b.required))
            .collect();
        assert_eq!(
            summary,
            [
                (1, ButtonKind::Url, true),
                (3, ButtonKind::QuickReply, false),
                (4, ButtonKind::CopyCode, true)
            ]
        );
        assert_eq!(
            buttons[0].url.as_deref(),
            Some("https://example.com/t/{{1}}")
        );
    }

    #[test]
    fn an_authentication_template_has_an_otp_button_sent_as_url() {
        let t = template(
            "POSITIONAL",
            json!([
                {"type": "BODY", "text": "{{1}} is your verification code."},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}
            ]),
        );
        let parameters = t.parameters();
        assert_eq!(parameters.body.count(), 1);
        let otp = &parameters.buttons[0];
        assert_eq!(
            (otp.kind, otp.sub_type, otp.parameter_type, otp.required),
            (ButtonKind::Otp, "url", "text", true)
        );
        assert_eq!(otp.otp_type.as_deref(), Some("COPY_CODE"));
    }

    #[test]
    fn components_that_are_not_an_array_ask_for_nothing() {
        let t = MessageTemplate::new("1", "t", "en", "APPROVED", "UTILITY", "not json");
        assert_eq!(
            t.parameters(),
            TemplateParameters {
                header: None,
                body: BodyParameters::Positional { count: 0 },
                buttons: vec![]
            }
        );
    }

    #[test]
    fn the_json_shape_is_the_documented_one() {
        let t = template(
            "NAMED",
            json!([
                {"type": "HEADER", "format": "IMAGE"},
                {"type": "BODY", "text": "Hi {{name}}"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"}]}
            ]),
        );
        assert_eq!(
            serde_json::to_value(t.parameters()).unwrap(),
            json!({
                "header": {"format": "image"},
                "body": {"format": "named", "names": ["name"]},
                "buttons": [{"index": 0, "kind": "quick_reply", "subType": "quick_reply",
                             "parameterType": "payload", "required": false, "text": "Stop"}]
            })
        );
    }
}
