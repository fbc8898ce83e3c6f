//! `<forward-request/>`: the backend call. Compiled into options the proxy reads when the
//! executor returns `Flow::Forward`.

use std::time::Duration;

use super::{no_children, Attrs, Cx};
use crate::policy::xml::Element;

#[derive(Clone, Debug, PartialEq)]
pub struct ForwardRequest {
    /// Time to wait for the backend's response head (`timeout` seconds or `timeout-ms`).
    pub timeout: Duration,
    /// Whether `timeout` was written (else the gateway's default applies).
    pub timeout_set: bool,
    pub follow_redirects: bool,
    /// Read the whole request body first (needed to re-send it on retry).
    pub buffer_request_body: bool,
    /// Buffer the response (false: stream, for server-sent events).
    pub buffer_response: bool,
    /// A 4xx/5xx backend answer raises an error (on-error runs).
    pub fail_on_error_status_code: bool,
}

impl Default for ForwardRequest {
    fn default() -> Self {
        ForwardRequest {
            timeout: Duration::from_secs(300),
            timeout_set: false,
            follow_redirects: false,
            buffer_request_body: false,
            buffer_response: true,
            fail_on_error_status_code: false,
        }
    }
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<ForwardRequest> {
    let mut a = Attrs::new(el);
    let mut f = ForwardRequest::default();
    if let Some(s) = a.number::<u64>(cx, "timeout") {
        f.timeout = Duration::from_secs(s);
        f.timeout_set = true;
    }
    if let Some(ms) = a.number::<u64>(cx, "timeout-ms") {
        f.timeout = Duration::from_millis(ms);
        f.timeout_set = true;
    }
    if let Some((v, p)) = a.literal(cx, "http-version") {
        if v.trim() != "1" {
            cx.err(p, format!("forward-request http-version '{}' is not supported yet (only 1)", v.trim()));
        }
    }
    let _ = a.number::<u64>(cx, "continue-timeout");
    f.follow_redirects = a.bool(cx, "follow-redirects", false);
    f.buffer_request_body = a.bool(cx, "buffer-request-body", false);
    f.buffer_response = a.bool(cx, "buffer-response", true);
    f.fail_on_error_status_code = a.bool(cx, "fail-on-error-status-code", false);
    a.finish(cx);
    no_children(el, cx);
    Some(f)
}
