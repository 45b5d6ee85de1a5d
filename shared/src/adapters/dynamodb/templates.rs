//! [`TemplateStore`] on DynamoDB: one item per template, written only when the template changes.
//!
//! The pointer item (`BOT#{botId}` / `TEMPLATES`) names the committed sync `version`. A template
//! item holds `template` (what readers saw before) and, when a sync changed it, `pending` (the
//! new template, or `REMOVED`) under that sync's `pendingVersion`; readers show `pending` only
//! when `pendingVersion` is the committed version. A sync:
//! 1. reads the pointer and every template item, and compares what readers see with Meta's set;
//! 2. with nothing changed, sets the sync time only (one write) and is done;
//! 3. otherwise takes the lease (`ADD nextVersion`, `leaseHolder`, `leaseUntil`: one writer per
//!    bot; a concurrent sync waits for it and then compares with its result), writes each
//!    changed template's `pending` (conditional on the item's `rev`), commits by moving the
//!    pointer to its version (only while it holds the lease), then folds each `pending` into
//!    `template` (or deletes a removed one).
//!
//! So a reader sees the old set or the new one, never a mix; a sync that dies before its commit
//! leaves only `pending` values no reader ever shows (its version is never committed, and the
//! next sync overwrites them), and one that dies after it leaves folds the next sync does.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::{StreamExt, TryStreamExt};

use super::items::{
    Attrs, BOT_ID, ENTITY, ItemReader, NEXT_VERSION, Pending, REMOVED, SYNCED_AT, TemplatePointer,
    TemplateRecord, VERSION, n, s, template_json,
};
use super::keys::{self, Key};
use super::{DynamoDbStore, unavailable};
use crate::domain::{
    MessageTemplate, TemplateChange, TemplateDiff, TemplateKey, TemplatePage, TemplateQuery,
    TemplateRef, TemplateSet, TemplateSync, TemplateSyncCounts, TemplateSyncState, diff_templates,
};
use crate::ports::{StoreError, TemplateStore};

/// How long a sync may hold the lease; one that dies holding it blocks syncs for this long.
const LEASE_SECONDS: i64 = 300;
/// Template writes in flight at once during a sync.
const WRITES_IN_FLIGHT: usize = 16;
/// How often a sync looks again while another sync of the bot holds the lease (about 25 s).
const SYNC_ATTEMPTS: usize = 100;
/// How often a read, or a webhook's update, starts again when a sync committed under it.
const READ_ATTEMPTS: usize = 5;
/// Items read per Query page of a listing.
const LISTING_PAGE: i32 = 200;

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

/// `version = :version`, or no version yet: the pointer is still the one read.
fn version_condition(pointer: &TemplatePointer, values: &mut Attrs) -> &'static str {
    match pointer.version {
        Some(version) => {
            values.insert(":version".to_owned(), n(version));
            "#version = :version"
        }
        None => "attribute_not_exists(#version)",
    }
}

/// One write a sync makes to a template item.
enum TemplateWrite {
    /// Sets `pending` for the sync's version (a changed, added or removed template).
    Pending {
        key: TemplateKey,
        /// The sync's version.
        version: i64,
        /// The `rev` of the item as read; `None` when there was no item.
        rev: Option<i64>,
        /// What readers see now.
        visible: Option<Box<MessageTemplate>>,
        pending: Option<Box<MessageTemplate>>,
    },
    /// Moves a committed `pending` into `template`, or deletes the item when it was removed.
    Fold {
        key: TemplateKey,
        version: i64,
        removed: bool,
    },
}

impl DynamoDbStore {
    async fn template_pointer(&self, bot_id: &str) -> Result<TemplatePointer, StoreError> {
        Ok(match self.get_item(Key::template_set(bot_id)).await? {
            Some(item) => TemplatePointer::try_from(&item)?,
            None => TemplatePointer::default(),
        })
    }

