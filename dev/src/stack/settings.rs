//! The local stack's settings: SPEC §9's variables and their defaults.

use std::env;

/// What the local stack serves and the one connection it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSettings {
    /// 0 picks a free port (tests).
    pub port: u16,
    pub sim_port: u16,
    pub bot_id: String,
    pub api_key: String,
    pub admin_token: String,
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// When set, no simulator is started and Graph API calls go there.
    pub whatsapp_api_base: Option<String>,
    /// The Graph API version in request paths (the simulator serves any).
    pub whatsapp_api_version: String,
    /// When set, DynamoDB (Local) at this URL instead of memory.
    pub dynamodb_endpoint: Option<String>,
    pub table_name: String,
    pub log_level: String,
    /// Whether the demo bot answers with its rules (`DEV_RESPONDER=none` keeps it silent).
    pub demo_responder: bool,
}

impl Default for StackSettings {
    fn default() -> Self {
        Self::from_lookup(|_| None)
    }
}

impl StackSettings {
    pub fn from_env() -> Result<Self, String> {
        let settings = Self::from_lookup(|name| env::var(name).ok());
        for (name, value) in [
            ("PORT", env::var("PORT")),
            ("SIM_PORT", env::var("SIM_PORT")),
        ] {
            if let Ok(value) = value
                && value.parse::<u16>().is_err()
            {
                return Err(format!("{name}={value} is not a port number"));
            }
        }
        Ok(settings)
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let or = |name: &str, default: &str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let port =
            |name: &str, default: u16| var(name).and_then(|v| v.parse().ok()).unwrap_or(default);
        Self {
            port: port("PORT", 3000),
            sim_port: port("SIM_PORT", 3001),
            bot_id: or("DEV_BOT_ID", "demo"),
            api_key: or("DEV_API_KEY", "dev-api-key"),
            admin_token: or("DEV_ADMIN_TOKEN", "dev-admin-token"),
            app_secret: or("DEV_APP_SECRET", "dev-app-secret"),
            verify_token: or("DEV_VERIFY_TOKEN", "dev-verify-token"),
            access_token: or("DEV_ACCESS_TOKEN", "dev-access-token"),
            phone_number_id: or("DEV_PHONE_NUMBER_ID", "100000000000001"),
            waba_id: or("DEV_WABA_ID", "200000000000001"),
            whatsapp_api_base: var("WHATSAPP_API_BASE").filter(|v| !v.trim().is_empty()),
            whatsapp_api_version: or(
                "WHATSAPP_API_VERSION",
                intaj_shared::config::DEFAULT_API_VERSION,
            ),
            dynamodb_endpoint: var("DYNAMODB_ENDPOINT").filter(|v| !v.trim().is_empty()),
            table_name: or("TABLE_NAME", "intaj-whatsapp-dev"),
            log_level: or("LOG_LEVEL", "info"),
            demo_responder: or("DEV_RESPONDER", "rules") != "none",
        }
    }

    /// Settings for tests: free ports, everything else default.
    pub fn ephemeral() -> Self {
        Self {
            port: 0,
            sim_port: 0,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = StackSettings::default();
        assert_eq!((s.port, s.sim_port), (3000, 3001));
        assert_eq!(s.bot_id, "demo");
        assert_eq!(s.api_key, "dev-api-key");
        assert_eq!(s.phone_number_id, "100000000000001");
        assert_eq!(s.waba_id, "200000000000001");
        assert!(s.whatsapp_api_base.is_none() && s.dynamodb_endpoint.is_none());
        assert!(s.demo_responder, "the demo bot answers by default");
        assert_eq!(s.whatsapp_api_version, "v25.0");
    }

    #[test]
    fn the_environment_overrides_them() {
        let s = StackSettings::from_lookup(|name| match name {
            "PORT" => Some("4000".into()),
            "DEV_BOT_ID" => Some("shop".into()),
            "WHATSAPP_API_VERSION" => Some("v26.0".into()),
            "DYNAMODB_ENDPOINT" => Some("http://127.0.0.1:8000".into()),
            "DEV_RESPONDER" => Some("none".into()),
            _ => None,
        });
        assert!(
            !s.demo_responder,
            "DEV_RESPONDER=none silences the demo bot"
        );
        assert_eq!((s.port, s.bot_id.as_str()), (4000, "shop"));
        assert_eq!(s.whatsapp_api_version, "v26.0");
        assert_eq!(
            s.dynamodb_endpoint.as_deref(),
            Some("http://127.0.0.1:8000")
        );
    }
}
