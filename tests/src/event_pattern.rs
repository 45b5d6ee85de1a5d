//! Lambda's and EventBridge's event filter patterns, the part `template.yaml` uses (exact values,
//! `exists`, `anything-but`), to check its filters against real stream records. Any other
//! operator panics, so a filter this cannot judge never passes unseen.

use serde_json::Value;

/// Whether `event` matches `pattern` (a pattern's JSON text as `template.yaml` holds it).
pub fn matches(pattern: &str, event: &Value) -> bool {
    let pattern: Value = serde_json::from_str(pattern).expect("a filter pattern is JSON");
    object_matches(&pattern, Some(event))
}

fn object_matches(pattern: &Value, event: Option<&Value>) -> bool {
    let fields = pattern.as_object().expect("a pattern level is an object");
    fields.iter().all(|(name, sub)| {
        let value = event.and_then(|e| e.get(name));
        match sub {
            Value::Array(alternatives) => alternatives.iter().any(|alt| leaf_matches(alt, value)),
            Value::Object(_) => object_matches(sub, value),
            other => panic!("a pattern's leaf is a list of alternatives, got {other}"),
        }
    })
}

fn leaf_matches(alternative: &Value, value: Option<&Value>) -> bool {
    match alternative {
        Value::Object(operator) => match operator.iter().next() {
            Some((name, expected)) if name == "exists" => {
                value.is_some() == expected.as_bool().expect("exists takes a boolean")
            }
            Some((name, refused)) if name == "anything-but" => {
                let refused = match refused {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                };
                value.is_some_and(|v| !refused.contains(v))
            }
            _ => panic!("filter operator not supported here: {alternative}"),
        },
        literal => value == Some(literal),
    }
}

/// The value at a pipe's JSON path (`$.dynamodb.NewImage.conversation.S`) in `event`.
pub fn at_path<'a>(path: &str, event: &'a Value) -> Option<&'a Value> {
    let pointer = path
        .strip_prefix('$')
        .expect("a JSON path starts with $")
        .replace('.', "/");
    event.pointer(&pointer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_exists_and_anything_but_match_as_aws_documents() {
        let event =
            json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "message"}}}});
        assert!(matches(r#"{"eventName":["INSERT","MODIFY"]}"#, &event));
        assert!(!matches(r#"{"eventName":["INSERT"]}"#, &event));
        assert!(matches(
            r#"{"dynamodb":{"NewImage":{"direction":{"S":[{"exists":false}]}}}}"#,
            &event
        ));
        assert!(!matches(
            r#"{"dynamodb":{"NewImage":{"entity":{"S":[{"exists":false}]}}}}"#,
            &event
        ));
        assert!(matches(
            r#"{"dynamodb":{"NewImage":{"entity":{"S":[{"anything-but":["template"]}]}}}}"#,
            &event
        ));
        assert_eq!(
            at_path("$.dynamodb.NewImage.entity.S", &event),
            Some(&json!("message"))
        );
    }
}
