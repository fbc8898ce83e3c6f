//! `System.Math` rounding with `MidpointRounding`, as .NET Core implements it (scale by a power
//! of ten, round, scale back: `Math.Round(2.675, 2)` is 2.67 because 2.675 is 2.67499…).
//! https://learn.microsoft.com/dotnet/api/system.math.round

use crate::policy::dotnet::error::{DnResult, DotnetError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MidpointRounding {
    ToEven,
    AwayFromZero,
    ToZero,
    ToNegativeInfinity,
    ToPositiveInfinity,
}

/// `Math.Round(value, mode)`.
pub fn round(v: f64, mode: MidpointRounding) -> f64 {
    match mode {
        MidpointRounding::ToEven => v.round_ties_even(),
        MidpointRounding::AwayFromZero => v.round(),
        MidpointRounding::ToZero => v.trunc(),
        MidpointRounding::ToNegativeInfinity => v.floor(),
        MidpointRounding::ToPositiveInfinity => v.ceil(),
    }
}

/// `Math.Round(value, digits, mode)`.
pub fn round_digits(v: f64, digits: i32, mode: MidpointRounding) -> DnResult<f64> {
    if !(0..=15).contains(&digits) {
        return Err(DotnetError::out_of_range("digits", "Rounding digits must be between 0 and 15, inclusive."));
    }
    if v.abs() < 1e16 {
        let p = 10f64.powi(digits);
        Ok(round(v * p, mode) / p)
    } else {
        Ok(v)
    }
}
