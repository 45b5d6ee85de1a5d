//! `interactive`: reply buttons, a list, or a call-to-action URL, each with its header, body
//! and footer limits.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{
    BodyText, ButtonAction, CtaUrlAction, Header, Interactive, ListAction, ListRow, ListSection,
    Media, MessageContent, ReplyButton, TextHeader,
};

use super::{ValidationError, is_http_url, max_len, present, shaped};

// WhatsApp's documented limits, in characters.
const MAX_INTERACTIVE_BODY: usize = 1024;
const MAX_HEADER_TEXT: usize = 60;
const MAX_FOOTER: usize = 60;
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_BUTTON_ID: usize = 256;
const MAX_LIST_BUTTON: usize = 20;
const MAX_LIST_SECTIONS: usize = 10;
const MAX_LIST_ROWS: usize = 10;
const MAX_SECTION_TITLE: usize = 24;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_ID: usize = 200;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_CTA_DISPLAY_TEXT: usize = 20;

/// `header`: a string is a text header.
#[derive(Deserialize)]
#[serde(expecting = "a string or an object")]
#[serde(untagged)]
enum HeaderInput {
    Text(String),
    Object(HeaderObject),
}

#[derive(Deserialize)]
#[serde(expecting = "an object")]
#[serde(deny_unknown_fields)]
struct HeaderObject {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, alias = "link")]
    url: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

fn header(input: Option<HeaderInput>) -> Result<Option<Header>, ValidationError> {
    let (kind, text, url, id) = match input {
        None => return Ok(None),
        Some(HeaderInput::Text(text)) => ("text".to_owned(), Some(text), None, None),
        Some(HeaderInput::Object(HeaderObject {
            kind,
            text,
            url,
            id,
        })) => (kind, text, url, id),
    };
    let (text, url, id) = (present(text), present(url), present(id));
    if kind == "text" {
        if url.is_some() || id.is_some() {
            return Err(ValidationError::new(
                "invalid_header",
                "a text header takes only \"text\", not url or id",
            ));
        }
        return match text {
            None => Ok(None),
            Some(text) => {
                max_len("content.header", &text, MAX_HEADER_TEXT, "header_too_long")?;
                Ok(Some(Header::Text { text }))
            }
        };
    }
    if text.is_some() {
        return Err(ValidationError::new(
            "invalid_header",
            format!("a {kind} header takes a url or id, not text"),
        ));
    }
    let media = || -> Result<Media, ValidationError> {
        Ok(Media {
            source: super::media::media_source("content.header", url, id)?,
        })
    };
    match kind.as_str() {
        "image" => Ok(Some(Header::Image { image: media()? })),
        "video" => Ok(Some(Header::Video { video: media()? })),
        "document" => Ok(Some(Header::Document { document: media()? })),
        other => Err(ValidationError::new(
            "invalid_header",
            format!("header type {other:?} is not one of text, image, video, document"),
        )),
    }
}

/// The message, from the request's `content`.
pub(super) fn content(content: Value) -> Result<MessageContent, ValidationError> {
    let Value::Object(mut fields) = content else {
        return Err(ValidationError::new(
            "invalid_content",
            r#"content for type interactive must be an object with "type": "button", "list" or "cta_url""#,
        ));
    };
    // Taken out here so each shape below can refuse fields it does not know.
    let kind = fields.remove("type");
    let content = Value::Object(fields);
    let interactive = match kind.as_ref().and_then(Value::as_str) {
        // Meta's name is `button`; the contract says "buttons", so both are taken.
        Some("button" | "buttons") => buttons(content)?,
        Some("list") => list(content)?,
        Some("cta_url") => cta_url(content)?,
        other => {
            return Err(ValidationError::new(
                "unsupported_interactive_type",
                format!(
                    "content.type must be \"button\", \"list\" or \"cta_url\", got {}",
                    other.map_or_else(|| "nothing".to_owned(), |t| format!("{t:?}"))
                ),
            ));
        }
    };
    Ok(MessageContent::Interactive { interactive })
}

fn body_and_footer(
    body: Option<String>,
    footer: Option<String>,
) -> Result<(BodyText, Option<BodyText>), ValidationError> {
    let body = present(body).ok_or_else(|| {
        ValidationError::new(
            "missing_body",
            "content.body is required: the text of the message",
        )
    })?;
    max_len("content.body", &body, MAX_INTERACTIVE_BODY, "body_too_long")?;
    let footer = present(footer);
    if let Some(footer) = &footer {
        max_len("content.footer", footer, MAX_FOOTER, "footer_too_long")?;
    }
    Ok((BodyText::new(body), footer.map(BodyText::new)))
}

