//! Durations as people type them on the command line: `500ms`, `15s`, `2m`, `1h`
//! (a bare number means seconds).

use std::time::Duration;

/// Parses `500ms`, `15s`, `1.5s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit_secs) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("could not read the interval {text:?}: expected e.g. 500ms, 15s, 2m"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("the interval {text:?} must be longer than zero"));
    }
    let secs = value * unit_secs;
    if secs > 86_400.0 * 365.0 {
        return Err(format!("the interval {text:?} is longer than a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_units() {
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_interval("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_interval(" 7 "), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn rejects_nonsense_and_zero() {
        for bad in ["", "fast", "0s", "-1s", "10x", "ms", "NaNs"] {
            let err = parse_interval(bad).unwrap_err();
            assert!(err.contains("interval"), "{bad}: {err}");
        }
    }
}
