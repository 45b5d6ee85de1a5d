//! What `template.yaml` lets a function do to the table, to hold against the DynamoDB requests
//! its handler was seen to make.

use std::collections::BTreeSet;

use serde_norway::Value;

use crate::workspace_root;

/// The DynamoDB operations a function's policies allow (`GetItem`, …), and whether any of them
/// reaches the table's indexes (a resource `…/index/*`). Panics on a SAM policy template
/// (`DynamoDBCrudPolicy`, …): it would allow more than any list says.
pub fn allowed_table_operations(function: &str) -> (BTreeSet<String>, bool) {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let template: Value = serde_norway::from_str(&text).unwrap();
    let policies = template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("the policies of {function}"));
    let mut operations = BTreeSet::new();
    let mut indexes = false;
    for policy in policies {
        let statements = policy["Statement"].as_sequence().unwrap_or_else(|| {
            panic!("{function}: a statement, not a policy template: {policy:?}")
        });
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            let mut on_table = false;
            let actions = match &statement["Action"] {
                Value::Sequence(actions) => actions.iter().collect(),
                action => vec![action],
            };
            for action in actions {
                let action = action.as_str().unwrap();
                if let Some(operation) = action.strip_prefix("dynamodb:") {
                    operations.insert(operation.to_owned());
                    on_table = true;
                }
            }
            let resources = format!("{:?}", statement["Resource"]);
            indexes |= on_table && resources.contains("/index/");
        }
    }
    (operations, indexes)
}
