//! Meta's error shapes: the Graph API answer `{"error":{…}}` and the `errors[]` of a failed
//! status webhook, with the catalogue of the codes the simulator can produce.
//!
//! HTTP statuses follow the table of Meta's "Error codes" page for the WhatsApp Cloud API: the
//! throttling codes (4, 80007, 130429, 131048, 131056) are 400, not 429; 131000 is 500;
//! 2 and 131016 are 503; 132001 is 404; 190 is 401. Code 1 is answered as 500 because that is
//! what Graph does when it reports "An unknown error occurred" for a server fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ids;

/// Where Meta's error codes are documented; sent as `href` in webhook errors.
const ERROR_CODES_HREF: &str =
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// The `error` object of a Graph API error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaError {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub code: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<u32>,
    pub fbtrace_id: String,
}

/// `error_data` of a WhatsApp error: where Meta names the field or the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    pub messaging_product: String,
    pub details: String,
}

/// An error answer of the Graph API: an HTTP status and Meta's body `{"error": MetaError}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} (#{code}) {message}", code = .error.code, message = .error.message)]
pub struct GraphError {
    pub status: StatusCode,
    /// Boxed: errors travel in `Result`s on every path and should stay small.
    pub error: Box<MetaError>,
}

#[derive(Serialize)]
struct GraphErrorBody<'a> {
    error: &'a MetaError,
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(GraphErrorBody { error: &self.error }),
        )
            .into_response();
        // Graph repeats the message in WWW-Authenticate on its error answers.
        let challenge = format!(
            "OAuth \"Facebook Platform\" \"invalid_request\" \"{}\"",
            self.error.message.replace('"', "'")
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// One entry of `statuses[].errors` (and `value.errors`) in a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookError {
    pub code: u32,
    pub title: String,
    pub message: String,
    pub error_data: WebhookErrorData,
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookErrorData {
    pub details: String,
}

/// What Meta documents for one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub code: u32,
    pub status: StatusCode,
    /// The title Meta puts in `message` as `(#code) title`.
    pub title: &'static str,
    /// What Meta puts in `error_data.details`.
    pub details: &'static str,
    /// Graph-level codes (1, 2, 4, 190) carry no `(#code)` prefix and no `error_data`.
    pub graph_level: bool,
    pub subcode: Option<u32>,
}

