//! Named action arguments, Postgres style: `name => value`.
//!
//! DataFusion 55 rejects named arguments to table functions, so the SQL text
//! is rewritten before DataFusion plans it: in a call of an action function,
//! every `name => value` argument moves into one trailing
//! `named_struct('name', value, …)` argument, which DataFusion constant-folds
//! into a struct the action reads as its parameters:
//!
//! ```text
//! capture_payment_intent('pi_1', amount_to_capture => 500)
//!   → capture_payment_intent('pi_1', named_struct('amount_to_capture', 500))
//! ```
//!
//! The value text is kept verbatim (any expression; a column reference still
//! fails later with the action's own error). SQL's tokenizer finds the calls,
//! so string literals, quoted identifiers and comments are never rewritten.
//! Text that does not tokenize is returned unchanged for DataFusion to report.

use std::ops::Range;

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::catalog;

/// Rewrites named arguments of the built-in actions (see the module docs).
pub fn rewrite_sql(sql: &str) -> String {
    rewrite_with(sql, &|name| catalog::builtin().action(name).is_some())
}

/// Rewrites named arguments of the functions for which `is_action` holds.
pub fn rewrite_with(sql: &str, is_action: &dyn Fn(&str) -> bool) -> String {
    if !sql.contains("=>") {
        return sql.to_string();
    }
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return sql.to_string();
    };
    let offsets = Offsets::new(sql);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((open, close, args)) = action_call(&tokens, i, is_action) {
            if let Some(text) = rebuild(sql, &offsets, &tokens, &args) {
                let start = offsets.at(tokens[open].span.end);
                let end = offsets.at(tokens[close].span.start);
                edits.push((start..end, text));
            }
            i = close + 1;
        } else {
            i += 1;
        }
    }
    let mut out = sql.to_string();
    for (range, text) in edits.into_iter().rev() {
        out.replace_range(range, &text);
    }
    out
}

/// When token `i` starts a call `name(`…`)` of an action: the indices of the
/// parentheses and of each argument's significant tokens.
fn action_call(
    tokens: &[TokenWithSpan],
    i: usize,
    is_action: &dyn Fn(&str) -> bool,
) -> Option<(usize, usize, Vec<Vec<usize>>)> {
    let Token::Word(word) = &tokens[i].token else {
        return None;
    };
    let name = if word.quote_style.is_some() { word.value.clone() } else { word.value.to_ascii_lowercase() };
    if !is_action(&name) {
        return None;
    }
    let open = next_significant(tokens, i + 1)?;
    if tokens[open].token != Token::LParen {
        return None;
    }
    let mut depth = 0usize;
    let mut args: Vec<Vec<usize>> = vec![Vec::new()];
    for (j, t) in tokens.iter().enumerate().skip(open + 1) {
        match &t.token {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen if depth == 0 => {
                if args.len() == 1 && args[0].is_empty() {
                    args.clear();
                }
                return Some((open, j, args));
            }
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            Token::Whitespace(_) => continue,
            _ => {}
        }
        args.last_mut().expect("one argument at least").push(j);
    }
    None
}

/// The new argument list text, or `None` when no argument is named.
fn rebuild(sql: &str, offsets: &Offsets, tokens: &[TokenWithSpan], args: &[Vec<usize>]) -> Option<String> {
    let text = |idx: &[usize]| -> &str {
        let (first, last) = (idx[0], idx[idx.len() - 1]);
        &sql[offsets.at(tokens[first].span.start)..offsets.at(tokens[last].span.end)]
    };
    let mut positional = Vec::new();
    let mut named = Vec::new();
    for arg in args.iter().filter(|a| !a.is_empty()) {
        match (&tokens[arg[0]].token, arg.get(1).map(|&k| &tokens[k].token)) {
            (Token::Word(w), Some(Token::RArrow)) if arg.len() > 2 => {
                named.push(format!("'{}', {}", w.value.replace('\'', "''"), text(&arg[2..])));
            }
            _ => positional.push(text(arg).to_string()),
        }
    }
    if named.is_empty() {
        return None;
    }
    positional.push(format!("named_struct({})", named.join(", ")));
    Some(positional.join(", "))
}

fn next_significant(tokens: &[TokenWithSpan], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&k| !matches!(tokens[k].token, Token::Whitespace(_)))
}

/// Maps the tokenizer's line/column locations (1-based, columns count
/// characters) to byte offsets.
struct Offsets {
    line_starts: Vec<usize>,
    text: String,
}

impl Offsets {
    fn new(sql: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        Self { line_starts, text: sql.to_string() }
    }

    fn at(&self, loc: Location) -> usize {
        let start = self.line_starts.get(loc.line.saturating_sub(1) as usize).copied().unwrap_or(self.text.len());
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(loc.column.saturating_sub(1) as usize)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

#[cfg(test)]
#[path = "named_tests.rs"]
mod tests;
