//! `contacts`: contact cards in Meta's shape, each with a formatted name.

use serde_json::Value;

use crate::whatsapp::outbound::{Contact, MessageContent};

use super::{ValidationError, shaped};

/// WhatsApp's documented limit.
const MAX_CONTACTS: usize = 257;

/// The message, from the request's `content`.
pub(super) fn content(content: Value) -> Result<MessageContent, ValidationError> {
    let contacts: Vec<Contact> = shaped(
        content,
        "content for type contacts",
        r#"[{"name": {"formattedName": "Ada Lovelace"}, "phones": [{"phone": "+1 555 123 4567"}]}]"#,
    )?;
    if contacts.is_empty() {
        return Err(ValidationError::new(
            "missing_content",
            "content has no contacts: send 1 to 257",
        ));
    }
    if contacts.len() > MAX_CONTACTS {
        return Err(ValidationError::new(
            "too_many_contacts",
            format!(
                "content has {} contacts; WhatsApp allows at most {MAX_CONTACTS}",
                contacts.len()
            ),
        ));
    }
    if let Some(at) = contacts
        .iter()
        .position(|c| c.name.formatted_name.trim().is_empty())
    {
        return Err(ValidationError::new(
            "missing_contact_name",
            format!("content[{at}].name.formattedName is required: the name shown on the card"),
        ));
    }
    Ok(MessageContent::Contacts { contacts })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;

    #[test]
    fn contacts() {
        let want = envelope(
            "contacts",
            json!([{
                "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
                "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "wa_id": "442079460958"}],
                "emails": [{"email": "ada@example.com", "type": "WORK"}],
                "urls": [{"url": "https://example.com", "type": "WORK"}],
                "addresses": [{"city": "London", "country_code": "GB", "type": "WORK"}],
                "org": {"company": "Analytical Engines"},
                "birthday": "1815-12-10",
            }]),
        );
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "contacts", "content": [{
                    "name": {"formattedName": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace"},
                    "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "waId": "442079460958"}],
                    "emails": [{"email": "ada@example.com", "type": "WORK"}],
                    "urls": [{"url": "https://example.com", "type": "WORK"}],
                    "addresses": [{"city": "London", "countryCode": "GB", "type": "WORK"}],
                    "org": {"company": "Analytical Engines"},
                    "birthday": "1815-12-10",
                }]}),
                want.clone(),
            ),
            (
                json!({"to": "15551234567", "type": "contacts", "content": [{
                    "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
                    "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "wa_id": "442079460958"}],
                    "emails": [{"email": "ada@example.com", "type": "WORK"}],
                    "urls": [{"url": "https://example.com", "type": "WORK"}],
                    "addresses": [{"city": "London", "country_code": "GB", "type": "WORK"}],
                    "org": {"company": "Analytical Engines"},
                    "birthday": "1815-12-10",
                }]}),
                want,
            ),
            (
                json!({"to": "15551234567", "type": "contacts",
                       "content": [{"name": {"formattedName": "Support"}}]}),
                envelope("contacts", json!([{"name": {"formatted_name": "Support"}}])),
            ),
        ]);
    }

    #[test]
    fn contacts_rules() {
        let to = "15551234567";
        let card = json!({"name": {"formattedName": "A"}});
        assert_refused(vec![
            (
                "missing_content",
                json!({"to": to, "type": "contacts", "content": []}),
            ),
            (
                "too_many_contacts",
                json!({"to": to, "type": "contacts", "content": vec![card; 258]}),
            ),
            (
                "missing_contact_name",
                json!({"to": to, "type": "contacts",
                                            "content": [{"name": {"formattedName": " "}}]}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "contacts", "content": [{"phones": []}]}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "contacts", "content": {"name": {"formattedName": "A"}}}),
            ),
        ]);
    }
}
