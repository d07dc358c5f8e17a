//! Plone's SearchableText language, as ZCTextIndex reads it: words are ANDed,
//! `AND`/`OR`/`NOT` in any case are operators, parentheses group, double
//! quotes make a phrase and `*`/`?` glob inside a word. Parsing also bounds
//! the work one query may ask of the engine, so a hostile query is a 400.
//! Pure data: the API parses it, the core bounds and ranks with it, and a
//! full-text engine (cairn-search) translates it into its own queries.

use thiserror::Error;

/// At most this many words and globs in one query.
pub const MAX_TERMS: usize = 32;
/// Longest query text accepted, in characters.
pub const MAX_CHARS: usize = 1000;
/// Deepest nesting of parentheses.
pub const MAX_DEPTH: usize = 8;
/// Literal characters a glob must start with (a leading `*` would scan the
/// whole vocabulary).
pub const GLOB_PREFIX: usize = 2;

/// A parsed full-text query; the leaves are still unanalyzed words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Query {
    Term(String),
    /// A word with `*` or `?` in it, e.g. `steuer*`.
    Glob(String),
    Phrase(Vec<String>),
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// Why a query was refused; the message is shown to the user.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("The search text is longer than {MAX_CHARS} characters.")]
    TooLong,
    #[error("The search text has more than {MAX_TERMS} words.")]
    TooManyTerms,
    #[error("The search text nests parentheses more than {MAX_DEPTH} deep.")]
    TooDeep,
    #[error("Unbalanced parentheses in the search text.")]
    Unbalanced,
    #[error("'{0}' needs a word on both sides.")]
    Dangling(&'static str),
    #[error("A search can't only exclude words: add a word to find.")]
    OnlyNegative,
    #[error("'{0}': a wildcard needs at least {GLOB_PREFIX} letters before it.")]
    ShortGlob(String),
}

/// Parses SearchableText. `Ok(None)` means nothing to search for (empty, or
/// only `*`), which finds nothing, as in Plone.
pub fn parse(text: &str) -> Result<Option<Query>, QueryError> {
    if text.chars().count() > MAX_CHARS {
        return Err(QueryError::TooLong);
    }
    let tokens = tokenize(text);
    let terms = tokens
        .iter()
        .filter(|t| matches!(t, Token::Word(_) | Token::Phrase(_)))
        .count();
    if terms > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let Some(query) = parser.or()? else { return Ok(None) };
    if parser.pos < parser.tokens.len() {
        return Err(QueryError::Unbalanced);
    }
    if matches!(query, Query::Not(_)) {
        return Err(QueryError::OnlyNegative);
    }
    Ok(Some(query))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Phrase(Vec<String>),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '"' => {
                chars.next();
                // An unclosed quote runs to the end, as a forgiving search box would.
                let inner: String = chars.by_ref().take_while(|&c| c != '"').collect();
                let words: Vec<String> = inner.split_whitespace().map(str::to_owned).collect();
                if !words.is_empty() {
                    tokens.push(Token::Phrase(words));
                }
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(match word.to_uppercase().as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    "NOT" => Token::Not,
                    _ => Token::Word(word),
                });
            }
        }
    }
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Option<Query>, QueryError> {
        let mut parts = Vec::new();
        loop {
            let part = self.and()?;
            let more = self.peek() == Some(&Token::Or);
            match part {
                Some(Query::Not(_)) => return Err(QueryError::OnlyNegative),
                Some(q) => parts.push(q),
                None if more || !parts.is_empty() => return Err(QueryError::Dangling("OR")),
                None => {}
            }
            if !more {
                break;
            }
            self.pos += 1;
        }
        Ok(combine(parts, Query::Or))
    }

    fn and(&mut self) -> Result<Option<Query>, QueryError> {
        let mut parts = Vec::new();
        loop {
            let explicit = self.peek() == Some(&Token::And);
            if explicit {
                if parts.is_empty() {
                    return Err(QueryError::Dangling("AND"));
                }
                self.pos += 1;
            }
            match self.unary()? {
                Some(q) => parts.push(q),
                None if explicit => return Err(QueryError::Dangling("AND")),
                None => break,
            }
        }
        // NOT only narrows what the positive words found.
        if parts.len() > 1 && parts.iter().all(|p| matches!(p, Query::Not(_))) {
            return Err(QueryError::OnlyNegative);
        }
        Ok(combine(parts, Query::And))
    }

    fn unary(&mut self) -> Result<Option<Query>, QueryError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return match self.atom()? {
                Some(q) => Ok(Some(Query::Not(Box::new(q)))),
                None => Err(QueryError::Dangling("NOT")),
            };
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Option<Query>, QueryError> {
        let Some(token) = self.peek().cloned() else {
            return Ok(None);
        };
        let query = match token {
            Token::Word(w) => term(&w)?,
            Token::Phrase(words) => Some(Query::Phrase(words)),
            Token::Open => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(QueryError::TooDeep);
                }
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError::Unbalanced);
                }
                self.depth -= 1;
                self.pos += 1;
                // Empty parentheses hold no word: read on.
                return match inner {
                    Some(q) => Ok(Some(q)),
                    None => self.atom(),
                };
            }
            Token::Close | Token::And | Token::Or | Token::Not => return Ok(None),
        };
        self.pos += 1;
        match query {
            Some(q) => Ok(Some(q)),
            // A lone `*` is no word: skip it and read on.
            None => self.atom(),
        }
    }
}

