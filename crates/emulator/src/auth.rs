//! API key check: Bearer or Basic, `sk_test_`/`sk_live_`/`rk_test_`/`rk_live_` keys.
//! Messages never repeat the key.

use super::errors::ApiError;

const PREFIXES: &[&str] = &["sk_test_", "sk_live_", "rk_test_", "rk_live_"];

/// The key from an `Authorization` header value, or Stripe's 401.
pub fn check(header: Option<&str>) -> Result<String, ApiError> {
    let Some(h) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        ));
    };
    let key = if let Some(k) = strip_scheme(h, "bearer") {
        k.trim().to_string()
    } else if let Some(b) = strip_scheme(h, "basic") {
        let raw = base64_decode(b.trim()).ok_or_else(|| {
            ApiError::unauthorized("Invalid API Key provided: the Basic credentials are not valid base64.")
        })?;
        let text = String::from_utf8(raw).map_err(|_| {
            ApiError::unauthorized("Invalid API Key provided: the Basic credentials are not valid UTF-8.")
        })?;
        text.split(':').next().unwrap_or("").to_string()
    } else {
        return Err(ApiError::unauthorized("Invalid Authorization header: use Bearer or Basic authentication."));
    };
    let prefix = PREFIXES.iter().find(|p| key.starts_with(**p));
    match prefix {
        Some(p) if key.len() > p.len() && key[p.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
            Ok(key)
        }
        Some(p) => Err(ApiError::unauthorized(format!("Invalid API Key provided: {p}***"))),
        None => Err(ApiError::unauthorized(
            "Invalid API Key provided: keys start with sk_test_, sk_live_, rk_test_ or rk_live_.",
        )),
    }
}

fn strip_scheme<'a>(h: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = h.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= val(*c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Whether a key may read `path`. Restricted keys (`rk_`) have every read
/// permission except the ones they name: `rk_test_noevents...` cannot read
/// events (a test control for keys Stripe restricts).
pub fn may_read(key: &str, path: &str) -> Result<(), ApiError> {
    if key.starts_with("rk_") && key.contains("noevents") && path.starts_with("/v1/events") {
        return Err(ApiError::permission("rak_event_read"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_basic_and_rejections() {
        assert_eq!(check(Some("Bearer sk_test_abc")).unwrap(), "sk_test_abc");
        // base64("rk_live_xyz:")
        assert_eq!(check(Some("Basic cmtfbGl2ZV94eXo6")).unwrap(), "rk_live_xyz");
        assert_eq!(check(None).unwrap_err().status, 401);
        assert_eq!(check(Some("Bearer pk_test_abc")).unwrap_err().status, 401);
        let e = check(Some("Bearer sk_test_")).unwrap_err();
        assert!(!e.message.contains("abc"));
        assert!(check(Some("Token sk_test_abc")).is_err());
    }
}
