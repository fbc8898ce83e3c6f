//! Decimal digit strings of numbers: what .NET's formatting works on (`NumberBuffer`):
//! significant digits, the decimal point's position and a sign.

/// `0.d1d2d3… × 10^scale`, digits without leading zeros (empty means zero).
#[derive(Clone, Debug, PartialEq)]
pub struct Digits {
    pub neg: bool,
    pub digits: Vec<u8>,
    pub scale: i32,
}

impl Digits {
    pub fn from_int(v: i128) -> Self {
        let neg = v < 0;
        let s = v.unsigned_abs().to_string();
        let digits: Vec<u8> = if s == "0" { Vec::new() } else { s.bytes().map(|b| b - b'0').collect() };
        let scale = digits.len() as i32;
        Self { neg, digits, scale }
    }

    /// Digits of Rust's `{:e}` rendering (`1.2345e-7`, `5e0`).
    fn from_sci(neg: bool, sci: &str) -> Self {
        let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Self { neg, digits, scale: 0 };
        }
        Self { neg, digits, scale: exp + 1 }
    }

    /// The shortest digits that round-trip (what `R` and `ToString()` print).
    pub fn shortest(v: f64) -> Self {
        Self::from_sci(v.is_sign_negative(), &format!("{:e}", v.abs()))
    }

    pub fn shortest_f32(v: f32) -> Self {
        Self::from_sci(v.is_sign_negative(), &format!("{:e}", v.abs()))
    }

    /// `n` significant digits, correctly rounded (ties to even on the exact binary value).
    pub fn significant(v: f64, n: usize) -> Self {
        let n = n.clamp(1, 800);
        Self::from_sci(v.is_sign_negative(), &format!("{:.*e}", n - 1, v.abs()))
    }

    /// Exactly `n` fractional digits, correctly rounded (ties to even on the exact value).
    pub fn fixed(v: f64, n: usize) -> Self {
        let n = n.min(800);
        let s = format!("{:.*}", n, v.abs());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let mut all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let mut scale = int.len() as i32;
        while all.first() == Some(&0) {
            all.remove(0);
            scale -= 1;
        }
        while all.last() == Some(&0) {
            all.pop();
        }
        if all.is_empty() {
            scale = 0;
        }
        Self { neg: v.is_sign_negative(), digits: all, scale }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// .NET's `RoundNumber`: keep digits up to `pos` (counted from the first digit), rounding
    /// half away from zero on the digits held.
    pub fn round_at(&mut self, pos: i32) {
        if pos < 0 {
            self.digits.clear();
            self.scale = 0;
            return;
        }
        let pos = pos as usize;
        if pos >= self.digits.len() {
            return;
        }
        let up = self.digits[pos] >= 5;
        self.digits.truncate(pos);
        if up {
            let mut i = pos;
            loop {
                if i == 0 {
                    self.digits.insert(0, 1);
                    self.scale += 1;
                    break;
                }
                i -= 1;
                if self.digits[i] == 9 {
                    self.digits[i] = 0;
                } else {
                    self.digits[i] += 1;
                    break;
                }
            }
        }
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.scale = 0;
        }
    }

    /// The digit at decimal position `i` (0 = first digit left of the point is `scale-1`…).
    pub fn digit_at(&self, i: i32) -> u8 {
        if i < 0 {
            return 0;
        }
        self.digits.get(i as usize).copied().unwrap_or(0)
    }

    /// Integer part digits as text ("0" when none).
    pub fn int_part(&self) -> String {
        if self.scale <= 0 {
            return "0".into();
        }
        (0..self.scale).map(|i| char::from(b'0' + self.digit_at(i))).collect()
    }

    /// `n` fractional digits as text (zero-padded).
    pub fn frac_part(&self, n: usize) -> String {
        (0..n as i32).map(|i| char::from(b'0' + self.digit_at(self.scale + i))).collect()
    }
}
