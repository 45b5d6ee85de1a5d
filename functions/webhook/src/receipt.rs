//! Turns one verified webhook body into store writes: every message, status, error and template
//! update it carries, each exactly once.

use std::borrow::Cow;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::try_join_all;
use futures::stream::FuturesUnordered;
use intaj_shared::domain::{
    Claim, CustomerIds, InboundMessage, MessageStatus, RawEvent, RawEventKind, StatusEvent,
    TemplateChange, TemplateRef,
};
use intaj_shared::ports::{
    ConnectionStore, ConversationStore, MessageStore, Secret, SecretStore, SecretsError,
    StoreError, TemplateStore,
};
use intaj_shared::whatsapp::webhook::{
    Change, ContactProfile, EntryParts, MessageEnvelope, MessagesPayload, MessagesValue,
    MessagesValueItems, MetaError, Status, WHATSAPP_OBJECT, WebhookParts,
};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use smallvec::SmallVec;

use crate::template_events;

/// How many store writes of one body run at once (DynamoDB round trips overlap).
const WRITE_CONCURRENCY: usize = 16;

/// What a body contained, for the log line an operator reads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReceiptSummary {
    pub messages_new: usize,
    pub messages_duplicate: usize,
    pub statuses_new: usize,
    pub statuses_duplicate: usize,
    /// Raw events kept (unrouted changes, top-level errors, template updates, unreadable parts).
    pub raw_events: usize,
    pub ignored_changes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("the body is not a webhook payload: {0}")]
    Payload(serde_json::Error),
    #[error("object must be \"{WHATSAPP_OBJECT}\", got \"{0}\"")]
    Object(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// One write the body asks for. Built first, then run concurrently.
#[derive(Debug)]
enum Write<'b> {
    Inbound {
        bot: Arc<str>,
        /// Moved into the store.
        message: InboundMessage,
        /// Its id and type for the log line, borrowed from the body.
        id: Cow<'b, str>,
        kind: &'static str,
    },
    /// The statuses of one change, written as a batch.
    Statuses {
        bot: Arc<str>,
        events: Vec<StatusEvent>,
    },
    Raw {
        bot: Arc<str>,
        event: RawEvent,
    },
    /// A template webhook: the stored template changed at once, the event kept as it came.
    Template {
        bot: Arc<str>,
        change: Option<(TemplateRef, TemplateChange)>,
        event: RawEvent,
    },
}

/// The ports a receipt routes with and writes through.
#[derive(Clone, Copy)]
pub struct ReceiptPorts<'a> {
    pub conversations: &'a dyn ConversationStore,
    /// Template webhooks change the stored template.
    pub templates: &'a dyn TemplateStore,
    /// Which bot owns a phone number.
    pub connections: &'a dyn ConnectionStore,
    /// The other bots' app secrets, for a change routed away from the URL's bot.
    pub secrets: &'a dyn SecretStore,
}

enum Outcome {
    Inbound(Claim),
    Statuses(Vec<Claim>),
    Raw,
}

/// Records everything a verified `body` carries for the bot whose URL received it. `app_secret`
/// is the one the signature was checked with: a change is routed to another bot only if that
/// bot shares it.
pub async fn record(
    url_bot: &str,
    app_secret: &Secret,
    body: &[u8],
    ports: ReceiptPorts<'_>,
    now: i64,
) -> Result<ReceiptSummary, ReceiptError> {
    let secrets = ports.secrets;
    let mut routes = Router::new(url_bot, app_secret, ports.connections);
    let (writes, ignored_changes) =
        match collect_in_one_pass(body, &mut routes, secrets, now).await? {
            Some(writes) => (writes, 0),
            None => collect_layered(body, &mut routes, secrets, now).await?,
        };
    let mut summary = ReceiptSummary {
        ignored_changes,
        ..ReceiptSummary::default()
    };
    // Most webhooks carry one message or one status: no concurrency to set up for those (the
    // set-up is 7 % of a one-message receipt, BENCHMARKS.md).
    if writes.len() == 1 {
        let write = writes.into_iter().next().expect("one write");
        summary.count(apply(write, &ports).await?);
        return Ok(summary);
    }
    // A few writes all run at once, set up with one allocation (a task each otherwise).
    if writes.len() <= WRITE_CONCURRENCY {
        let applied = writes.into_iter().map(|write| apply(write, &ports));
        for outcome in try_join_all(applied).await? {
            summary.count(outcome);
        }
        return Ok(summary);
    }
    // `buffer_unordered` by hand: its closure over `Write<'b>` would make the future's `Send`
    // unprovable for the callers.
    let mut writes = writes.into_iter();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < WRITE_CONCURRENCY
            && let Some(write) = writes.next()
        {
            running.push(apply(write, &ports));
        }
        match running.next().await {
            Some(outcome) => summary.count(outcome?),
            None => return Ok(summary),
        }
    }
}