    async fn template_records(&self, bot_id: &str) -> Result<Vec<TemplateRecord>, StoreError> {
        self.partition(keys::template_partition(bot_id))
            .await?
            .iter()
            .map(TemplateRecord::try_from)
            .collect()
    }

    async fn template_record(
        &self,
        bot_id: &str,
        key: &TemplateKey,
    ) -> Result<Option<TemplateRecord>, StoreError> {
        self.get_item(Key::template(bot_id, key))
            .await?
            .as_ref()
            .map(TemplateRecord::try_from)
            .transpose()
    }

    /// The whole set as readers of the pointer's version see it, and the items it came from.
    async fn template_snapshot(
        &self,
        bot_id: &str,
    ) -> Result<(TemplatePointer, Vec<TemplateRecord>), StoreError> {
        for _ in 0..READ_ATTEMPTS {
            let pointer = self.template_pointer(bot_id).await?;
            let records = self.template_records(bot_id).await?;
            // A sync folds only after its commit: an unmoved pointer means a whole set was read.
            if self.template_pointer(bot_id).await?.version == pointer.version {
                return Ok((pointer, records));
            }
        }
        Err(changing("read", bot_id))
    }

    /// Sets the sync time of a sync that changed nothing, provided no sync committed or holds
    /// the lease meanwhile.
    async fn stamp_template_sync(
        &self,
        bot_id: &str,
        pointer: &TemplatePointer,
        sync: &TemplateSync,
    ) -> Result<bool, StoreError> {
        let mut values = Attrs::from([
            (":at".to_owned(), n(sync.synced_at)),
            (":entity".to_owned(), s("templateSet")),
            (":bot".to_owned(), s(bot_id)),
        ]);
        let version = version_condition(pointer, &mut values);
        let (update, limit_names) = limit_update(sync, &mut values);
        let mut attribute_names = names(&[
            ("#version", VERSION),
            ("#syncedAt", SYNCED_AT),
            ("#entity", ENTITY),
            ("#bot", BOT_ID),
            ("#leaseUntil", "leaseUntil"),
        ]);
        attribute_names.extend(limit_names);
        self.update_if(
            Key::template_set(bot_id),
            format!("SET #syncedAt = :at, #entity = :entity, #bot = :bot{update}"),
            format!("{version} AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :at)"),
            attribute_names,
            values,
        )
        .await
    }

