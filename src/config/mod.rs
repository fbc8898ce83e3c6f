//! The configuration document: model, loader, compiler (see ../shared/spec/config.md).
//!
//! Module map:
//! - `load` parses JSON (simd-json) and walks it into a `model::Doc`, collecting every
//!   problem with its JSON path (`json` holds the walking helpers);
//! - `compile` resolves named values (`named_values`), URLs (`crate::api_model`), references, templates
//!   (`template`), policies (`policy_check`) into an immutable [`Snapshot`];
//! - `route`, `subscriptions`, `hosts` hold the request-path lookups, built at load time so
//!   the per-request functions do not allocate.
//!
//! A document is accepted whole or rejected whole: [`load_document`] returns either a
//! snapshot (plus warnings) or every problem found.

mod compile;
mod duplicates;
mod error;
mod hosts;
mod json;
mod load;
mod model;
mod named_values;
mod policy_check;
mod redact;
mod route;
mod snapshot;
mod subscriptions;
mod template;

pub use crate::api_model::parse_backend_url;
pub use error::{LoadError, Problem, Warning};
pub use policy_check::{check_policy, PolicyKind, PolicyProblem};
pub use route::{HeaderLookup, RouteMatch, RouteOutcome, RouteRequest, Router};
pub use snapshot::*;
pub use subscriptions::{Admission, AuthFailure, SubscriptionIndex};

/// A successfully loaded document.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub snapshot: Snapshot,
    /// Accepted but noteworthy (unknown fields, ignored template queries).
    pub warnings: Vec<Warning>,
}

/// Parses, validates and compiles a document. `bytes` is mutable because simd-json parses
/// in place (its contents are unspecified afterwards). Returns every problem found (not
/// just the first), each with its JSON path. Never panics, whatever the input.
pub fn load_document(bytes: &mut [u8]) -> Result<Loaded, LoadError> {
    let revision_fallback = compile::content_revision(bytes);
    let repeated = duplicates::find(bytes);
    let mut ctx = json::Ctx::default();
    let Some(value) = load::parse(bytes, &mut ctx) else {
        return Err(LoadError { problems: ctx.problems });
    };
    ctx.problems.extend(repeated);
    let doc = load::walk(&value, &mut ctx);
    drop(value);
    let values: Vec<(String, String)> = doc.named_values.clone();
    let snapshot = compile::compile(doc, revision_fallback, &mut ctx);
    if ctx.problems.is_empty() {
        Ok(Loaded { snapshot, warnings: ctx.warnings })
    } else {
        let mut problems = ctx.problems;
        redact::named_values(&mut problems, &values);
        Err(LoadError { problems })
    }
}

/// Every member of an object that appears more than once anywhere in `bytes`, with its path,
/// line and column (for documents parsed by another parser, e.g. the control plane's master).
pub fn duplicate_members(bytes: &[u8]) -> Vec<Problem> {
    duplicates::find(bytes)
}

#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod tests;