fn buttons(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct ButtonContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default)]
        buttons: Vec<ButtonInput>,
    }

    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct ButtonInput {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        title: Option<String>,
    }

    let content: ButtonContent = shaped(
        content,
        "content for interactive type button",
        r#"{"type": "button", "body": "…", "buttons": [{"id": "yes", "title": "Yes"}]}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = header(content.header)?;

    let count = content.buttons.len();
    if count == 0 {
        return Err(ValidationError::new(
            "missing_buttons",
            "content.buttons is empty: give 1 to 3 buttons",
        ));
    }
    if count > MAX_BUTTONS {
        return Err(ValidationError::new(
            "too_many_buttons",
            format!("content.buttons has {count} buttons; WhatsApp allows at most {MAX_BUTTONS}"),
        ));
    }
    let mut ids = HashSet::new();
    let mut buttons = Vec::with_capacity(count);
    for (at, button) in content.buttons.into_iter().enumerate() {
        let field = format!("content.buttons[{at}]");
        let title = present(button.title).ok_or_else(|| {
            ValidationError::new(
                "missing_button_title",
                format!("{field}.title is required (1 to {MAX_BUTTON_TITLE} characters)"),
            )
        })?;
        max_len(
            &format!("{field}.title"),
            &title,
            MAX_BUTTON_TITLE,
            "button_title_too_long",
        )?;
        let id = present(button.id).ok_or_else(|| {
            ValidationError::new(
                "missing_button_id",
                format!("{field}.id is required: it comes back when the customer taps the button"),
            )
        })?;
        max_len(
            &format!("{field}.id"),
            &id,
            MAX_BUTTON_ID,
            "button_id_too_long",
        )?;
        if !ids.insert(id.clone()) {
            return Err(ValidationError::new(
                "duplicate_button_id",
                format!("{field}.id {id:?} is used by another button: ids must be unique"),
            ));
        }
        buttons.push(ReplyButton { id, title });
    }
    Ok(Interactive::Button {
        header,
        body,
        footer,
        action: ButtonAction { buttons },
    })
}

