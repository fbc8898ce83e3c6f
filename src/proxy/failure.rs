//! Every way the gateway itself ends a request, and what each means, in one table: the status
//! the client sees, APIM's error message, the `LastError` source and reason the access log and
//! policies see, and whether the client connection may carry on after the answer.

use super::upstream::ConnectError;
use crate::http::wire::WireError;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The Host or the path matches no API.
    #[error("no API matches")]
    ApiNotFound,
    /// The API matched and none of its operations does.
    #[error("no operation matches")]
    OperationNotFound,
    #[error("subscription key missing")]
    KeyMissing,
    #[error("subscription key invalid")]
    KeyInvalid,
    /// gRPC APIs need HTTP/2 (not built yet).
    #[error("API type not supported")]
    ApiTypeNotSupported,
    /// A WebSocket API was called without a WebSocket handshake (RFC 6455 §4.1: an HTTP/1.1
    /// GET with `Upgrade: websocket` and `Connection: Upgrade`, no body).
    #[error("not a WebSocket handshake")]
    NotWebSocketHandshake,
    /// Managed mode before the first document.
    #[error("no configuration yet")]
    NoConfiguration,
    #[error("backend connection failed: {0}")]
    Connect(#[from] ConnectError),
    #[error("backend timed out")]
    Timeout,
    #[error("backend failed: {0}")]
    Backend(String),
    /// The client went away (or broke its connection) mid-request: nobody to answer.
    #[error("client failed")]
    Client,
    #[error("invalid request body: {0}")]
    BadBody(&'static str),
    #[error("request body too large")]
    TooLarge,
    /// The request body did not arrive whole within `net.server.timeouts.body`.
    #[error("request body timeout")]
    BodyTimeout,
    /// The backend the call needs cannot be used (none configured, unknown id, no url).
    #[error("{0}")]
    Config(&'static str),
    /// A value cannot be written in the request head it was meant for (crate::http::wire).
    #[error("cannot write the request head: {0}")]
    Wire(#[from] WireError),
    /// The response head cannot be written: the backend's fault (502) or a policy's (500).
    #[error("cannot write the response head: {error}")]
    ResponseHead { error: WireError, by_policy: bool },
}

/// After the gateway's answer, whether the client connection may carry on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Keep it when the request body was read whole (or there was none) and nothing else
    /// asks to close.
    KeepIfBodyRead,
    /// The body's state is unknown (malformed, too large, too slow): close.
    Close,
    /// The client is gone: send nothing.
    Gone,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict<'a> {
    pub status: u16,
    pub message: &'a str,
    pub source: &'static str,
    pub reason: &'static str,
    pub after: After,
}

const NOT_FOUND: &str = "Resource not found";
const OPERATION_NOT_FOUND: &str = "Unable to match incoming request to an operation.";
const KEY_MISSING: &str =
    "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const KEY_INVALID: &str =
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

impl Failure {
    pub fn verdict(&self) -> Verdict<'_> {
        use After::*;
        let v = |status, message, source, reason, after| Verdict { status, message, source, reason, after };
        match self {
            Failure::ApiNotFound => v(404, NOT_FOUND, "configuration", "ApiNotFound", KeepIfBodyRead),
            Failure::OperationNotFound => {
                v(404, OPERATION_NOT_FOUND, "configuration", "OperationNotFound", KeepIfBodyRead)
            }
            Failure::KeyMissing => v(401, KEY_MISSING, "authorization", "SubscriptionKeyNotFound", KeepIfBodyRead),
            Failure::KeyInvalid => v(401, KEY_INVALID, "authorization", "SubscriptionKeyInvalid", KeepIfBodyRead),
            Failure::NotWebSocketHandshake => v(
                400,
                "This is a WebSocket API: it accepts only a WebSocket handshake (GET with Upgrade: websocket)",
                "configuration",
                "NotWebSocketHandshake",
                KeepIfBodyRead,
            ),
            Failure::ApiTypeNotSupported => {
                v(501, "gRPC APIs are not supported by this gateway yet", "configuration", "ApiTypeNotSupported", Close)
            }
            Failure::NoConfiguration => {
                v(503, "The gateway has no configuration yet", "configuration", "NoConfiguration", KeepIfBodyRead)
            }
            Failure::Connect(ConnectError::Timeout) | Failure::Timeout => {
                v(504, "Backend timed out", "forward-request", "Timeout", KeepIfBodyRead)
            }
            Failure::Connect(_) | Failure::Backend(_) => {
                v(502, "Backend service unavailable", "forward-request", "BackendConnectionFailure", KeepIfBodyRead)
            }
            Failure::Client => v(400, "Invalid request body", "client", "ClientConnectionFailure", Gone),
            Failure::BadBody(_) => v(400, "Invalid request body", "client", "ClientConnectionFailure", Close),
            Failure::TooLarge => v(413, "Request body too large", "client", "RequestEntityTooLarge", Close),
            Failure::BodyTimeout => v(408, "Request body timeout", "client", "RequestBodyTimeout", Close),
            Failure::Config(m) => v(500, m, "configuration", "BackendNotConfigured", KeepIfBodyRead),
            Failure::Wire(WireError::TargetEscape) => v(
                400,
                "The request path climbs above the API's backend path",
                "forward-request",
                WireError::TargetEscape.log_reason(),
                KeepIfBodyRead,
            ),
            Failure::Wire(e) => v(
                500,
                "A value cannot be sent in the request head (CR, LF, NUL or an invalid name)",
                "forward-request",
                e.log_reason(),
                KeepIfBodyRead,
            ),
            Failure::ResponseHead { error, by_policy: true } => v(
                500,
                "A policy produced a value that cannot be sent in the response head",
                "outbound",
                error.log_reason(),
                Close,
            ),
            Failure::ResponseHead { error, by_policy: false } => {
                v(502, "Backend service unavailable", "forward-request", error.log_reason(), Close)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row() {
        let rows = [
            (Failure::ApiNotFound, 404, "ApiNotFound", After::KeepIfBodyRead),
            (Failure::OperationNotFound, 404, "OperationNotFound", After::KeepIfBodyRead),
            (Failure::KeyMissing, 401, "SubscriptionKeyNotFound", After::KeepIfBodyRead),
            (Failure::KeyInvalid, 401, "SubscriptionKeyInvalid", After::KeepIfBodyRead),
            (Failure::ApiTypeNotSupported, 501, "ApiTypeNotSupported", After::Close),
            (Failure::NoConfiguration, 503, "NoConfiguration", After::KeepIfBodyRead),
            (Failure::Connect(ConnectError::Timeout), 504, "Timeout", After::KeepIfBodyRead),
            (Failure::Timeout, 504, "Timeout", After::KeepIfBodyRead),
            (Failure::Backend("reset".into()), 502, "BackendConnectionFailure", After::KeepIfBodyRead),
            (Failure::Client, 400, "ClientConnectionFailure", After::Gone),
            (Failure::BadBody("chunk"), 400, "ClientConnectionFailure", After::Close),
            (Failure::TooLarge, 413, "RequestEntityTooLarge", After::Close),
            (Failure::BodyTimeout, 408, "RequestBodyTimeout", After::Close),
            (Failure::Config("no backend"), 500, "BackendNotConfigured", After::KeepIfBodyRead),
        ];
        for (f, status, reason, after) in rows {
            let v = f.verdict();
            assert_eq!((v.status, v.reason, v.after), (status, reason, after), "{f:?}");
            assert!(!v.message.is_empty(), "{f:?} has a message");
        }
    }

    #[test]
    fn a_bad_response_head_is_the_backends_fault_unless_a_policy_wrote_it() {
        let backend = Failure::ResponseHead { error: WireError::HeaderValue, by_policy: false }.verdict();
        let policy = Failure::ResponseHead { error: WireError::HeaderValue, by_policy: true }.verdict();
        assert_eq!((backend.status, backend.source), (502, "forward-request"));
        assert_eq!((policy.status, policy.source), (500, "outbound"));
        assert_eq!(Failure::Wire(WireError::TargetEscape).verdict().status, 400);
        assert_eq!(
            Failure::Config("The backend named by set-backend-service is unknown").verdict().message,
            "The backend named by set-backend-service is unknown"
        );
    }
}
