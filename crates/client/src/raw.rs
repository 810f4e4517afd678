//! Response objects kept as JSON text, for the scan path: building a
//! `serde_json::Value` tree per object costs more than decoding the text
//! straight into Arrow columns does (DESIGN.md §7). A list, search or
//! retrieve answer is compacted (whitespace outside strings removed, see
//! [`super::compact`]) and split into per-object spans; only the column
//! decoder parses the objects. Every [`RawObjects`] text is compact JSON.

use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::compact::write_compact;
use super::wire::{Page, SearchPage};

/// Objects of one response, each a span of the (compacted) response text.
#[derive(Debug, Clone, Default)]
pub struct RawObjects {
    text: Arc<String>,
    spans: Vec<Range<usize>>,
}

/// The few fields the client and the scan need before decoding: the cursor
/// (`id`), the split key (`created`) and the retrieve tombstone (`deleted`).
#[derive(Debug, Default, Deserialize)]
pub struct Head {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    created: Option<Value>,
    #[serde(default)]
    deleted: Option<Value>,
}

impl Head {
    /// The head of the object whose JSON text is `text` (empty when it is not an object).
    pub fn of(text: &str) -> Head {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The object's `id` when it is a string.
    pub fn id(&self) -> Option<&str> {
        self.id.as_ref().and_then(Value::as_str)
    }

    /// The object's `created` (unix seconds) when it is an integer.
    pub fn created(&self) -> Option<i64> {
        self.created.as_ref().and_then(Value::as_i64)
    }

    /// Whether the object is a deletion tombstone (`"deleted": true`).
    pub fn deleted(&self) -> bool {
        self.deleted == Some(Value::Bool(true))
    }
}

impl RawObjects {
    /// The one object a retrieve answered with (the whole body).
    pub fn single(body: &[u8]) -> Result<Self, serde_json::Error> {
        let text = compact_text(body)?;
        let raw: &RawValue = serde_json::from_str(&text)?;
        let span = offset(&text, raw.get());
        Ok(RawObjects { spans: vec![span], text })
    }

    /// Objects given as values (writes, actions, tests): serialized once.
    pub fn from_values(objects: &[Value]) -> Self {
        let mut text = String::new();
        let mut spans = Vec::with_capacity(objects.len());
        for object in objects {
            let start = text.len();
            text.push_str(&object.to_string());
            spans.push(start..text.len());
        }
        RawObjects { text: Arc::new(text), spans }
    }

    /// How many objects there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The compact JSON text of object `i`.
    pub fn get(&self, i: usize) -> &str {
        &self.text[self.spans[i].clone()]
    }

    /// Every object's JSON text, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.spans.iter().map(|s| &self.text[s.clone()])
    }

    /// `id`, `created` and `deleted` of object `i` (defaults when it is not an object).
    pub fn head(&self, i: usize) -> Head {
        Head::of(self.get(i))
    }

    /// Keeps the first `n` objects.
    pub fn truncate(&mut self, n: usize) {
        self.spans.truncate(n);
    }

    /// Keeps the objects for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let text = Arc::clone(&self.text);
        self.spans.retain(|s| keep(&text[s.clone()]));
    }

    /// The objects as values (for callers that want a tree, not columns).
    pub fn to_values(&self) -> Result<Vec<Value>, serde_json::Error> {
        self.iter().map(serde_json::from_str).collect()
    }
}

/// One list or search page with its objects as text.
#[derive(Debug, Clone, Default)]
pub struct RawPage {
    /// The page's objects, newest first as Stripe returns them.
    pub objects: RawObjects,
    /// Whether Stripe has more objects after this page.
    pub has_more: bool,
    /// Search only: the token of the next page.
    pub next_page: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    has_more: bool,
    #[serde(default)]
    next_page: Option<String>,
}

impl RawPage {
    /// Reads a list or search envelope (`data`, `has_more`, for search also
    /// `next_page`). A body that is not JSON fails with a syntax error
    /// (`classify()` tells), one of another shape with a data error.
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        let text = compact_text(body)?;
        let envelope: Envelope<'_> = serde_json::from_str(&text)?;
        let spans = envelope.data.iter().map(|raw| offset(&text, raw.get())).collect();
        let (has_more, next_page) = (envelope.has_more, envelope.next_page);
        Ok(RawPage { objects: RawObjects { text, spans }, has_more, next_page })
    }

    /// The page with its objects parsed into values.
    pub fn to_page(&self) -> Result<Page, serde_json::Error> {
        Ok(Page { data: self.objects.to_values()?, has_more: self.has_more })
    }

    /// The search page with its objects parsed into values.
    pub fn to_search_page(&self) -> Result<SearchPage, serde_json::Error> {
        Ok(SearchPage { page: self.to_page()?, next_page: self.next_page.clone() })
    }
}

/// The body as compact text.
fn compact_text(body: &[u8]) -> Result<Arc<String>, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => {
            let mut compact = String::with_capacity(text.len());
            write_compact(text, &mut compact).map_err(serde::de::Error::custom)?;
            Ok(Arc::new(compact))
        }
        // Let serde_json word the error (it points at the bad byte).
        Err(_) => Err(serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .unwrap_or_else(|| serde::de::Error::custom("the body is not valid UTF-8"))),
    }
}

/// Where `part` (a slice of `whole`) starts and ends within `whole`.
fn offset(whole: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

#[cfg(test)]
mod tests;
