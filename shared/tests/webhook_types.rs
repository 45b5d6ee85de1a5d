//! Every fixture parses into the typed webhook model, and each message's typed content is the
//! one its `type` names.

use std::path::PathBuf;

use intaj_shared::whatsapp::webhook::{
    Conversation, Message, MessageContent, MessagesValue, MetaError, Pricing, TemplateUpdate,
    WebhookPayload,
};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    all.sort();
    assert!(all.len() >= 40, "the fixture set covers every type");
    all
}

fn variant_matches(kind: &str, content: &MessageContent) -> bool {
    matches!(
        (kind, content),
        ("text", MessageContent::Text(_))
            | ("image", MessageContent::Image(_))
            | ("audio", MessageContent::Audio(_))
            | ("video", MessageContent::Video(_))
            | ("document", MessageContent::Document(_))
            | ("sticker", MessageContent::Sticker(_))
            | ("location", MessageContent::Location(_))
            | ("contacts", MessageContent::Contacts(_))
            | ("interactive", MessageContent::Interactive(_))
            | ("button", MessageContent::Button(_))
            | ("reaction", MessageContent::Reaction(_))
            | ("order", MessageContent::Order(_))
            | ("system", MessageContent::System(_))
            | (_, MessageContent::Unsupported)
    )
}

#[test]
fn every_fixture_parses_into_typed_messages_statuses_and_updates() {
    let mut kinds_seen = std::collections::BTreeSet::new();
    for (name, body) in fixtures() {
        let payload: WebhookPayload =
            serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(payload.object, "whatsapp_business_account", "{name}");
        for change in payload.entry.iter().flat_map(|e| &e.changes) {
            match change.field.as_ref() {
                "messages" => {
                    let value: MessagesValue = serde_json::from_str(change.value.get()).unwrap();
                    for raw in &value.messages {
                        let message: Message = serde_json::from_str(raw.get())
                            .unwrap_or_else(|e| panic!("{name}: {e}"));
                        let content = message.content();
                        assert!(
                            variant_matches(&message.kind, &content),
                            "{name}: {} → {content:?}",
                            message.kind
                        );
                        kinds_seen.insert(message.kind.to_string());
                    }
                    for status in &value.statuses {
                        if let Some(raw) = status.conversation {
                            let conversation: Conversation =
                                serde_json::from_str(raw.get()).unwrap();
                            assert!(conversation.id.is_some(), "{name}");
                        }
                        if let Some(raw) = status.pricing {
                            let pricing: Pricing = serde_json::from_str(raw.get()).unwrap();
                            assert!(pricing.category.is_some(), "{name}");
                        }
                        if let Some(raw) = status.errors {
                            let errors: Vec<MetaError> = serde_json::from_str(raw.get()).unwrap();
                            assert!(errors.iter().all(|e| e.code > 0), "{name}");
                        }
                    }
                }
                "message_template_status_update" => {
                    let update: TemplateUpdate = serde_json::from_str(change.value.get()).unwrap();
                    assert!(update.message_template_name.is_some_and(|n| !n.is_empty()));
                }
                _ => {}
            }
        }
    }
    for kind in [
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
    ] {
        assert!(kinds_seen.contains(kind), "no fixture of type {kind}");
    }
}

#[test]
fn typed_content_carries_what_a_bot_needs() {
    let body = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/webhooks/interactive_list_reply.json"),
    )
    .unwrap();
    let payload: WebhookPayload = serde_json::from_slice(&body).unwrap();
    let value: MessagesValue =
        serde_json::from_str(payload.entry[0].changes[0].value.get()).unwrap();
    let message: Message = serde_json::from_str(value.messages[0].get()).unwrap();
    let MessageContent::Interactive(interactive) = message.content() else {
        panic!("interactive")
    };
    assert_eq!(interactive.kind, "list_reply");
    assert!(!interactive.list_reply.as_ref().unwrap().id.is_empty());

    let body = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/webhooks/non_ascii_escaped.json"),
    )
    .unwrap();
    let payload: WebhookPayload = serde_json::from_slice(&body).unwrap();
    let value: MessagesValue =
        serde_json::from_str(payload.entry[0].changes[0].value.get()).unwrap();
    let message: Message = serde_json::from_str(value.messages[0].get()).unwrap();
    let MessageContent::Text(text) = message.content() else {
        panic!("text")
    };
    assert!(
        text.body.contains("café ☕"),
        "escapes decoded: {}",
        text.body
    );
}
