//! Connecting a business's number, changing and removing it: the one way a connection is made,
//! used by the HTTP routes and by the local stack for its demo connection.

use http::StatusCode;
use intaj_shared::api::ApiError;
use intaj_shared::connecting::{
    DEFAULT_RATE_LIMIT_PER_SECOND, check_credentials, generate_api_key,
};
use intaj_shared::domain::{ApiKey, Connection, Responder, api_key_hash};
use intaj_shared::graph::{GraphClient, PhoneNumber};
use intaj_shared::ports::{
    ApiKeyStore, BotSecrets, ConnectionStore, Secret, SecretStore, StoreError, TemplateStore,
};
use intaj_shared::template_sync::{self, SyncPorts};
use rand::RngExt;

use crate::request::ConnectionRequest;
use crate::view::{ConnectionPage, ConnectionView, Created, Deleted, Updated, webhook_url};

/// What the connection service works with.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub connections: &'a dyn ConnectionStore,
    pub keys: &'a dyn ApiKeyStore,
    pub templates: &'a dyn TemplateStore,
    pub secrets: &'a dyn SecretStore,
    pub graph: &'a GraphClient,
}

pub enum Outcome {
    Created(Created),
    /// Boxed: the connection it shows is the larger answer.
    Updated(Box<Updated>),
}

/// Creates the connection, or changes the one `request.bot_id` names. Meta checks the
/// credentials before anything is stored.
pub async fn connect(
    ctx: Context<'_>,
    request: ConnectionRequest,
    base_url: &str,
    now: i64,
) -> Result<Outcome, ApiError> {
    let existing = match &request.bot_id {
        Some(bot_id) => ctx.connections.connection(bot_id).await?,
        None => None,
    };
    match existing {
        None => create(ctx, request, base_url, now)
            .await
            .map(Outcome::Created),
        Some(existing) => update(ctx, existing, request, base_url, now)
            .await
            .map(|updated| Outcome::Updated(Box::new(updated))),
    }
}

async fn create(
    ctx: Context<'_>,
    request: ConnectionRequest,
    base_url: &str,
    now: i64,
) -> Result<Created, ApiError> {
    let business_account_id = required(
        request.business_account_id,
        "businessAccountId",
        "invalid_business_account_id",
    )?;
    let phone_number_id = required(
        request.phone_number_id,
        "phoneNumberId",
        "invalid_phone_number_id",
    )?;
    let access_token = required(
        request.access_token,
        "accessToken",
        "invalid_access_token_format",
    )?;
    let app_secret = required(request.app_secret, "appSecret", "invalid_app_secret_format")?;
    let number = check_credentials(
        ctx.graph,
        &business_account_id,
        &phone_number_id,
        access_token.expose(),
    )
    .await?;
    let bot_id = request.bot_id.unwrap_or_else(generate_bot_id);
    ensure_number_is_free(ctx.connections, &phone_number_id, &bot_id).await?;

    let secrets = BotSecrets {
        access_token,
        app_secret,
        verify_token: request
            .verify_token
            .unwrap_or_else(|| generate_secret("", 24)),
        responder_secret: Some(generate_secret("intaj_rs_", 32)),
    };
    // Secrets first: the moment the connection can be found, its webhook can be verified.
    ctx.secrets.put_bot_secrets(&bot_id, &secrets).await?;
    let connection = Connection {
        bot_id: bot_id.clone(),
        business_account_id,
        phone_number_id,
        created_at: now,
        updated_at: now,
        display_phone_number: number.display_phone_number,
        verified_name: number.verified_name,
        rate_limit_per_second: request.rate_limit_per_second,
        responder: request.responder.filter(|r| *r != Responder::None),
        events_url: request.events_url.flatten(),
        fallback_reply: request.fallback_reply.flatten(),
        typing_indicator: request.typing_indicator,
        last_webhook_at: None,
    };
    if let Err(error) = ctx.connections.put_connection(&connection).await {
        // Nothing half-made stays behind: the secrets go again.
        if let Err(cleanup) = ctx.secrets.delete_bot_secrets(&bot_id).await {
            tracing::error!(bot_id, error = %cleanup, "secrets of an unfinished connection not removed");
        }
        return Err(conflict_or(error, &connection.phone_number_id));
    }
    let api_key = request.api_key.unwrap_or_else(generate_api_key);
    issue_key(ctx.keys, &connection, &api_key, now).await?;
    sync_templates_of_new_account(ctx, &bot_id, now).await;
    tracing::info!(
        bot_id,
        phone_number_id = connection.phone_number_id,
        business_account_id = connection.business_account_id,
        "connection created"
    );
    Ok(Created {
        webhook_url: webhook_url(base_url, &bot_id),
        bot_id,
        verify_token: secrets.verify_token,
        api_key,
        responder_secret: secrets.responder_secret.expect("generated above"),
        display_phone_number: connection.display_phone_number,
        verified_name: connection.verified_name,
    })
}

