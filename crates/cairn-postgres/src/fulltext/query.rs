//! SearchableText queries as SQL conditions on a `fulltext` row `f`, read
//! in one language's configuration. A subtree without wildcards becomes one
//! `f.doc @@ to_tsquery(...)`: words match the stems of the title or the
//! rest, a phrase adjacent stems within one of them. A wildcard matches
//! unstemmed words (`f.words`): a trailing `*` as a prefix query, any other
//! (`?`, an inner `*`) expanded beforehand against the site's vocabulary, as
//! the embedded index walks its term dictionary. Subtrees with wildcards
//! are joined with SQL's AND, OR and NOT. Every word the user typed travels
//! as a bound parameter.

use std::collections::HashMap;

use cairn_model::fulltext::Query;

/// A `tsquery` operand no document matches: nothing is ever weighted C.
const NEVER: &str = "'never':C";
/// Words one wildcard may expand to (the first in order).
pub(super) const GLOB_WORDS: usize = 512;

/// Bound parameters: `$1` is the site, the rest the query's texts.
pub(super) struct Params(pub(super) Vec<String>);

impl Params {
    pub(super) fn push(&mut self, text: String) -> usize {
        // PostgreSQL text cannot hold NUL; in a query it breaks no word.
        self.0.push(without_nul(&text));
        self.0.len()
    }
}

/// What each wildcard needing the vocabulary stands for: a literal
/// `tsquery` over unstemmed words, `None` when no word matches.
pub(super) type Expansions = HashMap<String, Option<String>>;

/// A wildcard the vocabulary must expand (not a plain trailing `*`).
pub(super) fn needs_expansion(glob: &str) -> bool {
    let Some(first) = glob.find(['*', '?']) else {
        return false;
    };
    &glob[first..] != "*"
}

/// The wildcards of `q` the vocabulary must expand.
pub(super) fn globs(q: &Query, out: &mut Vec<String>) {
    match q {
        Query::Glob(g) if needs_expansion(g) => out.push(g.clone()),
        Query::And(parts) | Query::Or(parts) => parts.iter().for_each(|p| globs(p, out)),
        Query::Not(inner) => globs(inner, out),
        _ => {}
    }
}

/// A LIKE prefix and an anchored regular expression for a folded wildcard.
pub(super) fn glob_patterns(folded: &str) -> (String, String) {
    let literal: String = folded.chars().take_while(|c| !matches!(c, '*' | '?')).collect();
    let mut like = String::new();
    for c in literal.chars() {
        if matches!(c, '%' | '_' | '\\') {
            like.push('\\');
        }
        like.push(c);
    }
    like.push('%');
    let regex = format!("^{}$", cairn_model::fulltext::glob_regex(folded));
    (like, regex)
}

/// The words found for one wildcard, as a literal `tsquery`.
pub(super) fn expansion(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| words.iter().map(|w| quoted(w)).collect::<Vec<_>>().join(" | "))
}

/// The SQL condition `q` sets on `f`, read in `config`.
pub(super) fn condition(q: &Query, config: &str, expanded: &Expansions, params: &mut Params) -> String {
    if !has_glob(q) {
        let n = params.push(text(q));
        return format!("f.doc @@ to_tsquery('{config}', ${n})");
    }
    match q {
        Query::Glob(g) => match expanded.get(g) {
            Some(Some(words)) => format!("f.words @@ ${}::tsquery", params.push(words.clone())),
            Some(None) => "false".into(),
            None => format!(
                "f.words @@ to_tsquery('cairn_words', ${})",
                params.push(format!("{}:*", quoted(g.trim_end_matches('*'))))
            ),
        },
        Query::And(parts) => {
            let joined: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Query::Not(inner) => format!("NOT ({})", condition(inner, config, expanded, params)),
                    other => condition(other, config, expanded, params),
                })
                .collect();
            format!("({})", joined.join(" AND "))
        }
        Query::Or(parts) => {
            let joined: Vec<String> = parts.iter().map(|p| condition(p, config, expanded, params)).collect();
            format!("({})", joined.join(" OR "))
        }
        // The parser never lets a lone NOT through; matching nothing is the safe reading.
        Query::Not(_) | Query::Term(_) | Query::Phrase(_) => "false".into(),
    }
}