impl ReceiptSummary {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Inbound(Claim::New) => self.messages_new += 1,
            Outcome::Inbound(Claim::Duplicate) => self.messages_duplicate += 1,
            Outcome::Statuses(claims) => {
                let new = claims.iter().filter(|c| **c == Claim::New).count();
                self.statuses_new += new;
                self.statuses_duplicate += claims.len() - new;
            }
            Outcome::Raw => self.raw_events += 1,
        }
    }
}

async fn apply(write: Write<'_>, ports: &ReceiptPorts<'_>) -> Result<Outcome, StoreError> {
    let conversations = ports.conversations;
    match write {
        Write::Inbound {
            bot,
            message,
            id,
            kind,
        } => record_inbound(&bot, message, &id, kind, conversations).await,
        Write::Statuses { bot, events } => record_statuses(&bot, events, conversations).await,
        Write::Raw { bot, event } => {
            conversations.record_raw_event(&bot, &event).await?;
            Ok(Outcome::Raw)
        }
        Write::Template { bot, change, event } => {
            apply_template(&bot, change, event, conversations, ports.templates).await
        }
    }
}

async fn record_inbound(
    bot: &str,
    message: InboundMessage,
    id: &str,
    kind: &str,
    conversations: &dyn ConversationStore,
) -> Result<Outcome, StoreError> {
    // Its window raised too, when new: a redelivery costs the refused claim only.
    let claim = conversations.record_customer_message(bot, message).await?;
    match claim {
        Claim::New => tracing::info!(
            bot_id = bot,
            message_id = id,
            kind,
            "inbound message recorded"
        ),
        Claim::Duplicate => tracing::info!(
            bot_id = bot,
            message_id = id,
            "inbound message redelivered; already recorded"
        ),
    }
    Ok(Outcome::Inbound(claim))
}

async fn record_statuses(
    bot: &str,
    events: Vec<StatusEvent>,
    messages: &dyn MessageStore,
) -> Result<Outcome, StoreError> {
    // The store takes the events; failures are logged once they are known to be new.
    let failures: Vec<(usize, String, Option<String>)> = events
        .iter()
        .enumerate()
        .filter(|(_, event)| event.status == MessageStatus::Failed)
        .map(|(at, event)| (at, event.message_id.clone(), event.errors.clone()))
        .collect();
    let claims = messages.record_statuses(bot, events).await?;
    for (at, message_id, errors) in failures {
        if claims.get(at) == Some(&Claim::New) {
            tracing::warn!(
                bot_id = bot,
                message_id,
                errors = errors.as_deref().unwrap_or("[]"),
                "message delivery failed"
            );
        }
    }
    Ok(Outcome::Statuses(claims))
}

async fn apply_template(
    bot: &str,
    change: Option<(TemplateRef, TemplateChange)>,
    event: RawEvent,
    messages: &dyn MessageStore,
    templates: &dyn TemplateStore,
) -> Result<Outcome, StoreError> {
    if messages.record_raw_event(bot, &event).await? == Claim::New
        && let Some((target, change)) = change
    {
        let found = templates.update_template(bot, &target, &change).await?;
        let kind = event.kind.as_str();
        let template = target.key.name.as_str();
        let language = target.key.language.as_str();
        if found {
            tracing::info!(
                bot_id = bot,
                kind,
                template,
                language,
                ?change,
                "stored template updated"
            );
        } else {
            tracing::info!(
                bot_id = bot,
                kind,
                template,
                language,
                "template webhook for a template not synced yet; the next sync reconciles it"
            );
        }
    }
    Ok(Outcome::Raw)
}

