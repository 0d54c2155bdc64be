//! DOS dates and times (2-second resolution, years 1980-2107), taken as UTC (Linux's
//! `tz=UTC`; Lintel has no local time zone).

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since 1970 of a DOS date and time.
pub fn dos_time(date: u16, time: u16) -> i64 {
    let y = 1980 + (date >> 9) as i64;
    let m = ((date >> 5) & 0xf).clamp(1, 12) as i64;
    let d = (date & 0x1f).max(1) as i64;
    let secs =
        (time >> 11) as i64 * 3600 + ((time >> 5) & 0x3f) as i64 * 60 + (time & 0x1f) as i64 * 2;
    days_from_civil(y, m, d) * 86400 + secs
}

/// (date, time, hundredths) of `secs` since 1970 plus `nsec`, clamped to what DOS can hold
/// (1980-01-01 00:00:00 to 2107-12-31 23:59:58), as Linux's fat_time_unix2fat clamps.
pub fn to_dos(secs: i64, nsec: i64) -> (u16, u16, u8) {
    let min = days_from_civil(1980, 1, 1) * 86400;
    let max = days_from_civil(2107, 12, 31) * 86400 + 86398;
    if secs < min {
        return (1 << 5 | 1, 0, 0);
    }
    if secs > max {
        return (
            (127 << 9) | (12 << 5) | 31,
            (23 << 11) | (59 << 5) | 29,
            199,
        );
    }
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    let date = (((y - 1980) << 9) | (m << 5) | d) as u16;
    let time = (((s / 3600) << 11) | ((s / 60 % 60) << 5) | (s % 60 / 2)) as u16;
    let cs = ((s % 2) * 100 + nsec.clamp(0, 999_999_999) / 10_000_000) as u8;
    (date, time, cs)
}
