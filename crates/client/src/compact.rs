//! JSON text without insignificant whitespace. Stripe pretty-prints its
//! answers; compacting a response once, before anything parses it, makes
//! every later pass shorter and lets `_raw` and JSON columns copy their text
//! as is, the same whichever server sent it.

use std::fmt::{self, Write};

/// Writes `text` (valid JSON) to `out` with the whitespace outside strings
/// removed; strings, escapes, numbers and key order are kept as sent.
pub fn write_compact(text: &str, out: &mut impl Write) -> fmt::Result {
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i + 1),
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.write_str(&text[start..i])?;
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    out.write_str(&text[start..])
}

/// The index just past the closing quote of the string whose body starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    // Most strings of an API object are short keys and ids: a plain loop beats
    // setting up a vectorized search for each.
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return i + 1,
            b'\\' => i += 2, // a backslash and the character it escapes
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(text: &str) -> String {
        let mut out = String::new();
        write_compact(text, &mut out).unwrap();
        out
    }

    #[test]
    fn whitespace_goes_except_inside_strings() {
        let pretty = "{\n  \"a b\": [1, 2.50, {\"c\" :\t\"x \\\" y\\\\\"}],\r\n  \"é\": \"  \"\n}";
        assert_eq!(compact(pretty), r#"{"a b":[1,2.50,{"c":"x \" y\\"}],"é":"  "}"#);
        assert_eq!(compact(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(compact("  null "), "null");
        assert_eq!(compact(r#""\\""#), r#""\\""#);
    }

    #[test]
    fn compact_text_parses_to_the_same_value() {
        let value =
            serde_json::json!({"s": "line\nbreak \u{1F600}", "n": [1, -2.5e3, null, true], "o": {"k": {"deep": [[]]}}});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let out = compact(&pretty);
        assert!(!out.contains(": ") && !out.contains('\n'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), value);
        assert_eq!(out, value.to_string());
    }
}
