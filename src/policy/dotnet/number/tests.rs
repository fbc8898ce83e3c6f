use super::*;
use crate::policy::dotnet::error::ExceptionKind;

#[test]
fn double_to_string_shortest() {
    // https://learn.microsoft.com/dotnet/api/system.double.tostring and the .NET Core 3.0
    // "floating-point formatting and parsing" changes: shortest round-trippable digits,
    // scientific notation from exponent 15 up and below -4.
    let cases: &[(f64, &str)] = &[
        (1.0, "1"),
        (0.1, "0.1"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (100.0, "100"),
        (1234.5678, "1234.5678"),
        (123456789012345.0, "123456789012345"),
        (1e15, "1E+15"),
        (1e16, "1E+16"),
        (1.5e300, "1.5E+300"),
        (0.0001, "0.0001"),
        (0.00001, "1E-05"),
        (1.23e-10, "1.23E-10"),
        (f64::MAX, "1.7976931348623157E+308"),
        (f64::MIN_POSITIVE * f64::EPSILON, "5E-324"),
        (-0.0, "-0"),
        (0.0, "0"),
        (-1.5, "-1.5"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
        (0.6822871999174, "0.6822871999174"),
        (3.0e-5, "3E-05"),
    ];
    for (v, want) in cases {
        assert_eq!(double_to_string(*v), *want, "{v:e}");
        assert_eq!(format_double(*v, "R").unwrap(), *want, "R {v:e}");
    }
    assert_eq!(single_to_string(0.1f32), "0.1");
    assert_eq!(single_to_string(1.0e10f32), "1E+10");
    assert_eq!(bool_to_string(true), "True");
}

#[test]
fn standard_formats() {
    // https://learn.microsoft.com/dotnet/standard/base-types/standard-numeric-format-strings
    // (examples with the invariant culture).
    let doubles: &[(f64, &str, &str)] = &[
        (1234.5678, "F2", "1234.57"),
        (1234.5678, "F", "1234.57"),
        (1234.5678, "F0", "1235"),
        (1234.5678, "F3", "1234.568"),
        (1234.5678, "N2", "1,234.57"),
        (1234.5678, "N", "1,234.57"),
        (1234567.891, "N3", "1,234,567.891"),
        (-1234.567, "N1", "-1,234.6"),
        (0.5, "N0", "0"),
        (1.5, "F0", "2"),
        (2.5, "F0", "2"),
        (12345.6789, "E", "1.234568E+004"),
        (12345.6789, "E10", "1.2345678900E+004"),
        (12345.6789, "e4", "1.2346e+004"),
        (-0.00012, "E2", "-1.20E-004"),
        (0.2468013, "P", "24.68 %"),
        (0.2468013, "P1", "24.7 %"),
        (-0.5, "P0", "-50 %"),
        (12345.6789, "G", "12345.6789"),
        (12345.6789, "G4", "1.235E+04"),
        (12345.6789, "G7", "12345.68"),
        (0.0000023, "G", "2.3E-06"),
        (0.0023, "G", "0.0023"),
        (1234.0, "g2", "1.2e+03"),
        (123.456, "C", "\u{a4}123.46"),
        (-123.456, "C", "(\u{a4}123.46)"),
        (1e21, "F0", "1000000000000000000000"),
        (0.0, "F2", "0.00"),
        (-1.0, "F1", "-1.0"),
    ];
    for (v, f, want) in doubles {
        assert_eq!(format_double(*v, f).unwrap(), *want, "{v} {f}");
    }
    let ints: &[(i128, u32, &str, &str)] = &[
        (1234, 32, "D", "1234"),
        (-1234, 32, "D6", "-001234"),
        (255, 32, "X", "FF"),
        (255, 32, "x4", "00ff"),
        (-1, 32, "X", "FFFFFFFF"),
        (-1, 64, "X", "FFFFFFFFFFFFFFFF"),
        (-1, 8, "x", "ff"),
        (12345, 32, "G3", "1.23E+04"),
        (12345, 32, "G", "12345"),
        (12345, 32, "N0", "12,345"),
        (1234567, 32, "N", "1,234,567.00"),
        (-42, 32, "F1", "-42.0"),
        (42, 32, "E2", "4.20E+001"),
        (1, 32, "P", "100.00 %"),
        (123, 32, "C", "\u{a4}123.00"),
        (0, 32, "D3", "000"),
        (i64::MIN as i128, 64, "D", "-9223372036854775808"),
    ];
    for (v, bits, f, want) in ints {
        assert_eq!(format_int(*v, *bits, f).unwrap(), *want, "{v} {f}");
    }
    assert_eq!(format_double(1.5, "D").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(format_double(1.5, "X").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(format_int(1, 32, "R").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(format_double(1.0, "F100000").unwrap_err().kind, ExceptionKind::Budget);
}

#[test]
fn custom_formats() {
    // https://learn.microsoft.com/dotnet/standard/base-types/custom-numeric-format-strings
    let doubles: &[(f64, &str, &str)] = &[
        (123.0, "00000", "00123"),
        (1.2, "0.00", "1.20"),
        (1.2, "00.00", "01.20"),
        (0.56, "0.0", "0.6"),
        (1.2, "#.##", "1.2"),
        (0.0, "#.##", ""),
        (0.5, "#.##", ".5"),
        (123.0, "#####", "123"),
        (1234567890.0, "#,#", "1,234,567,890"),
        (1234567890.0, "#,##0,,", "1,235"),
        (1234567890.0, "#,,", "1235"),
        (1234.5678, "#,##0.00", "1,234.57"),
        (0.086, "#0.##%", "8.6%"),
        (0.3697, "%#0.00", "%36.97"),
        (86000.0, "0.###E+0", "8.6E+4"),
        (86000.0, "0.###E+000", "8.6E+004"),
        (86000.0, "0.###E-000", "8.6E004"),
        (1503.92311, "0.0##e+00", "1.504e+03"),
        (0.000123, "0.0E0", "1.2E-4"),
        (1234567890.0, "(###) ###-####", "(123) 456-7890"),
        (123456789.0, "000-00-0000", "123-45-6789"),
        (1.5, "#", "2"),
        (2.5, "0", "3"),
        (0.125, "0.00", "0.13"),
        (-0.001, "0.00", "0.00"),
        (5.0, "\\#0", "#5"),
        (5.0, "'#'0", "#5"),
        (12.3, "0000.000", "0012.300"),
        (-1234.5, "#,##0.00;(#,##0.00)", "(1,234.50)"),
        (1234.5, "#,##0.00;(#,##0.00)", "1,234.50"),
        (0.0, "#,##0.00;(#,##0.00);Zero", "Zero"),
        (-12.0, "0", "-12"),
        (0.1 + 0.2, "0.00000000000000000", "0.30000000000000000"),
        (99.999, "0.00", "100.00"),
    ];
    for (v, f, want) in doubles {
        assert_eq!(format_double(*v, f).unwrap(), *want, "{v} {f:?}");
    }
    assert_eq!(format_int(42, 32, "0000").unwrap(), "0042");
    assert_eq!(format_int(1234567, 32, "#,##0").unwrap(), "1,234,567");
    assert_eq!(format_int(-5, 32, "00;minus 00").unwrap(), "minus 05");
}

#[test]
fn parsing() {
    // https://learn.microsoft.com/dotnet/api/system.int32.parse (NumberStyles.Integer)
    let ok: &[(&str, i128)] = &[(" 42 ", 42), ("+42", 42), ("-0", 0), ("00042", 42), ("\t-2147483648\n", -2147483648)];
    for (s, want) in ok {
        assert_eq!(parse_int(s, IntType::Int32).unwrap(), *want, "{s:?}");
    }
    for s in ["", " ", "1,000", "4.0", "0x10", "abc", "--1", "1 2"] {
        assert_eq!(parse_int(s, IntType::Int32).unwrap_err().kind, ExceptionKind::Format, "{s:?}");
    }
    let e = parse_int("2147483648", IntType::Int32).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::Overflow);
    assert_eq!(e.message, "Value was either too large or too small for an Int32.");
    assert_eq!(
        parse_int("-1", IntType::Byte).unwrap_err().message,
        "Value was either too large or too small for a Byte."
    );
    assert_eq!(parse_int("9223372036854775807", IntType::Int64).unwrap(), i64::MAX as i128);
    assert_eq!(
        parse_int("99999999999999999999999999999999999", IntType::Int64).unwrap_err().kind,
        ExceptionKind::Overflow
    );
    // https://learn.microsoft.com/dotnet/api/system.double.parse
    let dbl: &[(&str, f64)] = &[
        ("1,234.5", 1234.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        (" -1.5E-2 ", -0.015),
        ("1e400", f64::INFINITY),
        ("-Infinity", f64::NEG_INFINITY),
        ("infinity", f64::INFINITY),
    ];
    for (s, want) in dbl {
        assert_eq!(parse_double(s).unwrap(), *want, "{s:?}");
    }
    assert!(parse_double("NaN").unwrap().is_nan());
    for s in ["", "abc", "1e", "inf", "1.2.3", ",5", "0x1p3", "1_000"] {
        assert_eq!(parse_double(s).unwrap_err().kind, ExceptionKind::Format, "{s:?}");
    }
    assert!(parse_bool(" TRUE ").unwrap());
    assert!(!parse_bool("false").unwrap());
    assert_eq!(parse_bool("yes").unwrap_err().message, "String 'yes' was not recognized as a valid Boolean.");
    assert!(!convert_to_boolean(None).unwrap());
}

#[test]
fn convert_and_math() {
    // https://learn.microsoft.com/dotnet/api/system.convert.toint32#system-convert-toint32(system-double)
    let cases: &[(f64, i32)] = &[(2.5, 2), (3.5, 4), (-2.5, -2), (1.4, 1), (-1.6, -2), (0.5, 0), (1.5, 2)];
    for (v, want) in cases {
        assert_eq!(convert_to_int32(*v).unwrap(), *want, "{v}");
    }
    assert_eq!(convert_to_int32(1e10).unwrap_err().kind, ExceptionKind::Overflow);
    assert_eq!(convert_to_int32(f64::NAN).unwrap_err().kind, ExceptionKind::Overflow);
    assert_eq!(convert_to_int64(1e10).unwrap(), 10_000_000_000);
    // https://learn.microsoft.com/dotnet/api/system.math.round
    use MidpointRounding::*;
    let rounds: &[(f64, MidpointRounding, f64)] = &[
        (2.5, ToEven, 2.0),
        (3.5, ToEven, 4.0),
        (-2.5, ToEven, -2.0),
        (2.5, AwayFromZero, 3.0),
        (-2.5, AwayFromZero, -3.0),
        (2.7, ToZero, 2.0),
        (-2.7, ToNegativeInfinity, -3.0),
        (2.1, ToPositiveInfinity, 3.0),
    ];
    for (v, m, want) in rounds {
        assert_eq!(round(*v, *m), *want, "{v} {m:?}");
    }
    assert_eq!(round_digits(3.45, 1, ToEven).unwrap(), 3.4);
    assert_eq!(round_digits(3.46, 1, ToEven).unwrap(), 3.5);
    assert_eq!(round_digits(3.45, 1, AwayFromZero).unwrap(), 3.5);
    assert_eq!(round_digits(1.23456, 3, ToEven).unwrap(), 1.235);
    assert_eq!(round_digits(2.125, 2, ToEven).unwrap(), 2.12);
    assert_eq!(round_digits(2.125, 2, AwayFromZero).unwrap(), 2.13);
    assert_eq!(round_digits(1.0, 16, ToEven).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
}

proptest::proptest! {
    #[test]
    fn formatting_never_panics(v in proptest::num::f64::ANY, f in "[A-Za-z0#.,%;Ee+\\-'\\\\]{0,12}") {
        let _ = format_double(v, &f);
        let _ = format_int(v as i64 as i128, 64, &f);
        let _ = parse_double(&f);
        let _ = parse_int(&f, IntType::Int32);
    }
}
