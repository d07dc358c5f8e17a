use super::*;

fn q(text: &str) -> Query {
    parse(text).unwrap().unwrap()
}

fn t(w: &str) -> Query {
    Query::Term(w.into())
}

fn not(q: Query) -> Query {
    Query::Not(Box::new(q))
}

#[test]
fn words_are_anded_and_operators_take_any_case() {
    assert_eq!(q("steuern"), t("steuern"));
    assert_eq!(q("steuern  formular"), Query::And(vec![t("steuern"), t("formular")]));
    assert_eq!(q("steuern and formular"), Query::And(vec![t("steuern"), t("formular")]));
    assert_eq!(q("a OR b c"), Query::Or(vec![t("a"), Query::And(vec![t("b"), t("c")])]));
    assert_eq!(q("a or b"), Query::Or(vec![t("a"), t("b")]));
}

#[test]
fn not_narrows_and_parentheses_group() {
    assert_eq!(q("a NOT b"), Query::And(vec![t("a"), not(t("b"))]));
    assert_eq!(q("a AND NOT b"), Query::And(vec![t("a"), not(t("b"))]));
    assert_eq!(
        q("(a OR b) NOT c"),
        Query::And(vec![Query::Or(vec![t("a"), t("b")]), not(t("c"))])
    );
    assert_eq!(
        q("a NOT (b OR c)"),
        Query::And(vec![t("a"), not(Query::Or(vec![t("b"), t("c")]))])
    );
    assert_eq!(q("() a"), t("a"));
}

#[test]
fn phrases_and_globs() {
    assert_eq!(
        q("\"Amt für Umwelt\""),
        Query::Phrase(vec!["Amt".into(), "für".into(), "Umwelt".into()])
    );
    assert_eq!(
        q("\"offen"),
        Query::Phrase(vec!["offen".into()]),
        "an unclosed quote runs to the end"
    );
    assert_eq!(q("steuer*"), Query::Glob("steuer*".into()));
    assert_eq!(q("st?uer"), Query::Glob("st?uer".into()));
    assert_eq!(q("a \"\" b"), Query::And(vec![t("a"), t("b")]));
}

#[test]
fn nothing_to_search_for() {
    for text in ["", "   ", "*", "* ?", "()", "\"\""] {
        assert_eq!(parse(text), Ok(None), "{text:?}");
    }
    assert_eq!(q("a *"), t("a"));
}

#[test]
fn refusals_have_reasons() {
    assert_eq!(parse("NOT a"), Err(QueryError::OnlyNegative));
    assert_eq!(parse("NOT a NOT b"), Err(QueryError::OnlyNegative));
    assert_eq!(parse("a OR NOT b"), Err(QueryError::OnlyNegative));
    assert_eq!(parse("a OR"), Err(QueryError::Dangling("OR")));
    assert_eq!(parse("OR a"), Err(QueryError::Dangling("OR")));
    assert_eq!(parse("AND a"), Err(QueryError::Dangling("AND")));
    assert_eq!(parse("a AND"), Err(QueryError::Dangling("AND")));
    assert_eq!(parse("a NOT"), Err(QueryError::Dangling("NOT")));
    assert_eq!(parse("(a"), Err(QueryError::Unbalanced));
    assert_eq!(parse("a)"), Err(QueryError::Unbalanced));
    assert_eq!(parse("*teuer"), Err(QueryError::ShortGlob("*teuer".into())));
    assert_eq!(parse("s*"), Err(QueryError::ShortGlob("s*".into())));
}

#[test]
fn hostile_queries_are_bounded() {
    assert_eq!(parse(&"a".repeat(MAX_CHARS + 1)), Err(QueryError::TooLong));
    let many = vec!["wort"; MAX_TERMS + 1].join(" ");
    assert_eq!(parse(&many), Err(QueryError::TooManyTerms));
    assert!(parse(&vec!["wort"; MAX_TERMS].join(" ")).is_ok());
    let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(parse(&deep), Err(QueryError::TooDeep));
    let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&ok), Ok(Some(t("a"))));
    // Every refusal reads as a sentence a user can act on.
    assert!(
        QueryError::ShortGlob("s*".into())
            .to_string()
            .contains("at least 2 letters")
    );
}

mod fuzz {
    //! No input may crash the parser, and whatever it and `all_of` accept
    //! stays within the bounds every walker of a query relies on.
    use proptest::prelude::*;

    use super::super::*;

    /// Text made of the pieces the grammar cares about, so the parser's
    /// branches are reached far more often than by random characters.
    fn query_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-zäöü]{1,8}",
            Just("AND".to_string()),
            Just("or".to_string()),
            Just("NOT".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("\"".to_string()),
            Just("*".to_string()),
            "[a-z]{0,3}[*?][a-z]{0,2}",
            "\\PC{1,3}",
        ];
        prop::collection::vec(piece, 0..80).prop_map(|p| p.join(" "))
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_stays_bounded(text in query_text()) {
            if let Ok(Some(q)) = parse(&text) {
                prop_assert!(q.terms() <= MAX_TERMS);
                // A group adds an Or and an And level to the one it sits in.
                prop_assert!(q.depth() <= 3 * (MAX_DEPTH + 1));
            }
        }

        #[test]
        fn arbitrary_characters_never_panic(text in "\\PC{0,1100}") {
            let _ = parse(&text);
        }

        #[test]
        fn many_criteria_join_flat_and_bounded(texts in prop::collection::vec(query_text(), 0..300)) {
            let parts: Vec<Query> = texts.iter().filter_map(|t| parse(t).ok().flatten()).collect();
            let deepest = parts.iter().map(Query::depth).max().unwrap_or(0);
            if let Ok(Some(q)) = all_of(parts) {
                prop_assert!(q.terms() <= MAX_TERMS);
                prop_assert!(q.depth() <= deepest + 1);
            }
        }
    }

    #[test]
    fn two_hundred_forty_criteria_are_refused_not_nested() {
        let parts = (0..240).map(|i| Query::Term(format!("w{i}")));
        assert_eq!(all_of(parts), Err(QueryError::TooManyTerms));
        let few = all_of((0..3).map(|i| Query::Term(format!("w{i}")))).unwrap().unwrap();
        assert_eq!(few.depth(), 2, "one flat And");
    }
}