/// Joins queries that must all match (several SearchableText criteria of
/// one listing) into one flat `And`, bounded like a single query: the words
/// of all parts count together, and the nesting stays that of the deepest
/// part, however many parts there are.
pub fn all_of(parts: impl IntoIterator<Item = Query>) -> Result<Option<Query>, QueryError> {
    let mut flat = Vec::new();
    for part in parts {
        match part {
            Query::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.iter().map(Query::terms).sum::<usize>() > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    if !flat.is_empty() && flat.iter().all(|p| matches!(p, Query::Not(_))) {
        return Err(QueryError::OnlyNegative);
    }
    Ok(combine(flat, Query::And))
}

/// A glob's pattern as a regular expression over whole words (the caller
/// anchors it where its engine does not): `steu?r*` → `steu.r.*`, every
/// other character taken literally. The glob is folded as the words it
/// matches are.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_alphanumeric() => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

impl Query {
    /// Words, phrases and globs in the query. Recursion is safe: a parsed
    /// query nests at most [`MAX_DEPTH`] groups and [`all_of`] adds none.
    pub fn terms(&self) -> usize {
        match self {
            Query::Term(_) | Query::Glob(_) | Query::Phrase(_) => 1,
            Query::And(parts) | Query::Or(parts) => parts.iter().map(Query::terms).sum(),
            Query::Not(inner) => inner.terms(),
        }
    }

    /// Levels of nesting, a single word being 1.
    pub fn depth(&self) -> usize {
        match self {
            Query::Term(_) | Query::Glob(_) | Query::Phrase(_) => 1,
            Query::And(parts) | Query::Or(parts) => 1 + parts.iter().map(Query::depth).max().unwrap_or(0),
            Query::Not(inner) => 1 + inner.depth(),
        }
    }
}

fn term(word: &str) -> Result<Option<Query>, QueryError> {
    if word.chars().all(|c| matches!(c, '*' | '?')) {
        return Ok(None);
    }
    match word.find(['*', '?']) {
        None => Ok(Some(Query::Term(word.to_owned()))),
        Some(at) if word[..at].chars().count() < GLOB_PREFIX => Err(QueryError::ShortGlob(word.to_owned())),
        Some(_) => Ok(Some(Query::Glob(word.to_owned()))),
    }
}

fn combine(mut parts: Vec<Query>, join: fn(Vec<Query>) -> Query) -> Option<Query> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(join(parts)),
    }
}

#[cfg(test)]
mod tests;
