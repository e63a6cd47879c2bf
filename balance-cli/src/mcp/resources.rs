//! The endpoint's documentation as MCP resources, as the spec has it: the OpenAPI fragment the
//! client is generated from, the record of where it was cut from, and the Markdown page the
//! build makes from it. All three come from `balance_api_gen`, so a regenerated fragment changes
//! what is served and nothing here repeats the spec.
//!
//! The provenance is a resource of its own rather than `_meta` on the fragment: it is a file of
//! the repository in its own right (checked byte for byte like the fragment), and clients show
//! resources to their users while most never show `_meta`. The fragment's description names the
//! source as well, for a reader who looks no further than the list.

use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents};

/// One served document.
struct Document {
    uri: &'static str,
    name: &'static str,
    title: &'static str,
    mime_type: &'static str,
    text: &'static str,
}

const FRAGMENT_URI: &str = "balance-mcp://openapi/balance.json";
const PROVENANCE_URI: &str = "balance-mcp://openapi/provenance.json";

const DOCUMENTS: [Document; 3] = [
    Document {
        uri: FRAGMENT_URI,
        name: "balance.json",
        title: "Twilio Balance endpoint: OpenAPI fragment",
        mime_type: "application/json",
        text: balance_api_gen::FRAGMENT,
    },
    Document {
        uri: PROVENANCE_URI,
        name: "provenance.json",
        title: "Where the OpenAPI fragment was cut from",
        mime_type: "application/json",
        text: balance_api_gen::PROVENANCE,
    },
    Document {
        uri: "balance-mcp://docs/balance-endpoint.md",
        name: "balance-endpoint.md",
        title: "Twilio Balance endpoint: reference",
        mime_type: "text/markdown",
        text: balance_api_gen::ENDPOINT_MARKDOWN,
    },
];

/// What each document is, for the list.
fn description(document: &Document) -> String {
    match document.uri {
        FRAGMENT_URI => {
            // Read from the record itself, so the list names the source the build used.
            let provenance: serde_json::Value =
                serde_json::from_str(balance_api_gen::PROVENANCE).unwrap_or_default();
            let source = provenance["source_url"].as_str().unwrap_or("Twilio's spec");
            let taken = match provenance["taken_at"].as_str() {
                Some(when) => format!(", taken {when}"),
                None => String::new(),
            };
            format!(
                "The OpenAPI 3 description of Twilio's Balance endpoint (path, parameter, \
                 response schema, example) that balance-mcp's client is generated from, cut \
                 verbatim from {source}{taken}; the full record is {PROVENANCE_URI}."
            )
        }
        PROVENANCE_URI => "Where the OpenAPI fragment was cut from: the source URL, the sha256 \
            of the full upstream document and when it was taken."
            .to_owned(),
        _ => "A reference page for the Balance endpoint made from the OpenAPI fragment at build \
            time: what it returns, the Account SID rule, each response field with its type and \
            nullability, and the documented example."
            .to_owned(),
    }
}

/// Every document, for `resources/list`.
pub fn list() -> Vec<Resource> {
    DOCUMENTS
        .iter()
        .map(|document| {
            Resource::new(document.uri, document.name)
                .with_title(document.title)
                .with_description(description(document))
                .with_mime_type(document.mime_type)
                .with_size(document.text.len() as u64)
        })
        .collect()
}

/// The document at `uri`, for `resources/read`; any other URI is "resource not found".
pub fn read(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let document = DOCUMENTS
        .iter()
        .find(|document| document.uri == uri)
        .ok_or_else(|| {
            let known: Vec<&str> = DOCUMENTS.iter().map(|d| d.uri).collect();
            ErrorData::resource_not_found(
                format!("no resource {uri:?}; this server has {}", known.join(", ")),
                None,
            )
        })?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(document.text, document.uri).with_mime_type(document.mime_type),
    ]))
}
