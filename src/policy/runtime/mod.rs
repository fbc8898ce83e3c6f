//! The per-request side: context, edits, errors and the executor.

pub mod context;
pub mod edits;
pub mod exec;
pub mod limits;

pub use context::{
    OperationInfo, PolicyContext, RequestInfo, RequestView, ResponseState, ResponseView, SubscriptionInfo,
};
pub use edits::{BackendTarget, HeaderEdits, RequestEdits, Response, ResponseEdits};
pub use exec::{Flow, Run};
pub use limits::{LimitCharges, LimitTail};

/// The four sections of a policy document, in execution order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::Inbound, Section::Backend, Section::Outbound, Section::OnError];

    pub fn name(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(n: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == n)
    }
}

/// 500 reasons whose messages are the gateway's own fixed text, safe to show.
pub const FIXED_MESSAGE_REASONS: [&str; 1] = ["LimitsUnavailable"];

/// `context.LastError`, plus the status the gateway answers with when on-error does not
/// shape the response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LastError {
    /// The policy element name (`ip-filter`), or `forward-request`/`configuration` for
    /// errors the proxy reports.
    pub source: String,
    /// APIM's reason (`CallerIpNotAllowed`, `ExpressionValueEvaluationFailure`, …).
    pub reason: String,
    pub message: String,
    /// `global`, `product`, `api` or `operation`.
    pub scope: String,
    pub section: String,
    /// Where in the section: `choose[1]/when[2]/set-header[1]`.
    pub path: String,
    /// The policy's `id` attribute, or "".
    pub policy_id: String,
    /// The default response status for this error (500 for evaluation failures).
    pub status: u16,
}

impl LastError {
    /// An error raised by the proxy itself (backend failure, timeout).
    pub fn proxy(source: &str, reason: &str, message: &str, status: u16) -> LastError {
        LastError {
            source: source.into(),
            reason: reason.into(),
            message: message.into(),
            section: "backend".into(),
            status,
            ..LastError::default()
        }
    }

    /// The gateway's JSON error (`{"statusCode":…,"message":…}`) for this error. A 500 says
    /// only "Internal server error", as APIM's does: its message (an evaluation failure, a
    /// computed URL) may quote policy text, expression values or named values, which stay
    /// in `context.LastError.Message` for on-error to use deliberately. Reasons whose
    /// message is fixed text ([`FIXED_MESSAGE_REASONS`]) keep it.
    pub fn default_response(&self) -> Response {
        let mut body = String::from("{\"statusCode\":");
        body.push_str(&self.status.to_string());
        body.push_str(",\"message\":\"");
        let fixed = FIXED_MESSAGE_REASONS.contains(&self.reason.as_str());
        let message = if self.status == 500 && !fixed { "Internal server error" } else { &self.message };
        crate::http::write::json_escape_into(&mut body, message);
        body.push_str("\"}");
        Response {
            status: self.status,
            reason: crate::http::write::reason(self.status).to_string(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into_bytes(),
        }
    }
}
