//! Which policy names exist, which are implemented, and where they may appear.
//!
//! The single place later work flips a recognised policy to implemented.

use crate::policy::runtime::Section;

/// APIM policies this gateway recognises but cannot execute yet: documents using them are
/// rejected with "policy <x> is not supported yet" (never skipped: a skipped limit or
/// validation is an open door).
pub const NOT_YET: &[&str] = &[
    "llm-token-limit",
    "azure-openai-token-limit",
    "validate-azure-ad-token",
    "validate-content",
    "validate-parameters",
    "validate-headers",
    "validate-status-code",
    "validate-odata-request",
    "validate-graphql-request",
    "authentication-managed-identity",
    "get-authorization-context",
    "cache-lookup",
    "cache-store",
    "cache-lookup-value",
    "cache-store-value",
    "cache-remove-value",
    "azure-openai-semantic-cache-lookup",
    "azure-openai-semantic-cache-store",
    "llm-semantic-cache-lookup",
    "llm-semantic-cache-store",
    "send-request",
    "send-one-way-request",
    "log-to-eventhub",
    "emit-metric",
    "llm-emit-token-metric",
    "azure-openai-emit-token-metric",
    "llm-content-safety",
    "trace",
    "wait",
    "proxy",
    "cross-domain",
    "jsonp",
    "redirect-content-urls",
    "xsl-transform",
    "publish-to-dapr",
    "invoke-dapr-binding",
];

/// Implemented policies and the sections APIM allows them in (`base` and
/// `include-fragment` go everywhere; fragments are checked where they are included).
pub fn allowed(name: &str) -> Option<&'static [Section]> {
    use Section::*;
    const ALL: &[Section] = &[Inbound, Backend, Outbound, OnError];
    // APIM's list for on-error: choose, set-variable, find-and-replace, return-response,
    // set-header, set-method, set-status, json-to-xml, xml-to-json, mock-response, retry,
    // limit-concurrency (plus policies not implemented yet).
    Some(match name {
        "base" | "include-fragment" | "choose" | "set-variable" | "retry" | "set-header" | "set-status"
        | "find-and-replace" | "return-response" | "limit-concurrency" => ALL,
        "rate-limit" | "rate-limit-by-key" | "quota" | "quota-by-key" => &[Inbound],
        "check-header"
        | "ip-filter"
        | "cors"
        | "rewrite-uri"
        | "authentication-basic"
        | "authentication-certificate" => &[Inbound],
        "forward-request" => &[Backend],
        "validate-jwt" | "validate-client-certificate" => &[Inbound],
        "set-backend-service" | "set-query-parameter" => &[Inbound, Backend],
        "set-method" => &[Inbound, OnError],
        "set-body" => &[Inbound, Backend, Outbound],
        "mock-response" | "json-to-xml" | "xml-to-json" => &[Inbound, Outbound, OnError],
        _ => return None,
    })
}

/// The message for an element that is not an implemented policy.
pub fn unsupported(name: &str) -> String {
    if NOT_YET.contains(&name) {
        format!("policy <{name}> is not supported yet")
    } else {
        format!("unknown policy element <{name}>")
    }
}
