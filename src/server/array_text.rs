//! Postgres' text form of a one-dimensional array (`{a,"b c",NULL}`), as
//! clients bind array parameters in text format. pgwire's own reading keeps
//! the blanks around elements, so `{"p", "f"}` (how the ADBC PostgreSQL
//! driver writes one) would bind `" f"`; Postgres ignores them.

/// The elements of `text` (`None`: SQL NULL), or `None` when it is not a
/// one-dimensional array literal.
pub fn parse(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    if inner.trim().is_empty() {
        return Some(vec![]);
    }
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let item = if chars.next_if_eq(&'"').is_some() {
            let mut value = String::new();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
            Some(value)
        } else {
            let mut value = String::new();
            while let Some(c) = chars.next_if(|c| *c != ',') {
                match c {
                    '{' | '}' | '"' => return None,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
            let value = value.trim_end().to_owned();
            if value.is_empty() {
                return None;
            }
            (!value.eq_ignore_ascii_case("NULL")).then_some(value)
        };
        items.push(item);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => return Some(items),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn some(items: &[&str]) -> Option<Vec<Option<String>>> {
        Some(items.iter().map(|s| Some(s.to_string())).collect())
    }

    #[test]
    fn blanks_around_elements_are_not_part_of_them() {
        assert_eq!(parse(r#"{"p", "f", "t"}"#), some(&["p", "f", "t"]));
        assert_eq!(parse("{ r , v }"), some(&["r", "v"]));
        assert_eq!(parse("{r,v}"), some(&["r", "v"]));
    }

    #[test]
    fn quotes_keep_blanks_commas_braces_and_the_word_null() {
        assert_eq!(parse(r#"{" a ","b,c","{}","NULL"}"#), some(&[" a ", "b,c", "{}", "NULL"]));
        assert_eq!(parse(r#"{"say \"hi\"",back\\slash}"#), some(&[r#"say "hi""#, r"back\slash"]));
    }

    #[test]
    fn unquoted_null_is_sql_null_and_empty_is_empty() {
        assert_eq!(parse("{a,NULL,null}"), Some(vec![Some("a".into()), None, None]));
        assert_eq!(parse("{}"), Some(vec![]));
        assert_eq!(parse(r#"{""}"#), some(&[""]));
    }

    #[test]
    fn what_is_not_a_flat_array_literal_is_refused() {
        for bad in ["a,b", "{a,,b}", "{a,}", r#"{"a}"#, "{{1,2},{3,4}}", r#"{"a" b}"#] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
