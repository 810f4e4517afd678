//! Splitting input into SQL statements (ended by `;`) and meta-commands (a line
//! starting with `\` where no statement is pending). The scanner respects
//! single-quoted strings (`''` escapes), double-quoted identifiers, `--` line
//! comments and nested `/* */` block comments, so a `;` inside any of them
//! does not end a statement.

/// One unit of work found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A SQL statement without its terminating `;`, with the 1-based line it starts on.
    Sql { text: String, line: usize },
    /// A meta-command line (`\dt`, `\d customers`), trimmed, with its 1-based line.
    Meta { text: String, line: usize },
}

/// The result of splitting: complete pieces plus the unterminated tail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Complete statements and meta-commands, in input order.
    pub pieces: Vec<Piece>,
    /// Text after the last complete piece that holds code but no `;` yet
    /// (empty when only whitespace or comments remain).
    pub rest: String,
    /// 1-based line where `rest` starts.
    pub rest_line: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Single,
    Double,
    LineComment,
    Block(u32),
}

/// Splits `input` into statements and meta-commands.
pub fn split(input: &str) -> Split {
    let mut out = Split::default();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut state = State::Code;
    let mut start = 0usize; // byte offset where the pending piece starts
    let mut has_code = false;
    let mut code_line = 1usize;
    let mut code_start = 0usize; // byte offset of the pending piece's first code character
    let mut line = 1usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, n)| n);
        match state {
            State::Code => match c {
                '\\' if !has_code => {
                    let end = input[pos..].find('\n').map_or(input.len(), |n| pos + n);
                    out.pieces.push(Piece::Meta { text: input[pos..end].trim().to_string(), line });
                    while i < chars.len() && chars[i].0 < end {
                        i += 1;
                    }
                    start = end;
                    continue;
                }
                ';' => {
                    if has_code {
                        let text = input[code_start..pos].trim().to_string();
                        out.pieces.push(Piece::Sql { text, line: code_line });
                    }
                    has_code = false;
                    start = pos + 1;
                }
                '-' if next == Some('-') => {
                    state = State::LineComment;
                    i += 1;
                }
                '/' if next == Some('*') => {
                    state = State::Block(1);
                    i += 1;
                }
                c if c.is_whitespace() => {}
                _ => {
                    if !has_code {
                        has_code = true;
                        code_line = line;
                        code_start = pos;
                    }
                    if c == '\'' {
                        state = State::Single;
                    } else if c == '"' {
                        state = State::Double;
                    }
                }
            },
            State::Single if c == '\'' => state = State::Code,
            State::Double if c == '"' => state = State::Code,
            State::LineComment if c == '\n' => state = State::Code,
            State::Block(depth) => {
                if c == '*' && next == Some('/') {
                    state = if depth == 1 { State::Code } else { State::Block(depth - 1) };
                    i += 1;
                } else if c == '/' && next == Some('*') {
                    state = State::Block(depth + 1);
                    i += 1;
                }
            }
            _ => {}
        }
        if c == '\n' {
            line += 1;
        }
        i += 1;
    }
    if has_code || matches!(state, State::Single | State::Double | State::Block(_)) {
        out.rest = input[if has_code { code_start } else { start }..].trim().to_string();
        out.rest_line = if has_code { code_line } else { line };
    }
    out
}

/// True when `input` ends at a piece boundary: nothing but whitespace or
/// comments follows the last `;` or meta-command (used for multi-line input).
pub fn is_complete(input: &str) -> bool {
    split(input).rest.is_empty()
}

#[cfg(test)]
#[path = "statements_tests.rs"]
mod tests;
