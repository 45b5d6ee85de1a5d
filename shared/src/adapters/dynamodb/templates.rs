//! [`TemplateStore`] on DynamoDB: each sync writes the whole set under a new version's
//! partition, then flips the bot's pointer item to it, then deletes the versions before it.
//! Readers resolve the pointer first, so they see one whole set; a reader that finds its
//! version deleted under it sees the pointer moved and reads again.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnValue, WriteRequest};

use super::items::{
    Attrs, BOT_ID, CLEAN_BELOW, ENTITY, ItemReader, NEXT_VERSION, STATUS, SYNCED_AT, TemplateItem,
    TemplatePointer, VERSION, n, s,
};
use super::keys::{self, Key};
use super::{DynamoDbStore, build_error, unavailable};
use crate::domain::{MessageTemplate, TemplateSet, TemplateSyncCounts};
use crate::ports::{StoreError, TemplateStore};

/// How often a sync that lost the flip to a concurrent sync, or a read whose version was
/// replaced under it, starts again.
const MAX_ATTEMPTS: usize = 5;

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn changing(what: &str, bot_id: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "templates of bot {bot_id} kept changing during the {what}; try again"
    ))
}

impl DynamoDbStore {
    async fn template_pointer(&self, bot_id: &str) -> Result<TemplatePointer, StoreError> {
        Ok(match self.get_item(Key::template_set(bot_id)).await? {
            Some(item) => TemplatePointer::try_from(&item)?,
            None => TemplatePointer::default(),
        })
    }

    async fn version_items(&self, bot_id: &str, version: i64) -> Result<Vec<Attrs>, StoreError> {
        self.partition(keys::template_partition(bot_id, version))
            .await
    }

