//! `DynamoTable`: the `Table` port on Amazon DynamoDB.
//!
//! Items convert with `serde_dynamo`. Time-to-live is enforced on every read
//! and condition (DynamoDB's own sweeper deletes expired items hours late).
//! SDK errors become `TableError` in [`classify`] and never leave this file.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, DeleteRequest, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, PutRequest, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, WriteRequest,
};
use serde_json::Value;

use crate::ports::table::{
    BATCH_CHUNK, BatchOp, Condition, Cursor, EXPIRES_AT, Index, Item, Key, PK, Page, Query, SK, SortKey, Table,
    TableCounters, TableError, TableStats, WriteOp, checked_cursor, is_expired, validate_batch, validate_transaction,
};

mod batch_get;

type Attributes = HashMap<String, AttributeValue>;

/// How many times a batch chunk's unprocessed items are sent again.
const BATCH_ATTEMPTS: u32 = 8;

/// The `Table` port over one DynamoDB table (keys `pk`/`sk`, indexes
/// `gsi1` and `gsi2`, TTL attribute `expires_at`; see [`create_table`]).
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table_name: String,
    counters: std::sync::Arc<TableCounters>,
}

impl DynamoTable {
    /// The adapter for an existing table.
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        Self { client, table_name: table_name.into(), counters: std::sync::Arc::default() }
    }
}

/// Maps an SDK error to the port's error. Pure over the error code so the
/// mapping is tested without a network.
pub fn classify(code: Option<&str>, message: &str, transport: bool) -> TableError {
    match code {
        Some("ConditionalCheckFailedException") => TableError::ConditionFailed { operation: None },
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TransactionConflictException"
            | "TransactionInProgressException"
            | "LimitExceededException",
        ) => TableError::Throttled(message.to_string()),
        Some("InternalServerError" | "ServiceUnavailable" | "InternalFailure") => {
            TableError::Unavailable(message.to_string())
        }
        Some("ValidationException" | "ItemCollectionSizeLimitExceededException" | "SerializationException") => {
            TableError::Validation(message.to_string())
        }
        Some(other) => TableError::Unavailable(format!("{other}: {message}")),
        None if transport => TableError::Unavailable(message.to_string()),
        None => TableError::Unavailable(format!("unclassified DynamoDB error: {message}")),
    }
}

fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: &SdkError<E, R>,
) -> TableError {
    let transport =
        matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_));
    let message = error.message().map_or_else(|| error.to_string(), str::to_string);
    classify(error.code(), &message, transport)
}

fn to_attributes(item: &Item) -> Result<Attributes, TableError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(Value::Object(item.clone()))
        .map_err(|e| TableError::Validation(format!("item does not convert: {e}")))
}

fn from_attributes(attributes: Attributes) -> Result<Item, TableError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(attributes).map_err(|e| TableError::Corrupt(e.to_string()))
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A condition expression with exactly the placeholders it uses (DynamoDB
/// refuses unused ones).
#[derive(Debug, Default)]
struct Expression {
    text: Option<String>,
    names: HashMap<String, String>,
    values: Attributes,
}

fn condition_expression(condition: &Condition) -> Result<Expression, TableError> {
    let live = "(attribute_not_exists(#ttl) OR #ttl > :now)";
    let mut expression = Expression::default();
    let text = match condition {
        Condition::None => return Ok(expression),
        Condition::NotExists => "(attribute_not_exists(#pk) OR #ttl <= :now)".to_string(),
        Condition::Exists => format!("attribute_exists(#pk) AND {live}"),
        Condition::AttributeEquals(name, value) => {
            let value = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value)
                .map_err(|e| TableError::Validation(format!("condition value does not convert: {e}")))?;
            expression.names.insert("#c".into(), name.clone());
            expression.values.insert(":c".into(), value);
            format!("#c = :c AND {live}")
        }
    };
    if text.contains("#pk") {
        expression.names.insert("#pk".into(), PK.into());
    }
    expression.names.insert("#ttl".into(), EXPIRES_AT.into());
    expression.values.insert(":now".into(), AttributeValue::N(now().to_string()));
    expression.text = Some(text);
    Ok(expression)
}

fn non_empty<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

/// Builders that take a condition expression with its placeholders.
trait WithCondition: Sized {
    fn with_condition(self, expression: Expression) -> Self;
}

macro_rules! with_condition {
    ($($builder:ty),+ $(,)?) => {
        $(impl WithCondition for $builder {
            fn with_condition(self, expression: Expression) -> Self {
                self.set_condition_expression(expression.text)
                    .set_expression_attribute_names(non_empty(expression.names))
                    .set_expression_attribute_values(non_empty(expression.values))
            }
        })+
    };
}

with_condition!(
    aws_sdk_dynamodb::types::builders::PutBuilder,
    aws_sdk_dynamodb::types::builders::DeleteBuilder,
    aws_sdk_dynamodb::types::builders::ConditionCheckBuilder,
    aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
    aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder,
);

