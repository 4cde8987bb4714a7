//! The last look before a group of texts goes: which recipients opted out
//! since planning, and who the district is to the rest.
//!
//! A text may not go to a number whose person said STOP to the district
//! (its SMS status) or to the number the text goes from (carriers keep
//! opt-outs per pair of sending number and recipient, so a STOP to a shared
//! number stops every district texting from it). And when the text goes
//! from a number that is not the district's own, the district is recorded
//! as the one that last texted the recipient from it, so their reply finds
//! its way back.

use crate::domain::{DeliveryPoint, DistrictId, PhoneNumber, PlannedDelivery};
use crate::services::ServiceError;
use crate::store::TextingNumber;

use super::SendService;

fn numbers_of(slice: &[&PlannedDelivery]) -> Vec<PhoneNumber> {
    slice
        .iter()
        .filter_map(|m| match m.point() {
            DeliveryPoint::Sms(number) => Some(number),
            _ => None,
        })
        .collect()
}

impl SendService {
    /// Splits a group of messages into the texts to numbers opted out since
    /// planning and the rest. Both reads are one batched query each.
    pub(super) async fn without_opted_out<'a>(
        &self,
        district: &DistrictId,
        origin: &TextingNumber,
        slice: &[&'a PlannedDelivery],
    ) -> Result<(Vec<&'a PlannedDelivery>, Vec<&'a PlannedDelivery>), ServiceError> {
        let numbers = numbers_of(slice);
        if numbers.is_empty() {
            return Ok((Vec::new(), slice.to_vec()));
        }
        let (mut opted_out, of_number) = tokio::try_join!(
            self.sms_status.opted_out(district, &numbers),
            self.sms_pairs.opted_out(&numbers, origin.number.as_ref(), &origin.held_elsewhere),
        )?;
        opted_out.extend(of_number);
        Ok(slice.iter().partition(|m| matches!(m.point(), DeliveryPoint::Sms(n) if opted_out.contains(&n))))
    }

    /// Before texts go from a number other districts may text from too (a
    /// shared one, or the provider's default), remembers that this district
    /// texted these recipients from it: their replies are routed by it.
    pub(super) async fn remember_texted(
        &self,
        district: &DistrictId,
        origin: &TextingNumber,
        slice: &[&PlannedDelivery],
    ) -> Result<(), ServiceError> {
        if origin.own {
            return Ok(());
        }
        let numbers = numbers_of(slice);
        Ok(self.sms_pairs.texted(district, &numbers, origin.number.as_ref(), self.clock.now()).await?)
    }
}
