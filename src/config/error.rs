//! Problems (reject the document) and warnings (accepted, but worth telling the operator).
//!
//! Every problem carries the JSON path of the value it is about, so an operator can find it
//! in a document of thousands of lines; policy problems add `:line:column` inside the policy.

use std::fmt;

/// One reason the document is rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// JSON path such as `apis[2].operations[0].urlTemplate`, or `$` for the whole document.
    pub path: String,
    /// What is wrong, phrased for an operator.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Something the loader ignored (for example an unknown field, kept for forward compatibility).
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// JSON path of the first occurrence.
    pub path: String,
    /// What was ignored and why.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A rejected document: every problem found, not just the first, so one edit cycle fixes all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct LoadError {
    /// At least one problem.
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_one_problem_per_line() {
        let e = LoadError {
            problems: vec![Problem::new("apis[0].path", "required field missing"), Problem::new("$", "bad")],
        };
        assert_eq!(e.to_string(), "apis[0].path: required field missing\n$: bad");
    }
}