    /// Takes the bot's sync lease if it is free and the pointer is still the one read; returns
    /// the version this sync writes under (higher than any before).
    async fn take_template_lease(
        &self,
        bot_id: &str,
        pointer: &TemplatePointer,
        holder: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut values = Attrs::from([
            (":one".to_owned(), n(1)),
            (":holder".to_owned(), s(holder)),
            (":until".to_owned(), n(now + LEASE_SECONDS)),
            (":now".to_owned(), n(now)),
            (":entity".to_owned(), s("templateSet")),
            (":bot".to_owned(), s(bot_id)),
        ]);
        let version = version_condition(pointer, &mut values);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::template_set(bot_id).into_attrs()))
            .update_expression(
                "ADD #next :one SET #holder = :holder, #leaseUntil = :until, \
                 #entity = :entity, #bot = :bot",
            )
            .condition_expression(format!(
                "{version} AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :now)"
            ))
            .set_expression_attribute_names(Some(names(&[
                ("#next", NEXT_VERSION),
                ("#holder", "leaseHolder"),
                ("#leaseUntil", "leaseUntil"),
                ("#entity", ENTITY),
                ("#bot", BOT_ID),
                ("#version", VERSION),
            ])))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => ItemReader::new(&out.attributes.unwrap_or_default())
                .n(NEXT_VERSION)
                .map(Some),
            Err(err)
                if aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err)
                    == Some("ConditionalCheckFailedException") =>
            {
                Ok(None)
            }
            Err(err) => Err(unavailable("UpdateItem", err)),
        }
    }

    /// Makes `version` the one readers see and frees the lease, if this sync still holds it.
    async fn commit_template_sync(
        &self,
        bot_id: &str,
        holder: &str,
        version: i64,
        sync: &TemplateSync,
    ) -> Result<bool, StoreError> {
        let mut values = Attrs::from([
            (":holder".to_owned(), s(holder)),
            (":version".to_owned(), n(version)),
            (":at".to_owned(), n(sync.synced_at)),
        ]);
        let (update, limit_names) = limit_update(sync, &mut values);
        let mut attribute_names = names(&[
            ("#holder", "leaseHolder"),
            ("#leaseUntil", "leaseUntil"),
            ("#version", VERSION),
            ("#syncedAt", SYNCED_AT),
        ]);
        attribute_names.extend(limit_names);
        self.update_if(
            Key::template_set(bot_id),
            format!("SET #version = :version, #syncedAt = :at{update} REMOVE #holder, #leaseUntil"),
            "#holder = :holder",
            attribute_names,
            values,
        )
        .await
    }

    /// Frees the lease after a failed attempt, so that the next one need not wait for it.
    async fn release_template_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError> {
        self.update_if(
            Key::template_set(bot_id),
            "REMOVE #holder, #leaseUntil",
            "#holder = :holder",
            names(&[("#holder", "leaseHolder"), ("#leaseUntil", "leaseUntil")]),
            Attrs::from([(":holder".to_owned(), s(holder))]),
        )
        .await?;
        Ok(())
    }

    /// Runs the writes, a few at a time; `Ok(false)` when one found its item changed.
    async fn write_templates(
        &self,
        bot_id: &str,
        writes: Vec<TemplateWrite>,
    ) -> Result<bool, StoreError> {
        let writes = writes
            .into_iter()
            .map(|write| self.write_template(bot_id, write));
        let held: Vec<bool> = futures::stream::iter(writes)
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(held.into_iter().all(|held| held))
    }

    async fn write_template(&self, bot_id: &str, write: TemplateWrite) -> Result<bool, StoreError> {
        match write {
            TemplateWrite::Fold {
                key,
                version,
                removed,
            } => {
                let condition = "#pendingVersion = :version";
                let names = names(&[
                    ("#pendingVersion", "pendingVersion"),
                    ("#pending", "pending"),
                    ("#template", "template"),
                    ("#rev", "rev"),
                ]);
                let values = Attrs::from([(":version".to_owned(), n(version))]);
                // A fold that finds its condition gone was done by someone else: fine.
                if removed {
                    let mut names = names;
                    names.retain(|k, _| k == "#pendingVersion");
                    self.delete_if(Key::template(bot_id, &key), condition, names, values)
                        .await?;
                } else {
                    let mut values = values;
                    values.insert(":one".to_owned(), n(1));
                    self.update_if(
                        Key::template(bot_id, &key),
                        "SET #template = #pending REMOVE #pending, #pendingVersion ADD #rev :one",
                        condition,
                        names,
                        values,
                    )
                    .await?;
                }
                Ok(true)
            }
            TemplateWrite::Pending {
                key,
                version,
                rev,
                visible,
                pending,
            } => {
                let mut values = Attrs::from([
                    (":version".to_owned(), n(version)),
                    (":one".to_owned(), n(1)),
                    (":bot".to_owned(), s(bot_id)),
                    (":entity".to_owned(), s("template")),
                    (":name".to_owned(), s(&key.name)),
                    (":language".to_owned(), s(&key.language)),
                    (
                        ":pending".to_owned(),
                        s(pending
                            .as_ref()
                            .map_or_else(|| REMOVED.to_owned(), |t| template_json(t))),
                    ),
                ]);
                let mut set = vec![
                    "#pending = :pending",
                    "#pendingVersion = :version",
                    "#bot = :bot",
                    "#entity = :entity",
                    "#name = :name",
                    "#language = :language",
                ];
                let mut remove = Vec::new();
                match &visible {
                    Some(template) => {
                        values.insert(":template".to_owned(), s(template_json(template)));
                        set.push("#template = :template");
                    }
                    None => remove.push("#template"),
                }
                if let Some(id) = pending.as_ref().or(visible.as_ref()).map(|t| t.id.as_str()) {
                    values.insert(":templateId".to_owned(), s(id));
                    set.push("#templateId = :templateId");
                }
                let condition = match rev {
                    Some(rev) => {
                        values.insert(":rev".to_owned(), n(rev));
                        "#rev = :rev"
                    }
                    None => "attribute_not_exists(#rev)",
                };
                let mut update = format!("SET {} ADD #rev :one", set.join(", "));
                if !remove.is_empty() {
                    update.push_str(&format!(" REMOVE {}", remove.join(", ")));
                }
                self.update_if(
                    Key::template(bot_id, &key),
                    update,
                    condition,
                    names(&[
                        ("#pending", "pending"),
                        ("#pendingVersion", "pendingVersion"),
                        ("#bot", BOT_ID),
                        ("#entity", ENTITY),
                        ("#name", "name"),
                        ("#language", "language"),
                        ("#template", "template"),
                        ("#templateId", "templateId"),
                        ("#rev", "rev"),
                    ]),
                    values,
                )
                .await
            }
        }
    }

    /// The record a webhook means: by Meta's id when given and found, else by name and language.
    async fn find_template_record(
        &self,
        bot_id: &str,
        target: &TemplateRef,
    ) -> Result<Option<TemplateRecord>, StoreError> {
        let by_key = self.template_record(bot_id, &target.key).await?;
        let Some(id) = target.id.as_deref() else {
            return Ok(by_key);
        };
        if by_key
            .as_ref()
            .is_some_and(|r| r.template_id.as_deref() == Some(id))
        {
            return Ok(by_key);
        }
        // Renamed or re-languaged since (rare): look the id up in the bot's templates.
        let by_id = self
            .template_records(bot_id)
            .await?
            .into_iter()
            .find(|r| r.template_id.as_deref() == Some(id));
        Ok(by_id.or(by_key))
    }
}

