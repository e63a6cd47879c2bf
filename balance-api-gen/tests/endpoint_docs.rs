//! The documentation constants are the spec's: `FRAGMENT` and `PROVENANCE` are the checked-in
//! files byte for byte, and `ENDPOINT_MARKDOWN` says what the fragment says. Every expectation
//! here is read from the fragment itself, so these hold for any fragment `regen` writes (the
//! churn tests in `xtask` run them against one without an example).

use balance_api_gen::{ENDPOINT_MARKDOWN, FRAGMENT, PROVENANCE};
use serde_json::Value;

fn workspace_file(name: &str) -> Vec<u8> {
    let path = format!("{}/../openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fragment() -> Value {
    serde_json::from_str(FRAGMENT).expect("the fragment is JSON")
}

/// Follows a local `$ref` (one level is all the fragment's layout and its churn fixtures use,
/// chains included by looping).
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(pointer) = value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        value = doc.pointer(pointer).unwrap_or(&Value::Null);
    }
    value
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The table row of the page that starts with `` | `name` | ``.
fn row<'a>(name: &str) -> &'a str {
    let start = format!("| `{name}` |");
    ENDPOINT_MARKDOWN
        .lines()
        .find(|line| line.starts_with(&start))
        .unwrap_or_else(|| panic!("no row for {name}:\n{ENDPOINT_MARKDOWN}"))
}

#[test]
fn fragment_and_provenance_are_the_checked_in_files_byte_for_byte() {
    assert_eq!(FRAGMENT.as_bytes(), workspace_file("balance.json"));
    assert_eq!(PROVENANCE.as_bytes(), workspace_file("provenance.json"));
}

#[test]
fn the_page_names_the_operation_its_path_and_its_source() {
    let doc = fragment();
    let (path, item) = doc["paths"]
        .as_object()
        .and_then(|paths| paths.iter().next())
        .expect("a path");
    assert!(
        ENDPOINT_MARKDOWN.contains(&format!("`GET {path}`")),
        "{ENDPOINT_MARKDOWN}"
    );
    let operation = &item["get"];
    for key in ["summary", "description"] {
        if let Some(text) = operation[key].as_str() {
            assert!(
                ENDPOINT_MARKDOWN.contains(text.trim())
                    || ENDPOINT_MARKDOWN.contains(&one_line(text)),
                "the {key} is on the page"
            );
        }
    }
    let provenance: Value = serde_json::from_str(PROVENANCE).expect("JSON");
    for key in ["source_url", "sha256"] {
        let value = provenance[key].as_str().expect(key);
        assert!(
            ENDPOINT_MARKDOWN.contains(value),
            "{key} {value} on the page"
        );
    }
}

#[test]
fn every_parameter_has_its_rules_and_description() {
    let doc = fragment();
    let item = doc["paths"]
        .as_object()
        .and_then(|p| p.values().next())
        .expect("a path");
    let parameters = item["get"]["parameters"].as_array().expect("parameters");
    assert!(!parameters.is_empty());
    for parameter in parameters {
        let parameter = resolve(&doc, parameter);
        let name = parameter["name"].as_str().expect("a name");
        let line = row(name);
        let schema = resolve(&doc, &parameter["schema"]);
        if let Some(pattern) = schema["pattern"].as_str() {
            assert!(line.contains(pattern), "{line}");
        }
        for key in ["minLength", "maxLength"] {
            if let Some(n) = schema[key].as_u64() {
                assert!(line.contains(&n.to_string()), "{key} {n}: {line}");
            }
        }
        if parameter["required"] == true {
            assert!(line.contains("| yes |"), "{line}");
        }
        if let Some(text) = parameter["description"].as_str() {
            assert!(line.contains(&one_line(text)), "{line}");
        }
    }
}

#[test]
fn every_response_field_has_its_type_nullability_and_description() {
    let doc = fragment();
    let item = doc["paths"]
        .as_object()
        .and_then(|p| p.values().next())
        .expect("a path");
    let media = &resolve(&doc, &item["get"]["responses"]["200"])["content"]["application/json"];
    let schema = resolve(&doc, &media["schema"]);
    let fields = schema["properties"].as_object().expect("properties");
    assert!(!fields.is_empty());
    let mut previous = 0;
    for (name, field) in fields {
        let line = row(name);
        // In the document's order.
        let at = ENDPOINT_MARKDOWN.find(line).expect("the row");
        assert!(at > previous, "{name} out of order");
        previous = at;
        let field = resolve(&doc, field);
        if let Some(kind) = field["type"].as_str() {
            assert!(line.contains(&format!("| {kind}")), "{kind}: {line}");
        }
        let nullable = if field["nullable"] == true {
            "yes"
        } else {
            "no"
        };
        let cells: Vec<&str> = line.split(" | ").collect();
        assert_eq!(cells.get(2), Some(&nullable), "nullable: {line}");
        if let Some(text) = field["description"].as_str() {
            assert!(line.contains(&one_line(text)), "{line}");
        }
    }
    // The documented example, value by value, when there is one.
    let example = media.get("example").or_else(|| {
        media["examples"]
            .as_object()?
            .values()
            .next()
            .map(|e| &resolve(&doc, e)["value"])
    });
    match example {
        Some(example) => {
            for value in example.as_object().expect("an object").values() {
                assert!(ENDPOINT_MARKDOWN.contains(&value.to_string()), "{value}");
            }
        }
        None => assert!(!ENDPOINT_MARKDOWN.contains("Example"), "no example to show"),
    }
}
