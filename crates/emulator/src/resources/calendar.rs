//! Calendar arithmetic for billing periods (adding days, weeks, months, years).

/// Adds `count` intervals to a unix time (calendar months and years).
pub fn add_interval(ts: i64, interval: &str, count: i64) -> i64 {
    match interval {
        "day" => ts + count * 86_400,
        "week" => ts + count * 7 * 86_400,
        "month" | "year" => {
            let months = if interval == "year" { count * 12 } else { count };
            let days = ts.div_euclid(86_400);
            let secs = ts.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let total = y * 12 + (m - 1) + months;
            let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
            let nd = d.min(days_in_month(ny, nm));
            days_from_civil(ny, nm, nd) * 86_400 + secs
        }
        _ => ts,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::add_interval;

    #[test]
    fn calendar_months() {
        // 2026-01-31 + 1 month = 2026-02-28
        assert_eq!(add_interval(1_769_817_600, "month", 1), 1_772_236_800);
        assert_eq!(add_interval(0, "year", 1), 365 * 86_400);
        assert_eq!(add_interval(0, "week", 2), 14 * 86_400);
    }
}
