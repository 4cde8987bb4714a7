//! The `Table` contract: what every backend (embedded redb, DynamoDB) must
//! do alike. Each function is one behaviour; `e2e/table_contract.rs` runs
//! every one against every backend.

use std::collections::BTreeSet;

use schoolbell::ports::table::{
    BatchOp, Condition, Cursor, Index, Item, ItemText, Key, MAX_TRANSACTION_OPS, Query, SortKey, Table, TableError,
    WriteOp,
};
use serde_json::{Value, json};

/// An item from a JSON object literal.
pub fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("items are JSON objects, got {other}"),
    }
}

fn sk_of(item: &Item) -> String {
    item.get("sk").and_then(Value::as_str).unwrap_or_default().to_string()
}

async fn put(table: &dyn Table, value: Value) {
    table.put(item(value), Condition::None).await.unwrap_or_else(|e| panic!("put failed: {e}"));
}

/// Reads every page of a query, checking each page respects the limit.
pub async fn read_all(table: &dyn Table, query: Query) -> Vec<Item> {
    let mut all = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..1000 {
        let page =
            table.query(&query.clone().after(cursor.take())).await.unwrap_or_else(|e| panic!("query failed: {e}"));
        if let Some(limit) = query.limit {
            assert!(page.items.len() <= limit as usize, "a page holds at most the limit");
        }
        all.extend(page.items);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
    panic!("pagination did not end")
}

/// Items of every JSON type come back as they were put.
pub async fn a_put_item_reads_back_unchanged(table: &dyn Table) {
    let stored = item(json!({
        "pk": "D#1#P#a", "sk": "PERSON", "name": "Ana", "count": 3, "ratio": 0.5, "active": true,
        "nothing": null, "tags": ["x", "y"], "nested": {"k": [1, {"deep": "v"}]}, "empty": ""
    }));
    table.put(stored.clone(), Condition::None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table.get(&Key::new("D#1#P#a", "PERSON")).await, Ok(Some(stored)));
    assert_eq!(table.get(&Key::new("D#1#P#a", "OTHER")).await, Ok(None));
    assert_eq!(table.get(&Key::new("D#1#P#b", "PERSON")).await, Ok(None));
}

/// A put replaces the whole item.
pub async fn a_second_put_replaces_the_item(table: &dyn Table) {
    put(table, json!({"pk": "p", "sk": "s", "a": 1, "b": 2})).await;
    put(table, json!({"pk": "p", "sk": "s", "a": 9})).await;
    assert_eq!(table.get(&Key::new("p", "s")).await, Ok(Some(item(json!({"pk": "p", "sk": "s", "a": 9})))));
}

/// Create-once: `NotExists` succeeds once, then fails with no operation index.
pub async fn not_exists_lets_only_the_first_put_through(table: &dyn Table) {
    let first = item(json!({"pk": "idem", "sk": "k1", "by": "first"}));
    assert_eq!(table.put(first.clone(), Condition::NotExists).await, Ok(()));
    let second = table.put(item(json!({"pk": "idem", "sk": "k1", "by": "second"})), Condition::NotExists).await;
    assert_eq!(second, Err(TableError::ConditionFailed { operation: None }));
    assert_eq!(table.get(&Key::new("idem", "k1")).await, Ok(Some(first)));
}

/// `Exists` and `AttributeEquals` guard updates; optimistic versions work.
pub async fn exists_and_attribute_equals_guard_updates(table: &dyn Table) {
    let missing = table.put(item(json!({"pk": "v", "sk": "1", "version": 1})), Condition::Exists).await;
    assert_eq!(missing, Err(TableError::ConditionFailed { operation: None }));
    put(table, json!({"pk": "v", "sk": "1", "version": 1})).await;
    let bump = Condition::AttributeEquals("version".into(), json!(1));
    assert_eq!(table.put(item(json!({"pk": "v", "sk": "1", "version": 2})), bump.clone()).await, Ok(()));
    let stale = table.put(item(json!({"pk": "v", "sk": "1", "version": 2})), bump).await;
    assert_eq!(stale, Err(TableError::ConditionFailed { operation: None }));
    let on_text = Condition::AttributeEquals("version".into(), json!("2"));
    assert!(table.put(item(json!({"pk": "v", "sk": "1", "version": 3})), on_text).await.is_err(), "types must match");
    assert_eq!(
        table.get(&Key::new("v", "1")).await.ok().flatten().and_then(|i| i.get("version").cloned()),
        Some(json!(2))
    );
}

/// Deletes honour conditions; deleting nothing is fine.
pub async fn deletes_honour_conditions(table: &dyn Table) {
    assert_eq!(table.delete(&Key::new("gone", "x"), Condition::None).await, Ok(()));
    assert_eq!(
        table.delete(&Key::new("gone", "x"), Condition::Exists).await,
        Err(TableError::ConditionFailed { operation: None })
    );
    put(table, json!({"pk": "d", "sk": "1", "state": "open"})).await;
    let wrong = Condition::AttributeEquals("state".into(), json!("closed"));
    assert!(table.delete(&Key::new("d", "1"), wrong).await.is_err());
    assert_eq!(
        table.delete(&Key::new("d", "1"), Condition::AttributeEquals("state".into(), json!("open"))).await,
        Ok(())
    );
    assert_eq!(table.get(&Key::new("d", "1")).await, Ok(None));
}

/// Sort-key conditions select exactly their items, in order both ways.
pub async fn sort_key_conditions_select_exactly_their_items(table: &dyn Table) {
    for sk in ["A#1", "A#2", "A#10", "B#1", "B#2", "C"] {
        put(table, json!({"pk": "q", "sk": sk})).await;
    }
    put(table, json!({"pk": "q2", "sk": "A#1"})).await;
    put(table, json!({"pk": "qq", "sk": "A#1"})).await;
    let sks = |items: Vec<Item>| items.iter().map(sk_of).collect::<Vec<_>>();
    assert_eq!(sks(read_all(table, Query::partition("q")).await), ["A#1", "A#10", "A#2", "B#1", "B#2", "C"]);
    assert_eq!(
        sks(read_all(table, Query::partition("q").descending()).await),
        ["C", "B#2", "B#1", "A#2", "A#10", "A#1"]
    );
    assert_eq!(sks(read_all(table, Query::partition("q").sort(SortKey::Equals("A#1".into()))).await), ["A#1"]);
    assert_eq!(
        sks(read_all(table, Query::partition("q").sort(SortKey::BeginsWith("A#".into()))).await),
        ["A#1", "A#10", "A#2"]
    );
    assert_eq!(
        sks(read_all(table, Query::partition("q").sort(SortKey::Between("A#2".into(), "B#1".into()))).await),
        ["A#2", "B#1"]
    );
    assert_eq!(
        sks(read_all(table, Query::partition("q").sort(SortKey::BeginsWith("B".into())).descending()).await),
        ["B#2", "B#1"]
    );
    assert!(read_all(table, Query::partition("none")).await.is_empty());
}

/// Small pages return every item exactly once, ascending and descending.
pub async fn small_pages_return_every_item_exactly_once(table: &dyn Table) {
    let ops = (0..23).map(|i| BatchOp::Put(item(json!({"pk": "page", "sk": format!("item#{i:03}")})))).collect();
    table.batch_write(ops).await.unwrap_or_else(|e| panic!("{e}"));
    for limit in [1, 2, 5, 23, 50] {
        for descending in [false, true] {
            let mut query = Query::partition("page").limit(limit);
            query.descending = descending;
            let seen: Vec<String> = read_all(table, query).await.iter().map(sk_of).collect();
            let mut expected: Vec<String> = (0..23).map(|i| format!("item#{i:03}")).collect();
            if descending {
                expected.reverse();
            }
            assert_eq!(seen, expected, "limit {limit}, descending {descending}");
        }
    }
}

/// Many queries at once answer each query's first page, in order, each
/// counted as one read request; an empty partition is an empty page.
pub async fn many_queries_answer_each_first_page_in_order(table: &dyn Table) {
    for person in ["a", "b"] {
        let ops = (0..3).map(|i| BatchOp::Put(item(json!({"pk": format!("many#{person}"), "sk": format!("i#{i}")}))));
        table.batch_write(ops.collect()).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let queries = [Query::partition("many#b"), Query::partition("many#none"), Query::partition("many#a").limit(2)];
    let before = table.stats().read_requests;
    let pages = table.query_many(&queries).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table.stats().read_requests - before, 3);
    let sks: Vec<Vec<String>> = pages.iter().map(|p| p.items.iter().map(sk_of).collect()).collect();
    assert_eq!(sks, [vec!["i#0", "i#1", "i#2"], vec![], vec!["i#0", "i#1"]]);
    assert!(pages[2].cursor.is_some() && pages[0].cursor.is_none() && pages[1].cursor.is_none());
}

/// Many gets answer each key in order, `None` where there is no live item,
/// a key named twice twice, beyond one DynamoDB request's 100 keys.
pub async fn many_gets_answer_each_key_in_order(table: &dyn Table) {
    let now = chrono::Utc::now().timestamp();
    let ops = (0..150).map(|i| BatchOp::Put(item(json!({"pk": format!("get#{i}"), "sk": "S", "n": i}))));
    table.batch_write(ops.collect()).await.unwrap_or_else(|e| panic!("{e}"));
    put(table, json!({"pk": "get#old", "sk": "S", "expires_at": now - 60})).await;
    let mut keys: Vec<Key> = (0..150).rev().map(|i| Key::new(format!("get#{i}"), "S")).collect();
    keys.insert(3, Key::new("get#none", "S"));
    keys.insert(5, Key::new("get#old", "S"));
    keys.push(Key::new("get#7", "S"));
    let items = table.get_many(&keys).await.unwrap_or_else(|e| panic!("{e}"));
    let found: Vec<Option<i64>> = items.iter().map(|i| i.as_ref().and_then(|i| i["n"].as_i64())).collect();
    let mut expected: Vec<Option<i64>> = (0..150).rev().map(Some).collect();
    expected.insert(3, None);
    expected.insert(5, None);
    expected.push(Some(7));
    assert_eq!(found, expected);
    assert!(table.get_many(&[]).await.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

/// Index queries find items by their index keys; the index is sparse and
/// follows updates.
pub async fn indexes_are_sparse_and_follow_updates(table: &dyn Table) {
    put(table, json!({"pk": "P#1", "sk": "CP#cell", "gsi1pk": "PHONE#+1617", "gsi1sk": "P#1"})).await;
    put(table, json!({"pk": "P#2", "sk": "CP#cell", "gsi1pk": "PHONE#+1617", "gsi1sk": "P#2", "gsi2pk": "S#1", "gsi2sk": "G#05"})).await;
    put(table, json!({"pk": "P#3", "sk": "CP#cell"})).await;
    let by_phone = read_all(table, Query::on(Index::Gsi1, "PHONE#+1617")).await;
    assert_eq!(by_phone.iter().map(|i| i["pk"].clone()).collect::<Vec<_>>(), [json!("P#1"), json!("P#2")]);
    assert_eq!(read_all(table, Query::on(Index::Gsi2, "S#1").sort(SortKey::BeginsWith("G#".into()))).await.len(), 1);

    put(table, json!({"pk": "P#1", "sk": "CP#cell", "gsi1pk": "PHONE#+1508", "gsi1sk": "P#1"})).await;
    assert_eq!(read_all(table, Query::on(Index::Gsi1, "PHONE#+1617")).await.len(), 1, "the old index entry is gone");
    assert_eq!(read_all(table, Query::on(Index::Gsi1, "PHONE#+1508")).await.len(), 1);
    table.delete(&Key::new("P#2", "CP#cell"), Condition::None).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        read_all(table, Query::on(Index::Gsi1, "PHONE#+1617")).await.is_empty(),
        "deleting removes the index entry"
    );

    put(table, json!({"pk": "P#1", "sk": "CP#cell", "gsi1pk": "PHONE#+1508", "gsi1sk": "P#1", "v": 2})).await;
    let same = read_all(table, Query::on(Index::Gsi1, "PHONE#+1508")).await;
    assert_eq!(same.iter().map(|i| i["v"].clone()).collect::<Vec<_>>(), [json!(2)], "an unchanged entry, the new item");
    put(table, json!({"pk": "P#1", "sk": "CP#cell"})).await;
    assert!(read_all(table, Query::on(Index::Gsi1, "PHONE#+1508")).await.is_empty(), "an update leaves the index");
    put(table, json!({"pk": "P#3", "sk": "CP#cell", "gsi2pk": "S#1", "gsi2sk": "G#07"})).await;
    assert_eq!(read_all(table, Query::on(Index::Gsi2, "S#1")).await.len(), 1, "an update joins an index");
}

/// Index pagination with small pages returns every item exactly once, even
/// when many items share one index sort key.
pub async fn index_pages_return_every_item_exactly_once(table: &dyn Table) {
    let ops = (0..12)
        .map(|i| {
            BatchOp::Put(item(
                json!({"pk": format!("P#{i:02}"), "sk": "X", "gsi2pk": "S#9", "gsi2sk": format!("G#{}", i % 3)}),
            ))
        })
        .collect();
    table.batch_write(ops).await.unwrap_or_else(|e| panic!("{e}"));
    let seen = read_all(table, Query::on(Index::Gsi2, "S#9").limit(5)).await;
    let keys: BTreeSet<String> = seen.iter().map(|i| i["pk"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!((seen.len(), keys.len()), (12, 12));
    let grade_one = read_all(table, Query::on(Index::Gsi2, "S#9").sort(SortKey::Equals("G#1".into())).limit(2)).await;
    assert_eq!(grade_one.len(), 4);
}

/// A transaction writes everything, or nothing and names the failed operation.
pub async fn a_cancelled_transaction_leaves_nothing_behind(table: &dyn Table) {
    put(table, json!({"pk": "acct", "sk": "1", "balance": 5})).await;
    put(table, json!({"pk": "old", "sk": "1"})).await;
    let ops = vec![
        WriteOp::Put { item: item(json!({"pk": "new", "sk": "1"})), condition: Condition::NotExists },
        WriteOp::Delete { key: Key::new("old", "1"), condition: Condition::Exists },
        WriteOp::Check {
            key: Key::new("acct", "1"),
            condition: Condition::AttributeEquals("balance".into(), json!(6)),
        },
    ];
    assert_eq!(table.transact_write(ops).await, Err(TableError::ConditionFailed { operation: Some(2) }));
    assert_eq!(table.get(&Key::new("new", "1")).await, Ok(None), "the put did not happen");
    assert!(table.get(&Key::new("old", "1")).await.ok().flatten().is_some(), "the delete did not happen");

    let ops = vec![
        WriteOp::Put { item: item(json!({"pk": "new", "sk": "1"})), condition: Condition::NotExists },
        WriteOp::Delete { key: Key::new("old", "1"), condition: Condition::Exists },
        WriteOp::Check {
            key: Key::new("acct", "1"),
            condition: Condition::AttributeEquals("balance".into(), json!(5)),
        },
    ];
    assert_eq!(table.transact_write(ops).await, Ok(()));
    assert!(table.get(&Key::new("new", "1")).await.ok().flatten().is_some());
    assert_eq!(table.get(&Key::new("old", "1")).await, Ok(None));
    let again = vec![WriteOp::Put { item: item(json!({"pk": "new", "sk": "1"})), condition: Condition::NotExists }];
    assert_eq!(table.transact_write(again).await, Err(TableError::ConditionFailed { operation: Some(0) }));
}

/// Oversized, empty and self-overlapping transactions are refused up front.
pub async fn malformed_transactions_are_refused(table: &dyn Table) {
    let too_many = (0..=MAX_TRANSACTION_OPS)
        .map(|i| WriteOp::Put { item: item(json!({"pk": "t", "sk": format!("{i}")})), condition: Condition::None })
        .collect();
    assert!(matches!(table.transact_write(too_many).await, Err(TableError::Validation(_))));
    assert!(matches!(table.transact_write(vec![]).await, Err(TableError::Validation(_))));
    let twice = vec![
        WriteOp::Put { item: item(json!({"pk": "t", "sk": "1"})), condition: Condition::None },
        WriteOp::Delete { key: Key::new("t", "1"), condition: Condition::None },
    ];
    assert!(matches!(table.transact_write(twice).await, Err(TableError::Validation(_))));
    assert!(read_all(table, Query::partition("t")).await.is_empty());
    let hundred = (0..MAX_TRANSACTION_OPS)
        .map(|i| WriteOp::Put {
            item: item(json!({"pk": "t", "sk": format!("{i:03}")})),
            condition: Condition::NotExists,
        })
        .collect();
    assert_eq!(table.transact_write(hundred).await, Ok(()));
    assert_eq!(read_all(table, Query::partition("t")).await.len(), MAX_TRANSACTION_OPS);
}

/// Batches larger than one chunk put and delete everything.
pub async fn batches_larger_than_a_chunk_write_everything(table: &dyn Table) {
    let puts = (0..60)
        .map(|i| {
            BatchOp::Put(item(json!({"pk": "b", "sk": format!("{i:02}"), "gsi1pk": "B", "gsi1sk": format!("{i:02}")})))
        })
        .collect();
    table.batch_write(puts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_all(table, Query::partition("b")).await.len(), 60);
    let deletes = (0..60).filter(|i| i % 2 == 0).map(|i| BatchOp::Delete(Key::new("b", format!("{i:02}")))).collect();
    table.batch_write(deletes).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_all(table, Query::partition("b")).await.len(), 30);
    assert_eq!(read_all(table, Query::on(Index::Gsi1, "B")).await.len(), 30);
    let duplicate = vec![BatchOp::Delete(Key::new("b", "01")), BatchOp::Delete(Key::new("b", "01"))];
    assert!(matches!(table.batch_write(duplicate).await, Err(TableError::Validation(_))));
}

/// Expired items are invisible to reads and absent for conditions.
pub async fn expired_items_are_invisible(table: &dyn Table) {
    let now = chrono::Utc::now().timestamp();
    put(table, json!({"pk": "ttl", "sk": "old", "expires_at": now - 60, "gsi1pk": "TTL", "gsi1sk": "old"})).await;
    put(table, json!({"pk": "ttl", "sk": "new", "expires_at": now + 3600, "gsi1pk": "TTL", "gsi1sk": "new"})).await;
    assert_eq!(table.get(&Key::new("ttl", "old")).await, Ok(None));
    assert!(table.get(&Key::new("ttl", "new")).await.ok().flatten().is_some());
    assert_eq!(read_all(table, Query::partition("ttl")).await.len(), 1);
    assert_eq!(read_all(table, Query::on(Index::Gsi1, "TTL")).await.len(), 1);
    let reuse = item(json!({"pk": "ttl", "sk": "old", "expires_at": now + 3600}));
    assert_eq!(table.put(reuse, Condition::NotExists).await, Ok(()), "an expired idempotency key can be taken again");
    assert_eq!(table.put(item(json!({"pk": "ttl2", "sk": "x", "expires_at": now - 5})), Condition::None).await, Ok(()));
    assert_eq!(
        table.delete(&Key::new("ttl2", "x"), Condition::Exists).await,
        Err(TableError::ConditionFailed { operation: None }),
        "an expired item does not exist"
    );
}

/// A partition never leaks into another whose key it prefixes, and a cursor
/// of one partition cannot page another (tenancy rests on this).
pub async fn partitions_are_isolated_even_by_cursor(table: &dyn Table) {
    put(table, json!({"pk": "D#a", "sk": "1"})).await;
    put(table, json!({"pk": "D#a", "sk": "2"})).await;
    put(table, json!({"pk": "D#ab", "sk": "1"})).await;
    assert_eq!(read_all(table, Query::partition("D#a")).await.len(), 2);
    let page = table.query(&Query::partition("D#a").limit(1)).await.unwrap_or_else(|e| panic!("{e}"));
    let cursor = page.cursor.unwrap_or_else(|| panic!("a page of 1 out of 2 has a cursor"));
    let forged = table.query(&Query::partition("D#ab").after(Some(cursor))).await;
    assert!(matches!(forged, Err(TableError::Validation(_))), "got {forged:?}");
    let garbage = table.query(&Query::partition("D#a").after(Some(Cursor::from_token("not-a-cursor")))).await;
    assert!(matches!(garbage, Err(TableError::Validation(_))));
}

/// Keys must be non-empty strings.
pub async fn items_without_proper_keys_are_refused(table: &dyn Table) {
    for bad in [json!({"pk": "only"}), json!({"sk": "only"}), json!({"pk": "", "sk": "x"}), json!({"pk": 1, "sk": "x"})]
    {
        assert!(matches!(table.put(item(bad.clone()), Condition::None).await, Err(TableError::Validation(_))), "{bad}");
    }
}

/// Every adapter counts requests and items for cost reports.
pub async fn requests_and_items_are_counted(table: &dyn Table) {
    let before = table.stats();
    put(table, json!({"pk": "c", "sk": "1"})).await;
    put(table, json!({"pk": "c", "sk": "2"})).await;
    let _ = table.get(&Key::new("c", "1")).await;
    let _ = table.query(&Query::partition("c")).await;
    let after = table.stats();
    assert_eq!(after.write_requests - before.write_requests, 2);
    assert_eq!(after.items_written - before.items_written, 2);
    assert_eq!(after.read_requests - before.read_requests, 2);
    assert_eq!(after.items_read - before.items_read, 3);
}

/// Reading items as their text gives the same items, pages and cursors as
/// reading them as maps: on the base table and an index, with expired
/// items left out, and a text cursor pages a map query and back.
pub async fn items_read_as_text_are_the_items_read_as_maps(table: &dyn Table) {
    let now = chrono::Utc::now().timestamp();
    for n in 0..7 {
        put(
            table,
            json!({"pk": "txt", "sk": format!("{n:02}"), "note": "quote \" é", "n": n,
            "gsi1pk": "TXT", "gsi1sk": format!("{}", n % 2)}),
        )
        .await;
    }
    put(table, json!({"pk": "txt", "sk": "03x", "expires_at": now - 60, "gsi1pk": "TXT", "gsi1sk": "0"})).await;
    put(table, json!({"pk": "txt", "sk": "04x", "nested": {"expires_at": now - 60}})).await;
    let parse = |text: &[u8]| serde_json::from_slice::<Item>(text).unwrap_or_else(|e| panic!("stored text: {e}"));

    let key = Key::new("txt", "01");
    let as_text = table.get_json(&key).await.unwrap_or_else(|e| panic!("{e}")).map(|text| parse(&text));
    assert_eq!(as_text, table.get(&key).await.unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(table.get_json(&Key::new("txt", "03x")).await, Ok(None), "expired");
    assert_eq!(table.get_json(&Key::new("txt", "99")).await, Ok(None));

    for query in [Query::partition("txt").limit(3), Query::on(Index::Gsi1, "TXT").limit(2).descending()] {
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let maps = table.query(&query.clone().after(cursor.clone())).await.unwrap_or_else(|e| panic!("{e}"));
            let texts = table.query_json(&query.clone().after(cursor)).await.unwrap_or_else(|e| panic!("{e}"));
            let parsed: Vec<Item> = texts.items.iter().map(|stored| parse(&stored.json)).collect();
            assert_eq!(parsed, maps.items, "page {pages} of {query:?}");
            for stored in &texts.items {
                assert_eq!(Some(stored.key.clone()), Key::of(&parse(&stored.json)).ok());
            }
            assert_eq!(texts.cursor, maps.cursor, "page {pages} of {query:?}");
            pages += 1;
            cursor = texts.cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert!(pages > 1, "{query:?} read in several pages");
    }
    let queries = [Query::partition("txt"), Query::on(Index::Gsi1, "TXT").sort(SortKey::Equals("1".into()))];
    let maps = table.query_many(&queries).await.unwrap_or_else(|e| panic!("{e}"));
    let texts = table.query_many_json(&queries).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(maps.len(), texts.len());
    for (map, text) in maps.iter().zip(&texts) {
        assert_eq!(text.items.iter().map(|stored| parse(&stored.json)).collect::<Vec<_>>(), map.items);
    }
    assert_eq!(texts[0].items.len(), 8, "seven items and the one whose nested expires_at is not its own");
}

/// Items put as text (single puts, transactions, batches) are the items
/// their maps would be: read back whole, found in their index, expired when
/// their `expires_at` has passed, and held to their conditions.
pub async fn items_put_as_text_are_the_items_their_maps_would_be(table: &dyn Table) {
    let now = chrono::Utc::now().timestamp();
    let record = json!({"state": "sent", "note": "quote \" é", "n": 3, "people": ["a", "b"]});
    let text = |sk: &str| ItemText::of(Key::new("pt", sk), &record).unwrap_or_else(|e| panic!("{e}"));
    let indexed = |sk: &str| text(sk).indexed(Index::Gsi1, Key::new("PT", sk)).unwrap_or_else(|e| panic!("{e}"));
    fn fail<T>(error: TableError) -> T {
        panic!("{error}")
    }
    table.put_text(indexed("1"), Condition::None).await.unwrap_or_else(fail);
    let expected = item(json!({"pk": "pt", "sk": "1", "state": "sent", "note": "quote \" é", "n": 3,
        "people": ["a", "b"], "gsi1pk": "PT", "gsi1sk": "1"}));
    assert_eq!(table.get(&Key::new("pt", "1")).await, Ok(Some(expected)));
    assert_eq!(
        table.put_text(text("1"), Condition::NotExists).await,
        Err(TableError::ConditionFailed { operation: None })
    );

    let ops = vec![
        WriteOp::PutText { item: indexed("2"), condition: Condition::NotExists },
        WriteOp::Put { item: item(json!({"pk": "pt", "sk": "3"})), condition: Condition::None },
    ];
    table.transact_write(ops).await.unwrap_or_else(fail);
    let clash = vec![
        WriteOp::PutText { item: text("4"), condition: Condition::None },
        WriteOp::PutText { item: text("2"), condition: Condition::NotExists },
    ];
    assert_eq!(table.transact_write(clash).await, Err(TableError::ConditionFailed { operation: Some(1) }));
    assert_eq!(table.get(&Key::new("pt", "4")).await, Ok(None), "a cancelled transaction writes no text either");
    let twice = vec![BatchOp::PutText(text("5")), BatchOp::Put(item(json!({"pk": "pt", "sk": "5"})))];
    assert!(matches!(table.batch_write(twice).await, Err(TableError::Validation(_))));

    let expiring = |sk: &str, at: i64| BatchOp::PutText(indexed(sk).expiring(at).unwrap_or_else(|e| panic!("{e}")));
    table.batch_write(vec![expiring("6", now - 60), expiring("7", now + 3600)]).await.unwrap_or_else(fail);
    assert_eq!(table.get(&Key::new("pt", "6")).await, Ok(None), "expired");
    let listed: Vec<String> = read_all(table, Query::on(Index::Gsi1, "PT")).await.iter().map(sk_of).collect();
    assert_eq!(listed, ["1", "2", "7"]);
    let kept = table.get(&Key::new("pt", "7")).await.unwrap_or_else(fail).unwrap_or_default();
    assert_eq!(kept.get("expires_at"), Some(&json!(now + 3600)));
}

/// A batch then a last write: both land; the last one's failed condition
/// writes it not; a last write on an item of the batch is refused.
pub async fn a_last_write_follows_its_batch(table: &dyn Table) {
    fn fail<T>(error: TableError) -> T {
        panic!("{error}")
    }
    let text = |sk: &str, n: u32| ItemText::of(Key::new("wt", sk), &json!({"n": n})).unwrap_or_else(fail);
    let batch = vec![BatchOp::PutText(text("m1", 1)), BatchOp::Put(item(json!({"pk": "wt", "sk": "m2", "n": 1})))];
    let done = WriteOp::PutText { item: text("done", 1), condition: Condition::NotExists };
    table.write_then(batch, done).await.unwrap_or_else(fail);
    let sks: Vec<String> = read_all(table, Query::partition("wt")).await.iter().map(sk_of).collect();
    assert_eq!(sks, ["done", "m1", "m2"]);

    let again = WriteOp::PutText { item: text("done", 2), condition: Condition::NotExists };
    let result = table.write_then(vec![BatchOp::PutText(text("m3", 2))], again).await;
    assert_eq!(result, Err(TableError::ConditionFailed { operation: None }));
    let kept = table.get(&Key::new("wt", "done")).await.unwrap_or_else(fail).unwrap_or_default();
    assert_eq!(kept.get("n"), Some(&json!(1)), "the last write whose condition failed is not written");

    let clash = WriteOp::PutText { item: text("m1", 3), condition: Condition::None };
    let result = table.write_then(vec![BatchOp::PutText(text("m1", 3))], clash).await;
    assert!(matches!(result, Err(TableError::Validation(_))), "{result:?}");
    let delete = WriteOp::Delete { key: Key::new("wt", "done"), condition: Condition::Exists };
    table.write_then(Vec::new(), delete).await.unwrap_or_else(fail);
    assert_eq!(table.get(&Key::new("wt", "done")).await, Ok(None));
}
