//! The Lambda environment (SPEC §8), read in one place.

use std::env;

pub const DEFAULT_SECRET_PREFIX: &str = "intaj/whatsapp/";
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v25.0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub secret_prefix: String,
    pub admin_secret_id: Option<String>,
    pub whatsapp_api_base: String,
    pub whatsapp_api_version: String,
    pub log_level: String,
    /// `MEDIA_BUCKET`: where the media function keeps inbound media.
    pub media_bucket: Option<String>,
    /// S3 addressed by path (`endpoint/bucket/key`), for a local S3 at `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL`; AWS itself is addressed by virtual host.
    pub s3_path_style: bool,
    /// `ALLOW_PRIVATE_BUSINESS_URLS=true`: the responder may post to loopback and private
    /// addresses (a staging network's bots); deployed, only public ones.
    pub allow_private_business_urls: bool,
}

impl Config {
    /// Reads the environment. `TABLE_NAME` is required; everything else has a default.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let non_empty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            table_name: non_empty("TABLE_NAME")
                .ok_or("TABLE_NAME must name the DynamoDB table (template.yaml sets it)")?,
            secret_prefix: non_empty("SECRET_PREFIX")
                .unwrap_or_else(|| DEFAULT_SECRET_PREFIX.into()),
            admin_secret_id: non_empty("ADMIN_SECRET_ID"),
            whatsapp_api_base: non_empty("WHATSAPP_API_BASE")
                .map(|base| base.trim_end_matches('/').to_owned())
                .unwrap_or_else(|| DEFAULT_API_BASE.into()),
            whatsapp_api_version: non_empty("WHATSAPP_API_VERSION")
                .unwrap_or_else(|| DEFAULT_API_VERSION.into()),
            log_level: non_empty("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            media_bucket: non_empty("MEDIA_BUCKET"),
            allow_private_business_urls: non_empty("ALLOW_PRIVATE_BUSINESS_URLS")
                .is_some_and(|v| matches!(v.trim(), "1" | "true")),
            s3_path_style: non_empty("AWS_ENDPOINT_URL_S3")
                .or_else(|| non_empty("AWS_ENDPOINT_URL"))
                .is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_table_is_required() {
        let config = Config::from_lookup(|n| (n == "TABLE_NAME").then(|| "t".to_owned())).unwrap();
        assert_eq!(config.secret_prefix, "intaj/whatsapp/");
        assert_eq!(config.whatsapp_api_base, "https://graph.facebook.com");
        assert_eq!(config.whatsapp_api_version, "v25.0");
        assert!(
            Config::from_lookup(|_| None)
                .unwrap_err()
                .contains("TABLE_NAME")
        );
    }
}
