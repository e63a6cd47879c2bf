//! The endpoint's reference page in Markdown, made from the fragment on every build: what an
//! assistant (the `balance-mcp` resource) or a person reads about the endpoint, in the spec's own
//! words, so a regenerated fragment changes the page with no hand-copied text to fall behind.
//!
//! Only the contract is required (the operation, its parameters, the 200 response's schema);
//! prose (summaries, descriptions, examples) appears where the spec has it and is left out where
//! it has none, so a fragment stripped of prose still builds.

use super::resolve;
use serde_json::Value;
use std::fmt::Write;

/// The page for operation `operation_id` of `doc`, with `provenance` (the record `regen` keeps
/// beside the fragment) as its closing line.
pub fn page(doc: &Value, operation_id: &str, provenance: &Value) -> Result<String, String> {
    let (path, item, method, operation) = find_operation(doc, operation_id)?;
    let mut out = String::new();
    let heading = match prose(&item["description"]) {
        Some(what) => format!("{} (Twilio API)", one_line(&what)),
        None => format!("{operation_id} (Twilio API)"),
    };
    // `write!` into a String cannot fail; the results are ignored below for that reason.
    let _ = writeln!(out, "# {heading}\n");
    let _ = writeln!(out, "`{} {path}`\n", method.to_ascii_uppercase());
    let summary = prose(&operation["summary"]);
    let description = prose(&operation["description"]);
    if let Some(summary) = &summary {
        let _ = writeln!(out, "{}\n", one_line(summary));
    }
    // Twilio often repeats the summary as the description; saying it twice adds nothing.
    if let Some(description) = description.filter(|d| Some(d) != summary.as_ref()) {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    let _ = writeln!(out, "- Operation: `{operation_id}`");
    let server = item["servers"][0]["url"]
        .as_str()
        .or(doc["servers"][0]["url"].as_str());
    if let Some(server) = server {
        let _ = writeln!(out, "- Server: `{server}`");
    }
    let security = operation.get("security").unwrap_or(&doc["security"]);
    let schemes = security_schemes(doc, security);
    if !schemes.is_empty() {
        let _ = writeln!(out, "- Authentication: {}", schemes.join(", or "));
    }
    out.push('\n');

    parameters(&mut out, doc, item, operation);
    responses(&mut out, doc, operation)?;

    let _ = write!(
        out,
        "---\n\nMade at build time by balance-api-gen from `openapi/balance.json`"
    );
    if let Some(source) = provenance["source_url"].as_str() {
        let _ = write!(out, ", cut verbatim from <{source}>");
    }
    let details: Vec<String> = [("sha256", "sha256"), ("taken_at", "taken")]
        .iter()
        .filter_map(|(key, label)| Some(format!("{label} `{}`", provenance[*key].as_str()?)))
        .collect();
    if !details.is_empty() {
        let _ = write!(out, " ({})", details.join(", "));
    }
    out.push_str(".\n");
    Ok(out)
}

/// The path, path item, method and operation whose `operationId` is `operation_id`.
fn find_operation<'a>(
    doc: &'a Value,
    operation_id: &str,
) -> Result<(&'a str, &'a Value, &'a str, &'a Value), String> {
    let paths = doc["paths"].as_object().into_iter().flatten();
    paths
        .flat_map(|(path, item)| {
            let operations = item.as_object().into_iter().flatten();
            operations.map(move |(method, operation)| (path.as_str(), item, method, operation))
        })
        .find(|(.., operation)| operation["operationId"] == operation_id)
        .map(|(path, item, method, operation)| (path, item, method.as_str(), operation))
        .ok_or(format!("no operation {operation_id}"))
}

/// Each security requirement as a reader would say it, e.g. "HTTP basic (`accountSid_authToken`)".
fn security_schemes(doc: &Value, security: &Value) -> Vec<String> {
    let requirements = security.as_array().into_iter().flatten();
    requirements
        .filter_map(Value::as_object)
        .flat_map(|requirement| requirement.keys())
        .map(|name| {
            let scheme = resolve(doc, &doc["components"]["securitySchemes"][name]);
            let kind = match (scheme["type"].as_str(), scheme["scheme"].as_str()) {
                (Some("http"), Some(scheme)) => format!("HTTP {scheme}"),
                (Some(kind), _) => kind.to_owned(),
                (None, _) => "a scheme the fragment does not describe".to_owned(),
            };
            format!("{kind} (`{name}`)")
        })
        .collect()
}

fn parameters(out: &mut String, doc: &Value, item: &Value, operation: &Value) {
    // Path-item parameters apply to every operation beneath it; the operation's own come next.
    let all: Vec<Value> = [&item["parameters"], &operation["parameters"]]
        .into_iter()
        .flat_map(|list| list.as_array().into_iter().flatten())
        .map(|p| resolve(doc, p))
        .collect();
    if all.is_empty() {
        return;
    }
    out.push_str("## Parameters\n\n");
    out.push_str("| name | in | required | type | rules | description |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for parameter in &all {
        let schema = resolve(doc, &parameter["schema"]);
        let required = if parameter["required"] == true {
            "yes"
        } else {
            "no"
        };
        let _ = writeln!(
            out,
            "| {} | {} | {required} | {} | {} | {} |",
            code(parameter["name"].as_str().unwrap_or("?")),
            cell(parameter["in"].as_str().unwrap_or("?")),
            type_of(doc, &parameter["schema"]),
            rules(&schema, false),
            cell(
                &prose(&parameter["description"])
                    .or(prose(&schema["description"]))
                    .unwrap_or_default()
            ),
        );
    }
    out.push('\n');
}

