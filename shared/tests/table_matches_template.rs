//! `template.yaml`'s `Table` is the table the code expects: same keys, index, TTL attribute,
//! stream and billing as `table_definition()` (which also creates DynamoDB Local's table).

use intaj_shared::adapters::dynamodb::{
    IndexDefinition, KeyElement, TableAttribute, TableDefinition, table_definition,
};
use serde_norway::Value;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");

fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .get(name)
        .unwrap_or_else(|| panic!("template: `{name}` missing in {value:?}"))
}

fn string(value: &Value, name: &str) -> String {
    match field(value, name) {
        Value::String(s) => s.clone(),
        other => panic!("template: `{name}` should be a plain string, got {other:?}"),
    }
}

fn list<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    field(value, name)
        .as_sequence()
        .unwrap_or_else(|| panic!("template: `{name}` should be a list"))
}

fn key_schema(value: &Value) -> Vec<KeyElement> {
    list(value, "KeySchema")
        .iter()
        .map(|k| KeyElement {
            name: string(k, "AttributeName"),
            key_type: string(k, "KeyType"),
        })
        .collect()
}

fn template_table() -> TableDefinition {
    let text = std::fs::read_to_string(TEMPLATE).expect("template.yaml at the workspace root");
    // CloudFormation tags (`!Ref`, `!Sub`, …) parse as tagged values elsewhere in the file.
    let template: Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    let table = field(field(&template, "Resources"), "Table");
    assert_eq!(string(table, "Type"), "AWS::DynamoDB::Table");
    let props = field(table, "Properties");

    let ttl = field(props, "TimeToLiveSpecification");
    assert_eq!(
        field(ttl, "Enabled").as_bool(),
        Some(true),
        "TTL must be enabled"
    );

    let mut attribute_definitions: Vec<_> = list(props, "AttributeDefinitions")
        .iter()
        .map(|a| TableAttribute {
            name: string(a, "AttributeName"),
            attribute_type: string(a, "AttributeType"),
        })
        .collect();
    attribute_definitions.sort();
    TableDefinition {
        attribute_definitions,
        key_schema: key_schema(props),
        global_secondary_indexes: list(props, "GlobalSecondaryIndexes")
            .iter()
            .map(|i| IndexDefinition {
                name: string(i, "IndexName"),
                key_schema: key_schema(i),
                projection_type: string(field(i, "Projection"), "ProjectionType"),
            })
            .collect(),
        ttl_attribute: string(ttl, "AttributeName"),
        stream_view_type: string(field(props, "StreamSpecification"), "StreamViewType"),
        billing_mode: string(props, "BillingMode"),
    }
}

#[test]
fn template_table_equals_the_code_definition() {
    let mut expected = table_definition();
    expected.attribute_definitions.sort();
    assert_eq!(template_table(), expected);
}
