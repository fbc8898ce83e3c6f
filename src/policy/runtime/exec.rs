//! The executor: walks one section's flat step list and tells the proxy what to do next.
//!
//! A [`Run`] is a program counter over a section. [`Run::next`] executes steps until one
//! needs the proxy: the section ended ([`Flow::Done`]), the gateway answers now
//! ([`Flow::Respond`]), the backend must be called ([`Flow::Forward`]; call `next` again
//! after filling `ctx.response`), a retry waits ([`Flow::Wait`]; call `next` after the
//! delay), or an error occurred ([`Flow::Error`]; set `ctx.last_error` and run on-error).

use std::time::Duration;

use super::edits::Response;
use super::{LastError, PolicyContext, Section};
use crate::policy::plan::{Plan, Step, StepKind};
use crate::policy::policies::cors::is_preflight;
use crate::policy::policies::forward_request::ForwardRequest;
use crate::policy::policies::{run_op, Failure, Outcome};

/// What the proxy must do after [`Run::next`].
#[derive(Debug)]
pub enum Flow<'p> {
    /// The section finished; go to the next one.
    Done,
    /// Send this response to the client now; skip the remaining sections (outbound too).
    Respond(Response),
    /// Call the backend with these options, put the response in `ctx.response`, then call
    /// `next` again (steps after `forward-request`, and retry conditions, need it).
    Forward(&'p ForwardRequest),
    /// A `retry` waits before its next attempt; call `next` again after the delay.
    Wait(Duration),
    /// A policy failed: set `ctx.last_error` to this and run the on-error section.
    Error(LastError),
}

/// Safety net against a plan bug turning into an endless loop on the request path.
const MAX_STEPS_PER_CALL: usize = 100_000;

#[derive(Clone, Debug)]
pub struct Run {
    section: Section,
    pc: usize,
    /// Open retries: (index of the RetryStart step, attempts made).
    retries: Vec<(usize, u32)>,
    /// CORS preflight: only the `cors` step runs.
    only: Option<usize>,
    /// `ctx.held.len()` when the section started: concurrency slots above it were taken in
    /// this section and are given back if it ends early (error or response).
    held_base: usize,
}

impl Run {
    pub fn new(plan: &Plan, section: Section, ctx: &PolicyContext<'_>) -> Run {
        let only = match (section, plan.cors_step()) {
            (Section::Inbound, Some(i)) if is_preflight(ctx) => Some(i),
            _ => None,
        };
        Run { section, pc: 0, retries: Vec::new(), only, held_base: ctx.held.len() }
    }

    pub fn section(&self) -> Section {
        self.section
    }

    fn fail(&self, step: &Step, f: Failure) -> LastError {
        LastError {
            source: step.meta.name.to_string(),
            reason: f.reason,
            message: f.message,
            scope: step.meta.scope.name().to_string(),
            section: self.section.name().to_string(),
            path: step.meta.path.to_string(),
            policy_id: step.meta.policy_id.to_string(),
            status: f.status,
        }
    }

    pub fn next<'p>(&mut self, plan: &'p Plan, ctx: &mut PolicyContext<'_>) -> Flow<'p> {
        let flow = self.run(plan, ctx);
        if matches!(flow, Flow::Respond(_) | Flow::Error(_)) {
            // The section ends here: its `limit-concurrency` blocks end with it.
            ctx.held.truncate(self.held_base);
        }
        flow
    }

    fn run<'p>(&mut self, plan: &'p Plan, ctx: &mut PolicyContext<'_>) -> Flow<'p> {
        let steps = plan.steps(self.section);
        if let Some(i) = self.only.take() {
            let Some(step) = steps.get(i) else { return Flow::Done };
            self.pc = steps.len();
            return match &step.kind {
                StepKind::Op(op) => match run_op(op, ctx, self.section) {
                    Ok(Outcome::Respond(r)) => Flow::Respond(r),
                    Ok(_) => Flow::Done,
                    Err(f) => Flow::Error(self.fail(step, f)),
                },
                _ => Flow::Done,
            };
        }
        for _ in 0..MAX_STEPS_PER_CALL {
            let Some(step) = steps.get(self.pc) else { return Flow::Done };
            self.pc += 1;
            match &step.kind {
                StepKind::Op(op) => match run_op(op, ctx, self.section) {
                    Ok(Outcome::Continue) => {}
                    Ok(Outcome::Respond(r)) => return Flow::Respond(r),
                    Ok(Outcome::Forward(f)) => return Flow::Forward(f),
                    Err(f) => return Flow::Error(self.fail(step, f)),
                },
                StepKind::Branch { cond, else_to } => match cond.truth(ctx) {
                    Ok(true) => {}
                    Ok(false) => self.pc = *else_to as usize,
                    Err(e) => return Flow::Error(self.fail(step, Failure::eval(e))),
                },
                StepKind::Jump(to) => self.pc = *to as usize,
                StepKind::ConcurrencyStart(spec) => {
                    if let Err(f) = spec.enter(ctx) {
                        return Flow::Error(self.fail(step, f));
                    }
                }
                StepKind::ConcurrencyEnd => {
                    if ctx.held.len() > self.held_base {
                        ctx.held.pop();
                    }
                }
                StepKind::RetryStart { .. } => {
                    let at = self.pc - 1;
                    self.retries.retain(|r| r.0 != at);
                    self.retries.push((at, 0));
                }
                StepKind::RetryEnd { start } => {
                    let start = *start as usize;
                    let Some(StepKind::RetryStart { spec, .. }) = steps.get(start).map(|s| &s.kind) else {
                        continue;
                    };
                    let Some(slot) = self.retries.iter_mut().find(|r| r.0 == start) else { continue };
                    slot.1 += 1;
                    let attempts = slot.1;
                    let again = match spec.condition.truth(ctx) {
                        Ok(b) => b,
                        Err(e) => {
                            let retry_step = &steps[start];
                            return Flow::Error(self.fail(retry_step, Failure::eval(e)));
                        }
                    };
                    if again && attempts <= spec.count {
                        self.pc = start + 1;
                        let delay = spec.delay(attempts);
                        if !delay.is_zero() {
                            return Flow::Wait(delay);
                        }
                    } else {
                        self.retries.retain(|r| r.0 != start);
                    }
                }
            }
        }
        Flow::Error(LastError {
            source: "gateway".into(),
            reason: "PolicyStepLimit".into(),
            message: "policy execution exceeded its step limit".into(),
            section: self.section.name().into(),
            status: 500,
            ..LastError::default()
        })
    }
}

impl PolicyContext<'_> {
    /// The response after on-error ran to its end without `return-response`: the error's
    /// default JSON response, shaped by the on-error edits (status, headers, body).
    pub fn error_response(&self, err: &LastError) -> Response {
        let mut r = err.default_response();
        let e = &self.response_edits;
        if let Some((code, reason)) = &e.status {
            r.status = *code;
            r.reason = reason.clone();
        }
        if let Some(b) = &e.body {
            r.body = b.clone();
        }
        r.headers.retain(|(n, _)| !e.headers.is_removed(&n.to_ascii_lowercase()));
        for (n, v) in &e.headers.added {
            r.headers.push((n.to_string(), v.clone()));
        }
        r
    }
}