/// `, #limit = :limit` when Meta gave the account's template limit.
fn limit_update(sync: &TemplateSync, values: &mut Attrs) -> (String, HashMap<String, String>) {
    match sync.template_limit {
        Some(limit) => {
            values.insert(":limit".to_owned(), AttributeValue::N(limit.to_string()));
            (
                ", #limit = :limit".to_owned(),
                names(&[("#limit", "templateLimit")]),
            )
        }
        None => (String::new(), HashMap::new()),
    }
}

/// The folds a committed-but-unfolded sync left (it died after its commit).
fn leftover_folds(records: &[TemplateRecord], version: Option<i64>) -> Vec<TemplateWrite> {
    records
        .iter()
        .filter(|r| {
            r.pending.is_some() && r.pending_version.is_some() && r.pending_version == version
        })
        .map(|r| TemplateWrite::Fold {
            key: r.key.clone(),
            version: r.pending_version.unwrap_or_default(),
            removed: matches!(r.pending, Some(Pending::Removed)),
        })
        .collect()
}

#[async_trait]
impl TemplateStore for DynamoDbStore {
    async fn replace_templates(
        &self,
        bot_id: &str,
        sync: &TemplateSync,
    ) -> Result<TemplateSyncCounts, StoreError> {
        // One per (name, language), the last of duplicates winning.
        let new: Vec<MessageTemplate> = sync
            .templates
            .iter()
            .map(|t| (t.key(), t))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .cloned()
            .collect();
        let holder = hex::encode(rand::random::<[u8; 16]>());
        let mut pause = std::time::Duration::from_millis(25);
        for _ in 0..SYNC_ATTEMPTS {
            let (pointer, records) = self.template_snapshot(bot_id).await?;
            if pointer
                .lease_until
                .is_some_and(|until| until >= sync.synced_at)
            {
                // Another sync is writing: compare with its result once it is done.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(500));
                continue;
            }
            let by_key: HashMap<&TemplateKey, &TemplateRecord> =
                records.iter().map(|r| (&r.key, r)).collect();
            let current: Vec<MessageTemplate> = records
                .iter()
                .filter_map(|r| r.visible(pointer.version).cloned())
                .collect();
            let (changes, counts) = diff_templates(&current, &new);
            if changes.is_empty() {
                if !self.stamp_template_sync(bot_id, &pointer, sync).await? {
                    continue;
                }
                let folds = leftover_folds(&records, pointer.version);
                self.write_templates(bot_id, folds).await?;
                return Ok(counts);
            }
            let Some(version) = self
                .take_template_lease(bot_id, &pointer, &holder, sync.synced_at)
                .await?
            else {
                continue;
            };
            let mut changed = Vec::with_capacity(changes.len());
            let mut folds_after = Vec::with_capacity(changes.len());
            for change in &changes {
                let (key, pending) = match change {
                    TemplateDiff::Added(t) | TemplateDiff::Updated(t) => {
                        (t.key(), Some(Box::new((*t).clone())))
                    }
                    TemplateDiff::Removed(t) => (t.key(), None),
                };
                folds_after.push(TemplateWrite::Fold {
                    key: key.clone(),
                    version,
                    removed: pending.is_none(),
                });
                let record = by_key.get(&key).copied();
                changed.push(TemplateWrite::Pending {
                    visible: record
                        .and_then(|r| r.visible(pointer.version))
                        .cloned()
                        .map(Box::new),
                    rev: record.map(|r| r.rev),
                    key,
                    version,
                    pending,
                });
            }
            // Unfolded items of the committed version would fall back to their old template
            // once the pointer moves: fold them first (those changed now are rewritten anyway).
            let changed_keys: HashSet<TemplateKey> = changes
                .iter()
                .map(|c| match c {
                    TemplateDiff::Added(t)
                    | TemplateDiff::Updated(t)
                    | TemplateDiff::Removed(t) => t.key(),
                })
                .collect();
            let folds: Vec<TemplateWrite> = leftover_folds(&records, pointer.version)
                .into_iter()
                .filter(|fold| {
                    !matches!(fold, TemplateWrite::Fold { key, .. } if changed_keys.contains(key))
                })
                .collect();
            self.write_templates(bot_id, folds).await?;
            let written = self.write_templates(bot_id, changed).await?;
            if !written
                || !self
                    .commit_template_sync(bot_id, &holder, version, sync)
                    .await?
            {
                // An item changed under this attempt (a webhook), or the lease was lost: what
                // was written stays invisible; start again from what is there now.
                self.release_template_lease(bot_id, &holder).await?;
                continue;
            }
            self.write_templates(bot_id, folds_after).await?;
            return Ok(counts);
        }
        Err(StoreError::Conflict(format!(
            "another template sync of bot {bot_id} is still running; try again in a minute"
        )))
    }

