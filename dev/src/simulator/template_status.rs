//! Template status changes as Meta reports them: the template's new status, then a signed
//! `message_template_status_update` webhook to every number of its WABA. Driven by
//! [`SimulatorHandle::set_template_status`] and `POST /_sim/templates/{wabaId}/{name}/status`.

use serde::Serialize;
use serde_json::{Value, json};

use super::state::SimulatorHandle;
use super::templates::{self, OtherInfo, TemplateStatusUpdate};
use super::webhooks::{DeliveryOutcome, account_envelope, deliver_with_retry, encode};

/// The `value` of a `message_template_status_update` change, in Meta's field order.
#[derive(Debug, Serialize)]
struct StatusUpdateValue {
    event: String,
    /// A JSON number, as Meta sends it (ids that are not numeric stay strings).
    message_template_id: Value,
    message_template_name: String,
    message_template_language: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_info: Option<OtherInfo>,
}

/// What a status change did: the template as now listed, and one delivery per number of the WABA
/// that has a webhook URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStatusOutcome {
    pub template: Value,
    pub webhooks: Vec<WebhookDelivery>,
}

impl TemplateStatusOutcome {
    /// How many webhooks the receivers took with a 2xx.
    pub fn delivered(&self) -> usize {
        self.webhooks
            .iter()
            .filter(|delivery| {
                delivery
                    .status
                    .is_some_and(|status| (200..300).contains(&status))
            })
            .count()
    }
}

/// One webhook post of a status change (after retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub phone_number_id: String,
    pub url: String,
    /// The receiver's last HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it could not be reached, when it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SimulatorHandle {
    /// Sets the status of template `name` in `language` of `waba_id` (cursors into the WABA's
    /// listing go stale) and posts the signed `message_template_status_update` webhook to every
    /// number of that WABA, with retries. `None` when there is no such template.
    pub async fn set_template_status(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
        update: TemplateStatusUpdate,
    ) -> Option<TemplateStatusOutcome> {
        let is_it = |template: &Value| {
            template.get("name").and_then(Value::as_str) == Some(name)
                && template.get("language").and_then(Value::as_str) == Some(language)
        };
        // Look first so that a change of nothing leaves the WABA's cursors valid.
        if !self
            .state
            .with_templates(waba_id, |set| set.templates.iter().any(is_it))
        {
            return None;
        }
        let template = self.state.change_templates(waba_id, |set| {
            let template = set.iter_mut().find(|template| is_it(template))?;
            templates::apply_status(template, &update);
            Some(template.clone())
        })?;
        let id = template
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = StatusUpdateValue {
            event: update.status.clone(),
            message_template_id: id.parse::<u64>().map_or_else(|_| json!(id), |id| json!(id)),
            message_template_name: name.to_owned(),
            message_template_language: language.to_owned(),
            reason: update.reason.clone().unwrap_or_else(|| "NONE".to_owned()),
            other_info: update.other_info.clone(),
        };
        let body = encode(&account_envelope(
            waba_id,
            "message_template_status_update",
            value,
        ));
        let mut webhooks = Vec::new();
        for number in self.numbers() {
            let Some(url) = number
                .webhook_url
                .clone()
                .filter(|_| number.waba_id == waba_id)
            else {
                continue;
            };
            let (status, error) =
                match deliver_with_retry(&self.state, &number, &url, body.clone()).await {
                    DeliveryOutcome::Answered(status) => (Some(status.as_u16()), None),
                    DeliveryOutcome::Failed(error) => (None, Some(error)),
                };
            webhooks.push(WebhookDelivery {
                phone_number_id: number.phone_number_id,
                url,
                status,
                error,
            });
        }
        tracing::info!(%waba_id, %name, %language, status = %update.status, webhooks = webhooks.len(), "template status changed");
        Some(TemplateStatusOutcome { template, webhooks })
    }
}
