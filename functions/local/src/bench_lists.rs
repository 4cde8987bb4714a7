//! The list half of `schoolbell bench preferences`: resolving a one-grade
//! list and a whole-district list, with the items each read.

use std::time::Instant;

use schoolbell::domain::{ListInput, Principal};
use schoolbell::ports::Table as _;

use crate::LocalGateway;
use crate::bench::PreferencesBenchReport;

/// Resolves a grade-05 student list and a district-wide student list.
pub async fn measure(
    gateway: &LocalGateway,
    admin: &Principal,
    report: &mut PreferencesBenchReport,
) -> anyhow::Result<()> {
    let lists = gateway.list_service();
    let grade: ListInput = serde_json::from_value(
        serde_json::json!({"name": "grade 5", "target": "students", "rule": {"grades": ["05"]}}),
    )?;
    let district: ListInput =
        serde_json::from_value(serde_json::json!({"name": "everyone", "target": "students", "rule": {}}))?;
    for (input, is_grade) in [(grade, true), (district, false)] {
        let list = lists.draft(admin, &input).await?;
        let before = gateway.table.stats();
        let started = Instant::now();
        let members = lists.resolve(&admin.district, &list).await?;
        let seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        let reads = gateway.table.stats().items_read - before.items_read;
        let count = members.count() as u64;
        if is_grade {
            (report.grade_list_seconds, report.grade_list_members, report.grade_list_reads) = (seconds, count, reads);
        } else {
            (report.district_list_seconds, report.district_list_members, report.district_list_reads) =
                (seconds, count, reads);
        }
    }
    Ok(())
}