/// What a change's entry says of it.
#[derive(Clone, Copy)]
struct EntryOf<'e> {
    /// Unix seconds of the event.
    time: Option<i64>,
    /// The business account it belongs to.
    account: Option<&'e str>,
}

/// Adds the writes one change asks for; `false` for a kind of change this product ignores.
async fn collect_change<'b>(
    change: &Change<'b>,
    entry: EntryOf<'_>,
    routes: &mut Router<'_, 'b>,
    secrets: &dyn SecretStore,
    now: i64,
    writes: &mut Vec<Write<'b>>,
) -> Result<bool, ReceiptError> {
    let raw = change.value.get();
    match change.field.as_ref() {
        "messages" => {}
        field if let Some(kind) = template_events::kind_of(field) => {
            // Templates belong to the business account: the URL's bot applies changes to its
            // own account's only. Another's (a bot sharing the app) is kept, not applied; that
            // bot's next sync brings the change.
            let theirs = match entry.account {
                Some(account) => !routes.is_url_bots_account(account).await?,
                None => false,
            };
            let mut event = raw_event(kind, None, raw, now);
            // A template paused, reinstated and paused again sends the same value twice: the
            // entry's time tells them apart, and stays the same when Meta redelivers.
            if let Some(time) = entry.time {
                event.key = hex::encode(Sha256::digest(format!("{time}:{raw}").as_bytes()));
            }
            let bot = Arc::from(routes.url_bot);
            if theirs {
                tracing::warn!(
                    bot_id = routes.url_bot,
                    business_account_id = entry.account,
                    "template change for another business account kept as unrouted, not applied"
                );
                event.kind = RawEventKind::Unrouted;
                writes.push(Write::Raw { bot, event });
            } else {
                let change = template_events::template_change(kind, raw);
                writes.push(Write::Template { bot, change, event });
            }
            return Ok(true);
        }
        other => {
            tracing::debug!(field = other, "webhook change of an unhandled kind ignored");
            return Ok(false);
        }
    }

    let (value, unreadable_items) = match serde_json::from_str::<MessagesValue<'b>>(raw) {
        Ok(value) => (value, Vec::new()),
        // One malformed contact, status or error does not take its neighbours with it.
        Err(error) => match serde_json::from_str::<MessagesValueItems<'b>>(raw) {
            Ok(items) => {
                tracing::warn!(bot_id = routes.url_bot, %error, "unreadable items of a messages change kept verbatim");
                items.split()
            }
            Err(_) => {
                tracing::warn!(bot_id = routes.url_bot, %error, "unreadable messages change kept verbatim");
                writes.push(raw_write(
                    routes.url_bot,
                    RawEventKind::Unreadable,
                    None,
                    raw,
                    now,
                ));
                return Ok(true);
            }
        },
    };
    let phone_number_id = value.metadata.phone_number_id.as_ref();
    let Some(bot) = routes
        .owner_of(&value.metadata.phone_number_id, secrets)
        .await?
    else {
        tracing::warn!(
            bot_id = routes.url_bot,
            phone_number_id,
            "change for a phone number no connection with this app secret owns; kept as unrouted"
        );
        writes.push(raw_write(
            routes.url_bot,
            RawEventKind::Unrouted,
            Some(phone_number_id),
            raw,
            now,
        ));
        return Ok(true);
    };

    push_items(&bot, &value, now, writes);
    for item in unreadable_items {
        let phone = Some(phone_number_id);
        writes.push(raw_write(
            &bot,
            RawEventKind::Unreadable,
            phone,
            item.get(),
            now,
        ));
    }
    if !value.errors.is_empty() {
        log_webhook_errors(&bot, &value.errors);
        writes.push(raw_write(
            &bot,
            RawEventKind::WebhookError,
            Some(phone_number_id),
            raw,
            now,
        ));
    }
    Ok(true)
}

