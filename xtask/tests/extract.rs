//! Extraction on small synthetic documents: what is pulled in, what is left out, what is refused.

use serde_json::{Value, json};
use xtask::extract::fragment;

const PATH: &str = "/v1/Things/{Sid}.json";

fn doc(schemas: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://example.test"}],
        "tags": [{"name": "Things"}, {"name": "Unrelated"}],
        "paths": {
            PATH: {"get": {
                "operationId": "FetchThing",
                "tags": ["Things"],
                "security": [{"basic": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/thing"}}}}}
            }},
            "/v1/Other.json": {"get": {"responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/other"}}}}}}}
        },
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "unused": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas
        }
    })
}

fn schema_names(frag: &Value) -> Vec<&str> {
    frag["components"]["schemas"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn follows_nested_ref_chains_and_leaves_unrelated_schemas_out() {
    let spec = doc(json!({
        "thing": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/owner"}}},
        "owner": {"type": "object", "properties": {"address": {"$ref": "#/components/schemas/address"}}},
        "address": {"type": "string", "pattern": "^A$"},
        "other": {"type": "string"}
    }));
    let frag = fragment(&spec, PATH).expect("extracts");
    assert_eq!(schema_names(&frag), ["thing", "owner", "address"]);
    assert_eq!(
        frag["components"]["schemas"]["address"],
        spec["components"]["schemas"]["address"]
    );
    assert_eq!(frag["paths"].as_object().map(|p| p.len()), Some(1));
    assert_eq!(
        frag["paths"][PATH], spec["paths"][PATH],
        "the path item is copied verbatim"
    );
    assert_eq!(frag["tags"], json!([{"name": "Things"}]));
    assert_eq!(
        frag["components"]["securitySchemes"],
        json!({"basic": {"type": "http", "scheme": "basic"}})
    );
    assert_eq!(frag["info"], spec["info"]);
    assert_eq!(frag["servers"], spec["servers"]);
}

#[test]
fn shared_components_are_copied_once() {
    let spec = doc(json!({
        "thing": {"type": "object", "properties": {
            "a": {"$ref": "#/components/schemas/shared"},
            "b": {"items": {"$ref": "#/components/schemas/shared"}, "type": "array"}}},
        "shared": {"type": "string"},
        "other": {"$ref": "#/components/schemas/shared"}
    }));
    let frag = fragment(&spec, PATH).expect("extracts");
    assert_eq!(schema_names(&frag), ["thing", "shared"]);
}

#[test]
fn a_circular_schema_is_extracted_once_without_looping() {
    let spec = doc(json!({
        "thing": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/node"}}},
        "node": {"type": "object", "properties": {
            "parent": {"$ref": "#/components/schemas/node"},
            "thing": {"$ref": "#/components/schemas/thing"}}},
        "other": {"type": "string"}
    }));
    let frag = fragment(&spec, PATH).expect("extracts");
    assert_eq!(schema_names(&frag), ["thing", "node"]);
}

#[test]
fn a_dangling_ref_is_refused_with_its_name() {
    let spec = doc(json!({
        "thing": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/missing"}}},
        "other": {"type": "string"}
    }));
    let err = fragment(&spec, PATH).expect_err("must refuse").to_string();
    assert!(
        err.contains("dangling $ref #/components/schemas/missing"),
        "{err}"
    );
}

#[test]
fn an_undefined_security_scheme_is_refused() {
    let mut spec = doc(json!({"thing": {"type": "string"}, "other": {"type": "string"}}));
    spec["components"]["securitySchemes"] = json!({});
    let err = fragment(&spec, PATH).expect_err("must refuse").to_string();
    assert!(err.contains("securitySchemes \"basic\""), "{err}");
}

#[test]
fn a_missing_path_is_refused() {
    let spec = doc(json!({"thing": {"type": "string"}, "other": {"type": "string"}}));
    let err = fragment(&spec, "/v1/Nope.json")
        .expect_err("must refuse")
        .to_string();
    assert_eq!(err, "the document has no path /v1/Nope.json");
}

#[test]
fn openapi_3_1_and_non_openapi_documents_are_refused() {
    let mut spec = doc(json!({"thing": {"type": "string"}, "other": {"type": "string"}}));
    spec["openapi"] = json!("3.1.0");
    let err = fragment(&spec, PATH).expect_err("must refuse").to_string();
    assert!(
        err.contains("OpenAPI 3.1.0; progenitor reads OpenAPI 3.0.x only"),
        "{err}"
    );

    let err = fragment(&json!({"swagger": "2.0"}), PATH)
        .expect_err("must refuse")
        .to_string();
    assert!(err.contains("no \"openapi\" version"), "{err}");
    assert!(fragment(&json!([1, 2]), PATH).is_err());
}

#[test]
fn escaped_ref_names_are_resolved() {
    let mut spec = doc(json!({"a/b": {"type": "string"}, "other": {"type": "string"}}));
    spec["paths"][PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/a~1b"});
    let frag = fragment(&spec, PATH).expect("extracts");
    assert_eq!(schema_names(&frag), ["a/b"]);
}

/// A hostile or broken spec can chain `$ref`s as long as it likes; serde_json's parser bounds
/// nesting depth but not chain length, so extraction must not recurse once per hop. The walk
/// runs on a deliberately small stack, where a recursive walk of this chain overflows.
#[test]
fn a_very_long_ref_chain_extracts_without_overflowing_the_stack() {
    const LEN: usize = 20_000;
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "thing".to_owned(),
        json!({"$ref": "#/components/schemas/s0"}),
    );
    for i in 0..LEN {
        let schema = if i + 1 < LEN {
            let next = format!("#/components/schemas/s{}", i + 1);
            json!({"type": "object", "properties": {"next": {"$ref": next}}})
        } else {
            json!({"type": "string"})
        };
        schemas.insert(format!("s{i}"), schema);
    }
    schemas.insert("other".to_owned(), json!({"type": "string"}));
    let spec = doc(Value::Object(schemas));

    let walked = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let frag = fragment(&spec, PATH).map_err(|e| e.to_string())?;
            let names = schema_names(&frag);
            Ok::<_, String>((names.len(), names.last().map(|n| (*n).to_owned())))
        })
        .expect("spawn the walker")
        .join()
        .expect("the walker did not panic");
    let (count, last) = walked.expect("extracts");
    assert_eq!(count, LEN + 1, "thing plus every link of the chain");
    assert_eq!(last.as_deref(), Some(format!("s{}", LEN - 1).as_str()));
}