fn list(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct ListContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default)]
        button: Option<String>,
        #[serde(default)]
        sections: Vec<SectionInput>,
    }

    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct SectionInput {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        rows: Vec<RowInput>,
    }

    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields)]
    struct RowInput {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        description: Option<String>,
    }

    let content: ListContent = shaped(
        content,
        "content for interactive type list",
        r#"{"type": "list", "body": "…", "button": "Choose", "sections": [{"rows": [{"id": "…", "title": "…"}]}]}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = match header(content.header)? {
        None => None,
        Some(Header::Text { text }) => Some(TextHeader(text)),
        Some(_) => {
            return Err(ValidationError::new(
                "invalid_header",
                "a list message takes only a text header",
            ));
        }
    };
    let button = present(content.button).ok_or_else(|| {
        ValidationError::new(
            "missing_list_button",
            format!(
                "content.button is required: the label (1 to {MAX_LIST_BUTTON} characters) of the button that opens the list"
            ),
        )
    })?;
    max_len(
        "content.button",
        &button,
        MAX_LIST_BUTTON,
        "list_button_too_long",
    )?;

    let section_count = content.sections.len();
    if section_count == 0 {
        return Err(ValidationError::new(
            "missing_list_sections",
            "content.sections is empty: give 1 to 10 sections with rows",
        ));
    }
    if section_count > MAX_LIST_SECTIONS {
        return Err(ValidationError::new(
            "too_many_list_sections",
            format!(
                "content.sections has {section_count} sections; WhatsApp allows at most {MAX_LIST_SECTIONS}"
            ),
        ));
    }
    let row_count: usize = content.sections.iter().map(|s| s.rows.len()).sum();
    if row_count > MAX_LIST_ROWS {
        return Err(ValidationError::new(
            "too_many_list_rows",
            format!(
                "the list has {row_count} rows in all; WhatsApp allows at most {MAX_LIST_ROWS}"
            ),
        ));
    }

    let mut ids = HashSet::new();
    let mut sections = Vec::with_capacity(section_count);
    for (s, section) in content.sections.into_iter().enumerate() {
        let field = format!("content.sections[{s}]");
        let title = present(section.title);
        match &title {
            Some(title) => max_len(
                &format!("{field}.title"),
                title,
                MAX_SECTION_TITLE,
                "list_section_title_too_long",
            )?,
            None if section_count > 1 => {
                return Err(ValidationError::new(
                    "missing_list_section_title",
                    format!("{field}.title is required when the list has more than one section"),
                ));
            }
            None => {}
        }
        if section.rows.is_empty() {
            return Err(ValidationError::new(
                "missing_list_rows",
                format!("{field}.rows is empty: each section needs at least one row"),
            ));
        }
        let mut rows = Vec::with_capacity(section.rows.len());
        for (r, row) in section.rows.into_iter().enumerate() {
            let field = format!("{field}.rows[{r}]");
            let title = present(row.title).ok_or_else(|| {
                ValidationError::new(
                    "missing_list_row_title",
                    format!("{field}.title is required (1 to {MAX_ROW_TITLE} characters)"),
                )
            })?;
            max_len(
                &format!("{field}.title"),
                &title,
                MAX_ROW_TITLE,
                "list_row_title_too_long",
            )?;
            let id = present(row.id).ok_or_else(|| {
                ValidationError::new(
                    "missing_list_row_id",
                    format!(
                        "{field}.id is required: it comes back when the customer picks the row"
                    ),
                )
            })?;
            max_len(
                &format!("{field}.id"),
                &id,
                MAX_ROW_ID,
                "list_row_id_too_long",
            )?;
            if !ids.insert(id.clone()) {
                return Err(ValidationError::new(
                    "duplicate_list_row_id",
                    format!("{field}.id {id:?} is used by another row: ids must be unique"),
                ));
            }
            let description = present(row.description);
            if let Some(description) = &description {
                max_len(
                    &format!("{field}.description"),
                    description,
                    MAX_ROW_DESCRIPTION,
                    "list_row_description_too_long",
                )?;
            }
            rows.push(ListRow {
                id,
                title,
                description,
            });
        }
        sections.push(ListSection { title, rows });
    }
    Ok(Interactive::List {
        header,
        body,
        footer,
        action: ListAction { button, sections },
    })
}

