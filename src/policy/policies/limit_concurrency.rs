//! `<limit-concurrency key="expr" max-count="N">…nested policies…</limit-concurrency>`: at most
//! `max-count` requests run the nested policies at once per key value (shared by every policy
//! using the key, across the node's workers); beyond, an immediate 429 with `Retry-After: 1`.
//!
//! Compiled into a `ConcurrencyStart … ConcurrencyEnd` pair. The start takes a slot and keeps
//! its guard in the context; the end gives it back. An error or an early response in the
//! section gives back the slots taken in it ([`crate::policy::Run`]), and dropping the context
//! gives back the rest. Slots are per node: they do not go through Redis.

use super::{Attrs, Cx, Failure, Result};
use crate::limits::{store::counter_id, ConcurrencyGuard};
use crate::policy::expr::Dyn;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct LimitConcurrency {
    pub key: Dyn,
    pub max: u64,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<LimitConcurrency> {
    let mut a = Attrs::new(el);
    let key = a.required(cx, "key").and_then(|k| cx.value(&k.value));
    let max = match a.get("max-count") {
        None => {
            cx.err(el.pos, "<limit-concurrency> needs the attribute 'max-count'");
            None
        }
        Some(_) => super::limit::number_in(&mut a, cx, el, "max-count", 1..=super::limit::MAX_CALLS),
    };
    a.finish(cx);
    Some(LimitConcurrency { key: key?, max: max? })
}

impl LimitConcurrency {
    /// Takes a slot for this request or refuses it (429).
    pub fn enter(&self, ctx: &mut PolicyContext<'_>) -> Result<()> {
        let store = super::limit::store(ctx)?;
        let key = self.key.text(ctx)?;
        let guard: Option<ConcurrencyGuard> = store.enter(&counter_id("limit-concurrency", &key), self.max);
        match guard {
            Some(g) => {
                ctx.held.push(g);
                Ok(())
            }
            None => {
                ctx.response_edits.headers.set("Retry-After", ["1".to_string()]);
                Err(Failure::new("ConcurrencyLimitExceeded", "Too many concurrent requests.", 429))
            }
        }
    }
}
