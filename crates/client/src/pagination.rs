//! Pagination as pure state machines with a loop guard.
//!
//! Lists use cursors: the next request carries `starting_after` = the last id of the page
//! (or `ending_before` = the first id when the caller paginates backwards). Search uses the
//! opaque `next_page` token passed back as `page`. A server that repeats a cursor or sends an
//! empty page while claiming `has_more` would make a naive loop spin forever; here that is
//! an error.

use super::raw::RawPage;
use super::wire::{Page, SearchPage};
use serde_json::Value;
use std::collections::HashSet;

/// Why pagination stopped with an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    /// The server led back to a cursor already used.
    #[error("the server repeated the cursor {0}; stopping instead of looping")]
    RepeatedCursor(String),
    /// `has_more` was true but the page was empty, so there is no cursor to continue from.
    #[error("the server sent an empty page with has_more=true; stopping instead of looping")]
    EmptyPageWithMore,
    /// An object without a string `id` cannot serve as a cursor.
    #[error("the last object of the page has no id to continue from")]
    MissingId,
    /// Search said `has_more` but gave no `next_page`.
    #[error("the search result has has_more=true but no next_page")]
    MissingNextPage,
}

/// Cursor state for a list endpoint.
#[derive(Debug, Clone)]
pub struct ListCursor {
    base: Value,
    backwards: bool,
    cursor: Option<String>,
    seen: HashSet<String>,
    done: bool,
}

impl ListCursor {
    /// Starts from the caller's query (which may already hold `starting_after` or
    /// `ending_before`; the latter makes the walk go backwards).
    pub fn new(query: Value) -> Self {
        let query = if query.is_object() { query } else { Value::Object(Default::default()) };
        let backwards = query.get("ending_before").is_some_and(|v| !v.is_null());
        ListCursor { base: query, backwards, cursor: None, seen: HashSet::new(), done: false }
    }

    /// The query for the next request, or `None` when the walk is over.
    pub fn next_query(&self) -> Option<Value> {
        if self.done {
            return None;
        }
        let mut q = self.base.clone();
        if let (Some(c), Some(map)) = (&self.cursor, q.as_object_mut()) {
            let key = if self.backwards { "ending_before" } else { "starting_after" };
            map.insert(key.to_owned(), Value::String(c.clone()));
        }
        Some(q)
    }

    /// Takes in a page; afterwards `next_query` is the following request or `None`.
    pub fn advance(&mut self, page: &impl PageEdges) -> Result<(), PaginationError> {
        if !page.has_more() {
            self.done = true;
            return Ok(());
        }
        self.done = true; // stays done if anything below fails
        let len = page.len();
        if len == 0 {
            return Err(PaginationError::EmptyPageWithMore);
        }
        let id = page.id_at(if self.backwards { 0 } else { len - 1 }).ok_or(PaginationError::MissingId)?;
        if !self.seen.insert(id.clone()) {
            return Err(PaginationError::RepeatedCursor(id));
        }
        self.cursor = Some(id);
        self.done = false;
        Ok(())
    }
}

/// What a cursor needs to know of a page, whether its objects are values or text.
pub trait PageEdges {
    /// Whether the server has more objects after this page.
    fn has_more(&self) -> bool;
    /// How many objects the page holds.
    fn len(&self) -> usize;
    /// Whether the page holds no object.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The string `id` of object `i`, if it has one.
    fn id_at(&self, i: usize) -> Option<String>;
}

impl PageEdges for Page {
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn len(&self) -> usize {
        self.data.len()
    }
    fn id_at(&self, i: usize) -> Option<String> {
        self.data.get(i)?.get("id")?.as_str().map(str::to_owned)
    }
}

impl PageEdges for RawPage {
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn len(&self) -> usize {
        self.objects.len()
    }
    fn id_at(&self, i: usize) -> Option<String> {
        (i < self.objects.len()).then(|| self.objects.head(i).id().map(str::to_owned))?
    }
}

/// Page-token state for a search endpoint.
#[derive(Debug, Clone)]
pub struct SearchCursor {
    base: Value,
    token: Option<String>,
    seen: HashSet<String>,
    done: bool,
}

impl SearchCursor {
    /// Starts from the caller's query (holding at least `query`).
    pub fn new(query: Value) -> Self {
        let query = if query.is_object() { query } else { Value::Object(Default::default()) };
        SearchCursor { base: query, token: None, seen: HashSet::new(), done: false }
    }