    /// A version number no other sync of this bot gets (an atomic counter on the pointer),
    /// higher than every version before it.
    async fn reserve_template_version(&self, bot_id: &str) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::template_set(bot_id).into_attrs()))
            .update_expression("ADD #next :one SET #entity = :entity, #bot = :bot")
            .expression_attribute_names("#next", NEXT_VERSION)
            .expression_attribute_names("#entity", ENTITY)
            .expression_attribute_names("#bot", BOT_ID)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":entity", s("templateSet"))
            .expression_attribute_values(":bot", s(bot_id))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|err| unavailable("UpdateItem", err))?;
        ItemReader::new(&out.attributes.unwrap_or_default()).n(NEXT_VERSION)
    }

    /// Makes `version` the current one, provided the pointer still names `previous`.
    async fn flip_template_pointer(
        &self,
        bot_id: &str,
        previous: Option<i64>,
        version: i64,
        synced_at: i64,
    ) -> Result<bool, StoreError> {
        let mut values = Attrs::from([
            (":version".to_owned(), n(version)),
            (":syncedAt".to_owned(), n(synced_at)),
        ]);
        let condition = match previous {
            Some(previous) => {
                values.insert(":previous".to_owned(), n(previous));
                "#version = :previous"
            }
            None => "attribute_not_exists(#version)",
        };
        self.update_if(
            Key::template_set(bot_id),
            "SET #version = :version, #syncedAt = :syncedAt",
            condition,
            names(&[("#version", VERSION), ("#syncedAt", SYNCED_AT)]),
            values,
        )
        .await
    }

    async fn delete_template_version(&self, bot_id: &str, version: i64) -> Result<(), StoreError> {
        let deletes = self
            .version_items(bot_id, version)
            .await?
            .into_iter()
            .map(|item| {
                let key = Attrs::from_iter(
                    item.into_iter()
                        .filter(|(name, _)| name == keys::PK || name == keys::SK),
                );
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(build_error)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(deletes).await
    }

    /// Deletes every version below `current` not yet deleted: the one it replaced, and any
    /// that a sync which lost a race or crashed left behind. Readers of those versions are
    /// past the pointer already and re-read it when their items vanish.
    async fn delete_template_versions_below(
        &self,
        bot_id: &str,
        pointer: &TemplatePointer,
        current: i64,
    ) -> Result<(), StoreError> {
        let first = pointer.clean_below.or(pointer.version).unwrap_or(1);
        for version in first..current {
            self.delete_template_version(bot_id, version).await?;
        }
        self.update_if(
            Key::template_set(bot_id),
            "SET #clean = :current",
            "attribute_not_exists(#clean) OR #clean < :current",
            names(&[("#clean", CLEAN_BELOW)]),
            Attrs::from([(":current".to_owned(), n(current))]),
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl TemplateStore for DynamoDbStore {
    async fn replace_templates(
        &self,
        bot_id: &str,
        templates: &[MessageTemplate],
        synced_at: i64,
    ) -> Result<TemplateSyncCounts, StoreError> {
        // One item per (name, language): BatchWriteItem refuses two writes of one key.
        let new: Vec<MessageTemplate> = templates
            .iter()
            .map(|t| ((t.name.as_str(), t.language.as_str()), t))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .cloned()
            .collect();
        for _ in 0..MAX_ATTEMPTS {
            let pointer = self.template_pointer(bot_id).await?;
            let old = match pointer.version {
                Some(version) => self.read_version(bot_id, version).await?,
                None => Vec::new(),
            };
            let version = self.reserve_template_version(bot_id).await?;
            let puts = new
                .iter()
                .map(|template| {
                    let put = PutRequest::builder()
                        .set_item(Some(Attrs::from(TemplateItem {
                            bot_id,
                            version,
                            template,
                        })))
                        .build()
                        .map_err(build_error)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.batch_write(puts).await?;
            if self
                .flip_template_pointer(bot_id, pointer.version, version, synced_at)
                .await?
            {
                self.delete_template_versions_below(bot_id, &pointer, version)
                    .await?;
                return Ok(TemplateSyncCounts::between(&old, &new));
            }
            // A concurrent sync flipped first: drop this attempt and compare with its set.
            self.delete_template_version(bot_id, version).await?;
        }
        Err(changing("sync", bot_id))
    }

    async fn templates(&self, bot_id: &str) -> Result<TemplateSet, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let pointer = self.template_pointer(bot_id).await?;
            let Some(version) = pointer.version else {
                return Ok(TemplateSet::default());
            };
            let templates = self.read_version(bot_id, version).await?;
            // A version is deleted only after the pointer has moved on: if it has not, the
            // read above saw the version whole.
            if self.template_pointer(bot_id).await?.version == Some(version) {
                return Ok(TemplateSet {
                    templates,
                    synced_at: pointer.synced_at,
                });
            }
        }
        Err(changing("read", bot_id))
    }

    async fn template(
        &self,
        bot_id: &str,
        name: &str,
        language: &str,
    ) -> Result<Option<MessageTemplate>, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(version) = self.template_pointer(bot_id).await?.version else {
                return Ok(None);
            };
            if let Some(item) = self
                .get_item(Key::template(bot_id, version, name, language))
                .await?
            {
                return MessageTemplate::try_from(&item).map(Some);
            }
            // Absent from the set, unless the set was replaced (and deleted) meanwhile.
            if self.template_pointer(bot_id).await?.version == Some(version) {
                return Ok(None);
            }
        }
        Err(changing("read", bot_id))
    }

    async fn set_template_status(
        &self,
        bot_id: &str,
        name: &str,
        language: &str,
        status: &str,
    ) -> Result<bool, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(version) = self.template_pointer(bot_id).await?.version else {
                return Ok(false);
            };
            let updated = self
                .update_if(
                    Key::template(bot_id, version, name, language),
                    "SET #status = :status",
                    "attribute_exists(pk)",
                    names(&[("#status", STATUS)]),
                    Attrs::from([(":status".to_owned(), s(status))]),
                )
                .await?;
            // Written into a set that a sync has just replaced: write it into the new one too.
            if self.template_pointer(bot_id).await?.version == Some(version) {
                return Ok(updated);
            }
        }
        Err(changing("status update", bot_id))
    }
}

impl DynamoDbStore {
    /// The templates of one version, ordered by name then language.
    async fn read_version(
        &self,
        bot_id: &str,
        version: i64,
    ) -> Result<Vec<MessageTemplate>, StoreError> {
        let mut templates = self
            .version_items(bot_id, version)
            .await?
            .iter()
            .map(MessageTemplate::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        templates.sort_by(|a, b| (&a.name, &a.language).cmp(&(&b.name, &b.language)));
        Ok(templates)
    }
}
