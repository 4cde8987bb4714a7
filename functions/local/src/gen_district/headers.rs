//! The OneRoster 1.1 CSV headers, in specification order, and the manifest's
//! list of data files.

pub(super) const MANIFEST_HEADER: &[&str] = &["propertyName", "value"];
pub(super) const ORGS_HEADER: &[&str] =
    &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"];
pub(super) const SESSIONS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
];
pub(super) const COURSES_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "schoolYearSourcedId",
    "title",
    "courseCode",
    "grades",
    "orgSourcedId",
    "subjects",
    "subjectCodes",
];
pub(super) const CLASSES_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
];
pub(super) const USERS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
];
pub(super) const ENROLLMENTS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
];
pub(super) const DEMOGRAPHICS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "birthDate",
    "sex",
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
    "countryOfBirthCode",
    "stateOfBirthAbbreviation",
    "cityOfBirth",
    "publicSchoolResidenceStatus",
];

/// The 13 data files of OneRoster 1.1, in manifest order, and whether this
/// generator writes them.
pub(super) const MANIFEST_FILES: [(&str, bool); 13] = [
    ("academicSessions", true),
    ("categories", false),
    ("classes", true),
    ("classResources", false),
    ("courses", true),
    ("courseResources", false),
    ("demographics", true),
    ("enrollments", true),
    ("lineItems", false),
    ("orgs", true),
    ("resources", false),
    ("results", false),
    ("users", true),
];

// ---------------------------------------------------------------------------
