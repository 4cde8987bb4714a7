//! A hand-built district of two schools and two households, imported
//! through a mapped CSV (households exist only in mapped files):
//!
//! - household h-1: Leo (s-1, grade 05, sch-1) and Mia (s-2, grade 03, sch-1);
//!   their mother Ana (c-ana: messenger, household phone, cell, email) and
//!   their father Luis (c-luis: not a messenger, household phone, cell).
//! - household h-2: Sam (s-3, grade 05, sch-2); his mother Kim (c-kim:
//!   messenger, cell, email).

/// The column mapping (TOML).
pub const MAPPING: &str = r#"
name = "family fixture"
[student]
id = "sid"
given_name = "sfirst"
family_name = "slast"
grade = "grade"
school = "school"
household = "household"
[contact]
id = "cid"
given_name = "cfirst"
family_name = "clast"
relationship = "rel"
messenger = "messenger"
household = "household"
household_phone = "hphone"
cell_phone = "cell"
email = "email"
"#;

/// The flat file.
pub const CSV: &str = "sid,sfirst,slast,grade,school,household,cid,cfirst,clast,rel,messenger,hphone,cell,email\r\n\
s-1,Leo,Diaz,05,sch-1,h-1,c-ana,Ana,Diaz,Mother,Y,(617) 555-3000,(617) 555-2345,ana@example.org\r\n\
s-1,Leo,Diaz,05,sch-1,h-1,c-luis,Luis,Diaz,Father,N,(617) 555-3000,(617) 555-2346,\r\n\
s-2,Mia,Diaz,03,sch-1,h-1,c-ana,Ana,Diaz,Mother,Y,(617) 555-3000,(617) 555-2345,ana@example.org\r\n\
s-3,Sam,Lee,05,sch-2,h-2,c-kim,Kim,Lee,Mother,Y,,(617) 555-2347,kim@example.org\r\n";