/// The usual body (messages and statuses of connected numbers) read in one pass. `None` when
/// the body holds anything else, which [`collect_layered`] reads: a change of another kind,
/// errors, a number no connection of this app secret owns, a part of an unexpected shape.
/// Both ask for the same writes (the tests run every fixture through both).
async fn collect_in_one_pass<'b>(
    body: &'b [u8],
    routes: &mut Router<'_, 'b>,
    secrets: &dyn SecretStore,
    now: i64,
) -> Result<Option<Vec<Write<'b>>>, ReceiptError> {
    // The whole body checked as UTF-8 once: read from bytes, serde_json checks every string it
    // borrows, each a branchy scan of its own.
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(None);
    };
    let Ok(payload) = serde_json::from_str::<MessagesPayload<'b>>(text) else {
        return Ok(None);
    };
    if !payload.only_messages() {
        return Ok(None);
    }
    check_object(&payload.object)?;
    let changes = || {
        payload
            .entry
            .iter()
            .flat_map(|entry| &entry.changes)
            .map(|change| &change.value)
    };
    for value in changes() {
        if !value.errors.is_empty()
            || routes
                .owner_of(&value.metadata.phone_number_id, secrets)
                .await?
                .is_none()
        {
            return Ok(None);
        }
    }
    let mut writes = Vec::new();
    for value in changes() {
        // Decided above; the router answers from its list.
        if let Some(bot) = routes
            .owner_of(&value.metadata.phone_number_id, secrets)
            .await?
        {
            push_items(&bot, value, now, &mut writes);
        }
    }
    Ok(Some(writes))
}

/// Any body, part by part: each entry, then each of its changes, typed on its own (a malformed
/// one is kept verbatim, the others recorded), and each change's value once its `field` says
/// what it is. Returns the writes and how many changes were of a kind this product ignores.
async fn collect_layered<'b>(
    body: &'b [u8],
    routes: &mut Router<'_, 'b>,
    secrets: &dyn SecretStore,
    now: i64,
) -> Result<(Vec<Write<'b>>, usize), ReceiptError> {
    let payload: WebhookParts<'b> = serde_json::from_slice(body).map_err(ReceiptError::Payload)?;
    check_object(&payload.object)?;
    let mut writes = Vec::new();
    let mut ignored = 0;
    let Some(entries) = payload.entry else {
        return Ok((writes, ignored));
    };
    let entries: Vec<&'b RawValue> = match serde_json::from_str(entries.get()) {
        Ok(entries) => entries,
        Err(error) => {
            keep_unreadable(routes.url_bot, "entry", entries, &error, now, &mut writes);
            return Ok((writes, ignored));
        }
    };
    for raw_entry in entries {
        let entry: EntryParts<'b> = match serde_json::from_str(raw_entry.get()) {
            Ok(entry) => entry,
            Err(error) => {
                keep_unreadable(routes.url_bot, "entry", raw_entry, &error, now, &mut writes);
                continue;
            }
        };
        let (time, account) = (entry.time(), entry.account());
        for raw_change in entry.changes {
            let change: Change<'b> = match serde_json::from_str(raw_change.get()) {
                Ok(change) => change,
                Err(error) => {
                    keep_unreadable(
                        routes.url_bot,
                        "change",
                        raw_change,
                        &error,
                        now,
                        &mut writes,
                    );
                    continue;
                }
            };
            let from = EntryOf {
                time,
                account: account.as_deref(),
            };
            if !collect_change(&change, from, routes, secrets, now, &mut writes).await? {
                ignored += 1;
            }
        }
    }
    Ok((writes, ignored))
}

/// A part of a body that cannot be read, kept verbatim for the URL's bot.
fn keep_unreadable(
    bot: &str,
    part: &'static str,
    raw: &RawValue,
    error: &serde_json::Error,
    now: i64,
    writes: &mut Vec<Write<'_>>,
) {
    tracing::warn!(bot_id = bot, part, %error, "unreadable webhook part kept verbatim");
    writes.push(raw_write(
        bot,
        RawEventKind::Unreadable,
        None,
        raw.get(),
        now,
    ));
}

