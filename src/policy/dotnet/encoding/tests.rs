use super::*;
use crate::policy::dotnet::error::ExceptionKind;

#[test]
fn text_encodings() {
    // https://learn.microsoft.com/dotnet/api/system.text.encoding.getbytes
    assert_eq!(utf8_bytes("é€"), vec![0xC3, 0xA9, 0xE2, 0x82, 0xAC]);
    assert_eq!(utf8_string(&[0x41, 0xFF, 0x42]), "A\u{fffd}B");
    assert_eq!(utf8_string(&[0xE2, 0x82]), "\u{fffd}");
    assert_eq!(utf8_string(&[0xF0, 0x9F, 0x98, 0x80]), "😀");
    assert_eq!(ascii_bytes("aé😀b"), b"a??b".to_vec());
    assert_eq!(ascii_string(&[0x41, 0xC3]), "A?");
    assert_eq!(utf16le_bytes("A€"), vec![0x41, 0x00, 0xAC, 0x20]);
    assert_eq!(utf16le_string(&[0x41, 0x00, 0xAC, 0x20]), "A€");
    assert_eq!(utf16le_string(&[0x41, 0x00, 0x42]), "A\u{fffd}");
    assert_eq!(utf16le_string(&[0x00, 0xD8, 0x41, 0x00]), "\u{fffd}A");
    assert_eq!(latin1_bytes("é€"), vec![0xE9, b'?']);
}

#[test]
fn base64_rules() {
    // https://learn.microsoft.com/dotnet/api/system.convert.frombase64string (RFC 4648 vectors)
    let vectors = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (plain, enc) in vectors {
        assert_eq!(to_base64(plain.as_bytes()), enc);
        assert_eq!(from_base64(enc).unwrap(), plain.as_bytes());
    }
    // White space anywhere is ignored; length must be a multiple of four.
    assert_eq!(from_base64(" Zm9v\r\nYmFy\t").unwrap(), b"foobar");
    assert_eq!(from_base64("Zm 8=").unwrap(), b"fo");
    for bad in ["Zm9", "Zm9v=", "Zm9v====", "Zm=v", "Zm9v!", "Z===", "Zm9-", "Zm9_"] {
        let e = from_base64(bad).unwrap_err();
        assert_eq!(e.kind, ExceptionKind::Format, "{bad}");
    }
    // Non-canonical trailing bits are accepted, as .NET does.
    assert_eq!(from_base64("Zh==").unwrap(), b"f");
    let long = vec![0u8; 60];
    let lines = to_base64_lines(&long);
    assert_eq!(lines.split("\r\n").next().unwrap().len(), 76);
    assert_eq!(lines.len(), 80 + 2);
}

#[test]
fn hex_and_bitconverter() {
    // https://learn.microsoft.com/dotnet/api/system.bitconverter.tostring
    assert_eq!(bit_converter_to_string(&[0x01, 0xAB, 0xFF]), "01-AB-FF");
    assert_eq!(bit_converter_to_string(&[]), "");
    assert_eq!(to_hex(&[0xDE, 0xAD, 0xBE, 0xEF]), "DEADBEEF");
    assert_eq!(from_hex("deadBEEF").unwrap(), vec![0xDE, 0xAD, 0xBE, 0xEF]);
    assert_eq!(from_hex("abc").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(from_hex("zz").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(bit_converter_i32(1), vec![1, 0, 0, 0]);
    assert_eq!(bit_converter_i64(-1), vec![0xFF; 8]);
    assert_eq!(bit_converter_to_i32(&[1, 2, 0, 0, 9], 0).unwrap(), 0x0201);
    assert_eq!(bit_converter_to_i32(&[1, 2, 0], 0).unwrap_err().kind, ExceptionKind::Argument);
    assert_eq!(bit_converter_to_i32(&[1, 2, 0, 0], 9).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
}

#[test]
fn guids() {
    // https://learn.microsoft.com/dotnet/api/system.guid.tostring (format table)
    let g = Guid::parse("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
    let cases = [
        ("", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("D", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("N", "0f8fad5bd9cb469fa16570867728950e"),
        ("B", "{0f8fad5b-d9cb-469f-a165-70867728950e}"),
        ("P", "(0f8fad5b-d9cb-469f-a165-70867728950e)"),
        ("X", "{0x0f8fad5b,0xd9cb,0x469f,{0xa1,0x65,0x70,0x86,0x77,0x28,0x95,0x0e}}"),
    ];
    for (f, want) in cases {
        assert_eq!(g.to_string_format(f).unwrap(), want, "{f}");
        assert_eq!(Guid::parse(want).unwrap(), g, "parse {want}");
    }
    assert_eq!(Guid::parse(" 0F8FAD5B-D9CB-469F-A165-70867728950E ").unwrap(), g);
    assert_eq!(g.to_string_format("Z").unwrap_err().kind, ExceptionKind::Format);
    for bad in [
        "",
        "xyz",
        "0f8fad5b-d9cb-469f-a165-70867728950",
        "0f8fad5b_d9cb_469f_a165_70867728950e",
        "{0f8fad5b-d9cb-469f-a165-70867728950e)",
    ] {
        assert_eq!(Guid::parse(bad).unwrap_err().kind, ExceptionKind::Format, "{bad}");
    }
    assert_eq!(Guid::EMPTY.to_dotnet_string(), "00000000-0000-0000-0000-000000000000");
    // ToByteArray: the first three fields little endian.
    assert_eq!(&g.to_dotnet_bytes()[..8], &[0x5b, 0xad, 0x8f, 0x0f, 0xcb, 0xd9, 0x9f, 0x46]);
    assert_eq!(Guid::from_dotnet_bytes(&g.to_dotnet_bytes()).unwrap(), g);
    let v4 = Guid::new_v4([0xff; 16]).to_dotnet_string();
    assert_eq!(&v4[14..15], "4");
    assert_eq!(&v4[19..20], "b");
}

proptest::proptest! {
    #[test]
    fn decoders_never_panic(s in "\\PC{0,48}", b in proptest::collection::vec(proptest::num::u8::ANY, 0..48)) {
        let _ = from_base64(&s);
        let _ = from_hex(&s);
        let _ = Guid::parse(&s);
        let _ = crate::policy::dotnet::ip::IpAddress::parse(&s);
        let _ = utf16le_string(&b);
        let _ = utf8_string(&b);
        let _ = bit_converter_to_i32(&b, 3);
        let _ = Guid::from_dotnet_bytes(&b);
        proptest::prop_assert_eq!(from_base64(&to_base64(&b)).unwrap(), b);
    }
}