const fn whatsapp(
    code: u32,
    status: StatusCode,
    title: &'static str,
    details: &'static str,
) -> CatalogueEntry {
    CatalogueEntry {
        code,
        status,
        title,
        details,
        graph_level: false,
        subcode: None,
    }
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// The codes the simulator knows by name. Any other code is answered as 400 with a generic title.
const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        code: 1,
        status: StatusCode::INTERNAL_SERVER_ERROR,
        title: "An unknown error occurred",
        details: "Invalid request or possible server error.",
        graph_level: true,
        subcode: Some(99),
    },
    CatalogueEntry {
        code: 2,
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: "Service temporarily unavailable",
        details: "Temporary due to downtime or due to being overloaded.",
        graph_level: true,
        subcode: None,
    },
    whatsapp(
        3,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Capability or permissions issue",
        "Capability or permissions issue.",
    ),
    CatalogueEntry {
        code: 4,
        status: BAD,
        title: "(#4) Application request limit reached",
        details: "The app has reached its API call rate limit.",
        graph_level: true,
        subcode: None,
    },
    whatsapp(
        10,
        StatusCode::FORBIDDEN,
        "Permission denied",
        "Permission is either not granted or has been removed.",
    ),
    whatsapp(
        33,
        BAD,
        "Parameter value is not valid",
        "The business phone number has been deleted.",
    ),
    whatsapp(
        100,
        BAD,
        "Invalid parameter",
        "The request included one or more unsupported or misspelled parameters.",
    ),
    CatalogueEntry {
        code: 190,
        status: StatusCode::UNAUTHORIZED,
        title: "Error validating access token: Session has expired.",
        details: "Your access token has expired.",
        graph_level: true,
        subcode: Some(463),
    },
    whatsapp(
        200,
        StatusCode::FORBIDDEN,
        "Permissions error",
        "Permission is either not granted or has been removed.",
    ),
    whatsapp(
        368,
        StatusCode::FORBIDDEN,
        "Temporarily blocked for policies violations",
        "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.",
    ),
    whatsapp(
        80007,
        BAD,
        "Rate limit issues",
        "The WhatsApp Business Account has reached its rate limit.",
    ),
    whatsapp(
        130429,
        BAD,
        "Rate limit hit",
        "Cloud API message throughput has been reached.",
    ),
    whatsapp(
        130472,
        BAD,
        "User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment.",
    ),
    whatsapp(
        130497,
        StatusCode::FORBIDDEN,
        "Business account is restricted from messaging users in this country",
        "The WhatsApp Business Account is restricted from messaging users in this country.",
    ),
    whatsapp(
        131000,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Message failed to send due to an unknown error.",
    ),
    whatsapp(
        131005,
        StatusCode::FORBIDDEN,
        "Access denied",
        "Permission is either not granted or has been removed.",
    ),
    whatsapp(
        131008,
        BAD,
        "Required parameter is missing",
        "The request is missing a required parameter.",
    ),
    whatsapp(
        131009,
        BAD,
        "Parameter value is not valid",
        "One or more parameter values are invalid.",
    ),
    whatsapp(
        131016,
        StatusCode::SERVICE_UNAVAILABLE,
        "Service unavailable",
        "A service is temporarily unavailable.",
    ),
    whatsapp(
        131021,
        BAD,
        "Recipient cannot be sender",
        "Sender and recipient phone number is the same.",
    ),
    whatsapp(
        131026,
        BAD,
        "Message undeliverable",
        "Message Undeliverable.",
    ),
    whatsapp(
        131031,
        StatusCode::FORBIDDEN,
        "Account has been locked",
        "The WhatsApp Business Account associated with the app has been restricted or disabled.",
    ),
    whatsapp(
        131042,
        BAD,
        "Business eligibility payment issue",
        "Message failed to send because there were one or more errors related to your payment method.",
    ),
    whatsapp(
        131047,
        BAD,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    whatsapp(
        131048,
        BAD,
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this phone number. This may be because too many previous messages were blocked or flagged as spam.",
    ),
    whatsapp(
        131049,
        BAD,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    whatsapp(
        131051,
        BAD,
        "Unsupported message type",
        "Message type is not currently supported.",
    ),
    whatsapp(
        131052,
        BAD,
        "Media download error",
        "Unable to download the media sent by the user.",
    ),
    whatsapp(
        131053,
        BAD,
        "Media upload error",
        "Unable to upload the media used in the message.",
    ),
    whatsapp(
        131056,
        BAD,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
    ),
    whatsapp(
        131057,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Account in maintenance mode",
        "Business Account is in maintenance mode.",
    ),
    // A paging cursor that is unknown or was made before the template set changed; Meta answers
    // it without `error_data`.
    CatalogueEntry {
        code: 131059,
        status: BAD,
        title: "(#131059) Invalid cursor",
        details: "The paging cursor is invalid or stale; restart the listing without a cursor.",
        graph_level: true,
        subcode: None,
    },
    whatsapp(
        131062,
        BAD,
        "Business-scoped user ID recipients are not supported",
        "Messages to business-scoped user IDs are not supported for this message type.",
    ),
    whatsapp(
        132000,
        BAD,
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values included in the request did not match the number of variable parameters defined in the template.",
    ),
    whatsapp(
        132001,
        StatusCode::NOT_FOUND,
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or the template has not been approved.",
    ),
    whatsapp(
        132005,
        BAD,
        "Translated text too long",
        "Translated text is too long.",
    ),
    whatsapp(
        132007,
        BAD,
        "Template Format Character Policy Violated",
        "Template content violates a WhatsApp policy.",
    ),
    whatsapp(
        132012,
        BAD,
        "Parameter format does not match format in the created template",
        "Variable parameter values formatted incorrectly.",
    ),
    whatsapp(
        132015,
        BAD,
        "Template is Paused",
        "Template is paused due to low quality so it cannot be sent in a template message.",
    ),
    whatsapp(
        132016,
        BAD,
        "Template is Disabled",
        "Template has been paused too many times due to low quality and is now permanently disabled.",
    ),
    whatsapp(
        132018,
        BAD,
        "There was an issue with the parameters in your template.",
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
    ),
];

/// Meta's documentation of `code`; unknown codes get a generic 400 entry.
pub fn catalogue(code: u32) -> CatalogueEntry {
    CATALOGUE
        .iter()
        .find(|entry| entry.code == code)
        .copied()
        .unwrap_or(whatsapp(code, BAD, "Error", "The request failed."))
}

impl CatalogueEntry {
    /// The `message` Meta answers: `(#code) title`, or the bare title for Graph-level codes.
    pub fn message(&self) -> String {
        if self.graph_level {
            self.title.to_owned()
        } else {
            format!("(#{}) {}", self.code, self.title)
        }
    }
}

impl GraphError {
    /// The error Meta answers for `code`, with its documented status, title and details.
    pub fn code(code: u32) -> Self {
        let entry = catalogue(code);
        Self::from_entry(entry, entry.details.to_owned())
    }

    /// Like [`GraphError::code`] with specific `error_data.details`.
    pub fn code_with_details(code: u32, details: impl Into<String>) -> Self {
        Self::from_entry(catalogue(code), details.into())
    }

    fn from_entry(entry: CatalogueEntry, details: String) -> Self {
        let error_data = (!entry.graph_level).then(|| ErrorData {
            messaging_product: "whatsapp".to_owned(),
            details,
        });
        Self {
            status: entry.status,
            error: Box::new(MetaError {
                message: entry.message(),
                kind: "OAuthException".to_owned(),
                code: entry.code,
                error_data,
                error_subcode: entry.subcode,
                fbtrace_id: ids::fbtrace_id(),
            }),
        }
    }

    /// 401 for a missing or unknown access token.
    pub fn invalid_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: Box::new(MetaError {
                message: "Invalid OAuth access token - Cannot parse access token".to_owned(),
                kind: "OAuthException".to_owned(),
                code: 190,
                error_data: None,
                error_subcode: None,
                fbtrace_id: ids::fbtrace_id(),
            }),
        }
    }

    /// 400 code 100 subcode 33: the object does not exist or this token may not use it.
    pub fn unknown_object(method: &str, id: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(MetaError {
                message: format!(
                    "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to \
                     missing permissions, or does not support this operation. Please read the Graph API \
                     documentation at https://developers.facebook.com/docs/graph-api"
                ),
                kind: "GraphMethodException".to_owned(),
                code: 100,
                error_data: None,
                error_subcode: Some(33),
                fbtrace_id: ids::fbtrace_id(),
            }),
        }
    }

    /// 400 code 2500 for a path Graph does not know (e.g. a malformed or refused version).
    pub fn unknown_path(path: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(MetaError {
                message: format!("Unknown path components: {path}"),
                kind: "OAuthException".to_owned(),
                code: 2500,
                error_data: None,
                error_subcode: None,
                fbtrace_id: ids::fbtrace_id(),
            }),
        }
    }

    /// 400 code 100 `(#100) The parameter <path> is required.`
    pub fn required(path: &str) -> Self {
        let message = format!("The parameter {path} is required.");
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(MetaError {
                message: format!("(#100) {message}"),
                kind: "OAuthException".to_owned(),
                code: 100,
                error_data: Some(ErrorData {
                    messaging_product: "whatsapp".to_owned(),
                    details: message,
                }),
                error_subcode: None,
                fbtrace_id: ids::fbtrace_id(),
            }),
        }
    }

    /// 400 code 100 `(#100) Invalid parameter` with `details` naming the field.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        Self::code_with_details(100, details)
    }

    /// 400 code 131009 `(#131009) Parameter value is not valid` for a value outside WhatsApp's limits.
    pub fn invalid_value(details: impl Into<String>) -> Self {
        Self::code_with_details(131009, details)
    }
}

