//! `GET /api/whatsapp/templates?status=&name=&language=&category=&limit=&cursor=`: one page of the
//! caller's templates in SPEC §5's shape, with what a sender must fill in for each.

use http::StatusCode;
use intaj_shared::api::{ApiError, json};
use intaj_shared::domain::{MessageTemplate, TemplateKey, TemplateParameters, TemplateQuery};
use intaj_shared::ports::TemplateStore;
use serde::Serialize;
use serde_json::Value;

/// Templates per page unless `limit` says otherwise, and the most `limit` may ask for.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listing<'a> {
    templates: Vec<ListedTemplate<'a>>,
    /// `null` until the first sync.
    synced_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedTemplate<'a> {
    id: &'a str,
    name: &'a str,
    language: &'a str,
    status: &'a str,
    category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_category: Option<&'a str>,
    /// `POSITIONAL` when Meta leaves it out (older templates are positional).
    parameter_format: &'a str,
    /// Meta's components, as Meta gave them.
    components: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality_score: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impending_category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impending_category_at: Option<i64>,
    /// What a send must fill in: the header's, the body's and the buttons' parameters.
    parameters: TemplateParameters,
}

impl<'a> From<&'a MessageTemplate> for ListedTemplate<'a> {
    fn from(t: &'a MessageTemplate) -> Self {
        Self {
            id: &t.id,
            name: &t.name,
            language: &t.language,
            status: &t.status,
            category: &t.category,
            sub_category: t.sub_category.as_deref(),
            parameter_format: t.parameter_format.as_deref().unwrap_or("POSITIONAL"),
            components: serde_json::from_str(&t.components).unwrap_or(Value::Null),
            quality_score: t.quality_score.as_deref(),
            rejected_reason: t.rejected_reason.as_deref(),
            status_reason: t.status_reason.as_deref(),
            impending_category: t.impending_category.as_deref(),
            impending_category_at: t.impending_category_at,
            parameters: t.parameters(),
        }
    }
}

/// The listing's query; a bad `limit` or `cursor` is a 400 naming the fix.
pub(crate) fn parse_query(
    param: impl Fn(&str) -> Option<String>,
) -> Result<TemplateQuery, ApiError> {
    let non_empty = |name: &str| param(name).filter(|value| !value.trim().is_empty());
    let limit = match non_empty("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}, got {text:?}"),
                )
            })?,
    };
    let after = non_empty("cursor")
        .map(|cursor| {
            TemplateKey::from_cursor(cursor.trim()).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "cursor must be a nextCursor from an earlier answer of this listing",
                )
            })
        })
        .transpose()?;
    Ok(TemplateQuery {
        status: non_empty("status"),
        name: non_empty("name"),
        language: non_empty("language"),
        category: non_empty("category"),
        after,
        limit,
    })
}

pub(crate) async fn page(
    store: &dyn TemplateStore,
    bot_id: &str,
    query: &TemplateQuery,
) -> Result<http::Response<String>, ApiError> {
    let page = store.template_page(bot_id, query).await?;
    let listing = Listing {
        templates: page.templates.iter().map(ListedTemplate::from).collect(),
        synced_at: page.state.synced_at,
        template_limit: page.state.template_limit,
        next_cursor: page.next.as_ref().map(TemplateKey::to_cursor),
    };
    Ok(json(StatusCode::OK, &listing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<TemplateQuery, ApiError> {
        parse_query(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn filters_limit_and_cursor_are_read() {
        let cursor = TemplateKey::new("order_update", "en").to_cursor();
        let q = query(&[
            ("status", "APPROVED"),
            ("language", "en_US"),
            ("name", ""),
            ("limit", "20"),
            ("cursor", &cursor),
        ])
        .unwrap();
        assert_eq!(q.status.as_deref(), Some("APPROVED"));
        assert_eq!(q.language.as_deref(), Some("en_US"));
        assert_eq!(q.name, None, "an empty filter is no filter");
        assert_eq!(q.limit, 20);
        assert_eq!(q.after, Some(TemplateKey::new("order_update", "en")));
        assert_eq!(query(&[]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_bad_limit_or_cursor_is_a_clear_400() {
        for limit in ["0", "1001", "ten", "-1"] {
            let error = query(&[("limit", limit)]).unwrap_err();
            assert_eq!((error.status.as_u16(), error.code), (400, "invalid_limit"));
        }
        let error = query(&[("cursor", "not-a-cursor")]).unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (400, "invalid_cursor"));
    }
}
