//! `validate-jwt` end to end: tokens made by an independent library (PyJWT, through
//! `python3 -c`) with the RFC 7515 appendix keys (A.1 HMAC, A.2 RSA, A.3 EC P-256) are sent
//! through the real gateway. Good tokens of every family pass; each kind of bad token fails
//! with the configured status and APIM's reason. `openid-config` is served by a small local
//! provider whose keys rotate; an unreachable provider does not stop the gateway.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{json, Value};

/// RFC 7515 A.1: the HMAC key (JWK `k`).
const A1_K: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

/// RFC 7515 A.2: the RSA key.
fn a2_rsa() -> Value {
    json!({"kty": "RSA",
        "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        "e": "AQAB",
        "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
        "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
        "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
        "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
        "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
        "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"})
}

/// RFC 7515 A.3: the EC P-256 key.
fn a3_ec() -> Value {
    json!({"kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})
}

/// The public half of a JWK, with a `kid`.
fn public(jwk: &Value, kid: &str) -> Value {
    let mut p = jwk.clone();
    for k in ["d", "p", "q", "dp", "dq", "qi"] {
        p.as_object_mut().unwrap().remove(k);
    }
    p["kid"] = json!(kid);
    p
}

/// Signs a list of `{alg, key, claims, headers}` with PyJWT; `alg` `none` makes an unsigned
/// token, `confuse` makes an HS256 token keyed with the PEM of an RSA public key (PyJWT
/// refuses that key for HMAC, so the standard library's hmac signs it). `cert` returns a
/// self-signed certificate (PEM) for an EC JWK, made by `cryptography`.
const PY: &str = r#"
import sys, json, base64, hmac, hashlib, datetime, jwt
from jwt.algorithms import RSAAlgorithm, ECAlgorithm
from cryptography.hazmat.primitives import serialization, hashes
from cryptography import x509
from cryptography.x509.oid import NameOID
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
out = []
for s in json.loads(sys.argv[1]):
    k, alg = s.get("key"), s.get("alg")
    if s.get("cert"):
        key = ECAlgorithm.from_jwk(json.dumps(k))
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
        now = datetime.datetime.now(datetime.timezone.utc)
        c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
             .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        out.append(c.public_bytes(serialization.Encoding.PEM).decode())
    elif s.get("confuse"):
        rk = RSAAlgorithm.from_jwk(json.dumps(k))
        rk = rk.public_key() if hasattr(rk, "private_bytes") else rk
        pem = rk.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        msg = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(s["claims"]).encode())
        out.append(msg + "." + b64(hmac.new(pem, msg.encode(), hashlib.sha256).digest()))
    elif alg == "none":
        out.append(jwt.encode(s["claims"], None, algorithm="none"))
    else:
        if alg.startswith("HS"):
            key = base64.urlsafe_b64decode(k["k"] + "==")
        elif alg.startswith("ES"):
            key = ECAlgorithm.from_jwk(json.dumps(k))
        else:
            key = RSAAlgorithm.from_jwk(json.dumps(k))
        out.append(jwt.encode(s["claims"], key, algorithm=alg, headers=s.get("headers")))
print(json.dumps(out))
"#;

fn pyjwt(specs: &[Value]) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .args(["-c", PY, &Value::Array(specs.to_vec()).to_string()])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "PyJWT failed (scripts/test.sh installs it: python3 -m pip install pyjwt cryptography):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON list of tokens")
}