    async fn templates(&self, bot_id: &str) -> Result<TemplateSet, StoreError> {
        let (pointer, records) = self.template_snapshot(bot_id).await?;
        let mut templates: Vec<MessageTemplate> = records
            .iter()
            .filter_map(|r| r.visible(pointer.version).cloned())
            .collect();
        templates.sort_by_key(MessageTemplate::key);
        Ok(TemplateSet {
            templates,
            state: pointer.state(),
        })
    }

    async fn template_page(
        &self,
        bot_id: &str,
        query: &TemplateQuery,
    ) -> Result<TemplatePage, StoreError> {
        let limit = query.limit.max(1);
        for _ in 0..READ_ATTEMPTS {
            let pointer = self.template_pointer(bot_id).await?;
            let mut found: Vec<MessageTemplate> = Vec::new();
            let mut start: Option<HashMap<String, AttributeValue>> = None;
            let after = query
                .after
                .as_ref()
                .map(|after| Key::template(bot_id, after).sk);
            loop {
                let mut request = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .limit(LISTING_PAGE)
                    .set_exclusive_start_key(start.take())
                    .expression_attribute_values(":pk", s(keys::template_partition(bot_id)));
                request = match &after {
                    Some(after) => request
                        .key_condition_expression("pk = :pk AND sk > :after")
                        .expression_attribute_values(":after", s(after)),
                    None => request.key_condition_expression("pk = :pk"),
                };
                let out = request
                    .send()
                    .await
                    .map_err(|err| unavailable("Query", err))?;
                for item in out.items() {
                    let record = TemplateRecord::try_from(item)?;
                    if let Some(template) = record.visible(pointer.version)
                        && query.matches(template)
                    {
                        found.push(template.clone());
                    }
                }
                start = out.last_evaluated_key;
                if found.len() > limit || start.is_none() {
                    break;
                }
            }
            if self.template_pointer(bot_id).await?.version != pointer.version {
                continue;
            }
            let next = (found.len() > limit).then(|| found[limit - 1].key());
            found.truncate(limit);
            return Ok(TemplatePage {
                templates: found,
                next,
                state: pointer.state(),
            });
        }
        Err(changing("listing", bot_id))
    }

