//! The `Table` contract suite, unchanged, against the embedded table (in
//! memory and on disk) and against DynamoDB on moto.

use schoolbell::adapters::aws::{DynamoTable, create_table};
use schoolbell::adapters::local::EmbeddedTable;
use schoolbell::ports::table::{Condition, Key, Table};
use schoolbell_tests::contract::table;
use schoolbell_tests::moto;

fn embedded() -> EmbeddedTable {
    EmbeddedTable::in_memory().unwrap_or_else(|e| panic!("in-memory table: {e}"))
}

async fn dynamodb(test: &str) -> Option<DynamoTable> {
    let config = moto::config(test)?;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let name = moto::unique_name("contract");
    create_table(&client, &name).await.unwrap_or_else(|e| panic!("create table on moto: {e}"));
    Some(DynamoTable::new(client, name))
}

macro_rules! contract {
    ($($case:ident),+ $(,)?) => {
        mod embedded_table {
            $(
                #[tokio::test]
                async fn $case() {
                    super::table::$case(&super::embedded()).await;
                }
            )+
        }

        mod dynamodb_on_moto {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(table) = super::dynamodb(stringify!($case)).await else { return };
                    super::table::$case(&table).await;
                }
            )+
        }
    };
}

contract!(
    a_put_item_reads_back_unchanged,
    a_second_put_replaces_the_item,
    not_exists_lets_only_the_first_put_through,
    exists_and_attribute_equals_guard_updates,
    deletes_honour_conditions,
    sort_key_conditions_select_exactly_their_items,
    small_pages_return_every_item_exactly_once,
    many_queries_answer_each_first_page_in_order,
    many_gets_answer_each_key_in_order,
    indexes_are_sparse_and_follow_updates,
    index_pages_return_every_item_exactly_once,
    a_cancelled_transaction_leaves_nothing_behind,
    malformed_transactions_are_refused,
    batches_larger_than_a_chunk_write_everything,
    expired_items_are_invisible,
    partitions_are_isolated_even_by_cursor,
    items_without_proper_keys_are_refused,
    requests_and_items_are_counted,
    items_read_as_text_are_the_items_read_as_maps,
    items_put_as_text_are_the_items_their_maps_would_be,
    a_last_write_follows_its_batch,
);

#[tokio::test]
async fn the_embedded_table_keeps_its_data_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    {
        let table = EmbeddedTable::open(&path).unwrap();
        let item = table::item(serde_json::json!({"pk": "keep", "sk": "1", "gsi1pk": "K", "gsi1sk": "1"}));
        table.put(item, Condition::None).await.unwrap();
    }
    let reopened = EmbeddedTable::open(&path).unwrap();
    assert!(reopened.get(&Key::new("keep", "1")).await.ok().flatten().is_some());
    table::small_pages_return_every_item_exactly_once(&reopened).await;
}
