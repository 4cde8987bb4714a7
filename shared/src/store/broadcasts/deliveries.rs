//! A broadcast's deliveries: one record per number, address or skipped
//! person, written as each message's provider answers, read by chunk range,
//! by page for the report, and by provider message id for receipts.

use super::{BroadcastStore, ChunkClaim, DELIVERY_SK_PREFIX, broadcast_pk};
use crate::domain::{BroadcastId, Delivery, DeliveryPoint, DistrictId};
use crate::ports::table::{BatchOp, Condition, Cursor, Index, ItemText, Key, Query, SortKey, TableError, WriteOp};
use crate::store::StoreError;
use crate::store::items::{get_record, query_records, record_of, record_text};

fn delivery_sk(point: &DeliveryPoint) -> String {
    format!("{DELIVERY_SK_PREFIX}{}", point.key())
}

fn message_pk(provider_message_id: &str) -> String {
    format!("MSG#{provider_message_id}")
}

/// A page of deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPage {
    /// Deliveries in point order.
    pub deliveries: Vec<Delivery>,
    /// Give it back for the next page.
    pub cursor: Option<Cursor>,
}

impl BroadcastStore {
    fn delivery_item(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        delivery: &Delivery,
    ) -> Result<ItemText, StoreError> {
        let pk = broadcast_pk(district, id);
        let item = record_text(Key::new(pk.clone(), delivery_sk(&delivery.point)), delivery)?;
        Ok(match &delivery.provider_message_id {
            Some(message) => item.indexed(Index::Gsi1, Key::new(message_pk(message), pk))?,
            None => item,
        })
    }

    fn delivery_ops(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        deliveries: &[Delivery],
    ) -> Result<Vec<BatchOp>, StoreError> {
        deliveries.iter().map(|d| self.delivery_item(district, id, d).map(BatchOp::PutText)).collect()
    }

    /// The write of one delivery, for a caller's own transaction.
    pub fn delivery_op(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        delivery: &Delivery,
    ) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::PutText { item: self.delivery_item(district, id, delivery)?, condition: Condition::None })
    }

    /// Writes deliveries without conditions (skip records, marks after sending).
    pub async fn put_deliveries(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        deliveries: &[Delivery],
    ) -> Result<(), StoreError> {
        let ops = self.delivery_ops(district, id, deliveries)?;
        if ops.is_empty() {
            return Ok(());
        }
        Ok(self.table.batch_write(ops).await?)
    }

    /// Writes deliveries, then the chunk's claim (see
    /// [`crate::ports::Table::write_then`]): a `done` claim never stands
    /// for messages whose deliveries were not recorded.
    pub async fn put_deliveries_then_claim(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        deliveries: &[Delivery],
        claim: &ChunkClaim,
    ) -> Result<(), StoreError> {
        let marks = self.delivery_ops(district, id, deliveries)?;
        let claim = WriteOp::PutText { item: Self::claim_item(district, id, claim)?, condition: Condition::None };
        Ok(self.table.write_then(marks, claim).await?)
    }

    /// Records the next try of a call before it is placed, if the delivery
    /// still holds `previous_attempts` tries: of two workers handed the same
    /// retry, one places it. `Ok(false)` when another got there first.
    pub async fn claim_call_try(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        delivery: &Delivery,
        previous_attempts: u32,
    ) -> Result<bool, StoreError> {
        let item = self.delivery_item(district, id, delivery)?;
        let condition = Condition::AttributeEquals("attempts".into(), serde_json::Value::from(previous_attempts));
        match self.table.put_text(item, condition).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Deliveries recorded with points from `first` to `last` (a chunk's
    /// range: chunks are cut from the sorted points, so one query).
    pub async fn deliveries_between(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        first: &DeliveryPoint,
        last: &DeliveryPoint,
    ) -> Result<Vec<Delivery>, StoreError> {
        let query =
            Query::partition(broadcast_pk(district, id)).sort(SortKey::Between(delivery_sk(first), delivery_sk(last)));
        query_records(self.table.as_ref(), query).await
    }

    /// One delivery by point.
    pub async fn delivery(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        point: &DeliveryPoint,
    ) -> Result<Option<Delivery>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(broadcast_pk(district, id), delivery_sk(point))).await
    }

    /// A page of deliveries in point order.
    pub async fn deliveries(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<DeliveryPage, StoreError> {
        let query = Query::partition(broadcast_pk(district, id))
            .sort(SortKey::BeginsWith(DELIVERY_SK_PREFIX.into()))
            .limit(limit)
            .after(cursor);
        let page = self.table.query_json(&query).await?;
        let deliveries = page.items.iter().map(record_of).collect::<Result<_, _>>()?;
        Ok(DeliveryPage { deliveries, cursor: page.cursor })
    }

    /// Every delivery of the broadcast.
    pub async fn all_deliveries(&self, district: &DistrictId, id: &BroadcastId) -> Result<Vec<Delivery>, StoreError> {
        let query = Query::partition(broadcast_pk(district, id)).sort(SortKey::BeginsWith(DELIVERY_SK_PREFIX.into()));
        query_records(self.table.as_ref(), query).await
    }

    /// The delivery a provider's message id belongs to, with its district
    /// and broadcast (an index query, never a scan).
    pub async fn by_provider_message(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<(DistrictId, BroadcastId, Delivery)>, StoreError> {
        let page = self.table.query_json(&Query::on(Index::Gsi1, message_pk(provider_message_id)).limit(1)).await?;
        let Some(item) = page.items.first() else { return Ok(None) };
        let pk = &item.key.pk;
        let mut parts = pk.split('#');
        let (district, broadcast) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("D"), Some(district), Some("B"), Some(broadcast)) => (district, broadcast),
            _ => return Err(StoreError::Corrupt(format!("delivery under an unexpected key `{pk}`"))),
        };
        let district = DistrictId::parse(district).map_err(StoreError::corrupt)?;
        let broadcast = BroadcastId::parse(broadcast).map_err(StoreError::corrupt)?;
        Ok(Some((district, broadcast, record_of(item)?)))
    }
}
