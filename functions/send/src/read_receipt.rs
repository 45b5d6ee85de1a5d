//! `POST /api/whatsapp/messages/{messageId}/read`: a customer's message marked read (the blue
//! ticks), with the typing indicator if asked, as Meta documents it: one call,
//! `{"status":"read","message_id","typing_indicator"?}`.

use http::StatusCode;
use intaj_shared::access::{connection_of, secrets_of};
use intaj_shared::api::{ApiError, json};
use intaj_shared::domain::Direction;
use serde_json::{Value, json};

use crate::SendDeps;

pub async fn mark_read(
    deps: &SendDeps,
    bot_id: &str,
    message_id: &str,
    body: &[u8],
) -> Result<http::Response<String>, ApiError> {
    let typing = typing_of(body)?;
    let inbound = deps
        .store
        .message(bot_id, message_id)
        .await?
        .is_some_and(|m| m.direction == Some(Direction::Inbound));
    if !inbound {
        // Another bot's message reads the same as one that does not exist.
        return Err(ApiError::not_found(
            "message_not_found",
            format!("no message {message_id} from a customer of this API key's bot"),
        ));
    }
    let connection = connection_of(deps.store.as_ref(), bot_id).await?;
    let secrets = secrets_of(deps.secrets.as_ref(), bot_id).await?;
    deps.graph
        .mark_read(
            &connection.phone_number_id,
            secrets.access_token.expose(),
            message_id,
            typing,
        )
        .await
        .map_err(|error| {
            tracing::warn!(bot_id, message_id, %error, "Meta did not mark the message read");
            ApiError::of_meta(&error, 1, "mark the message read")
        })?;
    tracing::info!(bot_id, message_id, typing, "message marked read");
    Ok(json(
        StatusCode::OK,
        &json!({"messageId": message_id, "read": true, "typing": typing}),
    ))
}

/// `{"typing":true}` shows the typing indicator too; an empty body or `{}` does not.
fn typing_of(body: &[u8]) -> Result<bool, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(false);
    }
    let body: Value = serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::bad_request("invalid_json", "the body must be a JSON object"))?;
    match body.get("typing") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(typing)) => Ok(*typing),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_typing",
            "typing must be true or false",
        )),
    }
}
