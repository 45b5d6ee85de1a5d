//! `template.yaml`: every function logs JSON into a log group of the stack's own, kept for
//! `LogRetentionDays`, so that no function's lines are kept (and billed) forever.

use serde_norway::Value;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");

/// The name a `!Ref` names.
fn reference(value: &Value) -> &str {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str().unwrap(),
        other => panic!("template: expected a !Ref, got {other:?}"),
    }
}

#[test]
fn every_function_logs_json_to_a_group_of_the_stack_kept_for_the_retention() {
    let text = std::fs::read_to_string(TEMPLATE).expect("template.yaml at the workspace root");
    let template: Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    assert_eq!(
        template["Globals"]["Function"]["LoggingConfig"]["LogFormat"],
        "JSON"
    );
    let resources = template["Resources"].as_mapping().unwrap();
    let functions: Vec<_> = resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .collect();
    assert!(functions.len() >= 6, "the stack's functions");
    for (name, function) in functions {
        let group = reference(&function["Properties"]["LoggingConfig"]["LogGroup"]);
        let group = &resources[group];
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{name:?}");
        let retention = reference(&group["Properties"]["RetentionInDays"]);
        assert_eq!(retention, "LogRetentionDays", "{name:?}");
    }
    assert_eq!(template["Parameters"]["LogRetentionDays"]["Default"], 30);
}
