//! Builds the district in memory from the options: students per grade,
//! schools, households and guardians, teachers, courses and sections.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::contact::{GUARDIAN_DOMAINS, format_phone, guardian_phones, valid_digits};
use super::model::{Course, District, Guardian, Household, Level, Link, Members, School, Section, Student, Teacher};
use super::names::{FAMILY, NAMESAKES, QUARTERS, middle_name, person_name, unique};
use super::reference::{BOTH_TERMS, GRADES, SUBJECTS, TERM2_ID, TERM2_START, YEAR_END, YEAR_START, pick};
use super::{GenOptions, PhoneMix};

pub(super) fn build(options: &GenOptions) -> District {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let n = options.students;

    // Students per grade: about n / 13, give or take 6%.
    let weights: Vec<f64> = (0..GRADES.len()).map(|_| rng.random_range(0.94..1.06)).collect();
    let total: f64 = weights.iter().sum();
    let mut per_grade = [0usize; 13];
    let mut cumulative = 0.0;
    let mut placed = 0usize;
    for (g, w) in weights.iter().enumerate() {
        cumulative += w;
        let upto = if g + 1 == GRADES.len() { n } else { ((n as f64) * cumulative / total).round() as usize };
        per_grade[g] = upto.saturating_sub(placed);
        placed += per_grade[g];
    }

    // Schools: ~500 students each, at least one per level.
    let mut schools = Vec::new();
    let mut students = Vec::with_capacity(n);
    for level in [Level::Elementary, Level::Middle, Level::High] {
        let level_students: usize = level.grades().map(|g| per_grade[g]).sum();
        let count = ((level_students + 250) / 500).max(1);
        for k in 0..count {
            let index = schools.len();
            let same_level = schools.iter().filter(|s: &&School| s.level == level).count();
            let namesake = NAMESAKES[same_level % NAMESAKES.len()];
            let name = match same_level / NAMESAKES.len() {
                0 => format!("{namesake} {}", level.label()),
                q if q <= QUARTERS.len() => format!("{} {namesake} {}", QUARTERS[q - 1], level.label()),
                q => format!("{namesake} {} {q}", level.label()),
            };
            let mut grades = Vec::new();
            for g in level.grades() {
                let here = per_grade[g] * (k + 1) / count - per_grade[g] * k / count;
                grades.push((g, students.len(), here));
                for _ in 0..here {
                    students.push(Student {
                        school: index,
                        grade: g,
                        household: 0,
                        given: ("", ""),
                        family: ("", ""),
                        middle: "",
                        female: false,
                        username: String::new(),
                        sms: String::new(),
                    });
                }
            }
            let enrolled = grades.iter().map(|(_, _, c)| c).sum();
            schools.push(School { level, name, grades, students: enrolled });
        }
    }

    // Households: ~30% of students share theirs with one or two siblings.
    let mut order: Vec<usize> = (0..students.len()).collect();
    order.shuffle(&mut rng);
    let mut households = Vec::new();
    let mut guardians = Vec::new();
    let mut phones = PhoneMix::default();
    let mut usernames = HashMap::new();
    let mut emails = HashMap::new();
    let mut rest = &order[..];
    while !rest.is_empty() {
        let size = match rng.random_range(0..100) {
            0..=83 => 1,
            84..=95 => 2,
            _ => 3,
        }
        .min(rest.len());
        let (members, tail) = rest.split_at(size);
        rest = tail;
        let mut members = members.to_vec();
        members.sort_unstable();
        let household = households.len();
        let family = pick(&mut rng, FAMILY);

        for &s in &members {
            let female = rng.random_bool(0.5);
            let given = person_name(&mut rng, female);
            let student = &mut students[s];
            student.household = household;
            student.family = family;
            student.given = given;
            student.female = female;
            student.middle = middle_name(&mut rng, female, given);
            student.username = unique(&mut usernames, format!("{}.{}", given.1, family.1));
            if student.grade >= 9 && rng.random_bool(0.3) {
                let digits = valid_digits(&mut rng);
                student.sms = format_phone(&mut rng, digits);
            }
        }

        let count = match rng.random_range(0..100) {
            0..=19 => 1,
            20..=91 => 2,
            _ => 3,
        };
        let first_guardian = guardians.len();
        let mut landline = if rng.random_bool(0.35) { Some(valid_digits(&mut rng)) } else { None };
        let first_female = rng.random_bool(0.65);
        for g in 0..count {
            let roll = rng.random_range(0..100);
            let role = match g {
                0 | 1 if roll < 88 => "parent",
                0 | 1 if roll < 95 => "guardian",
                0 | 1 => "relative",
                _ if roll < 40 => "guardian",
                _ => "relative",
            };
            let female = match g {
                0 => first_female,
                1 => first_female ^ rng.random_bool(0.9),
                _ => rng.random_bool(0.6),
            };
            let own_family = match g {
                0 => rng.random_bool(0.9),
                1 => rng.random_bool(0.55),
                _ => rng.random_bool(0.3),
            };
            let given = person_name(&mut rng, female);
            let family_name = if own_family { family } else { pick(&mut rng, FAMILY) };
            let email = if rng.random_bool(0.85) || options.reachable {
                let local = format!("{}.{}", given.1, family_name.1);
                let number = emails.entry(local.clone()).or_insert(0u32);
                *number += 1;
                format!("{local}{number}@{}", pick(&mut rng, GUARDIAN_DOMAINS))
            } else {
                String::new()
            };
            let (sms, phone) = guardian_phones(&mut rng, &mut landline, &mut phones, options.reachable);
            let middle = middle_name(&mut rng, female, given);
            guardians.push(Guardian { household, role, given, family: family_name, middle, email, sms, phone });
        }

        let links = (0..members.len() * count)
            .map(|_| match rng.random_range(0..100) {
                0..=4 => Link::StudentOnly,
                5..=9 => Link::GuardianOnly,
                _ => Link::Both,
            })
            .collect();
        households.push(Household { students: members, first_guardian, guardians: count, links });
    }

    // Teachers, courses and sections, school by school.
    let mut teachers = Vec::new();
    let mut courses = Vec::new();
    let mut sections = Vec::new();
    for (si, school) in schools.iter().enumerate() {
        let first_teacher = teachers.len();
        let count = ((school.students + 10) / 20).max(1);
        for _ in 0..count {
            let female = rng.random_bool(0.7);
            let given = person_name(&mut rng, female);
            let family = pick(&mut rng, FAMILY);
            let local = unique(&mut usernames, format!("{}.{}", given.1, family.1));
            teachers.push(Teacher { school: si, given, family, local });
        }
        let teacher = |k: usize| first_teacher + k % count;
        let mut homerooms = 0usize;
        let mut department_next = [0usize; 4];
        let mut room = 100usize;
        let first_section = sections.len();
        for &(g, start, n) in &school.grades {
            if n == 0 {
                continue;
            }
            let grade = GRADES[g];
            let course = courses.len();
            courses.push(Course {
                school: si,
                title: format!("Homeroom Grade {grade}"),
                code: format!("HR-{grade}"),
                grades: grade.to_string(),
                subjects: "",
            });
            let h = n.div_ceil(25);
            for k in 0..h {
                room += 1;
                sections.push(Section {
                    school: si,
                    course,
                    title: format!("Homeroom {grade}-{}", k + 1),
                    code: format!("HR-{grade}-{}", k + 1),
                    grades: grade.to_string(),
                    class_type: "homeroom",
                    terms: BOTH_TERMS,
                    subjects: "",
                    periods: "HR",
                    location: format!("Room {room}"),
                    teacher: teacher(homerooms),
                    co_teachers: Vec::new(),
                    members: Members::Stride { start, count: n, first: k, step: h },
                    begin: YEAR_START,
                    end: YEAR_END,
                });
                homerooms += 1;
            }
            if school.level == Level::Elementary {
                continue;
            }
            let s = n.div_ceil(30);
            for (d, (subject, code)) in SUBJECTS.iter().enumerate() {
                let course = courses.len();
                courses.push(Course {
                    school: si,
                    title: format!("{subject} {grade}"),
                    code: format!("{code}-{grade}"),
                    grades: grade.to_string(),
                    subjects: subject,
                });
                for k in 0..s {
                    // Departments: teachers k with k % 4 == d (all of them in tiny schools).
                    let t = if count >= 4 {
                        let in_department = (count - d).div_ceil(4);
                        first_teacher + d + 4 * (department_next[d] % in_department)
                    } else {
                        teacher(department_next[d] + d)
                    };
                    department_next[d] += 1;
                    room += 1;
                    sections.push(Section {
                        school: si,
                        course,
                        title: format!("{subject} {grade} - Section {}", k + 1),
                        code: format!("{code}-{grade}-{}", k + 1),
                        grades: grade.to_string(),
                        class_type: "scheduled",
                        terms: BOTH_TERMS,
                        subjects: subject,
                        periods: ["1", "2", "3", "4", "5", "6"][(k + d) % 6],
                        location: format!("Room {room}"),
                        teacher: t,
                        co_teachers: Vec::new(),
                        members: Members::Stride { start, count: n, first: k, step: s },
                        begin: YEAR_START,
                        end: YEAR_END,
                    });
                }
            }
        }
        // Elementary schools: teachers without a homeroom co-teach one.
        if school.level == Level::Elementary && homerooms > 0 {
            for extra in homerooms..count {
                let section = first_section + (extra - homerooms) % homerooms;
                sections[section].co_teachers.push(first_teacher + extra);
            }
        }
        // High schools: a spring chorus open to every grade (multi-grade class).
        if school.level == Level::High && school.students > 0 {
            let course = courses.len();
            courses.push(Course {
                school: si,
                title: "Chorus".to_string(),
                code: "MUS-CHOR".to_string(),
                grades: "09,10,11,12".to_string(),
                subjects: "Music",
            });
            let mut members = Vec::new();
            for &(_, start, n) in &school.grades {
                members.extend((start..start + n).filter(|_| rng.random_bool(0.04)));
            }
            sections.push(Section {
                school: si,
                course,
                title: "Chorus".to_string(),
                code: "MUS-CHOR-1".to_string(),
                grades: "09,10,11,12".to_string(),
                class_type: "scheduled",
                terms: TERM2_ID,
                subjects: "Music",
                periods: "7,8",
                location: "Auditorium".to_string(),
                teacher: first_teacher + count - 1,
                co_teachers: Vec::new(),
                members: Members::List(members),
                begin: TERM2_START,
                end: YEAR_END,
            });
        }
    }

    District { schools, students, guardians, teachers, households, courses, sections, phones }
}
