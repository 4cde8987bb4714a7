//! A district's saved message templates.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | template | `D#d#TEMPLATES` | `template-id` |
//!
//! One partition per district: a district keeps a few dozen templates, read
//! together (the SIS events of a batch look up their types' at once).

use std::sync::Arc;

use super::StoreError;
use super::items::{get_record, query_all, record_from, record_item};
use crate::domain::{DistrictId, MessageTemplate};
use crate::ports::table::{Condition, Key, Query, Table, TableError};

fn templates_pk(district: &DistrictId) -> String {
    format!("D#{district}#TEMPLATES")
}

/// The district's templates.
#[derive(Clone)]
pub struct TemplateStore {
    table: Arc<dyn Table>,
}

impl TemplateStore {
    /// The store over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Saves a new template or, with `replace`, one that exists; `false`
    /// when the id is taken (new) or unknown (replace).
    pub async fn save(
        &self,
        district: &DistrictId,
        template: &MessageTemplate,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let item = record_item(templates_pk(district), template.id.clone(), template)?;
        let condition = if replace { Condition::Exists } else { Condition::NotExists };
        match self.table.put(item, condition).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// One template.
    pub async fn get(&self, district: &DistrictId, id: &str) -> Result<Option<MessageTemplate>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(templates_pk(district), id)).await
    }

    /// Every template of the district, by id.
    pub async fn all(&self, district: &DistrictId) -> Result<Vec<MessageTemplate>, StoreError> {
        query_all(self.table.as_ref(), Query::partition(templates_pk(district)))
            .await?
            .into_iter()
            .map(record_from)
            .collect()
    }

    /// Removes a template; `false` when there was none.
    pub async fn delete(&self, district: &DistrictId, id: &str) -> Result<bool, StoreError> {
        match self.table.delete(&Key::new(templates_pk(district), id), Condition::Exists).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}