    /// The query for the next request, or `None` when the walk is over.
    pub fn next_query(&self) -> Option<Value> {
        if self.done {
            return None;
        }
        let mut q = self.base.clone();
        if let (Some(t), Some(map)) = (&self.token, q.as_object_mut()) {
            map.insert("page".to_owned(), Value::String(t.clone()));
        }
        Some(q)
    }

    /// Takes in a search page.
    pub fn advance(&mut self, page: &SearchPage) -> Result<(), PaginationError> {
        self.advance_parts(&page.page, page.next_page.as_deref())
    }

    /// Takes in a search page given as its objects and its `next_page` token.
    pub fn advance_parts(&mut self, page: &impl PageEdges, next_page: Option<&str>) -> Result<(), PaginationError> {
        self.done = true;
        if !page.has_more() {
            return Ok(());
        }
        if page.is_empty() {
            return Err(PaginationError::EmptyPageWithMore);
        }
        let token = next_page.map(str::to_owned).ok_or(PaginationError::MissingNextPage)?;
        if !self.seen.insert(token.clone()) {
            return Err(PaginationError::RepeatedCursor(token));
        }
        self.token = Some(token);
        self.done = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(ids: &[&str], has_more: bool) -> Page {
        Page { data: ids.iter().map(|id| json!({"id": id})).collect(), has_more }
    }

    #[test]
    fn walks_forward_with_starting_after_and_keeps_the_query() {
        let mut c = ListCursor::new(json!({"limit": 2, "email": "a@b"}));
        assert_eq!(c.next_query(), Some(json!({"limit": 2, "email": "a@b"})));
        c.advance(&page(&["a", "b"], true)).unwrap();
        assert_eq!(c.next_query(), Some(json!({"limit": 2, "email": "a@b", "starting_after": "b"})));
        c.advance(&page(&["c", "d"], true)).unwrap();
        assert_eq!(c.next_query().unwrap()["starting_after"], "d");
        c.advance(&page(&["e"], false)).unwrap();
        assert_eq!(c.next_query(), None);
    }

    #[test]
    fn walks_backward_with_ending_before() {
        let mut c = ListCursor::new(json!({"ending_before": "z"}));
        c.advance(&page(&["x", "y"], true)).unwrap();
        assert_eq!(c.next_query().unwrap()["ending_before"], "x");
    }

    #[test]
    fn repeated_cursor_is_an_error_not_a_loop() {
        let mut c = ListCursor::new(json!({}));
        c.advance(&page(&["a", "b"], true)).unwrap();
        c.advance(&page(&["c", "d"], true)).unwrap();
        let err = c.advance(&page(&["a", "b"], true)).unwrap_err();
        assert_eq!(err, PaginationError::RepeatedCursor("b".into()));
        assert_eq!(c.next_query(), None);
    }

    #[test]
    fn empty_page_with_more_and_missing_id_are_errors() {
        let mut c = ListCursor::new(json!({}));
        assert_eq!(c.advance(&page(&[], true)), Err(PaginationError::EmptyPageWithMore));
        assert_eq!(c.next_query(), None);
        let mut c = ListCursor::new(json!({}));
        let p = Page { data: vec![json!({"object": "x"})], has_more: true };
        assert_eq!(c.advance(&p), Err(PaginationError::MissingId));
        // An empty last page is a normal end.
        let mut c = ListCursor::new(json!({}));
        assert_eq!(c.advance(&page(&[], false)), Ok(()));
        assert_eq!(c.next_query(), None);
    }

    #[test]
    fn search_uses_next_page_and_guards_loops() {
        let sp = |ids: &[&str], more: bool, next: Option<&str>| SearchPage {
            page: page(ids, more),
            next_page: next.map(str::to_owned),
        };
        let mut c = SearchCursor::new(json!({"query": "email:'a'"}));
        assert_eq!(c.next_query(), Some(json!({"query": "email:'a'"})));
        c.advance(&sp(&["a"], true, Some("t1"))).unwrap();
        assert_eq!(c.next_query(), Some(json!({"query": "email:'a'", "page": "t1"})));
        assert_eq!(c.advance(&sp(&["b"], true, Some("t1"))), Err(PaginationError::RepeatedCursor("t1".into())));
        let mut c = SearchCursor::new(json!({}));
        assert_eq!(c.advance(&sp(&["a"], true, None)), Err(PaginationError::MissingNextPage));
        let mut c = SearchCursor::new(json!({}));
        c.advance(&sp(&["a"], false, None)).unwrap();
        assert_eq!(c.next_query(), None);
    }
}