/// A write for each message and status of a routed `messages` change.
fn push_items<'b>(
    bot: &Arc<str>,
    value: &MessagesValue<'b>,
    now: i64,
    writes: &mut Vec<Write<'b>>,
) {
    writes.reserve(value.messages.len() + usize::from(!value.statuses.is_empty()));
    for message in &value.messages {
        writes.push(inbound_write(bot, message, value, now));
    }
    if !value.statuses.is_empty() {
        writes.push(Write::Statuses {
            bot: bot.clone(),
            events: value
                .statuses
                .iter()
                .map(|status| status_event(status, now))
                .collect(),
        });
    }
}

fn check_object(object: &str) -> Result<(), ReceiptError> {
    if object == WHATSAPP_OBJECT {
        Ok(())
    } else {
        Err(ReceiptError::Object(object.to_owned()))
    }
}

fn inbound_write<'b>(
    bot: &Arc<str>,
    message: &'b RawValue,
    value: &MessagesValue<'b>,
    now: i64,
) -> Write<'b> {
    let envelope: MessageEnvelope<'b> = match serde_json::from_str(message.get()) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(bot_id = %bot, %error, "unreadable inbound message kept verbatim");
            let phone = Some(value.metadata.phone_number_id.as_ref());
            return raw_write(bot, RawEventKind::Unreadable, phone, message.get(), now);
        }
    };
    let customer = customer_of(&envelope, &value.contacts);
    let profile_name = value
        .contacts
        .iter()
        .find(|c| same_customer(c, &customer))
        .and_then(|c| c.profile.as_ref()?.name.as_deref())
        .map(str::to_owned);
    let kind = envelope.stored_kind();
    Write::Inbound {
        bot: bot.clone(),
        message: InboundMessage {
            message_id: envelope.id.to_string(),
            customer,
            phone_number_id: value.metadata.phone_number_id.to_string(),
            kind: kind.to_owned(),
            timestamp: unix_seconds(envelope.timestamp.as_deref(), now),
            profile_name,
            content: message.get().to_owned(),
        },
        id: envelope.id,
        kind,
    }
}

/// The customer's ids from the message, completed by the matching `contacts[]` entry (Meta puts
/// the BSUID or the wa_id there when the message itself lacks it).
fn customer_of(envelope: &MessageEnvelope, contacts: &[ContactProfile]) -> CustomerIds {
    let mut ids = CustomerIds::new(envelope.from.as_deref(), envelope.from_user_id.as_deref());
    let contact = contacts
        .iter()
        .find(|c| same_customer(c, &ids))
        .or_else(|| {
            if contacts.len() == 1 {
                contacts.first()
            } else {
                None
            }
        });
    if let Some(contact) = contact {
        // Only the ids the message lacks are copied from the contact.
        let from_contact = CustomerIds::new(
            contact.wa_id.as_deref().filter(|_| ids.wa_id.is_none()),
            contact.user_id.as_deref().filter(|_| ids.bsuid.is_none()),
        );
        ids.wa_id = ids.wa_id.or(from_contact.wa_id);
        ids.bsuid = ids.bsuid.or(from_contact.bsuid);
    }
    ids
}

fn same_customer(contact: &ContactProfile, ids: &CustomerIds) -> bool {
    (contact.wa_id.is_some() && contact.wa_id.as_deref() == ids.wa_id.as_deref())
        || (contact.user_id.is_some() && contact.user_id.as_deref() == ids.bsuid.as_deref())
}

fn status_event(status: &Status, now: i64) -> StatusEvent {
    StatusEvent {
        message_id: status.id.to_string(),
        status: MessageStatus::parse(&status.status),
        timestamp: unix_seconds(status.timestamp.as_deref(), now),
        recipient: CustomerIds::new(
            status.recipient_id.as_deref(),
            status.recipient_user_id.as_deref(),
        ),
        errors: status.errors.map(|raw| raw.get().to_owned()),
        conversation: status.conversation.map(|raw| raw.get().to_owned()),
        pricing: status.pricing.map(|raw| raw.get().to_owned()),
        biz_opaque_callback_data: status
            .biz_opaque_callback_data
            .as_deref()
            .map(str::to_owned),
    }
}