    async fn template(
        &self,
        bot_id: &str,
        key: &TemplateKey,
    ) -> Result<Option<MessageTemplate>, StoreError> {
        // One round trip: a fold racing these reads only shows the committed template sooner.
        let (pointer, record) = tokio::try_join!(
            self.template_pointer(bot_id),
            self.template_record(bot_id, key)
        )?;
        Ok(record.and_then(|r| r.visible(pointer.version).cloned()))
    }

    async fn template_sync_state(&self, bot_id: &str) -> Result<TemplateSyncState, StoreError> {
        Ok(self.template_pointer(bot_id).await?.state())
    }

    async fn update_template(
        &self,
        bot_id: &str,
        target: &TemplateRef,
        change: &TemplateChange,
    ) -> Result<bool, StoreError> {
        for _ in 0..READ_ATTEMPTS {
            let (pointer, record) = tokio::try_join!(
                self.template_pointer(bot_id),
                self.find_template_record(bot_id, target)
            )?;
            let Some(record) = record else {
                return Ok(false);
            };
            let Some(visible) = record.visible(pointer.version) else {
                return Ok(false);
            };
            let mut updated = visible.clone();
            updated.apply(change);
            let pending_shown =
                record.pending_version.is_some() && record.pending_version == pointer.version;
            let mut values = Attrs::from([
                (":rev".to_owned(), n(record.rev)),
                (":one".to_owned(), n(1)),
                (":updated".to_owned(), s(template_json(&updated))),
            ]);
            let mut set = vec![if pending_shown {
                "#pending = :updated"
            } else {
                "#template = :updated"
            }];
            // A sync writing now would commit Meta's older view: give it the change too.
            if !pending_shown && let Some(Pending::Template(pending)) = &record.pending {
                let mut pending = (**pending).clone();
                pending.apply(change);
                values.insert(":pendingUpdated".to_owned(), s(template_json(&pending)));
                set.push("#pending = :pendingUpdated");
            }
            let held = self
                .update_if(
                    Key::template(bot_id, &record.key),
                    format!("SET {} ADD #rev :one", set.join(", ")),
                    "#rev = :rev",
                    names(&[
                        ("#pending", "pending"),
                        ("#template", "template"),
                        ("#rev", "rev"),
                    ])
                    .into_iter()
                    .filter(|(placeholder, _)| {
                        placeholder == "#rev"
                            || set.iter().any(|part| part.starts_with(placeholder))
                    })
                    .collect(),
                    values,
                )
                .await?;
            if held {
                return Ok(true);
            }
        }
        Err(changing("update", bot_id))
    }
}
