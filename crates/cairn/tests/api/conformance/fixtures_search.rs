//! Fixture content of the `@search`, `@querystring-search`, `@vocabularies`
//! and Collection doc tests.

use serde_json::json;

use super::fixtures::Fixture;

/// Builds the content of the search doc tests; `false` when `name` is not one of them.
pub(super) fn setup_search(name: &str, f: &mut Fixture<'_>) -> bool {
    let doc = |id: &str| json!({"@type": "Document", "id": id, "title": "Lorem Ipsum"});
    let folder = |id: &str, title: &str| json!({"@type": "Folder", "id": id, "title": title});
    match name {
        "search_options" => {
            f.create("", folder("folder1", "Folder 1"));
            f.create("/folder1", folder("folder2", "Folder 2"));
        }
        "search_multiple_paths" => {
            f.create("", folder("folder1", "Folder 1"));
            f.create("/folder1", doc("doc1"));
            f.create("", folder("folder2", "Folder 2"));
            f.create("/folder2", doc("doc2"));
        }
        "search_sort_multiple_indexes" => {
            f.create("", folder("folder1", "Folder 1"));
            f.create("", doc("doc1"));
            f.create("", folder("folder2", "Folder 2"));
            f.create("", doc("doc2"));
        }
        "search_metadata_fields" | "search_fullobjects" => {
            f.create("", doc("doc1"));
            f.wait_indexed();
        }
        "querystringsearch_get" | "querystringsearch_post" => f.create(
            "",
            json!({"@type": "Document", "id": "testdocument", "title": "Test Document"}),
        ),
        "collection" | "collection_fullobjects" => {
            f.create("", json!({"@type": "Document", "id": "doc1", "title": "Document 1"}));
            f.create("", json!({"@type": "Document", "id": "doc2", "title": "Document 2"}));
            let query =
                json!([{"i": "portal_type", "o": "plone.app.querystring.operation.string.is", "v": "Document"}]);
            f.create(
                "",
                json!({"@type": "Collection", "id": "collection", "title": "My Collection",
                    "description": "This is a collection with two documents", "query": query}),
            );
        }
        _ => return false,
    }
    true
}
