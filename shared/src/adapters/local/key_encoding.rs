//! Byte encoding of table keys for the embedded store, chosen so that byte
//! order equals DynamoDB's order: partition, then sort key by UTF-8 bytes.
//!
//! A base-table entry is `pk 0 sk 0`; an index entry is `ipk 0 isk 0 pk 0 sk 0`.
//! Key strings may not hold NUL, so `0` always ends a part and a partition is
//! exactly the byte range `[part 0, part 1)`.

use std::ops::Bound;

use crate::ports::table::{Index, Item, PK, SK, SortKey, TableError, string_attribute};

/// Refuses key strings the encoding cannot carry.
pub fn check_key_part(name: &str, value: &str) -> Result<(), TableError> {
    if value.is_empty() || value.contains('\0') {
        return Err(TableError::Validation(format!("key attribute `{name}` must be non-empty and hold no NUL")));
    }
    if value.len() > 1024 {
        return Err(TableError::Validation(format!("key attribute `{name}` exceeds 1024 bytes")));
    }
    Ok(())
}

/// Encodes parts as `p0 0 p1 0 ...`.
pub fn encode(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        out.extend_from_slice(part.as_bytes());
        out.push(0);
    }
    out
}

/// Splits an encoded key back into its parts.
pub fn decode(bytes: &[u8]) -> Result<Vec<String>, TableError> {
    let body = bytes.strip_suffix(&[0]).ok_or_else(|| TableError::Corrupt("index key is not terminated".into()))?;
    body.split(|b| *b == 0)
        .map(|part| String::from_utf8(part.to_vec()).map_err(|_| TableError::Corrupt("index key is not UTF-8".into())))
        .collect()
}

/// The entry key of an item in an index, or `None` when the item lacks the
/// index's attributes (sparse index).
pub fn entry_key(index: Index, item: &Item) -> Result<Option<Vec<u8>>, TableError> {
    let pk = string_attribute(item, PK)?;
    let sk = string_attribute(item, SK)?;
    check_key_part(PK, pk)?;
    check_key_part(SK, sk)?;
    match index {
        Index::Primary => Ok(Some(encode(&[pk, sk]))),
        other => {
            let (ipk_name, isk_name) = other.key_attributes();
            match (item.get(ipk_name), item.get(isk_name)) {
                (Some(serde_json::Value::String(ipk)), Some(serde_json::Value::String(isk))) => {
                    check_key_part(ipk_name, ipk)?;
                    check_key_part(isk_name, isk)?;
                    Ok(Some(encode(&[ipk, isk, pk, sk])))
                }
                (None, None) => Ok(None),
                _ => Err(TableError::Validation(format!(
                    "index attributes `{ipk_name}` and `{isk_name}` must both be non-empty strings or both absent"
                ))),
            }
        }
    }
}

/// One past the largest byte string that starts with `prefix` (which, being
/// UTF-8, never holds 0xFF, so incrementing its last byte is enough).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    match end.last_mut() {
        Some(last) => *last += 1,
        None => end.push(1),
    }
    end
}

/// The byte range a query covers, before the cursor.
pub fn query_range(partition: &str, sort: &SortKey) -> (Vec<u8>, Vec<u8>) {
    let mut base = partition.as_bytes().to_vec();
    base.push(0);
    let with = |s: &str| {
        let mut key = base.clone();
        key.extend_from_slice(s.as_bytes());
        key
    };
    let mut partition_end = partition.as_bytes().to_vec();
    partition_end.push(1);
    match sort {
        SortKey::Any => (base.clone(), partition_end),
        SortKey::Equals(v) => {
            let mut lo = with(v);
            lo.push(0);
            let mut hi = with(v);
            hi.push(1);
            (lo, hi)
        }
        SortKey::BeginsWith(p) => {
            let lo = with(p);
            let hi = if p.is_empty() { partition_end } else { prefix_end(&lo) };
            (lo, hi)
        }
        SortKey::Between(a, b) => {
            let mut lo = with(a);
            lo.push(0);
            let mut hi = with(b);
            hi.push(1);
            (lo, hi)
        }
    }
}

/// Narrows a query range to what follows (or, descending, precedes) the cursor.
pub fn bounds_after(
    range: &(Vec<u8>, Vec<u8>),
    cursor_key: Option<&[u8]>,
    descending: bool,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let (lo, hi) = range;
    match (cursor_key, descending) {
        (None, _) => (Bound::Included(lo.clone()), Bound::Excluded(hi.clone())),
        (Some(c), false) if c >= lo.as_slice() => (Bound::Excluded(c.to_vec()), Bound::Excluded(hi.clone())),
        (Some(c), true) if c < hi.as_slice() => (Bound::Included(lo.clone()), Bound::Excluded(c.to_vec())),
        _ => (Bound::Included(lo.clone()), Bound::Excluded(hi.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(range: &(Vec<u8>, Vec<u8>), key: &[u8]) -> bool {
        key >= range.0.as_slice() && key < range.1.as_slice()
    }

    #[test]
    fn a_partition_range_never_reaches_a_partition_it_prefixes() {
        let range = query_range("D#a", &SortKey::Any);
        assert!(within(&range, &encode(&["D#a", "x"])));
        assert!(!within(&range, &encode(&["D#ab", "x"])));
    }

    #[test]
    fn equals_matches_only_the_exact_sort_key() {
        let range = query_range("p", &SortKey::Equals("s1".into()));
        assert!(within(&range, &encode(&["p", "s1"])));
        assert!(within(&range, &encode(&["p", "s1", "pk", "sk"])));
        assert!(!within(&range, &encode(&["p", "s10"])));
        assert!(!within(&range, &encode(&["p", "s"])));
    }

    #[test]
    fn between_includes_both_ends_and_nothing_beyond() {
        let range = query_range("p", &SortKey::Between("b".into(), "d".into()));
        for inside in ["b", "c", "czz", "d"] {
            assert!(within(&range, &encode(&["p", inside])), "{inside}");
        }
        for outside in ["a", "d0", "e"] {
            assert!(!within(&range, &encode(&["p", outside])), "{outside}");
        }
    }

    #[test]
    fn begins_with_covers_exactly_the_prefix() {
        let range = query_range("p", &SortKey::BeginsWith("CP#".into()));
        assert!(within(&range, &encode(&["p", "CP#"])));
        assert!(within(&range, &encode(&["p", "CP#email"])));
        assert!(!within(&range, &encode(&["p", "CP$"])));
        assert!(!within(&range, &encode(&["p", "CO"])));
    }

    #[test]
    fn keys_decode_to_their_parts() -> Result<(), TableError> {
        assert_eq!(decode(&encode(&["a", "b", "c"]))?, ["a", "b", "c"]);
        Ok(())
    }
}
