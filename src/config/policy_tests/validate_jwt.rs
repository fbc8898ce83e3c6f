//! `validate-jwt` in the engine: the RFC 7515 appendix vectors, every APIM reason, load-time
//! refusals, certificates, and openid-config providers given by the key sets a snapshot is
//! assembled with.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use super::documents::{config, load, load_err};
use crate::policy::policies::validate_jwt::check::{validate, MAX_TOKEN};
use crate::policy::policies::validate_jwt::keys::{parse_jwks, KeySets, Provider, SigningKey};
use crate::policy::policies::validate_jwt::*;
use crate::policy::policies::Op;
use crate::policy::testkit::{drive, FakeReq, FakeResp};

/// RFC 7515 A.1 HMAC key (base64url).
const A1_K: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// RFC 7515 A.2 RSA public key.
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
/// RFC 7515 A.3 EC P-256 public key and its JWS.
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
/// Just before the vectors' `exp`.
const VECTOR_NOW: u64 = 1_300_819_000;

fn hs_key_b64() -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(A1_K).unwrap();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn secret() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(A1_K).unwrap()
}

/// Compiles one `<validate-jwt>` (inbound) and returns it.
fn op(xml: &str) -> ValidateJwt {
    let doc = format!("<policies><inbound>{xml}</inbound></policies>");
    let snap = load(&config(None, None, Some(&doc), None));
    let mut plans = snap.policy_plans;
    let found = plans.ops_mut().find_map(|o| match o {
        Op::ValidateJwt(v) => Some((**v).clone()),
        _ => None,
    });
    found.expect("a validate-jwt op")
}

fn reason(p: &ValidateJwt, token: &str, now: u64) -> &'static str {
    match validate(p, token, now) {
        Ok(()) => "ok",
        Err(r) => r.0,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn hs(alg: Algorithm, kid: Option<&str>, claims: serde_json::Value, key: &[u8]) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_string);
    encode(&h, &claims, &EncodingKey::from_secret(key).unwrap()).unwrap()
}

fn hs_op(extra: &str) -> ValidateJwt {
    op(&format!(
        r#"<validate-jwt header-name="Authorization" failed-validation-httpcode="403" failed-validation-error-message="nope">
             <issuer-signing-keys><key>{}</key></issuer-signing-keys>{extra}</validate-jwt>"#,
        hs_key_b64()
    ))
}

#[test]
fn rfc7515_vectors_verify() {
    let p = op(&format!(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys>
             <key>{}</key><key n="{A2_N}" e="AQAB"/></issuer-signing-keys></validate-jwt>"#,
        hs_key_b64()
    ));
    assert_eq!(reason(&p, A1_JWS, VECTOR_NOW), "ok");
    assert_eq!(reason(&p, A2_JWS, VECTOR_NOW), "ok");
    assert_eq!(reason(&p, A1_JWS, VECTOR_NOW + 1000), "TokenExpired");
    let mut ec = op(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>AAAA</key></issuer-signing-keys></validate-jwt>"#,
    );
    ec.keys = vec![SigningKey::from_jwk(&json!({"kty":"EC","crv":"P-256","x":A3_X,"y":A3_Y})).unwrap().unwrap()];
    assert_eq!(reason(&ec, A3_JWS, VECTOR_NOW), "ok");
    // The same signature over another payload fails.
    let (h, rest) = A3_JWS.split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    let tampered = format!("{h}.eyJpc3MiOiJtYWxsb3J5In0.{sig}");
    assert_eq!(reason(&ec, &tampered, VECTOR_NOW), "TokenSignatureInvalid");
}