/// `to_tsquery` text for ranking: every word and phrase asked for (not
/// excluded), any of them; `None` for a query of wildcards only.
pub(super) fn rank_text(q: &Query) -> Option<String> {
    fn leaves(q: &Query, out: &mut Vec<String>) {
        match q {
            Query::Term(_) | Query::Phrase(_) => out.push(text(q)),
            Query::And(parts) | Query::Or(parts) => parts.iter().for_each(|p| leaves(p, out)),
            Query::Not(_) | Query::Glob(_) => {}
        }
    }
    let mut out = Vec::new();
    leaves(q, &mut out);
    (!out.is_empty()).then(|| out.join(" | "))
}

fn has_glob(q: &Query) -> bool {
    match q {
        Query::Glob(_) => true,
        Query::And(parts) | Query::Or(parts) => parts.iter().any(has_glob),
        Query::Not(inner) => has_glob(inner),
        Query::Term(_) | Query::Phrase(_) => false,
    }
}

/// `to_tsquery` text for a subtree without wildcards.
fn text(q: &Query) -> String {
    match q {
        Query::Term(word) if analyzable(word) => quoted(word),
        // Within the title or within the rest, never across.
        Query::Phrase(words) if analyzable(&words.concat()) => {
            let phrase = quoted(&words.join(" "));
            format!("({phrase}:A | {phrase}:B)")
        }
        Query::Term(_) | Query::Phrase(_) | Query::Glob(_) => NEVER.into(),
        Query::And(parts) => {
            let joined: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Query::Not(inner) => format!("!{}", text(inner)),
                    other => text(other),
                })
                .collect();
            format!("({})", joined.join(" & "))
        }
        Query::Or(parts) => format!("({})", parts.iter().map(text).collect::<Vec<_>>().join(" | ")),
        Query::Not(_) => NEVER.into(),
    }
}

/// A word with no letter or digit analyzes to nothing, which must match
/// nothing (to_tsquery would drop it and widen an AND).
fn analyzable(word: &str) -> bool {
    word.chars().any(char::is_alphanumeric)
}

/// `text` with NUL characters, which PostgreSQL text cannot hold, as spaces.
pub(super) fn without_nul(text: &str) -> String {
    text.replace('\0', " ")
}

/// A `tsquery` operand: quoted, so the user's characters are text, never operators.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(q: &str) -> (String, Vec<String>) {
        let q = cairn_model::fulltext::parse(q).unwrap().unwrap();
        let mut params = Params(vec!["site".into()]);
        let expanded = Expansions::from([
            ("bew?ll*".to_string(), Some("'bewilligung'".to_string())),
            ("xy?z".to_string(), None),
        ]);
        (condition(&q, "cairn_de", &expanded, &mut params), params.0)
    }

    #[test]
    fn words_stay_parameters_and_subtrees_without_wildcards_are_one_condition() {
        let (e, p) = sql("Steuern NOT \"Ende März\" OR it's");
        assert_eq!(e, "f.doc @@ to_tsquery('cairn_de', $2)");
        assert_eq!(p[1], "(('Steuern' & !('Ende März':A | 'Ende März':B)) | 'it''s')");
        let (e, p) = sql("a\\b'c AND --");
        assert_eq!(e, "f.doc @@ to_tsquery('cairn_de', $2)");
        assert_eq!(p[1], format!("('a\\\\b''c' & {NEVER})"));
    }

    #[test]
    fn wildcards_are_prefixes_or_expansions_joined_by_sql() {
        let (e, p) = sql("Steu* AND bew?ll* NOT Wahl OR xy?z");
        assert_eq!(
            e,
            "((f.words @@ to_tsquery('cairn_words', $2) AND f.words @@ $3::tsquery \
             AND NOT (f.doc @@ to_tsquery('cairn_de', $4))) OR false)"
        );
        assert_eq!(p[1..], ["'Steu':*", "'bewilligung'", "'Wahl'"]);
        assert!(!needs_expansion("steu*"));
        assert!(needs_expansion("st*u") && needs_expansion("st?u") && needs_expansion("st**"));
        assert_eq!(
            glob_patterns("a_b?c*"),
            ("a\\_b%".to_string(), "^a\\_b.c.*$".to_string())
        );
        assert_eq!(expansion(&[]), None);
        let q = cairn_model::fulltext::parse("Steu* AND Wahl NOT Kanton")
            .unwrap()
            .unwrap();
        assert_eq!(rank_text(&q).as_deref(), Some("'Wahl'"));
        let q = cairn_model::fulltext::parse("Steu*").unwrap().unwrap();
        assert_eq!(rank_text(&q), None);
    }
}