/// A batch's put of `item`.
fn put_request(item: &Item) -> Result<aws_sdk_dynamodb::types::builders::WriteRequestBuilder, TableError> {
    let put = PutRequest::builder().set_item(Some(to_attributes(item)?)).build();
    Ok(WriteRequest::builder().put_request(put.map_err(|e| TableError::Validation(e.to_string()))?))
}

/// A transaction's put of `item`.
fn put_item(
    table: &str,
    item: &Item,
    condition: &Condition,
) -> Result<Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError>, TableError> {
    let expr = condition_expression(condition)?;
    Ok(Put::builder()
        .table_name(table)
        .set_item(Some(to_attributes(item)?))
        .with_condition(expr)
        .build()
        .map(|put| TransactWriteItem::builder().put(put).build()))
}

fn transact_item(table: &str, op: &WriteOp) -> Result<TransactWriteItem, TableError> {
    let built = match op {
        WriteOp::Put { item, condition } => put_item(table, item, condition)?,
        WriteOp::PutText { item, condition } => put_item(table, &item.to_item()?, condition)?,
        WriteOp::Delete { key, condition } => {
            let expr = condition_expression(condition)?;
            Delete::builder()
                .table_name(table)
                .set_key(Some(key_attributes(key)))
                .with_condition(expr)
                .build()
                .map(|delete| TransactWriteItem::builder().delete(delete).build())
        }
        WriteOp::Check { key, condition } => {
            let expr = condition_expression(condition)?;
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_attributes(key)))
                .with_condition(expr)
                .build()
                .map(|check| TransactWriteItem::builder().condition_check(check).build())
        }
    };
    built.map_err(|e| TableError::Validation(e.to_string()))
}

fn key_condition(query: &Query) -> (String, HashMap<String, String>, Attributes) {
    let (pk_name, sk_name) = query.index.key_attributes();
    let mut names = HashMap::from([("#p".to_string(), pk_name.to_string())]);
    let mut values = HashMap::from([(":p".to_string(), AttributeValue::S(query.partition.clone()))]);
    let sort = match &query.sort {
        SortKey::Any => None,
        SortKey::Equals(v) => {
            values.insert(":s".into(), AttributeValue::S(v.clone()));
            Some("#s = :s".to_string())
        }
        SortKey::BeginsWith(prefix) => {
            values.insert(":s".into(), AttributeValue::S(prefix.clone()));
            Some("begins_with(#s, :s)".to_string())
        }
        SortKey::Between(lo, hi) => {
            values.insert(":lo".into(), AttributeValue::S(lo.clone()));
            values.insert(":hi".into(), AttributeValue::S(hi.clone()));
            Some("#s BETWEEN :lo AND :hi".to_string())
        }
    };
    let text = match sort {
        Some(sort) => {
            names.insert("#s".into(), sk_name.to_string());
            format!("#p = :p AND {sort}")
        }
        None => "#p = :p".to_string(),
    };
    (text, names, values)
}