fn cta_url(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct CtaUrlContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default, alias = "display_text")]
        display_text: Option<String>,
        #[serde(default)]
        url: Option<String>,
    }

    let content: CtaUrlContent = shaped(
        content,
        "content for interactive type cta_url",
        r#"{"type": "cta_url", "body": "…", "displayText": "See dates", "url": "https://…"}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = header(content.header)?;
    let display_text = present(content.display_text).ok_or_else(|| {
        ValidationError::new(
            "missing_cta_display_text",
            format!(
                "content.displayText is required: the button label (1 to {MAX_CTA_DISPLAY_TEXT} characters)"
            ),
        )
    })?;
    max_len(
        "content.displayText",
        &display_text,
        MAX_CTA_DISPLAY_TEXT,
        "cta_display_text_too_long",
    )?;
    let url = present(content.url).unwrap_or_default();
    if !is_http_url(&url) {
        return Err(ValidationError::new(
            "invalid_cta_url",
            format!("content.url must be an http(s) URL, got {url:?}"),
        ));
    }
    Ok(Interactive::CtaUrl {
        header,
        body,
        footer,
        action: CtaUrlAction { display_text, url },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::test_support::*;

    #[test]
    fn interactive_buttons() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                "type": "button", "body": "Confirm your order?", "header": "Order #42",
                "footer": "Intaj", "buttons": [
                    {"id": "yes", "title": "Yes"},
                    {"id": "no", "title": "No"},
                    {"id": "later", "title": chars(20)},
                ]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "text", "text": "Order #42"},
                        "body": {"text": "Confirm your order?"},
                        "footer": {"text": "Intaj"},
                        "action": {"buttons": [
                            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                            {"type": "reply", "reply": {"id": "no", "title": "No"}},
                            {"type": "reply", "reply": {"id": "later", "title": chars(20)}},
                        ]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "buttons", "body": "Like it?",
                    "header": {"type": "image", "url": "https://example.com/p.png"},
                    "buttons": [{"id": "like", "title": "👍"}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "image", "image": {"link": "https://example.com/p.png"}},
                        "body": {"text": "Like it?"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "like", "title": "👍"}}]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "button", "body": "Your ticket",
                    "header": {"type": "document", "id": "998"},
                    "buttons": [{"id": "ok", "title": "OK"}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "document", "document": {"id": "998"}},
                        "body": {"text": "Your ticket"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "ok", "title": "OK"}}]},
                    }),
                ),
            ),
        ]);
    }

    #[test]
    fn interactive_list() {
        let ten_rows: Vec<Value> = (0..10)
            .map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")}))
            .collect();
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                "type": "list", "header": "Menu", "body": "What would you like?",
                "footer": "Prices include VAT", "button": "Choose",
                "sections": [
                    {"title": "Drinks", "rows": [
                        {"id": "tea", "title": "Tea", "description": "Hot"},
                        {"id": "water", "title": chars(24), "description": chars(72)},
                    ]},
                    {"title": chars(24), "rows": [{"id": chars(200), "title": "Cake"}]},
                ]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "list",
                        "header": {"type": "text", "text": "Menu"},
                        "body": {"text": "What would you like?"},
                        "footer": {"text": "Prices include VAT"},
                        "action": {"button": "Choose", "sections": [
                            {"title": "Drinks", "rows": [
                                {"id": "tea", "title": "Tea", "description": "Hot"},
                                {"id": "water", "title": chars(24), "description": chars(72)},
                            ]},
                            {"title": chars(24), "rows": [{"id": chars(200), "title": "Cake"}]},
                        ]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "list", "body": "Pick", "button": chars(20),
                    "sections": [{"rows": ten_rows.clone()}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "list",
                        "body": {"text": "Pick"},
                        "action": {"button": chars(20), "sections": [{"rows": ten_rows}]},
                    }),
                ),
            ),
        ]);
    }

    #[test]
    fn interactive_cta_url() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "cta_url", "body": "Tap below to see available dates.",
                    "displayText": "See Dates", "url": "https://example.com/dates"}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "cta_url",
                        "body": {"text": "Tap below to see available dates."},
                        "action": {"name": "cta_url", "parameters": {
                            "display_text": "See Dates", "url": "https://example.com/dates"}},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "cta_url", "body": "Dates", "footer": "Subject to change",
                    "header": {"type": "text", "text": chars(60)},
                    "display_text": chars(20), "url": "http://example.com"}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "cta_url",
                        "header": {"type": "text", "text": chars(60)},
                        "body": {"text": "Dates"},
                        "footer": {"text": "Subject to change"},
                        "action": {"name": "cta_url", "parameters": {
                            "display_text": chars(20), "url": "http://example.com"}},
                    }),
                ),
            ),
        ]);
    }

    fn interactive(content: Value) -> Value {
        json!({"to": "15551234567", "type": "interactive", "content": content})
    }

    fn buttons(extra: Value) -> Value {
        let mut content =
            json!({"type": "button", "body": "Pick", "buttons": [{"id": "a", "title": "A"}]});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    fn list(extra: Value) -> Value {
        let mut content = json!({"type": "list", "body": "Pick", "button": "Choose",
                                 "sections": [{"rows": [{"id": "a", "title": "A"}]}]});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    fn cta(extra: Value) -> Value {
        let mut content = json!({"type": "cta_url", "body": "Go", "displayText": "Open",
                                 "url": "https://example.com"});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    #[test]
    fn interactive_rules() {
        let button = |id: &str, title: &str| json!({"id": id, "title": title});
        let row = |id: String| json!({"id": id, "title": "Row"});
        assert_refused(vec![
            (
                "unsupported_interactive_type",
                interactive(json!({"type": "flow", "body": "x"})),
            ),
            (
                "unsupported_interactive_type",
                interactive(json!({"body": "x"})),
            ),
            ("invalid_content", interactive(json!("Pick one"))),
            ("invalid_content", buttons(json!({"bodyText": "x"}))),
            // Shared by the three kinds.
            ("missing_body", buttons(json!({"body": " "}))),
            ("missing_body", list(json!({"body": null}))),
            ("missing_body", cta(json!({"body": ""}))),
            ("body_too_long", buttons(json!({"body": chars(1025)}))),
            ("body_too_long", list(json!({"body": chars(1025)}))),
            ("body_too_long", cta(json!({"body": chars(1025)}))),
            ("footer_too_long", buttons(json!({"footer": chars(61)}))),
            ("footer_too_long", list(json!({"footer": chars(61)}))),
            ("footer_too_long", cta(json!({"footer": chars(61)}))),
            ("header_too_long", buttons(json!({"header": chars(61)}))),
            (
                "header_too_long",
                list(json!({"header": {"type": "text", "text": chars(61)}})),
            ),
            ("header_too_long", cta(json!({"header": chars(61)}))),
            (
                "invalid_header",
                list(json!({"header": {"type": "image", "url": "https://example.com/a.png"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "audio", "id": "1"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "text", "text": "a", "url": "https://e.com"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "image", "text": "a"}})),
            ),
            (
                "invalid_media",
                buttons(json!({"header": {"type": "image"}})),
            ),
            (
                "invalid_media",
                cta(json!({"header": {"type": "video", "url": "file:///etc/passwd"}})),
            ),
            // Reply buttons.
            ("missing_buttons", buttons(json!({"buttons": []}))),
            (
                "too_many_buttons",
                buttons(json!({"buttons": [
                button("a", "A"), button("b", "B"), button("c", "C"), button("d", "D")]})),
            ),
            (
                "missing_button_title",
                buttons(json!({"buttons": [{"id": "a"}]})),
            ),
            (
                "button_title_too_long",
                buttons(json!({"buttons": [button("a", &chars(21))]})),
            ),
            (
                "missing_button_id",
                buttons(json!({"buttons": [{"title": "A"}]})),
            ),
            (
                "button_id_too_long",
                buttons(json!({"buttons": [button(&chars(257), "A")]})),
            ),
            (
                "duplicate_button_id",
                buttons(json!({"buttons": [button("a", "A"), button("a", "B")]})),
            ),
            // Lists.
            ("missing_list_button", list(json!({"button": ""}))),
            ("list_button_too_long", list(json!({"button": chars(21)}))),
            ("missing_list_sections", list(json!({"sections": []}))),
            (
                "too_many_list_sections",
                list(json!({"sections": (0..11)
                .map(|i| json!({"title": format!("S{i}"), "rows": [row(format!("r{i}"))]}))
                .collect::<Vec<_>>()})),
            ),
            (
                "missing_list_section_title",
                list(json!({"sections": [
                {"title": "One", "rows": [row("a".into())]}, {"rows": [row("b".into())]}]})),
            ),
            (
                "list_section_title_too_long",
                list(json!({"sections": [
                {"title": chars(25), "rows": [row("a".into())]}]})),
            ),
            (
                "missing_list_rows",
                list(json!({"sections": [{"title": "S", "rows": []}]})),
            ),
            (
                "too_many_list_rows",
                list(json!({"sections": [
                {"title": "S1", "rows": (0..6).map(|i| row(format!("a{i}"))).collect::<Vec<_>>()},
                {"title": "S2", "rows": (0..5).map(|i| row(format!("b{i}"))).collect::<Vec<_>>()}]})),
            ),
            (
                "missing_list_row_title",
                list(json!({"sections": [{"rows": [{"id": "a"}]}]})),
            ),
            (
                "list_row_title_too_long",
                list(json!({"sections": [{"rows": [{"id": "a", "title": chars(25)}]}]})),
            ),
            (
                "missing_list_row_id",
                list(json!({"sections": [{"rows": [{"title": "A"}]}]})),
            ),
            (
                "list_row_id_too_long",
                list(json!({"sections": [{"rows": [{"id": chars(201), "title": "A"}]}]})),
            ),
            (
                "duplicate_list_row_id",
                list(json!({"sections": [
                {"title": "S1", "rows": [row("a".into())]}, {"title": "S2", "rows": [row("a".into())]}]})),
            ),
            (
                "list_row_description_too_long",
                list(json!({"sections": [{"rows": [
                {"id": "a", "title": "A", "description": chars(73)}]}]})),
            ),
            // Call-to-action URL.
            (
                "missing_cta_display_text",
                cta(json!({"displayText": null})),
            ),
            (
                "cta_display_text_too_long",
                cta(json!({"displayText": chars(21)})),
            ),
            ("invalid_cta_url", cta(json!({"url": null}))),
            (
                "invalid_cta_url",
                cta(json!({"url": "javascript:alert(1)"})),
            ),
            ("invalid_cta_url", cta(json!({"url": "www.example.com"}))),
        ]);
    }
}
