//! How long object lock keeps one object (`offsite.object_lock`): the mode, and the
//! day after its recording's offsite retention ends; sent as two request headers with
//! each upload.

use chrono::NaiveDate;
use config::offsite::LockMode;

/// How long the bucket keeps one object, and how strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    pub mode: LockMode,
    /// Kept until 00:00 UTC of this day.
    pub until: NaiveDate,
}

impl Retention {
    /// The retention of a recording dated `date`, kept `retention_days` offsite.
    pub fn of(mode: LockMode, date: NaiveDate, retention_days: u32) -> Retention {
        Retention {
            mode,
            until: rules::offsite::retain_until(date, retention_days),
        }
    }

    /// The request headers that set it.
    pub(crate) fn headers(&self) -> [(String, String); 2] {
        [
            ("x-amz-object-lock-mode".into(), self.mode.header().into()),
            (
                "x-amz-object-lock-retain-until-date".into(),
                self.until.format("%Y-%m-%dT00:00:00Z").to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_is_kept_until_the_day_after_its_retention() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let r = Retention::of(LockMode::Compliance, day, 31);
        assert_eq!(r.until, NaiveDate::from_ymd_opt(2027, 1, 3).unwrap());
        assert_eq!(
            r.headers(),
            [
                ("x-amz-object-lock-mode".to_string(), "COMPLIANCE".to_string()),
                (
                    "x-amz-object-lock-retain-until-date".to_string(),
                    "2027-01-03T00:00:00Z".to_string()
                ),
            ]
        );
    }
}