/// The `errors[]` entry of a `failed` status webhook for `code`.
pub fn webhook_error(code: u32) -> WebhookError {
    let entry = catalogue(code);
    WebhookError {
        code,
        title: entry.title.to_owned(),
        message: entry.title.to_owned(),
        error_data: WebhookErrorData {
            details: entry.details.to_owned(),
        },
        href: ERROR_CODES_HREF.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_codes_carry_the_prefix_and_details() {
        let error = GraphError::code(130429);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.error.message, "(#130429) Rate limit hit");
        assert_eq!(error.error.kind, "OAuthException");
        let data = error.error.error_data.expect("error_data");
        assert_eq!(data.messaging_product, "whatsapp");
        assert_eq!(
            data.details,
            "Cloud API message throughput has been reached."
        );
    }

    #[test]
    fn graph_level_codes_have_no_prefix_and_no_error_data() {
        let error = GraphError::code(2);
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.error.message, "Service temporarily unavailable");
        assert!(error.error.error_data.is_none());
        assert_eq!(GraphError::code(190).status, StatusCode::UNAUTHORIZED);
        assert_eq!(GraphError::code(132001).status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_body_is_metas_shape() {
        let value = serde_json::to_value(GraphErrorBody {
            error: &GraphError::invalid_token().error,
        })
        .unwrap();
        assert_eq!(value["error"]["code"], 190);
        assert_eq!(value["error"]["type"], "OAuthException");
        assert!(
            value["error"]["fbtrace_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())
        );
    }
}
