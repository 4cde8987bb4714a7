//! The columns of the OneRoster 1.1 CSV files, in specification order: once
//! for the reader (which warns about columns it does not know, see
//! [`super::read_oneroster`]) and for whatever writes these files (the
//! `gen-district` generator writes them as headers, in this order).
//!
//! Only the 1.1 names are here. Names other versions add or use instead
//! (1.2's `pronouns`, 1.0's `userId` ...) are the reader's own additions,
//! next to the code that reads each file; `roles.csv`, new in 1.2, lists
//! its columns there too.

/// `manifest.csv`: one property per row.
pub const MANIFEST: &[&str] = &["propertyName", "value"];

/// `orgs.csv`: districts, schools, departments ...
pub const ORGS: &[&str] = &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"];

/// `academicSessions.csv`: school years, terms, grading periods.
pub const ACADEMIC_SESSIONS: &[&str] = &[
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

/// `courses.csv`: courses, each in a school year and an org.
pub const COURSES: &[&str] = &[
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

/// `classes.csv`: sections of a course, in a school and some terms.
pub const CLASSES: &[&str] = &[
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

/// `users.csv`: students, teachers, guardians and other people.
pub const USERS: &[&str] = &[
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

/// `enrollments.csv`: who is in which class, and as what.
pub const ENROLLMENTS: &[&str] = &[
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

/// `demographics.csv`: one row per user (its sourcedId is the user's).
pub const DEMOGRAPHICS: &[&str] = &[
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
