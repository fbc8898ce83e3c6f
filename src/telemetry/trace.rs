//! Request ids (`context.RequestId`) and W3C trace context (`traceparent`).

/// Appends the low `digits` hex digits of `v`, lowercase, zero-padded (no allocation).
pub fn push_hex(out: &mut Vec<u8>, v: u128, digits: u32) {
    let mut text = [0u8; 32];
    let digits = digits.min(32) as usize;
    hex_into(&mut text[..digits], v);
    out.extend_from_slice(&text[..digits]); // one copy, not one push per digit
}

/// Fills `dst` with the low `dst.len()` hex digits of `v`.
fn hex_into(dst: &mut [u8], v: u128) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, c) in dst.iter_mut().rev().enumerate() {
        *c = HEX[((v >> (i * 4)) & 0xf) as usize];
    }
}

/// A random 128-bit id, shown as a UUID (APIM's request ids are GUIDs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestId(pub u128);

impl RequestId {
    pub fn new() -> RequestId {
        // Version-4 layout bits, so tools that check UUIDs accept it.
        let r = fastrand::u128(..);
        RequestId((r & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62))
    }

    /// Appends the UUID text (8-4-4-4-12).
    pub fn write(&self, out: &mut Vec<u8>) {
        let v = self.0;
        let mut t = [b'-'; 36];
        hex_into(&mut t[0..8], v >> 96);
        hex_into(&mut t[9..13], v >> 80);
        hex_into(&mut t[14..18], v >> 64);
        hex_into(&mut t[19..23], v >> 48);
        hex_into(&mut t[24..36], v);
        out.extend_from_slice(&t);
    }

    pub fn to_text(&self) -> String {
        let mut v = Vec::with_capacity(36);
        self.write(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut t = Vec::with_capacity(36);
        self.write(&mut t);
        f.write_str(std::str::from_utf8(&t).unwrap_or_default())
    }
}

/// A `traceparent`: version 00, trace id, parent (span) id, flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub parent_id: u64,
    pub flags: u8,
}

impl TraceParent {
    /// Parses `00-<32 hex>-<16 hex>-<2 hex>`; all-zero ids are invalid (W3C).
    pub fn parse(v: &[u8]) -> Option<TraceParent> {
        let s = std::str::from_utf8(v).ok()?.trim();
        let mut parts = s.split('-');
        let (ver, tid, pid, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if ver != "00" || tid.len() != 32 || pid.len() != 16 || flags.len() != 2 || parts.next().is_some() {
            return None;
        }
        let lower = |x: &str| x.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        if !(lower(tid) && lower(pid) && lower(flags)) {
            return None;
        }
        let t = TraceParent {
            trace_id: u128::from_str_radix(tid, 16).ok()?,
            parent_id: u64::from_str_radix(pid, 16).ok()?,
            flags: u8::from_str_radix(flags, 16).ok()?,
        };
        (t.trace_id != 0 && t.parent_id != 0).then_some(t)
    }

    /// A new trace started at the gateway (not sampled: ringgate records no spans itself).
    pub fn fresh() -> TraceParent {
        TraceParent { trace_id: fastrand::u128(1..), parent_id: fastrand::u64(1..), flags: 0 }
    }

    /// Appends `00-<trace id>-<parent id>-<flags>`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"00-");
        push_hex(out, self.trace_id, 32);
        out.push(b'-');
        push_hex(out, u128::from(self.parent_id), 16);
        out.push(b'-');
        push_hex(out, u128::from(self.flags), 2);
    }

    pub fn header_value(&self) -> String {
        let mut v = Vec::with_capacity(55);
        self.write(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trip_and_rejects() {
        let v = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(v).expect("valid");
        assert_eq!(t.header_value().as_bytes(), v);
        assert!(TraceParent::parse(b"00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
        assert!(TraceParent::parse(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
        assert!(TraceParent::parse(b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let t = RequestId::new().to_text();
        assert_eq!(t.len(), 36);
        assert_eq!(&t[14..15], "4");
        assert_ne!(RequestId::new(), RequestId::new());
    }
}
