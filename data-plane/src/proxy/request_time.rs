//! `$context.requestTime` and `$context.requestTimeEpoch` as AWS writes them: the Common
//! Log Format date (`01/Dec/2026:13:45:07 +0000`, always UTC) and epoch milliseconds.
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn epoch_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Howard Hinnant's days-to-civil: (year, month 1..=12, day 1..=31).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn write_clf(out: &mut String, t: SystemTime) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (year, month, day) = civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn common_log_format_in_utc() {
        let mut out = String::new();
        // 2026-12-01T13:45:07Z
        write_clf(&mut out, UNIX_EPOCH + Duration::from_secs(1_796_132_707));
        assert_eq!(out, "01/Dec/2026:13:45:07 +0000");
        out.clear();
        write_clf(&mut out, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(out, "29/Feb/2000:00:00:00 +0000");
        assert_eq!(
            epoch_millis(UNIX_EPOCH + Duration::from_millis(1_234)),
            1_234
        );
    }
}