/// Applies what the request gives and keeps the rest. A new API key only when asked for.
async fn update(
    ctx: Context<'_>,
    existing: Connection,
    request: ConnectionRequest,
    base_url: &str,
    now: i64,
) -> Result<Updated, ApiError> {
    let bot_id = existing.bot_id.clone();
    // The stored secrets themselves, not a cached copy: they are about to be replaced.
    let stored = ctx.secrets.refresh_bot_secrets(&bot_id).await?;
    let mut changed: Vec<&'static str> = Vec::new();
    let mut connection = existing.clone();
    if let Some(id) = request.business_account_id
        && id != connection.business_account_id
    {
        connection.business_account_id = id;
        changed.push("businessAccountId");
    }
    if let Some(id) = request.phone_number_id
        && id != connection.phone_number_id
    {
        connection.phone_number_id = id;
        changed.push("phoneNumberId");
    }
    let missing = |field: &'static str, code| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            format!("this connection has no stored credentials; send {field} again"),
        )
    };
    let access_token = given_or_stored(
        request.access_token,
        stored.as_ref().map(|s| &s.access_token),
        "accessToken",
        &mut changed,
    )
    .ok_or_else(|| missing("accessToken", "invalid_access_token_format"))?;
    // Meta checks again whatever the credentials check depends on.
    if changed
        .iter()
        .any(|c| matches!(*c, "accessToken" | "businessAccountId" | "phoneNumberId"))
    {
        let number: PhoneNumber = check_credentials(
            ctx.graph,
            &connection.business_account_id,
            &connection.phone_number_id,
            access_token.expose(),
        )
        .await?;
        connection.display_phone_number = number.display_phone_number;
        connection.verified_name = number.verified_name;
    }
    if connection.phone_number_id != existing.phone_number_id {
        ensure_number_is_free(ctx.connections, &connection.phone_number_id, &bot_id).await?;
    }
    let app_secret = given_or_stored(
        request.app_secret,
        stored.as_ref().map(|s| &s.app_secret),
        "appSecret",
        &mut changed,
    )
    .ok_or_else(|| missing("appSecret", "invalid_app_secret_format"))?;
    let verify_token = given_or_stored(
        request.verify_token,
        stored.as_ref().map(|s| &s.verify_token),
        "verifyToken",
        &mut changed,
    )
    .unwrap_or_else(|| generate_secret("", 24));
    let secrets = BotSecrets {
        access_token,
        app_secret,
        verify_token,
        responder_secret: stored
            .as_ref()
            .and_then(|s| s.responder_secret.clone())
            .filter(|_| !request.rotate_responder_secret)
            .or_else(|| Some(generate_secret("intaj_rs_", 32))),
    };
    if request.rotate_responder_secret {
        changed.push("responderSecret");
    }
    if stored.as_deref() != Some(&secrets) {
        // Also forgets this process's cached copy, so the old values stop working here at once.
        ctx.secrets.put_bot_secrets(&bot_id, &secrets).await?;
    }
    if let Some(limit) = request.rate_limit_per_second {
        connection.rate_limit_per_second = Some(limit);
        changed.push("rateLimitPerSecond");
    }
    if let Some(responder) = request.responder {
        connection.responder = Some(responder).filter(|r| *r != Responder::None);
        changed.push("responder");
    }
    if let Some(events_url) = request.events_url {
        connection.events_url = events_url;
        changed.push("eventsUrl");
    }
    if let Some(on) = request.typing_indicator {
        connection.typing_indicator = Some(on);
        changed.push("typingIndicator");
    }
    if let Some(fallback_reply) = request.fallback_reply {
        connection.fallback_reply = fallback_reply;
        changed.push("fallbackReply");
    }
    connection.updated_at = now;
    ctx.connections
        .put_connection(&connection)
        .await
        .map_err(|error| conflict_or(error, &connection.phone_number_id))?;

    if changed.contains(&"businessAccountId") {
        sync_templates_of_new_account(ctx, &bot_id, now).await;
    }
    let new_key = if request.rotate_api_key || request.api_key.is_some() {
        // The old keys stop working before the new one is shown.
        let revoked = ctx.keys.delete_api_keys(&bot_id).await?;
        let key = request.api_key.unwrap_or_else(generate_api_key);
        issue_key(ctx.keys, &connection, &key, now).await?;
        tracing::info!(bot_id, revoked, "API key rotated; the old keys are revoked");
        Some(key)
    } else {
        if let Some(limit) = request.rate_limit_per_second {
            ctx.keys.set_api_keys_rate_limit(&bot_id, limit).await?;
        }
        None
    };
    tracing::info!(bot_id, changed = ?changed, "connection updated");
    Ok(Updated {
        connection: ConnectionView::of(&connection, base_url),
        api_key: new_key,
        responder_secret: secrets
            .responder_secret
            .filter(|_| request.rotate_responder_secret),
    })
}

