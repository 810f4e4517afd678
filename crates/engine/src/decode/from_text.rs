//! Decodes objects straight from their JSON text in one pass per object:
//! each key is looked up in the [`KeyPlan`], its value parsed only as far as
//! its column needs (strings borrowed, JSON columns copied as text,
//! fields no column reads skipped), so no value tree is built.

use std::fmt;

use datafusion::arrow::error::ArrowError;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::builders::ColumnBuilder;
use super::plan::{KeyPlan, Target};
use super::scalar::{KeySeed, ScalarSeed};
use crate::catalog::{ColumnDef, ColumnType};

/// The state shared by the rows of one batch.
pub struct Rows<'a> {
    /// The decoded columns.
    pub columns: &'a [ColumnDef],
    /// Which key feeds which column.
    pub plan: &'a KeyPlan,
    /// The value each column takes when the object lacks it.
    pub implied: &'a [Option<&'a str>],
    /// One builder per column.
    pub builders: &'a mut [ColumnBuilder],
    /// Scratch: which columns the current object filled.
    pub filled: Vec<bool>,
    /// The key at each position of the previous object and its target:
    /// Stripe sends the fields of every object in the same order, so the key
    /// at a position is usually the same one and needs no hash lookup.
    pub previous_keys: Vec<(Box<str>, Option<&'a Target>)>,
}

impl Rows<'_> {
    /// Appends the row of one object given as compact JSON text (valid, as
    /// the client checked). Something other than an object is a row of NULLs.
    pub fn append(&mut self, text: &str) -> Result<(), serde_json::Error> {
        self.filled.iter_mut().for_each(|f| *f = false);
        if let Some(raw) = self.plan.raw {
            let ColumnBuilder::Text(b) = &mut self.builders[raw] else { unreachable!("_raw is a text column") };
            b.append_value(text);
            self.filled[raw] = true;
        }
        if text.trim_start().starts_with('{') {
            let mut de = serde_json::Deserializer::from_str(text);
            de.deserialize_map(RowVisitor { rows: self })?;
            de.end()?;
        }
        for (index, builder) in self.builders.iter_mut().enumerate() {
            if !self.filled[index] {
                builder.append_missing(self.implied[index]).map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
}

struct RowVisitor<'r, 'a> {
    rows: &'r mut Rows<'a>,
}

impl<'de> Visitor<'de> for RowVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Stripe object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rows = self.rows;
        let mut position = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let target = match rows.previous_keys.get(position) {
                Some((previous, target)) if **previous == *key => *target,
                _ => {
                    let target = rows.plan.target(&key);
                    rows.previous_keys.truncate(position);
                    rows.previous_keys.push((Box::from(&*key), target));
                    target
                }
            };
            position += 1;
            let Some(target) = target else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if let Some(index) = target.single() {
                // A repeated key keeps its first value.
                if rows.filled[index] {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                rows.filled[index] = true;
                let (col, implied, builder) = (&rows.columns[index], rows.implied[index], &mut rows.builders[index]);
                let appended = if col.ty == ColumnType::Json {
                    let raw: &RawValue = map.next_value()?;
                    builder.append_json_text(col, raw.get(), implied)
                } else {
                    let value = map.next_value_seed(ScalarSeed)?;
                    builder.append_scalar(col, value, implied)
                };
                appended.map_err(de::Error::custom)?;
                continue;
            }
            let raw: &RawValue = map.next_value()?;
            for &index in &target.direct {
                fill(rows, index, Some(raw.get())).map_err(de::Error::custom)?;
            }
            let paths: Vec<(usize, &[String])> = target.nested.iter().map(|(i, p)| (*i, p.as_slice())).collect();
            fill_nested(rows, raw.get(), &paths).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Appends `text` to column `index` unless the object already filled it.
fn fill(rows: &mut Rows<'_>, index: usize, text: Option<&str>) -> Result<(), ArrowError> {
    let Some(text) = text else { return Ok(()) };
    if std::mem::replace(&mut rows.filled[index], true) {
        return Ok(());
    }
    rows.builders[index].append_json_text(&rows.columns[index], text, rows.implied[index])
}

/// Fills the columns reading `paths` inside the JSON text `text`: one pass
/// over each object on the way, however many columns read below it.
fn fill_nested(rows: &mut Rows<'_>, text: &str, paths: &[(usize, &[String])]) -> Result<(), ArrowError> {
    let mut deeper = Vec::new();
    for &(index, path) in paths {
        match path.split_first() {
            None => fill(rows, index, Some(text))?,
            Some((key, _)) => deeper.push(key.as_str()),
        }
    }
    if deeper.is_empty() || !text.starts_with('{') {
        return Ok(());
    }
    deeper.dedup();
    let mut de = serde_json::Deserializer::from_str(text);
    let Ok(found) = de.deserialize_map(FindVisitor { keys: &deeper }) else { return Ok(()) };
    for (key, inner) in found {
        let next: Vec<(usize, &[String])> =
            paths.iter().filter(|(_, p)| p.first().is_some_and(|k| k == key)).map(|&(i, p)| (i, &p[1..])).collect();
        fill_nested(rows, inner, &next)?;
    }
    Ok(())
}

/// Collects the text of the wanted keys of one object (first occurrence each).
struct FindVisitor<'k> {
    keys: &'k [&'k str],
}

impl<'de, 'k> Visitor<'de> for FindVisitor<'k> {
    type Value = Vec<(&'k str, &'de str)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Vec<(&'k str, &'de str)> = Vec::with_capacity(self.keys.len());
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.keys.iter().find(|k| **k == key) {
                Some(k) if !found.iter().any(|(f, _)| f == k) => {
                    let raw: &'de RawValue = map.next_value()?;
                    found.push((k, raw.get()));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}
