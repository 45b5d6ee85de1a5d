//! The table's definition (the same one `template.yaml` declares; a test keeps the two equal)
//! and its creation for DynamoDB Local and tests.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use tokio::time::Instant;

use super::keys;
use super::unavailable;
use crate::ports::StoreError;

/// How long a new table may take to become ACTIVE (seconds on DynamoDB Local, up to a minute
/// or so on AWS).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The table in CloudFormation's vocabulary (`S`, `HASH`, `ALL`, `NEW_IMAGE`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub attribute_definitions: Vec<TableAttribute>,
    /// Partition key first, then sort key.
    pub key_schema: Vec<KeyElement>,
    pub global_secondary_indexes: Vec<IndexDefinition>,
    /// Epoch-seconds attribute after which DynamoDB deletes an item.
    pub ttl_attribute: String,
    pub stream_view_type: String,
    pub billing_mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableAttribute {
    pub name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection_type: String,
}

fn string_attribute(name: &str) -> TableAttribute {
    TableAttribute {
        name: name.to_owned(),
        attribute_type: "S".to_owned(),
    }
}

fn key(hash: &str, range: &str) -> Vec<KeyElement> {
    vec![
        KeyElement {
            name: hash.to_owned(),
            key_type: "HASH".to_owned(),
        },
        KeyElement {
            name: range.to_owned(),
            key_type: "RANGE".to_owned(),
        },
    ]
}

pub fn table_definition() -> TableDefinition {
    TableDefinition {
        attribute_definitions: [keys::PK, keys::SK, keys::GSI1_PK, keys::GSI1_SK]
            .into_iter()
            .map(string_attribute)
            .collect(),
        key_schema: key(keys::PK, keys::SK),
        global_secondary_indexes: vec![IndexDefinition {
            name: keys::GSI1.to_owned(),
            key_schema: key(keys::GSI1_PK, keys::GSI1_SK),
            projection_type: "ALL".to_owned(),
        }],
        ttl_attribute: keys::TTL.to_owned(),
        stream_view_type: "NEW_AND_OLD_IMAGES".to_owned(),
        billing_mode: "PAY_PER_REQUEST".to_owned(),
    }
}

fn invalid(err: BuildError) -> StoreError {
    StoreError::Unavailable(format!("invalid table definition: {err}"))
}

fn key_schema(elements: &[KeyElement]) -> Result<Vec<KeySchemaElement>, StoreError> {
    elements
        .iter()
        .map(|e| {
            KeySchemaElement::builder()
                .attribute_name(&e.name)
                .key_type(KeyType::from(e.key_type.as_str()))
                .build()
                .map_err(invalid)
        })
        .collect()
}

/// Creates the table from [`table_definition`] unless it exists, waits until it (and its
/// index) is ACTIVE, and makes sure TTL is enabled. Safe to run concurrently and repeatedly.
pub async fn create_table_if_missing(client: &Client, table_name: &str) -> Result<(), StoreError> {
    let definition = table_definition();
    if !table_exists(client, table_name).await? {
        create_table(client, table_name, &definition).await?;
    }
    wait_until_active(client, table_name).await?;
    enable_ttl(client, table_name, &definition.ttl_attribute).await
}

async fn table_exists(client: &Client, table_name: &str) -> Result<bool, StoreError> {
    match client.describe_table().table_name(table_name).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(unavailable("DescribeTable", err)),
    }
}

async fn create_table(
    client: &Client,
    table_name: &str,
    definition: &TableDefinition,
) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::from(definition.billing_mode.as_str()))
        .set_key_schema(Some(key_schema(&definition.key_schema)?))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(definition.stream_view_type.as_str()))
                .build()
                .map_err(invalid)?,
        );
    for attribute in &definition.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.name)
                .attribute_type(ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()
                .map_err(invalid)?,
        );
    }
    for index in &definition.global_secondary_indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection_type.as_str()))
                        .build(),
                )
                .build()
                .map_err(invalid)?,
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Someone else created it meanwhile: fine, it is waited for like any existing table.
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(unavailable("CreateTable", err)),
    }
}

async fn wait_until_active(client: &Client, table_name: &str) -> Result<(), StoreError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut pause = Duration::from_millis(100);
    loop {
        let described = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|err| unavailable("DescribeTable", err))?;
        let table = described.table();
        let active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active)
            && table.is_some_and(|t| {
                t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status().is_none_or(|s| *s == IndexStatus::Active))
            });
        if active {
            return Ok(());
        }
        if Instant::now() + pause > deadline {
            return Err(StoreError::Unavailable(format!(
                "table {table_name} did not become ACTIVE within {}s",
                READY_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

async fn ttl_enabled(client: &Client, table_name: &str) -> Result<bool, StoreError> {
    let described = client
        .describe_time_to_live()
        .table_name(table_name)
        .send()
        .await
        .map_err(|err| unavailable("DescribeTimeToLive", err))?;
    Ok(matches!(
        described
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status()),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ))
}

async fn enable_ttl(client: &Client, table_name: &str, attribute: &str) -> Result<(), StoreError> {
    if ttl_enabled(client, table_name).await? {
        return Ok(());
    }
    let result = client
        .update_time_to_live()
        .table_name(table_name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(true)
                .build()
                .map_err(invalid)?,
        )
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        // A concurrent caller enabled it first ("TimeToLive is already enabled").
        Err(_) if ttl_enabled(client, table_name).await? => Ok(()),
        Err(err) => Err(unavailable("UpdateTimeToLive", err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_has_the_documented_keys_index_and_ttl() {
        let d = table_definition();
        assert_eq!(
            d.key_schema[0],
            KeyElement {
                name: "pk".into(),
                key_type: "HASH".into()
            }
        );
        assert_eq!(d.global_secondary_indexes[0].name, "gsi1");
        assert_eq!(d.ttl_attribute, "expiresAt");
        assert!(key_schema(&d.key_schema).is_ok());
    }
}
