//! Meta's four template webhooks as changes to the stored template: they update it at once,
//! without waiting for the next sync. They are partial (a components update has no header, a
//! template may not be synced yet): what they leave out is reconciled by the next sync, hourly
//! or on `POST /api/whatsapp/sync-templates`, not by a call to Meta from the webhook, which
//! must answer Meta fast.

use intaj_shared::domain::{RawEventKind, TemplateChange, TemplateKey, TemplateRef};
use intaj_shared::whatsapp::webhook::{TemplateInfo, TemplateUpdate};
use serde_json::{Value, json};

/// The raw-event kind a template change field is kept under; `None` for other fields.
pub fn kind_of(field: &str) -> Option<RawEventKind> {
    Some(match field {
        "message_template_status_update" => RawEventKind::TemplateStatusUpdate,
        "message_template_quality_update" => RawEventKind::TemplateQualityUpdate,
        "template_category_update" => RawEventKind::TemplateCategoryUpdate,
        "message_template_components_update" => RawEventKind::TemplateComponentsUpdate,
        _ => return None,
    })
}

/// Which template the change names, and what it changes; `None` when it names none or says
/// nothing this product keeps.
pub fn template_change(kind: RawEventKind, raw: &str) -> Option<(TemplateRef, TemplateChange)> {
    let update: TemplateUpdate = serde_json::from_str(raw).ok()?;
    let target = TemplateRef {
        id: update.message_template_id.as_ref().and_then(|id| match id {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }),
        key: TemplateKey::new(
            update.message_template_name.as_deref().unwrap_or_default(),
            update
                .message_template_language
                .as_deref()
                .unwrap_or_default(),
        ),
    };
    let change = match kind {
        RawEventKind::TemplateStatusUpdate => TemplateChange::Status {
            status: update.event.as_deref()?.to_owned(),
            reason: status_reason(&update),
        },
        RawEventKind::TemplateQualityUpdate => TemplateChange::Quality {
            score: update.new_quality_score.as_deref()?.to_owned(),
        },
        RawEventKind::TemplateCategoryUpdate => match update.correct_category.as_deref() {
            Some(category) => TemplateChange::ImpendingCategory {
                category: category.to_owned(),
                at: update.category_update_timestamp,
            },
            None => TemplateChange::Category {
                category: update.new_category.as_deref()?.to_owned(),
            },
        },
        RawEventKind::TemplateComponentsUpdate => TemplateChange::Components {
            body: update
                .message_template_element
                .as_deref()
                .map(str::to_owned),
            footer: update.message_template_footer.as_deref().map(str::to_owned),
            buttons: update.message_template_buttons.as_ref().map(|buttons| {
                // Meta's listing shape, as a sync would store it.
                Value::Array(
                    buttons
                        .iter()
                        .map(|b| {
                            let mut button = json!({
                                "type": b.message_template_button_type,
                                "text": b.message_template_button_text,
                            });
                            if let Some(url) = &b.message_template_button_url {
                                button["url"] = json!(url);
                            }
                            if let Some(phone) = &b.message_template_button_phone_number {
                                button["phone_number"] = json!(phone);
                            }
                            button
                        })
                        .collect(),
                )
            }),
        },
        _ => return None,
    };
    (target.id.is_some() || !target.key.name.is_empty()).then_some((target, change))
}

/// What Meta said of a status: the reason unless `NONE`, then `other_info`, `rejection_info`,
/// `disable_info`, joined.
fn status_reason(update: &TemplateUpdate<'_>) -> Option<String> {
    let info = |info: &Option<TemplateInfo>| {
        info.as_ref().map(|i| {
            [i.title.as_deref(), i.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        })
    };
    let parts: Vec<String> = [
        update
            .reason
            .as_deref()
            .filter(|r| !r.eq_ignore_ascii_case("NONE"))
            .map(str::to_owned),
        info(&update.other_info),
        info(&update.rejection_info),
        update
            .disable_info
            .as_ref()
            .map(|d| format!("disabled: {d}")),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (String, String) {
        let path = format!(
            "{}/../../shared/tests/fixtures/webhooks/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let payload: Value = serde_json::from_str(&body).unwrap();
        let change = &payload["entry"][0]["changes"][0];
        (
            change["field"].as_str().unwrap().to_owned(),
            change["value"].to_string(),
        )
    }

    fn change_of(name: &str) -> (TemplateRef, TemplateChange) {
        let (field, value) = fixture(name);
        template_change(kind_of(&field).unwrap(), &value).unwrap()
    }

    #[test]
    fn every_documented_template_webhook_becomes_a_change() {
        let (target, change) = change_of("template_status_paused.json");
        assert_eq!(target.id.as_deref(), Some("1000000000000002"));
        assert_eq!(target.key, TemplateKey::new("order_update", "en"));
        let TemplateChange::Status { status, reason } = change else {
            panic!("a status change")
        };
        assert_eq!(status, "PAUSED");
        assert!(
            reason
                .unwrap()
                .starts_with("FIRST_PAUSE: Your WhatsApp message template")
        );

        let (_, change) = change_of("template_status_rejected.json");
        let TemplateChange::Status { reason, .. } = change else {
            panic!("a status change")
        };
        assert_eq!(
            reason.as_deref(),
            Some(
                "INVALID_FORMAT; The template has a variable at the start of the message.: \
                 Add text before the first variable."
            )
        );
        let (_, change) = change_of("template_status_approved.json");
        assert_eq!(
            change,
            TemplateChange::Status {
                status: "APPROVED".into(),
                reason: None
            }
        );
        assert_eq!(
            change_of("template_quality_update.json").1,
            TemplateChange::Quality {
                score: "YELLOW".into()
            }
        );
        assert_eq!(
            change_of("template_category_update_done.json").1,
            TemplateChange::Category {
                category: "MARKETING".into()
            }
        );
        assert_eq!(
            change_of("template_category_update_impending.json").1,
            TemplateChange::ImpendingCategory {
                category: "MARKETING".into(),
                at: Some(1_764_090_000)
            }
        );
        let TemplateChange::Components {
            body,
            footer,
            buttons,
        } = change_of("template_components_update.json").1
        else {
            panic!("a components change")
        };
        assert_eq!(
            body.as_deref(),
            Some("Hi {{1}}, your order {{2}} is now {{3}}.")
        );
        assert_eq!(footer.as_deref(), Some("Reply STOP to opt out"));
        assert_eq!(
            buttons.unwrap(),
            json!([{"type": "URL", "text": "Track order", "url": "https://example.com/track/{{1}}"}])
        );
    }

    #[test]
    fn unknown_values_are_kept_and_nameless_changes_ignored() {
        let raw = r#"{"event":"IN_APPEAL","message_template_id":"77","message_template_name":"x","message_template_language":"en-US"}"#;
        let (target, change) = template_change(RawEventKind::TemplateStatusUpdate, raw).unwrap();
        assert_eq!(target.id.as_deref(), Some("77"));
        assert_eq!(target.key.language, "en_US");
        assert_eq!(
            change,
            TemplateChange::Status {
                status: "IN_APPEAL".into(),
                reason: None
            }
        );
        assert_eq!(
            template_change(RawEventKind::TemplateStatusUpdate, r#"{"event":"PAUSED"}"#),
            None
        );
        assert_eq!(kind_of("messages"), None);
    }
}