fn log_webhook_errors(bot: &str, errors: &[MetaError]) {
    for error in errors {
        tracing::warn!(
            bot_id = bot,
            code = error.code,
            title = error.title.as_deref().unwrap_or(""),
            details = error
                .error_data
                .as_ref()
                .and_then(|d| d.details.as_deref())
                .unwrap_or(""),
            "WhatsApp reported an error in a webhook"
        );
    }
}

fn raw_write(
    bot: &str,
    kind: RawEventKind,
    phone: Option<&str>,
    body: &str,
    now: i64,
) -> Write<'static> {
    Write::Raw {
        bot: Arc::from(bot),
        event: raw_event(kind, phone, body, now),
    }
}

fn raw_event(kind: RawEventKind, phone: Option<&str>, body: &str, now: i64) -> RawEvent {
    RawEvent {
        kind,
        // The same content redelivered gets the same key, so it is kept once.
        key: hex::encode(Sha256::digest(body.as_bytes())),
        phone_number_id: phone.map(str::to_owned),
        received_at: now,
        body: body.to_owned(),
    }
}

/// Meta sends unix seconds as strings; a missing or unreadable one falls back to receipt time.
fn unix_seconds(value: Option<&str>, now: i64) -> i64 {
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(now)
}

/// Decides which bot each phone number's changes belong to, once per number per body.
struct Router<'s, 'b> {
    url_bot: &'s str,
    app_secret: &'s Secret,
    connections: &'s dyn ConnectionStore,
    /// (phone number id, owner); a body names one or two numbers, so a list kept inline is the
    /// cheapest, its ids borrowed from the body.
    decided: SmallVec<[Decided<'b>; 2]>,
    /// The URL's bot's business account, once a template change asked.
    url_bots_account: Option<Option<String>>,
}

/// A phone number id and the bot that owns it, if one may receive its changes.
type Decided<'b> = (Cow<'b, str>, Option<Arc<str>>);

impl<'s, 'b> Router<'s, 'b> {
    fn new(url_bot: &'s str, app_secret: &'s Secret, connections: &'s dyn ConnectionStore) -> Self {
        Self {
            url_bot,
            app_secret,
            connections,
            decided: SmallVec::new(),
            url_bots_account: None,
        }
    }

    /// Whether `account` is the business account of the URL's bot (read once per body).
    async fn is_url_bots_account(&mut self, account: &str) -> Result<bool, ReceiptError> {
        if self.url_bots_account.is_none() {
            let connection = self.connections.connection(self.url_bot).await?;
            self.url_bots_account = Some(connection.map(|c| c.business_account_id));
        }
        Ok(self.url_bots_account.as_ref().and_then(Option::as_deref) == Some(account))
    }

    async fn owner_of(
        &mut self,
        phone_number_id: &Cow<'b, str>,
        secrets: &dyn SecretStore,
    ) -> Result<Option<Arc<str>>, ReceiptError> {
        if let Some((_, decided)) = self.decided.iter().find(|(p, _)| p == phone_number_id) {
            return Ok(decided.clone());
        }
        // A warm cache answers at once, without a boxed future.
        let found = match self.connections.cached_phone_number_owner(phone_number_id) {
            Some(owner) => Some(owner),
            None => self.connections.phone_number_owner(phone_number_id).await?,
        };
        let owner = match found {
            None => None,
            Some(bot) if *bot == *self.url_bot => Some(bot),
            // Another bot's number: only if it is the same Meta app, i.e. shares the app secret
            // the body was signed with. Otherwise the sender could write into any bot.
            Some(bot) => match secrets.bot_secrets(&bot).await? {
                Some(theirs) if theirs.app_secret.matches(self.app_secret.expose()) => Some(bot),
                _ => None,
            },
        };
        self.decided.push((phone_number_id.clone(), owner.clone()));
        Ok(owner)
    }
}

