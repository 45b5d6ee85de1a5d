//! `reaction`: exactly one emoji, on a message named by its id; an empty one takes it back.

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{MessageContent, Reaction};

use super::{ValidationError, present, shaped};

/// The longest single emoji (a kiss with two skin tones) is 10 code points.
const MAX_EMOJI_CHARS: usize = 10;

/// The message, from the request's `content`.
pub(super) fn content(content: Value) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct ReactionContent {
        #[serde(default, alias = "message_id")]
        message_id: Option<String>,
        #[serde(default)]
        emoji: Option<String>,
    }

    let ReactionContent { message_id, emoji } = shaped(
        content,
        "content for type reaction",
        r#"{"messageId": "wamid…", "emoji": "👍"}"#,
    )?;
    let message_id = present(message_id).ok_or_else(|| {
        ValidationError::new(
            "missing_message_id",
            "content.messageId is required: the id (wamid…) of the message to react to",
        )
    })?;
    let emoji = match emoji {
        // Meta's way to take a reaction back.
        Some(emoji) if emoji.is_empty() || is_single_emoji(&emoji) => emoji,
        other => {
            return Err(ValidationError::new(
                "invalid_emoji",
                format!(
                    "content.emoji must be exactly one emoji, like \"👍\", or \"\" to remove \
                     the reaction; got {}",
                    other.map_or_else(|| "none".to_owned(), |e| format!("{e:?}"))
                ),
            ));
        }
    };
    Ok(MessageContent::Reaction {
        reaction: Reaction { message_id, emoji },
    })
}

/// One emoji, possibly a sequence joined by ZWJ, with skin tones, a flag or a keycap.
fn is_single_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || chars.len() > MAX_EMOJI_CHARS {
        return false;
    }
    let is_modifier = |c: char| matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}');
    let is_regional = |c: char| matches!(c, '\u{1F1E6}'..='\u{1F1FF}');
    let mut bases = 0;
    let mut joined = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\u{200D}' || is_modifier(c) {
            // A joiner or modifier must follow something it applies to.
            if i == 0 || joined {
                return false;
            }
            joined = c == '\u{200D}';
            i += 1;
            continue;
        }
        if is_regional(c) {
            // A flag is a pair of regional indicators.
            if !chars.get(i + 1).copied().is_some_and(is_regional) {
                return false;
            }
            i += 1;
        } else if matches!(c, '0'..='9' | '#' | '*') {
            // A keycap: the character, an optional variation selector, then U+20E3.
            let rest = &chars[i + 1..];
            if !(rest.first() == Some(&'\u{20E3}') || rest.starts_with(&['\u{FE0F}', '\u{20E3}'])) {
                return false;
            }
        } else if !is_pictographic(c) {
            return false;
        }
        if !joined {
            bases += 1;
        }
        joined = false;
        i += 1;
    }
    bases == 1 && !joined
}

/// The blocks Unicode's emoji live in (Extended_Pictographic, approximately).
fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}'
        | '\u{25AA}'..='\u{25FE}' | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}'
        | '\u{2B05}'..='\u{2B55}' | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}')
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::test_support::*;

    #[test]
    fn reaction() {
        for emoji in ["👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇦🇪", "1️⃣", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "👩🏻‍❤️‍💋‍👨🏼", "☺"]
        {
            assert_eq!(
                meta(json!({"to": "15551234567", "type": "reaction",
                            "content": {"messageId": "wamid.HBgL", "emoji": emoji}})),
                envelope(
                    "reaction",
                    json!({"message_id": "wamid.HBgL", "emoji": emoji})
                ),
                "{emoji}"
            );
        }
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "reaction",
                       "content": {"message_id": "wamid.X", "emoji": "🙏"}}),
                envelope("reaction", json!({"message_id": "wamid.X", "emoji": "🙏"})),
            ),
            // An empty emoji takes the reaction back.
            (
                json!({"to": "15551234567", "type": "reaction",
                       "content": {"messageId": "wamid.X", "emoji": ""}}),
                envelope("reaction", json!({"message_id": "wamid.X", "emoji": ""})),
            ),
        ]);
    }

    #[test]
    fn reaction_rules() {
        let to = "15551234567";
        let reaction = |content: Value| json!({"to": to, "type": "reaction", "content": content});
        assert_refused(vec![
            ("missing_message_id", reaction(json!({"emoji": "👍"}))),
            (
                "missing_message_id",
                reaction(json!({"messageId": "", "emoji": "👍"})),
            ),
            ("invalid_emoji", reaction(json!({"messageId": "wamid.X"}))),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "ok"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": ":+1:"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍👍"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍 "})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "1"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🇦"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🇦🇪🇦🇪"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "\u{200D}👍"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍\u{200D}"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🏽"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍".repeat(11)})),
            ),
        ]);
    }
}
