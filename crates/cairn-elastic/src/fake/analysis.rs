//! Text analysis as the fake cluster performs it: analyzers built from an
//! index's `settings.analysis` (a `pattern` tokenizer and the `lowercase`,
//! `length`, `snowball` and `asciifolding` token filters, with the
//! parameters the reference documents), plus the built-in `standard`
//! analyzer. Snowball and ASCII folding come from tantivy, whose filters
//! are ports of the same Snowball algorithms and of Lucene's
//! `ASCIIFoldingFilter`. Anything else is refused as the cluster refuses an
//! unknown component.

use std::collections::HashMap;

use serde_json::Value;
use tantivy::tokenizer::{AsciiFoldingFilter, Language, RawTokenizer, Stemmer, TextAnalyzer};

use super::Refusal;

/// A token: its position in the field and its text.
pub type Token = (u32, String);

#[derive(Clone)]
enum Filter {
    Lowercase,
    Length {
        min: usize,
        max: usize,
    },
    /// A tantivy analyzer applied to a single token.
    Token(TextAnalyzer),
}

/// One analyzer: a tokenizer's pattern and its filters.
#[derive(Clone)]
pub struct Analyzer {
    split: regex::Regex,
    filters: Vec<Filter>,
}

impl Analyzer {
    /// The built-in `standard` analyzer, close enough for fields the
    /// adapter never searches (Unicode word breaks approximated by
    /// splitting at anything not a letter or digit).
    pub fn standard() -> Self {
        Self {
            split: regex::Regex::new(r"[^\p{L}\p{N}]+").expect("a valid pattern"),
            filters: vec![Filter::Lowercase],
        }
    }

    pub fn analyze(&self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut position = 0u32;
        for piece in self.split.split(text) {
            if piece.is_empty() {
                continue;
            }
            // A removed token still takes its position, as in Lucene.
            let at = position;
            position += 1;
            let mut token = piece.to_string();
            let mut kept = true;
            for filter in &self.filters {
                match filter {
                    Filter::Lowercase => token = token.to_lowercase(),
                    Filter::Length { min, max } => {
                        let n = token.chars().count();
                        if n < *min || n > *max {
                            kept = false;
                            break;
                        }
                    }
                    Filter::Token(analyzer) => {
                        let mut analyzer = analyzer.clone();
                        let mut next = String::new();
                        {
                            let mut stream = analyzer.token_stream(&token);
                            while stream.advance() {
                                next.push_str(&stream.token().text);
                            }
                        }
                        token = next;
                    }
                }
            }
            if kept && !token.is_empty() {
                out.push((at, token));
            }
        }
        out
    }
}

fn single(analyzer: TextAnalyzer) -> Filter {
    Filter::Token(analyzer)
}

fn snowball(language: &str) -> Option<Filter> {
    let language = match language {
        "German" | "german" => Language::German,
        "French" | "french" => Language::French,
        "Italian" | "italian" => Language::Italian,
        "English" | "english" => Language::English,
        _ => return None,
    };
    Some(single(
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(Stemmer::new(language))
            .build(),
    ))
}

fn folding() -> Filter {
    single(
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(AsciiFoldingFilter)
            .build(),
    )
}

/// The analyzers `settings.analysis` defines, by name, with `standard`.
pub fn analyzers(analysis: &Value) -> Result<HashMap<String, Analyzer>, Refusal> {
    let illegal = |reason: String| Refusal::new(400, "illegal_argument_exception", reason);
    let mut tokenizers = HashMap::new();
    for (name, def) in analysis["tokenizer"].as_object().into_iter().flatten() {
        match def["type"].as_str() {
            Some("pattern") => {
                let pattern = def["pattern"].as_str().unwrap_or(r"\W+");
                let re = regex::Regex::new(pattern)
                    .map_err(|e| illegal(format!("invalid pattern [{pattern}] for tokenizer [{name}]: {e}")))?;
                tokenizers.insert(name.clone(), re);
            }
            other => {
                return Err(illegal(format!(
                    "Unknown tokenizer type [{}] for [{name}]",
                    other.unwrap_or("")
                )));
            }
        }
    }
    let mut filters: HashMap<String, Filter> = HashMap::new();
    for (name, def) in analysis["filter"].as_object().into_iter().flatten() {
        let filter = match def["type"].as_str() {
            Some("length") => Filter::Length {
                min: def["min"].as_u64().unwrap_or(0) as usize,
                max: def["max"].as_u64().map_or(usize::MAX, |m| m as usize),
            },
            Some("snowball") => {
                let language = def["language"].as_str().unwrap_or("English");
                snowball(language).ok_or_else(|| illegal(format!("Unknown snowball language [{language}]")))?
            }
            Some("lowercase") => Filter::Lowercase,
            Some("asciifolding") => folding(),
            other => {
                return Err(illegal(format!(
                    "Unknown filter type [{}] for [{name}]",
                    other.unwrap_or("")
                )));
            }
        };
        filters.insert(name.clone(), filter);
    }
    let mut out = HashMap::from([("standard".to_string(), Analyzer::standard())]);
    for (name, def) in analysis["analyzer"].as_object().into_iter().flatten() {
        if def["type"].as_str().unwrap_or("custom") != "custom" {
            return Err(illegal(format!("the fake knows only custom analyzers, not [{name}]")));
        }
        let tokenizer = def["tokenizer"].as_str().unwrap_or_default();
        let split = tokenizers.get(tokenizer).cloned().ok_or_else(|| {
            illegal(format!(
                "Custom Analyzer [{name}] failed to find tokenizer under name [{tokenizer}]"
            ))
        })?;
        let mut chain = Vec::new();
        for f in def["filter"].as_array().into_iter().flatten() {
            let f = f.as_str().unwrap_or_default();
            let filter = match f {
                "lowercase" => Filter::Lowercase,
                "asciifolding" => folding(),
                _ => filters.get(f).cloned().ok_or_else(|| {
                    illegal(format!(
                        "Custom Analyzer [{name}] failed to find filter under name [{f}]"
                    ))
                })?,
            };
            chain.push(filter);
        }
        out.insert(name.clone(), Analyzer { split, filters: chain });
    }
    Ok(out)
}