/// The token with one character of its signature changed (not the last: it carries padding bits).
fn flip(token: &str) -> String {
    let mut b = token.as_bytes().to_vec();
    let i = b.len() - 10;
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn doc(b: &Backend, apis: Vec<Value>, extra: Value) -> String {
    let mut d = json!({"revision": "jwt1", "apis": apis});
    for api in d["apis"].as_array_mut().unwrap() {
        api["serviceUrl"] = json!(b.url());
        api["subscriptionRequired"] = json!(false);
    }
    if let Value::Object(m) = extra {
        for (k, v) in m {
            d[k] = v;
        }
    }
    d.to_string()
}

/// The reason of a failed call, put in a header by on-error.
const ON_ERROR: &str = r#"<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error>"#;

fn call(gw: &Gateway, path: &str, token: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let r = gw.get(path, &[("Authorization", &auth)]);
    (r.status, r.header("x-reason").unwrap_or("").to_string())
}

#[test]
fn static_keys_accept_good_tokens_and_refuse_bad_ones() {
    let b = Backend::normal();
    let ec_cert = &pyjwt(&[json!({"cert": true, "key": a3_ec()})])[0];
    let rsa = a2_rsa();
    let policy = format!(
        r#"<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="403" failed-validation-error-message="denied">
          <issuer-signing-keys><key id="hs1">{hs}</key><key id="rsa1" n="{n}" e="AQAB"/><key id="ec1" certificate-id="idp-ec"/></issuer-signing-keys>
          <audiences><audience>api://orders</audience></audiences>
          <issuers><issuer>https://idp.test</issuer></issuers>
          <required-claims><claim name="scp" match="any" separator=" "><value>orders.read</value></claim></required-claims>
        </validate-jwt></inbound><backend><forward-request/></backend>{ON_ERROR}</policies>"#,
        hs = {
            use base64::Engine;
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(A1_K).unwrap();
            base64::engine::general_purpose::STANDARD.encode(raw)
        },
        n = rsa["n"].as_str().unwrap(),
    );
    let api = json!({"id": "jwt", "path": "jwt", "policy": policy});
    let open = json!({"id": "open", "path": "open"});
    let certs = json!({"certificates": [{"id": "idp-ec", "pem": ec_cert}]});
    let gw = Gateway::start(&doc(&b, vec![api, open], certs), &[]);

    let t = now();
    let good = json!({"aud": "api://orders", "iss": "https://idp.test", "exp": t + 300, "nbf": t - 10, "scp": "openid orders.read"});
    let hs = json!({"kty": "oct", "k": A1_K});
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let spec = |alg: &str, key: &Value, claims: Value, kid: Option<&str>| json!({"alg": alg, "key": key, "claims": claims, "headers": kid.map(|k| json!({"kid": k}))});
    let ec = a3_ec();
    let mut cases: Vec<(&str, Value, u16, &str)> = vec![
        ("HS256", spec("HS256", &hs, good.clone(), Some("hs1")), 200, ""),
        ("HS512 without kid", spec("HS512", &hs, good.clone(), None), 200, ""),
        ("RS256", spec("RS256", &rsa, good.clone(), Some("rsa1")), 200, ""),
        ("RS384", spec("RS384", &rsa, good.clone(), Some("rsa1")), 200, ""),
        ("PS256", spec("PS256", &rsa, good.clone(), Some("rsa1")), 200, ""),
        ("PS512", spec("PS512", &rsa, good.clone(), None), 200, ""),
        ("ES256 (certificate)", spec("ES256", &ec, good.clone(), Some("ec1")), 200, ""),
        ("expired", spec("RS256", &rsa, with("exp", json!(t - 60)), None), 403, "TokenExpired"),
        ("not yet valid", spec("RS256", &rsa, with("nbf", json!(t + 600)), None), 403, "JwtInvalid"),
        ("wrong audience", spec("ES256", &ec, with("aud", json!("api://other")), None), 403, "TokenAudienceNotAllowed"),
        (
            "wrong issuer",
            spec("HS256", &hs, with("iss", json!("https://evil.test")), None),
            403,
            "TokenIssuerNotAllowed",
        ),
        ("missing claim", spec("RS256", &rsa, without("scp"), None), 403, "TokenClaimNotFound"),
        (
            "wrong claim value",
            spec("RS256", &rsa, with("scp", json!("orders.write")), None),
            403,
            "TokenClaimValueNotAllowed",
        ),
        ("unknown kid", spec("RS256", &rsa, good.clone(), Some("rotated-away")), 403, "TokenSignatureKeyNotFound"),
        ("alg none", json!({"alg": "none", "claims": good}), 403, "TokenSignatureInvalid"),
        (
            "HS256 keyed with the RSA public key",
            json!({"confuse": true, "key": rsa, "claims": good}),
            403,
            "TokenSignatureInvalid",
        ),
    ];
    let tokens = pyjwt(&cases.iter().map(|c| c.1.clone()).collect::<Vec<_>>());
    // A tampered signature: the good RS256 token with its claims swapped for others.
    let (h, rest) = tokens[2].split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    let forged_claims = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(with("scp", json!("orders.read admin")).to_string())
    };
    let tampered = format!("{h}.{forged_claims}.{sig}");
    cases.push(("tampered", Value::Null, 403, "TokenSignatureInvalid"));
    let tokens: Vec<String> = tokens.into_iter().chain([tampered]).collect();

    for ((name, _, status, reason), token) in cases.iter().zip(&tokens) {
        let (s, r) = call(&gw, "/jwt/echo", token);
        assert_eq!((s, r.as_str()), (*status, *reason), "{name}: {token}");
    }
    let r = gw.get("/jwt/echo", &[]);
    assert_eq!((r.status, r.header("x-reason")), (403, Some("TokenNotPresent")));
    let (s, r) = call(&gw, "/jwt/echo", &flip(&tokens[0]));
    assert_eq!((s, r.as_str()), (403, "TokenSignatureInvalid"));
    // Without on-error shaping the body, the configured message is the gateway's answer.
    let r = gw.get("/jwt/echo", &[("Authorization", "Bearer not.a.jwt")]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["message"], "denied", "{r:?}");
    assert_eq!(gw.get("/open/echo", &[]).status, 200);
}