fn cursor_from(last: Attributes) -> Result<Cursor, TableError> {
    let mut keys = Item::new();
    for (name, value) in last {
        match value {
            AttributeValue::S(s) => {
                keys.insert(name, Value::String(s));
            }
            _ => return Err(TableError::Corrupt("LastEvaluatedKey holds a non-string key".into())),
        }
    }
    Ok(Cursor::from_key_attributes(&keys))
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        let item = output.item.map(from_attributes).transpose()?.filter(|item| !is_expired(item, now()));
        self.counters.read(usize::from(item.is_some()));
        Ok(item)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        Key::of(&item)?;
        let expr = condition_expression(&condition)?;
        self.counters.write(1);
        self.client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(to_attributes(&item)?))
            .with_condition(expr)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let expr = condition_expression(&condition)?;
        self.counters.write(1);
        self.client
            .delete_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .with_condition(expr)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        let start = checked_cursor(query.index, &query.partition, query.cursor.as_ref())?.map(|keys| {
            keys.into_iter()
                .filter_map(|(name, value)| value.as_str().map(|s| (name, AttributeValue::S(s.to_string()))))
                .collect::<Attributes>()
        });
        let (text, mut names, mut values) = key_condition(query);
        names.insert("#ttl".into(), EXPIRES_AT.into());
        values.insert(":now".into(), AttributeValue::N(now().to_string()));
        let output = self
            .client
            .query()
            .table_name(&self.table_name)
            .set_index_name(query.index.name().map(str::to_string))
            .key_condition_expression(text)
            .filter_expression("attribute_not_exists(#ttl) OR #ttl > :now")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .set_limit(query.limit.map(|l| l.clamp(1, i32::MAX as u32) as i32))
            .set_exclusive_start_key(start)
            .set_consistent_read((query.index == Index::Primary).then_some(true))
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        let items = output.items.unwrap_or_default().into_iter().map(from_attributes).collect::<Result<Vec<_>, _>>()?;
        self.counters.read(items.len());
        let cursor = output.last_evaluated_key.filter(|k| !k.is_empty()).map(cursor_from).transpose()?;
        Ok(Page { items, cursor })
    }

    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        validate_transaction(&ops)?;
        let items = ops.iter().map(|op| transact_item(&self.table_name, op)).collect::<Result<Vec<_>, _>>()?;
        self.counters.write(ops.len());
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error()
                {
                    let codes: Vec<Option<&str>> =
                        cancelled.cancellation_reasons().iter().map(|reason| reason.code()).collect();
                    if let Some(index) = codes.iter().position(|code| *code == Some("ConditionalCheckFailed")) {
                        return Err(TableError::ConditionFailed { operation: Some(index) });
                    }
                    if codes.iter().any(|code| matches!(code, Some("TransactionConflict" | "ThrottlingError"))) {
                        return Err(TableError::Throttled("transaction conflicted with another write".into()));
                    }
                }
                Err(sdk_error(&error))
            }
        }
    }

    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), TableError> {
        validate_batch(&ops)?;
        for chunk in ops.chunks(BATCH_CHUNK) {
            let mut requests = chunk
                .iter()
                .map(|op| {
                    let request = match op {
                        BatchOp::Put(item) => put_request(item)?,
                        BatchOp::PutText(item) => put_request(&item.to_item()?)?,
                        BatchOp::Delete(key) => WriteRequest::builder().delete_request(
                            DeleteRequest::builder()
                                .set_key(Some(key_attributes(key)))
                                .build()
                                .map_err(|e| TableError::Validation(e.to_string()))?,
                        ),
                    };
                    Ok(request.build())
                })
                .collect::<Result<Vec<_>, TableError>>()?;
            let mut attempt = 0;
            while !requests.is_empty() {
                self.counters.write(requests.len());
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table_name, requests)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&e))?;
                requests =
                    output.unprocessed_items.and_then(|mut left| left.remove(&self.table_name)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                attempt += 1;
                if attempt >= BATCH_ATTEMPTS {
                    return Err(TableError::Throttled(format!(
                        "{} items still unprocessed after {attempt} attempts",
                        requests.len()
                    )));
                }
                tracing::debug!(unprocessed = requests.len(), attempt, "batch write retrying unprocessed items");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    fn stats(&self) -> TableStats {
        self.counters.snapshot()
    }
}

/// Exponential backoff with full jitter: up to 25 ms × 2^attempt, capped at 2 s.
fn backoff(attempt: u32) -> Duration {
    let cap = (25u64 << attempt.min(7)).min(2_000);
    Duration::from_millis(rand::random_range(cap / 2..=cap))
}

/// Creates a table with the key design the store expects (on-demand
/// billing, both indexes projecting everything, TTL on `expires_at`).
/// Production tables come from the SAM template; this serves tests, the
/// emulator and first-time set-up scripts.
pub async fn create_table(client: &Client, table_name: &str) -> Result<(), TableError> {
    let string_attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key =
        |name: &str, key_type: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(key_type).build();
    let invalid = |e: aws_sdk_dynamodb::error::BuildError| TableError::Validation(e.to_string());
    let mut request = client
        .create_table()
        .table_name(table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash).map_err(invalid)?)
        .key_schema(key(SK, KeyType::Range).map_err(invalid)?);
    for name in [PK, SK, "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        request = request.attribute_definitions(string_attribute(name).map_err(invalid)?);
    }
    for index in [Index::Gsi1, Index::Gsi2] {
        let (ipk, isk) = index.key_attributes();
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name().unwrap_or_default())
            .key_schema(key(ipk, KeyType::Hash).map_err(invalid)?)
            .key_schema(key(isk, KeyType::Range).map_err(invalid)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(invalid)?;
        request = request.global_secondary_indexes(gsi);
    }
    request.send().await.map_err(|e| sdk_error(&e))?;
    client
        .update_time_to_live()
        .table_name(table_name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().attribute_name(EXPIRES_AT).enabled(true).build().map_err(invalid)?,
        )
        .send()
        .await
        .map_err(|e| sdk_error(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_error_codes_map_to_retryable_or_final_errors() {
        assert_eq!(
            classify(Some("ConditionalCheckFailedException"), "", false),
            TableError::ConditionFailed { operation: None }
        );
        assert!(classify(Some("ProvisionedThroughputExceededException"), "", false).is_retryable());
        assert!(classify(None, "connection refused", true).is_retryable());
        assert!(!classify(Some("ValidationException"), "bad", false).is_retryable());
    }

    #[test]
    fn conditions_declare_only_the_placeholders_they_use() -> Result<(), TableError> {
        let none = condition_expression(&Condition::None)?;
        assert!(none.text.is_none() && none.names.is_empty() && none.values.is_empty());
        let equals = condition_expression(&Condition::AttributeEquals("version".into(), Value::from(3)))?;
        assert!(!equals.names.contains_key("#pk"));
        assert!(equals.values.contains_key(":c") && equals.values.contains_key(":now"));
        Ok(())
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        assert!(backoff(1) <= Duration::from_millis(50));
        assert!(backoff(30) <= Duration::from_secs(2));
    }
}