fn responses(out: &mut String, doc: &Value, operation: &Value) -> Result<(), String> {
    let responses = operation["responses"]
        .as_object()
        .ok_or("the operation documents no responses")?;
    out.push_str("## Responses\n\n");
    for (status, response) in responses {
        let response = resolve(doc, response);
        match prose(&response["description"]) {
            Some(what) => {
                let _ = writeln!(out, "### {status}: {}\n", one_line(&what));
            }
            None => {
                let _ = writeln!(out, "### {status}\n");
            }
        }
        let content = response["content"].as_object().into_iter().flatten();
        for (media_type, media) in content {
            body(out, doc, media_type, media);
        }
    }
    out.push_str("Any other status is not documented by the spec.\n\n");
    Ok(())
}

fn body(out: &mut String, doc: &Value, media_type: &str, media: &Value) {
    let schema_ref = media["schema"]["$ref"].as_str();
    let name = schema_ref.and_then(|r| r.rsplit('/').next());
    match name {
        Some(name) => {
            let _ = writeln!(out, "Body: `{media_type}`, schema {}.\n", code(name));
        }
        None => {
            let _ = writeln!(out, "Body: `{media_type}`.\n");
        }
    }
    let schema = resolve(doc, &media["schema"]);
    let fields = properties(doc, &schema);
    if !fields.is_empty() {
        let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
        out.push_str("| field | type | nullable | rules | description |\n");
        out.push_str("|---|---|---|---|---|\n");
        for (name, field_schema) in &fields {
            let field = resolve(doc, field_schema);
            let nullable = if field["nullable"] == true {
                "yes"
            } else {
                "no"
            };
            let is_required = required.iter().any(|r| r == name.as_str());
            let _ = writeln!(
                out,
                "| {} | {} | {nullable} | {} | {} |",
                code(name),
                type_of(doc, field_schema),
                rules(&field, is_required),
                cell(&prose(&field["description"]).unwrap_or_default()),
            );
        }
        if required.is_empty() {
            out.push_str("\nThe schema requires none of the fields.\n");
        }
        out.push('\n');
    }
    // Either form OpenAPI allows: `example` on the media type, or named `examples`.
    let mut examples: Vec<(Option<&str>, Value)> = Vec::new();
    if let Some(example) = media.get("example") {
        examples.push((None, example.clone()));
    }
    for (name, example) in media["examples"].as_object().into_iter().flatten() {
        examples.push((Some(name.as_str()), resolve(doc, example)["value"].clone()));
    }
    for (name, example) in examples {
        let text = serde_json::to_string_pretty(&example).unwrap_or_else(|_| example.to_string());
        match name {
            Some(name) => {
                let _ = writeln!(out, "Example {}:\n", code(name));
            }
            None => out.push_str("Example:\n\n"),
        }
        let _ = writeln!(out, "```json\n{text}\n```\n");
    }
}

/// The object's properties in the document's order, `allOf` parts merged.
fn properties(doc: &Value, schema: &Value) -> Vec<(String, Value)> {
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut add = |schema: &Value| {
        for (name, field) in schema["properties"].as_object().into_iter().flatten() {
            if !fields.iter().any(|(n, _)| n == name) {
                fields.push((name.clone(), field.clone()));
            }
        }
    };
    add(schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        add(&resolve(doc, part));
    }
    fields
}

/// The schema's type for a reader: `string`, `string (date-time)`, `array of string`, a named
/// component's name, or what the fragment leaves unsaid.
fn type_of(doc: &Value, schema: &Value) -> String {
    let resolved = resolve(doc, schema);
    let base = match (resolved["type"].as_str(), resolved["format"].as_str()) {
        (Some("array"), _) => format!("array of {}", type_of(doc, &resolved["items"])),
        (Some(kind), Some(format)) => format!("{kind} ({format})"),
        (Some(kind), None) => kind.to_owned(),
        (None, _) if resolved.get("properties").is_some() => "object".to_owned(),
        (None, _) => "any".to_owned(),
    };
    // A named object is better known by its name; a named string is still a string.
    match schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        Some(name) if base == "object" => code(name),
        _ => cell(&base),
    }
}

/// The schema's constraints in words.
fn rules(schema: &Value, required: bool) -> String {
    let mut rules = Vec::new();
    if required {
        rules.push("always present".to_owned());
    }
    match (schema["minLength"].as_u64(), schema["maxLength"].as_u64()) {
        (Some(min), Some(max)) if min == max => rules.push(format!("exactly {min} characters")),
        (Some(min), Some(max)) => rules.push(format!("{min} to {max} characters")),
        (Some(min), None) => rules.push(format!("at least {min} characters")),
        (None, Some(max)) => rules.push(format!("at most {max} characters")),
        (None, None) => {}
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        rules.push(format!("pattern {}", code(pattern)));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| code(&v.to_string())).collect();
        rules.push(format!("one of {}", values.join(", ")));
    }
    for (key, says) in [("minimum", "at least"), ("maximum", "at most")] {
        if let Some(bound) = schema.get(key) {
            rules.push(format!("{says} {bound}"));
        }
    }
    if let Some(default) = schema.get("default") {
        rules.push(format!("default {}", code(&default.to_string())));
    }
    rules.join("; ")
}

/// Non-empty prose, or `None` (the build fills a missing response description with "").
fn prose(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: one line, its pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// `text` as inline code in a table cell, fenced with more backticks than it contains.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if longest > 0 { " " } else { "" };
    cell(&format!("{fence}{pad}{text}{pad}{fence}"))
}