/// A local OpenID provider: discovery at `/.well-known/openid-configuration`, keys at `/jwks`.
struct Provider {
    port: u16,
    jwks: Arc<Mutex<Value>>,
    jwks_fetches: Arc<AtomicUsize>,
}

impl Provider {
    fn start(keys: Value) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let jwks = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (j, f) = (jwks.clone(), fetches.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                serve(conn, port, &j, &f);
            }
        });
        Provider { port, jwks, jwks_fetches: fetches }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/.well-known/openid-configuration", self.port)
    }
}

fn serve(mut conn: TcpStream, port: u16, jwks: &Mutex<Value>, fetches: &AtomicUsize) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let body = if first.starts_with("GET /.well-known/openid-configuration ") {
        json!({"issuer": "https://idp.test", "jwks_uri": format!("http://127.0.0.1:{port}/jwks")}).to_string()
    } else if first.starts_with("GET /jwks ") {
        fetches.fetch_add(1, Ordering::SeqCst);
        jwks.lock().unwrap().to_string()
    } else {
        let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body.as_bytes());
}

fn openid_policy(url: &str) -> String {
    format!(
        r#"<policies><inbound><validate-jwt header-name="Authorization"><openid-config url="{url}"/>
             <audiences><audience>api://orders</audience></audiences></validate-jwt></inbound>
           <backend><forward-request/></backend>{ON_ERROR}</policies>"#
    )
}

#[test]
fn openid_config_keys_arrive_and_rotate_within_the_refetch_interval() {
    let b = Backend::normal();
    let provider = Provider::start(json!({"keys": [public(&a2_rsa(), "k1")]}));
    let api = json!({"id": "oidc", "path": "oidc", "policy": openid_policy(&provider.url())});
    let gw = Gateway::start(&doc(&b, vec![api], json!({})), &["policy.jwt.openid.refetch-interval=1s"]);

    let t = now();
    let claims = |iss: &str| json!({"aud": "api://orders", "iss": iss, "exp": t + 600});
    let tokens = pyjwt(&[
        json!({"alg": "RS256", "key": a2_rsa(), "claims": claims("https://idp.test"), "headers": {"kid": "k1"}}),
        json!({"alg": "ES256", "key": a3_ec(), "claims": claims("https://idp.test"), "headers": {"kid": "k2"}}),
        json!({"alg": "RS256", "key": a2_rsa(), "claims": claims("https://other.test"), "headers": {"kid": "k1"}}),
    ]);
    let (old, new, wrong_issuer) = (&tokens[0], &tokens[1], &tokens[2]);
    wait_until("the provider's keys reach the workers", Duration::from_secs(10), || {
        (call(&gw, "/oidc/echo", old).0 == 200).then_some(())
    });
    assert_eq!(call(&gw, "/oidc/echo", wrong_issuer), (401, "TokenIssuerNotAllowed".into()), "discovery's issuer");
    assert_eq!(call(&gw, "/oidc/echo", new), (401, "TokenSignatureKeyNotFound".into()), "k2 is not published yet");

    // The provider rotates: k1 is gone, k2 is in. A token with k2 gets in once the miss is noticed.
    *provider.jwks.lock().unwrap() = json!({"keys": [public(&a3_ec(), "k2")]});
    let before = provider.jwks_fetches.load(Ordering::SeqCst);
    wait_until("the rotated key is fetched after a kid miss", Duration::from_secs(10), || {
        (call(&gw, "/oidc/echo", new).0 == 200).then_some(())
    });
    // Every worker installs the refetched keys on its own tick: wait until ten calls in a row
    // (new connections, spread over the workers) refuse the removed key.
    wait_until("the removed key stops working on every worker", Duration::from_secs(10), || {
        (0..10).all(|_| call(&gw, "/oidc/echo", old) == (401, "TokenSignatureKeyNotFound".into())).then_some(())
    });

    // Misses do not hammer the provider: at most one fetch per interval (1 s here).
    let start = provider.jwks_fetches.load(Ordering::SeqCst);
    let began = std::time::Instant::now();
    while began.elapsed() < Duration::from_secs(3) {
        assert_eq!(call(&gw, "/oidc/echo", old).0, 401);
    }
    let during = provider.jwks_fetches.load(Ordering::SeqCst) - start;
    assert!(during <= 4, "{during} JWKS fetches in 3 s of misses (interval 1 s); {before} before rotation");
}