#[test]
fn every_reason_with_the_configured_code_and_message() {
    let p = hs_op(
        r#"<audiences><audience>api://orders</audience></audiences><issuers><issuer>https://idp</issuer></issuers>
           <required-claims><claim name="scp" match="any" separator=" "><value>read</value><value>write</value></claim>
           <claim name="roles" match="all"><value>a</value><value>b</value></claim><claim name="tid"/></required-claims>"#,
    );
    let t = now();
    let good =
        json!({"aud":"api://orders","iss":"https://idp","exp":t+60,"scp":"openid read","roles":["b","a"],"tid":"t1"});
    let sign = |c: &serde_json::Value| hs(Algorithm::HS256, None, c.clone(), &secret());
    assert_eq!(reason(&p, &sign(&good), t), "ok");
    let with = |k: &str, v: serde_json::Value| {
        let mut c = good.clone();
        c[k] = v;
        sign(&c)
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        sign(&c)
    };
    assert_eq!(reason(&p, &with("exp", json!(t - 1)), t), "TokenExpired");
    assert_eq!(reason(&p, &without("exp"), t), "TokenExpired");
    assert_eq!(reason(&p, &with("exp", json!("never")), t), "JwtInvalid");
    assert_eq!(reason(&p, &with("nbf", json!(t + 600)), t), "JwtInvalid");
    assert_eq!(reason(&p, &with("nbf", json!("later")), t), "JwtInvalid");
    assert_eq!(reason(&p, &with("aud", json!(["x", "y"])), t), "TokenAudienceNotAllowed");
    assert_eq!(reason(&p, &with("aud", json!(["x", "api://orders"])), t), "ok");
    assert_eq!(reason(&p, &without("aud"), t), "TokenAudienceNotAllowed");
    assert_eq!(reason(&p, &with("iss", json!("https://evil")), t), "TokenIssuerNotAllowed");
    assert_eq!(reason(&p, &without("tid"), t), "TokenClaimNotFound");
    assert_eq!(reason(&p, &with("scp", json!("openid profile")), t), "TokenClaimValueNotAllowed");
    assert_eq!(reason(&p, &with("scp", json!("write")), t), "ok");
    assert_eq!(reason(&p, &with("roles", json!(["a"])), t), "TokenClaimValueNotAllowed");
    let wrong_key = hs(Algorithm::HS256, None, good.clone(), b"another secret of enough length!");
    assert_eq!(reason(&p, &wrong_key, t), "TokenSignatureInvalid");
    assert_eq!(reason(&p, "abc", t), "JwtInvalid");
    assert_eq!(reason(&p, "a.b.c.d.e", t), "JwtInvalid");
    // HS384 / HS512 with the same key.
    assert_eq!(reason(&p, &hs(Algorithm::HS384, None, good.clone(), &secret()), t), "ok");
    assert_eq!(reason(&p, &hs(Algorithm::HS512, None, good.clone(), &secret()), t), "ok");
    // Clock skew lets a just-expired token in.
    let skewed = hs_op(r#"<audiences><audience>api://orders</audience></audiences>"#);
    let mut skewed = skewed;
    skewed.clock_skew = 30;
    assert_eq!(reason(&skewed, &with("exp", json!(t - 10)), t), "ok");
}

#[test]
fn unsigned_and_confused_tokens_are_refused() {
    use base64::Engine;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let t = now();
    let body = e.encode(json!({"exp": t + 60}).to_string());
    let none = format!("{}.{body}.", e.encode(r#"{"alg":"none"}"#));
    let p = hs_op("");
    assert_eq!(reason(&p, &none, t), "TokenSignatureInvalid");
    let mut lax = p.clone();
    lax.require_signed = false;
    assert_eq!(reason(&lax, &none, t), "ok", "require-signed-tokens=false admits unsigned tokens");
    // A forged `none` with a signature still fails.
    assert_eq!(reason(&lax, &format!("{}.{body}.AAAA", e.encode(r#"{"alg":"none"}"#)), t), "TokenSignatureInvalid");
    // HS256 signed with the RSA public key's bytes against an RSA-only configuration.
    let rsa = op(&format!(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key n="{A2_N}" e="AQAB"/></issuer-signing-keys></validate-jwt>"#
    ));
    let n_bytes = e.decode(A2_N).unwrap();
    assert_eq!(reason(&rsa, &hs(Algorithm::HS256, None, json!({"exp": t + 60}), &n_bytes), t), "TokenSignatureInvalid");
    // The other way: an RS256 header against an HMAC-only configuration.
    let (_, rest) = A2_JWS.split_once('.').unwrap();
    let rs_header_on_hs = format!("{}.{rest}", e.encode(r#"{"alg":"RS256"}"#));
    assert_eq!(reason(&p, &rs_header_on_hs, VECTOR_NOW), "TokenSignatureInvalid");
    // Algorithms outside the list.
    let ed = format!("{}.{body}.AAAA", e.encode(r#"{"alg":"EdDSA"}"#));
    assert_eq!(reason(&p, &ed, t), "TokenSignatureInvalid");
}

#[test]
fn kids_pick_keys_and_unknown_kids_are_refused() {
    let t = now();
    let p = op(&format!(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key id="k1">{}</key></issuer-signing-keys></validate-jwt>"#,
        hs_key_b64()
    ));
    let c = json!({"exp": t + 60});
    assert_eq!(reason(&p, &hs(Algorithm::HS256, Some("k1"), c.clone(), &secret()), t), "ok");
    assert_eq!(reason(&p, &hs(Algorithm::HS256, None, c.clone(), &secret()), t), "ok");
    assert_eq!(reason(&p, &hs(Algorithm::HS256, Some("k2"), c, &secret()), t), "TokenSignatureKeyNotFound");
}

#[test]
fn openid_provider_keys_issuer_and_misses() {
    let t = now();
    let mut p = op(
        r#"<validate-jwt header-name="Authorization"><openid-config url="https://idp.local/.well-known/openid-configuration"/></validate-jwt>"#,
    );
    let c = json!({"exp": t + 60, "iss": "https://idp.local"});
    let token = hs(Algorithm::HS256, Some("r1"), c.clone(), &secret());
    assert_eq!(reason(&p, &token, t), "TokenSignatureKeyNotFound", "no keys yet");
    let (keys, skipped) = parse_jwks(
        json!({"keys": [{"kty":"oct","kid":"r1","k":A1_K},{"kty":"RSA","kid":"enc","use":"enc","n":A2_N,"e":"AQAB"},
                        {"kty":"RSA","kid":"bad"},{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let provider = Arc::new(Provider { issuer: Some("https://idp.local".into()), keys, ..Provider::default() });
    p.openid[0].provider = Some(provider.clone());
    assert_eq!(reason(&p, &token, t), "ok");
    assert!(!provider.miss.load(Ordering::Relaxed));
    let rotated = hs(Algorithm::HS256, Some("r2"), c, &secret());
    assert_eq!(reason(&p, &rotated, t), "TokenSignatureKeyNotFound");
    assert!(provider.miss.load(Ordering::Relaxed), "the miss is noted for the control thread");
    let other_issuer = hs(Algorithm::HS256, Some("r1"), json!({"exp": t + 60, "iss": "https://evil"}), &secret());
    assert_eq!(reason(&p, &other_issuer, t), "TokenIssuerNotAllowed", "the discovered issuer is enforced");
}

#[test]
fn attach_reaches_every_plan() {
    let doc = r#"<policies><inbound><validate-jwt header-name="Authorization"><openid-config url="https://idp.local/oidc"/></validate-jwt></inbound></policies>"#;
    let mut snap = load(&config(Some(doc), Some("<policies><inbound><base/></inbound></policies>"), None, None));
    assert_eq!(openid_urls(&snap.policy_plans), vec!["https://idp.local/oidc".to_string()]);
    let mut keys = KeySets::default();
    keys.insert("https://idp.local/oidc", Arc::new(Provider::default()));
    attach_openid(&mut snap.policy_plans, &keys);
    let attached =
        snap.policy_plans.ops().filter(|o| matches!(o, Op::ValidateJwt(v) if v.openid[0].provider.is_some()));
    assert!(attached.count() >= 2, "global plan and the product's plan");
    attach_openid(&mut snap.policy_plans, &KeySets::default());
    assert!(snap.policy_plans.ops().all(|o| !matches!(o, Op::ValidateJwt(v) if v.openid[0].provider.is_some())));
}

#[test]
fn certificates_by_id() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["idp.local".into()]).unwrap().self_signed(&key).unwrap();
    let policy = r#"<policies><inbound><validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="idp"/></issuer-signing-keys></validate-jwt></inbound></policies>"#;
    let mut doc = config(None, None, Some(policy), None);
    doc["certificates"] = json!([{"id": "idp", "pem": cert.pem()}]);
    let mut plans = load(&doc).policy_plans;
    let p = plans.ops_mut().find_map(|o| if let Op::ValidateJwt(v) = o { Some((**v).clone()) } else { None }).unwrap();
    assert_eq!(p.keys.len(), 1);
    let t = now();
    let token = encode(
        &Header::new(Algorithm::ES256),
        &json!({"exp": t + 60}),
        &EncodingKey::from_ec_der(&key.serialize_der()),
    )
    .unwrap();
    assert_eq!(reason(&p, &token, t), "ok");
    let mut bad = config(None, None, Some(policy), None);
    bad["certificates"] = json!([]);
    let errs = load_err(&bad);
    assert!(errs.iter().any(|e| e.contains("unknown certificate 'idp'")), "{errs:?}");
}

#[test]
fn load_time_refusals() {
    let cases = [
        (r#"<validate-jwt header-name="a" query-parameter-name="b"/>"#, "exactly one of"),
        (
            r#"<validate-jwt header-name="a"><decryption-keys><key>AAAA</key></decryption-keys></validate-jwt>"#,
            "not supported",
        ),
        (
            r#"<validate-jwt header-name="a"><issuer-signing-keys><key>!!!</key></issuer-signing-keys></validate-jwt>"#,
            "not base64",
        ),
        (
            r#"<validate-jwt header-name="a"><issuer-signing-keys><key n="AQAB" e="AQAB"/></issuer-signing-keys></validate-jwt>"#,
            "2048",
        ),
        (r#"<validate-jwt header-name="a" failed-validation-httpcode="99"/>"#, "100-599"),
        (
            r#"<validate-jwt header-name="a"><required-claims><claim name="x" match="some"/></required-claims></validate-jwt>"#,
            "all or any",
        ),
        (r#"<validate-jwt header-name="a"><openid-config url="ftp://x"/></validate-jwt>"#, "http(s)"),
        (r#"<validate-jwt header-name="a" bogus="1"/>"#, "unknown attribute"),
    ];
    for (xml, want) in cases {
        let errs = load_err(&config(None, None, Some(&format!("<policies><inbound>{xml}</inbound></policies>")), None));
        assert!(errs.iter().any(|e| e.contains(want)), "{xml}: {errs:?}");
    }
    let outbound = "<policies><outbound><validate-jwt header-name=\"a\"/></outbound></policies>";
    assert!(!load_err(&config(None, None, Some(outbound), None)).is_empty());
}

#[test]
fn runs_in_the_pipeline_with_status_message_and_output_variable() {
    let t = now();
    let doc = format!(
        r#"<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="403"
             failed-validation-error-message="@("denied " + context.Request.Method)" output-token-variable-name="jwt">
             <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>
           </inbound><backend><forward-request/></backend></policies>"#,
        hs_key_b64()
    );
    let snap = load(&config(None, None, Some(&doc), None));
    let plan = snap.policy_plans.get(0, Some(0), None);
    let backend = FakeResp::new(200, "{}");
    let token = hs(Algorithm::HS256, None, json!({"exp": t + 60, "sub": "alice"}), &secret());
    let ok = drive(
        plan,
        &FakeReq::new("GET", "/orders/items/1").h("Authorization", &format!("Bearer {token}")),
        "10.0.0.1",
        &backend,
        None,
    );
    assert_eq!(ok.forwarded, 1, "{:?}", ok.error);
    assert_eq!(ok.var("jwt").as_deref(), Some("Jwt"), "output-token-variable-name holds the parsed token");
    let missing = drive(plan, &FakeReq::new("GET", "/orders/items/1"), "10.0.0.1", &backend, None);
    let e = missing.error.clone().expect("failed");
    assert_eq!(
        (e.reason.as_str(), e.message.as_str(), e.source.as_str()),
        ("TokenNotPresent", "denied GET", "validate-jwt")
    );
    assert_eq!(missing.status(), 403);
    let wrong_scheme = drive(
        plan,
        &FakeReq::new("GET", "/orders/items/1").h("Authorization", &format!("Basic {token}")),
        "10.0.0.1",
        &backend,
        None,
    );
    assert_eq!(wrong_scheme.error.unwrap().reason, "TokenNotPresent");
    let expired = hs(Algorithm::HS256, None, json!({"exp": t - 100}), &secret());
    let r = drive(
        plan,
        &FakeReq::new("GET", "/x").h("Authorization", &format!("Bearer {expired}")),
        "10.0.0.1",
        &backend,
        None,
    );
    assert_eq!(r.error.as_ref().unwrap().reason, "TokenExpired");
    assert_eq!(r.status(), 403);
}

/// A header with `crit` (RFC 7515 4.1.11) is refused whatever it lists, signed correctly or not.
#[test]
fn critical_header_extensions_are_refused() {
    use base64::Engine;
    let p = hs_op("");
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let sign = |header: serde_json::Value| {
        let msg = format!("{}.{}", b64(header), b64(json!({"exp": now() + 60})));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret());
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, msg.as_bytes()));
        format!("{msg}.{sig}")
    };
    assert_eq!(reason(&p, &sign(json!({"alg": "HS256"})), now()), "ok");
    for crit in [json!(["x-ext"]), json!(["b64"]), json!([]), json!("x-ext"), json!([1]), json!(null), json!({})] {
        let token = sign(json!({"alg": "HS256", "crit": crit, "x-ext": 1, "b64": true}));
        assert_eq!(reason(&p, &token, now()), "JwtInvalid", "crit {crit}");
    }
}

/// A token past the size cap is refused before it is decoded.
#[test]
fn oversized_tokens_are_refused_before_decoding() {
    let p = hs_op("");
    let claims = json!({"exp": now() + 60, "pad": "x".repeat(MAX_TOKEN)});
    let token = hs(Algorithm::HS256, None, claims, &secret());
    assert_eq!(reason(&p, &token, now()), "JwtInvalid");
}
