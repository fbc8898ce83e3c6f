//! Per-evaluation budgets: a step budget (statements, loop turns, lambda calls, LINQ items)
//! and a memory budget (bytes of strings and collection items an evaluation builds). A
//! runaway `while (true)` or a 100 MB `StringBuilder` fails with
//! `ExpressionValueEvaluationFailure` and the expression's position within milliseconds,
//! and no `catch` in the expression stops the failure.

use super::EvalError;

/// Steps per evaluation: far above what real documents use (a foreach over a 10,000-item
/// JSON array with a few statements each is ~50,000), low enough to end in milliseconds.
pub const MAX_STEPS: u64 = 500_000;

/// Bytes an evaluation may build (strings, builders, collection items).
pub const MAX_BYTES: usize = 16 << 20;

/// The largest value an expression may return (its text, in bytes): what a policy then
/// copies into a header, a variable or a body.
pub const MAX_RESULT_BYTES: usize = 8 << 20;

#[derive(Debug, Default)]
pub struct Budget {
    pub steps: u64,
    pub bytes: usize,
}

impl Budget {
    #[inline]
    pub fn step(&mut self) -> Result<(), EvalError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(EvalError::budget(format!(
                "the expression ran past its step budget ({MAX_STEPS} steps): a loop that does not end?"
            )));
        }
        Ok(())
    }

    #[inline]
    pub fn alloc(&mut self, bytes: usize) -> Result<(), EvalError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > MAX_BYTES {
            return Err(EvalError::budget(format!(
                "the expression built more than its memory budget ({} MiB)",
                MAX_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// Bytes still available.
    pub fn memory_left(&self) -> usize {
        MAX_BYTES.saturating_sub(self.bytes)
    }
}