#[cfg(test)]
mod tests {
    use intaj_shared::adapters::{MemorySecrets, MemoryStore};
    use intaj_shared::domain::Connection;
    use intaj_shared::ports::{BotSecrets, MessageStore};

    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/tests/fixtures/webhooks"
    );

    /// Bodies the one-pass read must leave to the layered one: they need raw JSON.
    const LAYERED_ONLY: &[&str] = &[
        "template_category_update_done.json",
        "template_category_update_impending.json",
        "template_components_update.json",
        "template_quality_update.json",
        "template_status_approved.json",
        "template_status_paused.json",
        "template_status_rejected.json",
        "template_status_update.json",
        "top_level_errors.json",
        "unknown_field_change.json",
    ];

    async fn connected(phones: &[(&str, &str)]) -> (MemoryStore, MemorySecrets) {
        let store = MemoryStore::new();
        let secrets = MemorySecrets::new();
        for (bot, phone) in phones {
            let connection = Connection {
                bot_id: (*bot).into(),
                business_account_id: "200000000000001".into(),
                phone_number_id: (*phone).into(),
                created_at: 0,
                ..Default::default()
            };
            store.put_connection(&connection).await.unwrap();
            let bot_secrets = BotSecrets {
                access_token: Secret::new("token"),
                app_secret: Secret::new("dev-app-secret"),
                verify_token: Secret::new("verify"),
                responder_secret: None,
            };
            secrets.put_bot_secrets(bot, &bot_secrets).await.unwrap();
        }
        (store, secrets)
    }

    #[tokio::test]
    async fn both_reads_ask_for_the_same_writes_for_every_fixture() {
        let (store, secrets) =
            connected(&[("demo", "100000000000001"), ("other", "100000000000002")]).await;
        let app_secret = Secret::new("dev-app-secret");
        let mut read_in_one_pass = 0;
        for entry in std::fs::read_dir(FIXTURES).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.ends_with(".json") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let mut routes = Router::new("demo", &app_secret, &store);
            let (layered, ignored) = collect_layered(&body, &mut routes, &secrets, 7)
                .await
                .unwrap();
            let mut routes = Router::new("demo", &app_secret, &store);
            let one_pass = collect_in_one_pass(&body, &mut routes, &secrets, 7)
                .await
                .unwrap();
            match one_pass {
                Some(writes) => {
                    assert!(
                        !LAYERED_ONLY.contains(&name.as_str()),
                        "{name} needs its raw JSON"
                    );
                    assert_eq!(format!("{writes:#?}"), format!("{layered:#?}"), "{name}");
                    assert_eq!(ignored, 0, "{name}");
                    read_in_one_pass += 1;
                }
                None => assert!(LAYERED_ONLY.contains(&name.as_str()), "{name} fell back"),
            }
        }
        assert!(
            read_in_one_pass >= 30,
            "only {read_in_one_pass} fixtures read in one pass"
        );
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_refused_as_a_payload_and_records_nothing() {
        let (store, secrets) = connected(&[("demo", "100000000000001")]).await;
        let app_secret = Secret::new("dev-app-secret");
        // A byte no UTF-8 text holds, inside the customer's name.
        let mut body = std::fs::read(format!("{FIXTURES}/text.json")).unwrap();
        let at = body.windows(5).position(|w| w == b"Amina").unwrap();
        body[at] = 0xff;
        let ports = ReceiptPorts {
            conversations: &store,
            templates: &store,
            connections: &store,
            secrets: &secrets,
        };
        let result = record("demo", &app_secret, &body, ports, 7).await;
        assert!(
            matches!(result, Err(ReceiptError::Payload(_))),
            "{result:?}"
        );
        let id = "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhggQTFCMkMzRDRFNUY2MDcwODA5MEExQjJDM0Q0RTVGNgA=";
        assert!(
            MessageStore::message(&store, "demo", id)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_number_no_connection_owns_is_read_layered_and_kept_verbatim() {
        let (store, secrets) = connected(&[("demo", "100000000000009")]).await;
        let app_secret = Secret::new("dev-app-secret");
        let body = std::fs::read(format!("{FIXTURES}/text.json")).unwrap();
        let mut routes = Router::new("demo", &app_secret, &store);
        let one_pass = collect_in_one_pass(&body, &mut routes, &secrets, 7)
            .await
            .unwrap();
        assert!(one_pass.is_none());
        let (writes, _) = collect_layered(&body, &mut routes, &secrets, 7)
            .await
            .unwrap();
        assert!(matches!(
            writes.as_slice(),
            [Write::Raw { event, .. }] if event.kind == RawEventKind::Unrouted
        ));
    }
}
