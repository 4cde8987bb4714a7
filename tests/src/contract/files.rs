//! The `FileStore` contract: what the directory store and S3 must do alike.
//! Each function is one behaviour, given a fresh, empty store.

use bytes::Bytes;
use schoolbell::ports::{FileError, FileStore};

async fn put(store: &dyn FileStore, key: &str, content: &'static [u8]) {
    store.put(key, Bytes::from_static(content)).await.unwrap_or_else(|e| panic!("put `{key}` failed: {e}"));
}

async fn get(store: &dyn FileStore, key: &str) -> Option<Bytes> {
    store.get(key).await.unwrap_or_else(|e| panic!("get `{key}` failed: {e}"))
}

async fn list(store: &dyn FileStore, prefix: &str) -> Vec<String> {
    store.list(prefix).await.unwrap_or_else(|e| panic!("list `{prefix}` failed: {e}"))
}

/// A file reads back byte for byte (binary too); a missing one is `None`.
pub async fn a_put_file_reads_back_and_a_missing_one_is_none(store: &dyn FileStore) {
    put(store, "imports/2026/roster.csv", b"id,name\n1,Ana\n").await;
    put(store, "imports/2026/photo.bin", &[0, 159, 146, 150, 255]).await;
    assert_eq!(get(store, "imports/2026/roster.csv").await, Some(Bytes::from_static(b"id,name\n1,Ana\n")));
    assert_eq!(get(store, "imports/2026/photo.bin").await, Some(Bytes::from_static(&[0, 159, 146, 150, 255])));
    assert_eq!(get(store, "imports/2026/missing.csv").await, None);
    assert_eq!(get(store, "elsewhere").await, None);
}

/// A second put replaces the file.
pub async fn a_second_put_replaces_the_file(store: &dyn FileStore) {
    put(store, "exports/list.csv", b"old").await;
    put(store, "exports/list.csv", b"new").await;
    assert_eq!(get(store, "exports/list.csv").await, Some(Bytes::from_static(b"new")));
    assert_eq!(list(store, "").await, ["exports/list.csv"]);
}

/// Listing answers the keys under a prefix (a plain string prefix, not only
/// a folder), sorted, the prefix included; `""` lists everything.
pub async fn list_answers_sorted_keys_under_a_prefix(store: &dyn FileStore) {
    for key in ["imports/b.csv", "imports/a.csv", "imports/2026/x.zip", "important.txt", "exports/e.csv"] {
        put(store, key, b"x").await;
    }
    assert_eq!(list(store, "imports/").await, ["imports/2026/x.zip", "imports/a.csv", "imports/b.csv"]);
    assert_eq!(list(store, "impo").await, ["important.txt", "imports/2026/x.zip", "imports/a.csv", "imports/b.csv"]);
    assert_eq!(list(store, "imports/2026/").await, ["imports/2026/x.zip"]);
    assert_eq!(list(store, "").await.len(), 5);
    assert!(list(store, "nothing/").await.is_empty());
}

/// Delete removes the file; deleting a missing file is fine.
pub async fn delete_removes_and_deleting_nothing_is_fine(store: &dyn FileStore) {
    put(store, "tmp/one.csv", b"1").await;
    store.delete("tmp/one.csv").await.unwrap_or_else(|e| panic!("delete failed: {e}"));
    store.delete("tmp/one.csv").await.unwrap_or_else(|e| panic!("second delete failed: {e}"));
    store.delete("never/was.csv").await.unwrap_or_else(|e| panic!("delete of nothing failed: {e}"));
    assert_eq!(get(store, "tmp/one.csv").await, None);
    assert!(list(store, "tmp/").await.is_empty());
}

/// Keys that are not relative paths of plain segments are refused by every
/// operation.
pub async fn unsafe_keys_are_refused(store: &dyn FileStore) {
    for bad in ["", "../escape.csv", "/etc/passwd", "a//b", "a/./b", "a\\b", "dir/"] {
        let refused = |result: Result<(), FileError>| matches!(result, Err(FileError::InvalidKey(_)));
        assert!(refused(store.put(bad, Bytes::from_static(b"x")).await), "put {bad:?}");
        assert!(refused(store.get(bad).await.map(|_| ())), "get {bad:?}");
        assert!(refused(store.delete(bad).await), "delete {bad:?}");
    }
    assert!(list(store, "").await.is_empty(), "nothing was written");
}

/// A file written from its chunks reads back whole: small ones, and one
/// larger than a few S3 parts, in chunks of odd sizes.
pub async fn a_file_from_its_chunks_reads_back_whole(store: &dyn FileStore) {
    let large: Vec<u8> = (0..20 * 1024 * 1024 + 13).map(|i: u32| (i % 251) as u8).collect();
    for (key, content) in [("imports/small.csv", b"id\n1\n".to_vec()), ("imports/large.zip", large)] {
        let pieces: Vec<Result<Bytes, FileError>> =
            content.chunks(1_000_003).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let size = store.put_chunks(key, Box::pin(futures::stream::iter(pieces))).await;
        assert_eq!(size, Ok(content.len() as u64), "{key}");
        assert_eq!(get(store, key).await.map(|b| b.len()), Some(content.len()), "{key}");
        assert!(get(store, key).await == Some(Bytes::from(content)), "{key} reads back byte for byte");
    }
}

/// A file whose chunks fail midway (a dropped upload, one over its limit)
/// stores nothing, and an earlier file under that key stays.
pub async fn a_file_whose_chunks_fail_stores_nothing(store: &dyn FileStore) {
    put(store, "imports/kept.csv", b"old").await;
    for key in ["imports/kept.csv", "imports/new.csv"] {
        let big = vec![7u8; 9 * 1024 * 1024];
        let pieces = vec![Ok(Bytes::from(big)), Err(FileError::TooLarge { limit: 1 })];
        let outcome = store.put_chunks(key, Box::pin(futures::stream::iter(pieces))).await;
        assert_eq!(outcome, Err(FileError::TooLarge { limit: 1 }), "{key}");
    }
    assert_eq!(get(store, "imports/kept.csv").await, Some(Bytes::from_static(b"old")));
    assert_eq!(get(store, "imports/new.csv").await, None);
    assert_eq!(list(store, "").await, ["imports/kept.csv"]);
}
