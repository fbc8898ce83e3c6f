//! `System.Text.StringBuilder` under a size budget (a runaway loop of `Append` fails cleanly
//! instead of taking the worker's memory).

use super::composite::{format_composite, FormatArg};
use super::ops::{len16, u16_to_byte_index};
use super::NEWLINE;
use crate::policy::dotnet::error::{DnResult, DotnetError};

#[derive(Clone, Debug)]
pub struct StringBuilder {
    buf: String,
    max_bytes: usize,
}

impl StringBuilder {
    /// A builder that refuses to grow past `max_bytes` of UTF-8.
    pub fn new(max_bytes: usize) -> Self {
        Self { buf: String::new(), max_bytes }
    }

    fn room(&self, extra: usize) -> DnResult<()> {
        if self.buf.len().saturating_add(extra) > self.max_bytes {
            return Err(DotnetError::budget(format!("StringBuilder exceeds the {} byte budget", self.max_bytes)));
        }
        Ok(())
    }

    pub fn append(&mut self, s: &str) -> DnResult<&mut Self> {
        self.room(s.len())?;
        self.buf.push_str(s);
        Ok(self)
    }

    /// `Append(char, repeatCount)`.
    pub fn append_repeat(&mut self, c: char, n: i64) -> DnResult<&mut Self> {
        if n < 0 {
            return Err(DotnetError::out_of_range("repeatCount", "Count cannot be less than zero."));
        }
        self.room(c.len_utf8().saturating_mul(n as usize))?;
        self.buf.extend(std::iter::repeat_n(c, n as usize));
        Ok(self)
    }

    /// `AppendLine(s)`: `s` then `Environment.NewLine`.
    pub fn append_line(&mut self, s: &str) -> DnResult<&mut Self> {
        self.room(s.len() + NEWLINE.len())?;
        self.buf.push_str(s);
        self.buf.push_str(NEWLINE);
        Ok(self)
    }

    pub fn append_format(&mut self, fmt: &str, args: &[FormatArg]) -> DnResult<&mut Self> {
        let s = format_composite(fmt, args)?;
        self.append(&s)
    }

    /// `Insert(index, s)`.
    pub fn insert(&mut self, index: i64, s: &str) -> DnResult<&mut Self> {
        let at = usize::try_from(index).ok().and_then(|i| u16_to_byte_index(&self.buf, i)).ok_or_else(|| {
            DotnetError::out_of_range(
                "index",
                "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            )
        })?;
        self.room(s.len())?;
        self.buf.insert_str(at, s);
        Ok(self)
    }

    /// `Replace(old, new)`.
    pub fn replace(&mut self, old: &str, new: &str) -> DnResult<&mut Self> {
        if old.is_empty() {
            return Err(DotnetError::argument("String cannot be of zero length. (Parameter 'oldValue')"));
        }
        let grown = self.buf.matches(old).count().saturating_mul(new.len().saturating_sub(old.len()));
        self.room(grown)?;
        self.buf = self.buf.replace(old, new);
        Ok(self)
    }

    /// `Remove(start, length)`.
    pub fn remove(&mut self, start: i64, length: i64) -> DnResult<&mut Self> {
        let n = len16(&self.buf) as i64;
        if start < 0 || length < 0 || start + length > n {
            return Err(DotnetError::out_of_range(
                "length",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            ));
        }
        let a = u16_to_byte_index(&self.buf, start as usize).unwrap_or(self.buf.len());
        let b = u16_to_byte_index(&self.buf, (start + length) as usize).unwrap_or(self.buf.len());
        self.buf.replace_range(a..b, "");
        Ok(self)
    }

    pub fn clear(&mut self) -> &mut Self {
        self.buf.clear();
        self
    }

    /// `Length` in UTF-16 units.
    pub fn length(&self) -> usize {
        len16(&self.buf)
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }
}

impl std::fmt::Display for StringBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.buf)
    }
}