#[test]
fn an_unreachable_openid_config_does_not_stop_the_gateway() {
    let b = Backend::normal();
    // A port nobody listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let apis = vec![
        json!({"id": "oidc", "path": "oidc", "policy": openid_policy(&url)}),
        json!({"id": "open", "path": "open"}),
    ];
    let gw = Gateway::start(&doc(&b, apis, json!({})), &[]);
    assert_eq!(gw.get("/open/echo", &[]).status, 200);
    let t = now();
    let token = &pyjwt(&[json!({"alg": "RS256", "key": a2_rsa(), "headers": {"kid": "k1"},
        "claims": {"aud": "api://orders", "exp": t + 600}})])[0];
    assert_eq!(call(&gw, "/oidc/echo", token), (401, "TokenSignatureKeyNotFound".into()));
    wait_until("the failed fetch is logged", Duration::from_secs(10), || {
        gw.log_text().contains("openid-config fetch failed").then_some(())
    });
    assert_eq!(gw.get("/open/echo", &[]).status, 200);
}

#[test]
fn the_policy_example_guards_its_api() {
    let b = Backend::normal();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/jwt.xml")).unwrap();
    let gw = Gateway::start(&doc(&b, vec![json!({"id": "orders", "path": "orders", "policy": text})], json!({})), &[]);
    let claims =
        json!({"aud": "api://orders", "iss": "https://login.example", "exp": now() + 300, "scp": "orders.read"});
    let hs = json!({"kty": "oct", "k": A1_K});
    let token = &pyjwt(&[json!({"alg": "HS256", "key": hs, "claims": claims, "headers": {"kid": "example"}})])[0];
    let auth = format!("Bearer {token}");
    assert_eq!(gw.get("/orders/1", &[("Authorization", &auth)]).status, 200);
    let r = gw.get("/orders/1", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", error_description="TokenNotPresent""#)
    );
    assert_eq!(r.json()["message"], "Unauthorized: a valid access token is required");
}

/// RFC 7515 4.1.11: a validly signed token whose header lists a critical extension the
/// gateway does not understand (or an empty or malformed `crit`) is refused; the same token
/// without `crit` passes, so it is `crit` alone that refuses it.
#[test]
fn a_critical_header_extension_it_does_not_understand_is_refused() {
    let b = Backend::normal();
    let policy = format!(
        r#"<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer">
          <issuer-signing-keys><key>{hs}</key></issuer-signing-keys>
        </validate-jwt></inbound><backend><forward-request/></backend>{ON_ERROR}</policies>"#,
        hs = {
            use base64::Engine;
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(A1_K).unwrap();
            base64::engine::general_purpose::STANDARD.encode(raw)
        },
    );
    let gw = Gateway::start(&doc(&b, vec![json!({"id": "crit", "path": "crit", "policy": policy})], json!({})), &[]);
    let hs = json!({"kty": "oct", "k": A1_K});
    let claims = json!({"exp": now() + 300});
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("no crit", json!(null), 200, ""),
        ("unknown extension", json!({"crit": ["x-tenant"], "x-tenant": "a"}), 401, "JwtInvalid"),
        ("b64 (RFC 7797, not implemented)", json!({"crit": ["b64"], "b64": true}), 401, "JwtInvalid"),
        ("listed but absent", json!({"crit": ["x-missing"]}), 401, "JwtInvalid"),
        ("empty list", json!({"crit": []}), 401, "JwtInvalid"),
        ("a string", json!({"crit": "x-tenant"}), 401, "JwtInvalid"),
        ("not strings", json!({"crit": [1, 2]}), 401, "JwtInvalid"),
        ("null", json!({"crit": null}), 401, "JwtInvalid"),
    ];
    let specs: Vec<Value> =
        cases.iter().map(|c| json!({"alg": "HS256", "key": hs, "claims": claims, "headers": c.1})).collect();
    for ((name, _, status, reason), token) in cases.iter().zip(pyjwt(&specs)) {
        let (s, r) = call(&gw, "/crit/echo", &token);
        assert_eq!((s, r.as_str()), (*status, *reason), "{name}: {token}");
    }
}
