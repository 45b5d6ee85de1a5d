use serde::{Deserialize, Serialize};

/// How Meta identifies a customer: a phone-based `wa_id`, a business-scoped user id (BSUID), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
}

impl CustomerIds {
    pub fn new(wa_id: Option<&str>, bsuid: Option<&str>) -> Self {
        let clean = |id: Option<&str>| {
            id.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        Self {
            wa_id: clean(wa_id),
            bsuid: clean(bsuid),
        }
    }

    /// The id a customer is keyed by: the BSUID when Meta gives one (it survives number changes),
    /// else the `wa_id`.
    pub fn stable_id(&self) -> Option<&str> {
        self.bsuid.as_deref().or(self.wa_id.as_deref())
    }

    /// Every id known, stable one first.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.bsuid
            .as_deref()
            .into_iter()
            .chain(self.wa_id.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.wa_id.is_none() && self.bsuid.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsuid_wins_as_stable_id() {
        let both = CustomerIds::new(Some("15551234567"), Some("US.1349"));
        assert_eq!(both.stable_id(), Some("US.1349"));
        assert_eq!(both.all().collect::<Vec<_>>(), ["US.1349", "15551234567"]);
        let phone = CustomerIds::new(Some("15551234567"), Some("  "));
        assert_eq!(phone.stable_id(), Some("15551234567"));
        assert!(CustomerIds::new(None, Some("")).is_empty());
    }
}
