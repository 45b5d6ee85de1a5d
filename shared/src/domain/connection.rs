use serde::{Deserialize, Serialize};

/// A business's WhatsApp number wired to one Intaj bot. Secrets live in the secret store, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub bot_id: String,
    pub business_account_id: String,
    pub phone_number_id: String,
    /// Unix seconds.
    pub created_at: i64,
}