/// A bot's templates are its business account's: a new connection (also a bot id made again) or
/// a changed account has them synced now, so that sends are checked against the right ones at
/// once. A failure is logged, not answered: the connection is made, and the scheduled sync
/// brings them.
async fn sync_templates_of_new_account(ctx: Context<'_>, bot_id: &str, now: i64) {
    let ports = SyncPorts {
        connections: ctx.connections,
        templates: ctx.templates,
        secrets: ctx.secrets,
        graph: ctx.graph,
    };
    if let Err(error) = template_sync::sync_bot(ports, bot_id, now).await {
        tracing::warn!(
            bot_id,
            code = error.code,
            reason = %error.message,
            "templates of the business account not synced yet; the scheduled sync brings them"
        );
    }
}

/// The new value of a secret (noted as changed), else the stored one.
fn given_or_stored(
    given: Option<Secret>,
    stored: Option<&Secret>,
    field: &'static str,
    changed: &mut Vec<&'static str>,
) -> Option<Secret> {
    match given {
        Some(value) => {
            changed.push(field);
            Some(value)
        }
        None => stored.cloned(),
    }
}

/// The connection with its last template sync; 404 when there is none.
pub async fn show(
    ctx: Context<'_>,
    bot_id: &str,
    base_url: &str,
) -> Result<ConnectionView, ApiError> {
    let connection = ctx
        .connections
        .connection(bot_id)
        .await?
        .ok_or_else(|| unknown_connection(bot_id))?;
    let mut view = ConnectionView::of(&connection, base_url);
    view.last_template_sync_at = ctx.templates.template_sync_state(bot_id).await?.synced_at;
    Ok(view)
}

/// One page of connections in bot id order, after the bot id `cursor`.
pub async fn list(
    ctx: Context<'_>,
    base_url: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ConnectionPage, ApiError> {
    let all = ctx.connections.connections().await?;
    let mut after: Vec<&Connection> = all
        .iter()
        .filter(|c| cursor.is_none_or(|cursor| c.bot_id.as_str() > cursor))
        .take(limit + 1)
        .collect();
    let more = after.len() > limit;
    after.truncate(limit);
    Ok(ConnectionPage {
        next_cursor: more
            .then(|| after.last().map(|c| c.bot_id.clone()))
            .flatten(),
        connections: after
            .into_iter()
            .map(|c| ConnectionView::of(c, base_url))
            .collect(),
    })
}

/// Revokes the bot's keys, removes its secrets (recoverable for Secrets Manager's window) and
/// then the connection; its messages stay. Each step is repeatable, so a retried DELETE after a
/// failure finishes the job.
pub async fn delete(ctx: Context<'_>, bot_id: &str) -> Result<Deleted, ApiError> {
    if ctx.connections.connection(bot_id).await?.is_none() {
        return Err(unknown_connection(bot_id));
    }
    let api_keys_revoked = ctx.keys.delete_api_keys(bot_id).await?;
    ctx.secrets.delete_bot_secrets(bot_id).await?;
    ctx.connections.delete_connection(bot_id).await?;
    tracing::info!(
        bot_id,
        api_keys_revoked,
        "connection deleted; its messages are kept"
    );
    Ok(Deleted {
        bot_id: bot_id.to_owned(),
        deleted: true,
        api_keys_revoked,
    })
}

async fn issue_key(
    keys: &dyn ApiKeyStore,
    connection: &Connection,
    key: &Secret,
    now: i64,
) -> Result<(), ApiError> {
    let grant = ApiKey {
        bot_id: connection.bot_id.clone(),
        rate_limit_per_second: connection
            .rate_limit_per_second
            .unwrap_or(DEFAULT_RATE_LIMIT_PER_SECOND),
        created_at: now,
    };
    Ok(keys
        .put_api_key(&api_key_hash(key.expose()), &grant)
        .await?)
}

async fn ensure_number_is_free(
    connections: &dyn ConnectionStore,
    phone_number_id: &str,
    bot_id: &str,
) -> Result<(), ApiError> {
    match connections
        .connection_by_phone_number(phone_number_id)
        .await?
    {
        Some(owner) if owner.bot_id != bot_id => Err(number_taken(phone_number_id)),
        _ => Ok(()),
    }
}

fn conflict_or(error: StoreError, phone_number_id: &str) -> ApiError {
    match error {
        StoreError::Conflict(_) => number_taken(phone_number_id),
        other => other.into(),
    }
}

fn number_taken(phone_number_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "phone_number_taken",
        format!(
            "phone number id {phone_number_id} is already connected to another bot; delete that \
             connection first, or update it by posting its botId"
        ),
    )
}

fn unknown_connection(bot_id: &str) -> ApiError {
    ApiError::not_found(
        "unknown_bot",
        format!("no connection exists for bot \"{bot_id}\""),
    )
}

fn required<T>(value: Option<T>, field: &str, code: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            format!("{field} is required to create a connection"),
        )
    })
}

/// `bot_` and 16 random hex digits: fits the webhook URL, unguessable enough to not collide.
fn generate_bot_id() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    format!("bot_{}", hex::encode(bytes))
}

fn generate_secret(prefix: &str, random_bytes: usize) -> Secret {
    let mut bytes = vec![0u8; random_bytes];
    rand::rng().fill(&mut bytes[..]);
    Secret::new(format!("{prefix}{}", hex::encode(bytes)))
}
