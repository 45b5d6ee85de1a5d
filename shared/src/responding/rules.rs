//! The built-in responder: rules tried in order, the first that matches answers; else the
//! fallback; else nothing.

use regex_lite::{Regex, RegexBuilder};
use serde_json::Value;

use super::BotMessage;
use crate::domain::{ResponderRule, RuleMatch};

/// A rule the connections API refuses, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("rules[{index}].match is not a valid regular expression: {reason}")]
    Pattern { index: usize, reason: String },
    #[error("rules[{index}].match must not be empty")]
    Empty { index: usize },
    #[error("{at} must be a message object as /send takes it, or an array of them")]
    Reply { at: String },
    #[error("rules needs at least one rule, or a fallback")]
    Nothing,
}

enum Matcher {
    Pattern(Regex),
    Kind(String),
}

/// Rules ready to match, compiled once per connection.
pub struct CompiledRules {
    rules: Vec<(Matcher, Vec<Value>)>,
    fallback: Vec<Value>,
}

impl CompiledRules {
    pub fn compile(rules: &[ResponderRule], fallback: Option<&Value>) -> Result<Self, RulesError> {
        if rules.is_empty() && fallback.is_none() {
            return Err(RulesError::Nothing);
        }
        let compiled = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let matcher = match &rule.matches {
                    RuleMatch::Pattern(pattern) if pattern.trim().is_empty() => {
                        return Err(RulesError::Empty { index });
                    }
                    RuleMatch::Pattern(pattern) => Matcher::Pattern(
                        RegexBuilder::new(pattern)
                            .case_insensitive(true)
                            .build()
                            .map_err(|error| RulesError::Pattern {
                                index,
                                reason: error.to_string(),
                            })?,
                    ),
                    RuleMatch::Kind { kind } if kind.trim().is_empty() => {
                        return Err(RulesError::Empty { index });
                    }
                    RuleMatch::Kind { kind } => Matcher::Kind(kind.to_ascii_lowercase()),
                };
                Ok((
                    matcher,
                    messages(&rule.reply, &format!("rules[{index}].reply"))?,
                ))
            })
            .collect::<Result<_, _>>()?;
        let fallback = match fallback {
            Some(fallback) => messages(fallback, "fallback")?,
            None => Vec::new(),
        };
        Ok(Self {
            rules: compiled,
            fallback,
        })
    }

    /// The replies to `message`: the first matching rule's, else the fallback (possibly none).
    pub fn replies(&self, message: &BotMessage) -> &[Value] {
        self.rules
            .iter()
            .find(|(matcher, _)| match matcher {
                Matcher::Pattern(regex) => {
                    message.text.as_deref().is_some_and(|t| regex.is_match(t))
                }
                Matcher::Kind(kind) => message.kind.eq_ignore_ascii_case(kind),
            })
            .map_or(&self.fallback, |(_, replies)| replies)
    }
}

/// One message object, or an array of them.
fn messages(reply: &Value, at: &str) -> Result<Vec<Value>, RulesError> {
    let wrong = || RulesError::Reply { at: at.to_owned() };
    match reply {
        Value::Object(_) => Ok(vec![reply.clone()]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            Ok(items.clone())
        }
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(value: Value) -> Result<CompiledRules, RulesError> {
        let rules: Vec<ResponderRule> = serde_json::from_value(value["rules"].clone()).unwrap();
        CompiledRules::compile(&rules, value.get("fallback"))
    }

    fn message(kind: &str, text: Option<&str>) -> BotMessage {
        BotMessage {
            kind: kind.into(),
            text: text.map(str::to_owned),
            ..BotMessage::default()
        }
    }

    #[test]
    fn the_first_matching_rule_answers_else_the_fallback() {
        let compiled = rules(json!({
            "rules": [
                {"match": "^(hi|hello)\\b", "reply": {"type": "text", "content": "Hello!"}},
                {"match": "price", "reply": [{"type": "text", "content": "a"}, {"type": "text", "content": "b"}]},
                {"match": {"type": "image"}, "reply": {"type": "text", "content": "Nice picture"}},
                {"match": "hello", "reply": {"type": "text", "content": "never: the first wins"}},
            ],
            "fallback": {"type": "text", "content": "Type hi"},
        }))
        .unwrap();
        let content = |replies: &[Value]| -> Vec<String> {
            replies
                .iter()
                .map(|r| r["content"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            content(compiled.replies(&message("text", Some("HELLO there")))),
            ["Hello!"]
        );
        assert_eq!(
            content(compiled.replies(&message("text", Some("the PRICE?")))),
            ["a", "b"]
        );
        assert_eq!(
            content(compiled.replies(&message("image", None))),
            ["Nice picture"]
        );
        assert_eq!(
            content(compiled.replies(&message("text", Some("what")))),
            ["Type hi"]
        );
        assert_eq!(
            content(compiled.replies(&message("sticker", None))),
            ["Type hi"]
        );
    }

    #[test]
    fn without_a_fallback_an_unmatched_message_gets_no_reply() {
        let compiled =
            rules(json!({"rules": [{"match": "hi", "reply": {"type": "text", "content": "x"}}]}))
                .unwrap();
        assert!(compiled.replies(&message("text", Some("bye"))).is_empty());
    }

    #[test]
    fn bad_rules_are_refused_with_the_place() {
        let error = |value| rules(value).err().unwrap().to_string();
        assert!(error(json!({"rules": [{"match": "(", "reply": {}}]})).contains("rules[0].match"));
        assert!(error(json!({"rules": [{"match": "", "reply": {}}]})).contains("empty"));
        assert!(
            error(json!({"rules": [{"match": "a", "reply": "hi"}]})).contains("rules[0].reply")
        );
        assert!(error(json!({"rules": [], "fallback": []})).contains("fallback"));
        assert!(error(json!({"rules": []})).contains("at least one"));
    }
}
