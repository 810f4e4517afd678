//! One JSON value as a column sees it: scalars borrowed from the input text
//! (no allocation for the common string without escapes), objects and arrays
//! as a value tree (rare outside `metadata` and list columns).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value, borrowed where it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A negative or small integer.
    I64(i64),
    /// An integer above `i64::MAX`.
    U64(u64),
    /// A number with a fraction or exponent.
    F64(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An object or array.
    Compound(Cow<'a, Value>),
}

impl<'a> Scalar<'a> {
    /// A view of `value` that borrows it.
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Scalar::I64(i),
                (None, Some(u), _) => Scalar::U64(u),
                (_, _, f) => Scalar::F64(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
            other => Scalar::Compound(Cow::Borrowed(other)),
        }
    }

    /// Parses one JSON value from `text`, borrowing strings from it.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let scalar = ScalarSeed.deserialize(&mut de)?;
        de.end()?;
        Ok(scalar)
    }

    /// The value as an integer: integral numbers, and numeric strings (some API versions send them).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::I64(i) => Some(*i),
            Scalar::U64(u) => i64::try_from(*u).ok(),
            Scalar::F64(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
            Scalar::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The value as a float: any number, and numeric strings.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::I64(i) => Some(*i as f64),
            Scalar::U64(u) => Some(*u as f64),
            Scalar::F64(f) => Some(*f),
            Scalar::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The value as a boolean (only JSON booleans).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Deserializes a [`Scalar`] from a serde_json deserializer.
#[derive(Debug, Clone, Copy)]
pub struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar<'de>, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(i64::try_from(v).map_or(Scalar::U64(v), Scalar::I64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        let value = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Scalar::Compound(Cow::Owned(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        let value = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Scalar::Compound(Cow::Owned(value)))
    }
}

/// An object key, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, Copy)]
pub struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_borrow_plain_strings_and_own_escaped_ones() {
        assert!(matches!(Scalar::parse(r#""cus_1""#).unwrap(), Scalar::Str(Cow::Borrowed("cus_1"))));
        assert_eq!(Scalar::parse(r#""a\"b""#).unwrap(), Scalar::Str(Cow::Owned("a\"b".into())));
        assert_eq!(Scalar::parse("null").unwrap(), Scalar::Null);
        assert_eq!(Scalar::parse("18446744073709551615").unwrap(), Scalar::U64(u64::MAX));
        assert_eq!(Scalar::parse(" 7 ").unwrap().as_i64(), Some(7));
        assert_eq!(Scalar::parse(r#"{"id": 1}"#).unwrap(), Scalar::Compound(Cow::Owned(json!({"id": 1}))));
        assert!(Scalar::parse("[1,").is_err());
    }

    #[test]
    fn conversions_are_lenient_like_the_api() {
        assert_eq!(Scalar::parse("2.0").unwrap().as_i64(), Some(2));
        assert_eq!(Scalar::parse("2.5").unwrap().as_i64(), None);
        assert_eq!(Scalar::parse(r#""42""#).unwrap().as_i64(), Some(42));
        assert_eq!(Scalar::parse(r#""1.5""#).unwrap().as_f64(), Some(1.5));
        assert_eq!(Scalar::parse("true").unwrap().as_i64(), None);
        assert_eq!(Scalar::of(&json!(u64::MAX)).as_i64(), None);
        assert_eq!(Scalar::of(&json!(false)).as_bool(), Some(false));
    }
}
