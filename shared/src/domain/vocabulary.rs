//! The fixed vocabulary of messaging: why we write (contact reasons), how
//! (channels), and what carriers and mail servers told us (statuses).

use super::named_enum::named_enum;

named_enum!(
    /// Why a message is sent; preferences are kept per reason.
    ContactReason, "contact reason" {
        /// School closures, lockdowns: goes out whatever the hour.
        Emergency => "emergency",
        /// Absences and tardies.
        Attendance => "attendance",
        /// Behavior incidents.
        Behavior => "behavior",
        /// Messages to staff.
        Staff => "staff",
        /// Everyday news.
        General => "general",
        /// Meal balances.
        FoodService => "food_service",
        /// Important, not an emergency.
        Priority => "priority",
        /// From a teacher about a class.
        Teacher => "teacher",
    }
);

named_enum!(
    /// A way to reach a person. Phone channels are voice calls; `Text` is an
    /// SMS to the cell phone.
    Channel, "channel" {
        /// The household's shared phone.
        HouseholdPhone => "household_phone",
        /// The person's home phone.
        HomePhone => "home_phone",
        /// The person's work phone.
        WorkPhone => "work_phone",
        /// Voice call to the cell phone.
        CellPhone => "cell_phone",
        /// SMS to the cell phone.
        Text => "text",
        /// Primary email.
        Email => "email",
        /// Secondary email.
        SecondaryEmail => "secondary_email",
    }
);

impl Channel {
    /// Channels that hold a phone number.
    pub fn is_phone(self) -> bool {
        matches!(
            self,
            Channel::HouseholdPhone | Channel::HomePhone | Channel::WorkPhone | Channel::CellPhone | Channel::Text
        )
    }

    /// Channels that hold an email address.
    pub fn is_email(self) -> bool {
        matches!(self, Channel::Email | Channel::SecondaryEmail)
    }

    /// Whether the channel is a phone that takes calls (household, home,
    /// work and cell): the `voice` broadcast channel calls each of them.
    pub fn is_call(self) -> bool {
        matches!(self, Channel::HouseholdPhone | Channel::HomePhone | Channel::WorkPhone | Channel::CellPhone)
    }

    /// The channel whose stored contact point this channel uses: a text goes
    /// to the cell phone, everything else to itself.
    pub fn contact_point(self) -> Channel {
        match self {
            Channel::Text => Channel::CellPhone,
            other => other,
        }
    }
}

/// How bad a contact status is for reaching the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// May not receive (landline, turned off, unconfirmed, transient bounce).
    Yellow,
    /// No longer valid (blocked, inactive, opted out, hard bounce, complaint).
    Red,
}

named_enum!(
    /// What carriers last told us about texting a phone number.
    SmsStatus, "SMS status" {
        /// Texts are delivered.
        Ok => "ok",
        /// A fixed line: cannot text (may take a voice call).
        Landline => "landline",
        /// Handset off or out of coverage; delivers when it is back.
        TurnedOff => "turned_off",
        /// The carrier could not say.
        Unconfirmed => "unconfirmed",
        /// The carrier or the person blocks our messages.
        Blocked => "blocked",
        /// Out of service, disconnected or reassigned.
        Inactive => "inactive",
        /// The person replied STOP.
        OptOut => "opt_out",
    }
);

impl SmsStatus {
    /// `None` when texts can go; otherwise how bad it is.
    pub fn severity(self) -> Option<Severity> {
        match self {
            SmsStatus::Ok => None,
            SmsStatus::Landline | SmsStatus::TurnedOff | SmsStatus::Unconfirmed => Some(Severity::Yellow),
            SmsStatus::Blocked | SmsStatus::Inactive | SmsStatus::OptOut => Some(Severity::Red),
        }
    }

    /// Whether an event saying `next` may replace this status. An opt-out
    /// is the person's decision: only the person (a reply such as START,
    /// `from_person`) lifts it — never a carrier receipt or a provider error,
    /// whatever order they arrive in.
    pub fn may_become(self, next: SmsStatus, from_person: bool) -> bool {
        self != SmsStatus::OptOut || next == SmsStatus::OptOut || from_person
    }

    /// Whether fan-out should skip texts to a number in this status:
    /// every red status, and landlines (they cannot take a text).
    pub fn suppresses_texts(self) -> bool {
        self == SmsStatus::Landline || self.severity() == Some(Severity::Red)
    }
}

named_enum!(
    /// What mail servers last told us about an email address.
    EmailStatus, "email status" {
        /// Mail is delivered.
        Ok => "ok",
        /// A soft bounce (mailbox full, server down); may recover.
        BouncedTransient => "bounced_transient",
        /// A hard bounce: the address does not exist.
        BouncedPermanent => "bounced_permanent",
        /// The recipient marked our mail as spam.
        Complaint => "complaint",
    }
);

impl EmailStatus {
    /// `None` when mail can go; otherwise how bad it is.
    pub fn severity(self) -> Option<Severity> {
        match self {
            EmailStatus::Ok => None,
            EmailStatus::BouncedTransient => Some(Severity::Yellow),
            EmailStatus::BouncedPermanent | EmailStatus::Complaint => Some(Severity::Red),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_json() -> Result<(), serde_json::Error> {
        for reason in ContactReason::ALL {
            let json = serde_json::to_string(reason)?;
            assert_eq!(&serde_json::from_str::<ContactReason>(&json)?, reason);
        }
        assert_eq!(serde_json::to_string(&ContactReason::FoodService)?, "\"food_service\"");
        assert_eq!(serde_json::to_string(&Channel::SecondaryEmail)?, "\"secondary_email\"");
        Ok(())
    }

    #[test]
    fn an_unknown_name_lists_the_accepted_ones() {
        let error = "fax".parse::<Channel>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("unknown channel `fax`") && error.contains("household_phone"), "{error}");
    }

    #[test]
    fn only_the_person_lifts_an_opt_out() {
        assert!(!SmsStatus::OptOut.may_become(SmsStatus::Ok, false), "a late delivery receipt");
        assert!(!SmsStatus::OptOut.may_become(SmsStatus::Inactive, false));
        assert!(SmsStatus::OptOut.may_become(SmsStatus::Ok, true), "START");
        assert!(SmsStatus::Blocked.may_become(SmsStatus::Ok, false));
    }

    #[test]
    fn red_statuses_and_landlines_suppress_texts() {
        let suppressed: Vec<_> = SmsStatus::ALL.iter().filter(|s| s.suppresses_texts()).collect();
        assert_eq!(suppressed, [&SmsStatus::Landline, &SmsStatus::Blocked, &SmsStatus::Inactive, &SmsStatus::OptOut]);
        assert_eq!(SmsStatus::TurnedOff.severity(), Some(Severity::Yellow));
        assert_eq!(SmsStatus::Ok.severity(), None);
        assert_eq!(EmailStatus::Complaint.severity(), Some(Severity::Red));
    }

    #[test]
    fn a_text_goes_to_the_cell_phone() {
        assert_eq!(Channel::Text.contact_point(), Channel::CellPhone);
        assert!(Channel::Text.is_phone() && !Channel::Text.is_email());
        assert!(Channel::SecondaryEmail.is_email());
    }
}
