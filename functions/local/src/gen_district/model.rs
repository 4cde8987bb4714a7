//! The district in memory: small records of schools, people, households,
//! courses and sections; rows are formatted while writing.

use super::PhoneMix;
use super::names::Name;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Elementary,
    Middle,
    High,
}

impl Level {
    pub(super) fn grades(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Level::Elementary => 0..=5,
            Level::Middle => 6..=8,
            Level::High => 9..=12,
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Level::Elementary => "Elementary School",
            Level::Middle => "Middle School",
            Level::High => "High School",
        }
    }
}

pub(super) struct School {
    pub(super) level: Level,
    pub(super) name: String,
    /// (grade, first student index, count) for each grade of the school.
    pub(super) grades: Vec<(usize, usize, usize)>,
    pub(super) students: usize,
}

pub(super) struct Student {
    pub(super) school: usize,
    pub(super) grade: usize,
    pub(super) household: usize,
    pub(super) given: Name,
    pub(super) family: Name,
    pub(super) middle: &'static str,
    pub(super) female: bool,
    pub(super) username: String,
    pub(super) sms: String,
}

pub(super) struct Guardian {
    pub(super) household: usize,
    pub(super) role: &'static str,
    pub(super) given: Name,
    pub(super) family: Name,
    pub(super) middle: &'static str,
    pub(super) email: String,
    pub(super) sms: String,
    pub(super) phone: String,
}

pub(super) struct Teacher {
    pub(super) school: usize,
    pub(super) given: Name,
    pub(super) family: Name,
    pub(super) local: String,
}

/// Which rows carry a student–guardian link.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    Both,
    StudentOnly,
    GuardianOnly,
}

pub(super) struct Household {
    pub(super) students: Vec<usize>,
    pub(super) first_guardian: usize,
    pub(super) guardians: usize,
    /// `links[s * guardians + g]`: student `s` and guardian `g` of the household.
    pub(super) links: Vec<Link>,
}

impl Household {
    pub(super) fn link(&self, student: usize, guardian: usize) -> Link {
        self.links[student * self.guardians + guardian]
    }
}

pub(super) struct Course {
    pub(super) school: usize,
    pub(super) title: String,
    pub(super) code: String,
    pub(super) grades: String,
    pub(super) subjects: &'static str,
}

pub(super) enum Members {
    /// `start + first`, `start + first + step`, ... below `start + count`.
    Stride {
        start: usize,
        count: usize,
        first: usize,
        step: usize,
    },
    List(Vec<usize>),
}

impl Members {
    pub(super) fn for_each(&self, mut f: impl FnMut(usize) -> anyhow::Result<()>) -> anyhow::Result<()> {
        match self {
            Members::Stride { start, count, first, step } => {
                let mut i = *first;
                while i < *count {
                    f(start + i)?;
                    i += step;
                }
            }
            Members::List(list) => {
                for &i in list {
                    f(i)?;
                }
            }
        }
        Ok(())
    }
}

pub(super) struct Section {
    pub(super) school: usize,
    pub(super) course: usize,
    pub(super) title: String,
    pub(super) code: String,
    pub(super) grades: String,
    pub(super) class_type: &'static str,
    pub(super) terms: &'static str,
    pub(super) subjects: &'static str,
    pub(super) periods: &'static str,
    pub(super) location: String,
    pub(super) teacher: usize,
    pub(super) co_teachers: Vec<usize>,
    pub(super) members: Members,
    pub(super) begin: &'static str,
    pub(super) end: &'static str,
}

pub(super) struct District {
    pub(super) schools: Vec<School>,
    pub(super) students: Vec<Student>,
    pub(super) guardians: Vec<Guardian>,
    pub(super) teachers: Vec<Teacher>,
    pub(super) households: Vec<Household>,
    pub(super) courses: Vec<Course>,
    pub(super) sections: Vec<Section>,
    pub(super) phones: PhoneMix,
}
