//! `location`: coordinates within range, with an optional name and address.

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{Location, MessageContent};

use super::{ValidationError, present, shaped};

/// The message, from the request's `content`.
pub(super) fn content(content: Value) -> Result<MessageContent, ValidationError> {
    /// Meta's own examples quote coordinates, so a numeric string is read too.
    #[derive(Deserialize)]
    #[serde(expecting = "a number or a numeric string")]
    #[serde(untagged)]
    enum Coordinate {
        Number(f64),
        Text(String),
    }

    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct LocationContent {
        #[serde(default)]
        latitude: Option<Coordinate>,
        #[serde(default)]
        longitude: Option<Coordinate>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
    }

    fn coordinate(
        field: &str,
        value: Option<Coordinate>,
        limit: f64,
    ) -> Result<f64, ValidationError> {
        let number = match value {
            Some(Coordinate::Number(n)) => Some(n),
            Some(Coordinate::Text(text)) => text.trim().parse::<f64>().ok(),
            None => {
                return Err(ValidationError::new(
                    "invalid_coordinates",
                    format!("content.{field} is required (decimal degrees)"),
                ));
            }
        };
        match number {
            Some(n) if n.is_finite() && (-limit..=limit).contains(&n) => Ok(n),
            _ => Err(ValidationError::new(
                "invalid_coordinates",
                format!("content.{field} must be a number of degrees from -{limit} to {limit}"),
            )),
        }
    }

    let LocationContent {
        latitude,
        longitude,
        name,
        address,
    } = shaped(
        content,
        "content for type location",
        r#"{"latitude": 25.2, "longitude": 55.27, "name"?: "…", "address"?: "…"}"#,
    )?;
    Ok(MessageContent::Location {
        location: Location {
            latitude: coordinate("latitude", latitude, 90.0)?,
            longitude: coordinate("longitude", longitude, 180.0)?,
            name: present(name),
            address: present(address),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;

    #[test]
    fn location() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "location",
                       "content": {"latitude": 25.2048, "longitude": 55.2708,
                                   "name": "Burj Khalifa", "address": "1 Sheikh Mohammed bin Rashid Blvd"}}),
                envelope(
                    "location",
                    json!({"latitude": 25.2048, "longitude": 55.2708, "name": "Burj Khalifa",
                           "address": "1 Sheikh Mohammed bin Rashid Blvd"}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "location",
                       "content": {"latitude": "-90", "longitude": " 180 "}}),
                envelope("location", json!({"latitude": -90.0, "longitude": 180.0})),
            ),
        ]);
    }

    #[test]
    fn location_rules() {
        let to = "15551234567";
        assert_refused(vec![
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 91, "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": -90.5, "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0, "longitude": 180.1}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0, "longitude": -181}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": "north", "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": "NaN", "longitude": 0}}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "location", "content": [25.2, 55.3]}),
            ),
        ]);
    }
}
