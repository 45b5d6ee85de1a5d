//! `docs/openapi.yaml` describes exactly the routes the local stack serves: the same paths, and
//! on each path the methods it documents are served while every other one is a 405 naming the
//! served ones in `Allow`; the stack serves the document itself at `/openapi.json`. (Bodies,
//! statuses and headers against the document: schemathesis, in the test command.)

use std::collections::BTreeSet;

use intaj_tests::{DEMO_API_KEY, StackClient};
use serde_json::Value;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn document() -> Value {
    let text = std::fs::read_to_string(intaj_tests::workspace_root().join("docs/openapi.yaml"))
        .expect("docs/openapi.yaml");
    serde_norway::from_str(&text).expect("the document is YAML")
}

/// A concrete URL path for a documented one: an unknown bot, so that nothing is changed.
fn concrete(path: &str) -> String {
    path.replace("{botId}", "nobody")
        .replace("{messageId}", "wamid.NOTHING")
        .replace("{phone}", "15551234567")
}

#[tokio::test]
async fn the_document_and_the_stacks_routes_are_the_same() {
    let document = document();
    let paths = document["paths"].as_object().expect("paths");
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let mounted: BTreeSet<&str> = intaj_dev::stack::route_paths().collect();
    assert_eq!(documented, mounted, "documented vs mounted paths");

    let stack = StackClient::start_silent().await;
    let admin = stack.stack.settings.admin_token.clone();
    for (path, item) in paths {
        let served: Vec<&str> = METHODS
            .into_iter()
            .filter(|m| item.get(m.to_lowercase()).is_some())
            .collect();
        assert!(!served.is_empty(), "{path} documents no operation");
        let key = if path.contains("/connections") {
            admin.as_str()
        } else {
            DEMO_API_KEY
        };
        for method in METHODS {
            let url = format!("{}{}", stack.stack.base_url, concrete(path));
            let response = stack
                .http
                .request(method.parse().unwrap(), url)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let allow = response
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if served.contains(&method) {
                assert_ne!(status, 405, "{method} {path} is documented: {body}");
            } else {
                assert_eq!(status, 405, "{method} {path} is not documented: {body}");
                let allowed: BTreeSet<&str> =
                    allow.as_deref().unwrap_or_default().split(", ").collect();
                assert_eq!(allowed, served.iter().copied().collect(), "Allow of {path}");
            }
            if status >= 400 {
                assert!(
                    body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                    "{method} {path}: {status} {body}"
                );
            }
        }
    }

    let (status, served) = stack.call("GET", "/openapi.json", "", None).await;
    assert_eq!(status, 200);
    assert_eq!(served, document, "/openapi.json is docs/openapi.yaml");
}
