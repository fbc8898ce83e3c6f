//! Whole-document tests: a full valid document, all problems with paths, warnings, fuzzing.

use super::*;

fn pem_pair() -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["api.contoso.local".into()]).unwrap();
    (ck.cert.pem(), ck.key_pair.serialize_pem())
}

fn full_doc() -> String {
    let (cert, key) = pem_pair();
    let j = |s: &str| s.replace('\n', "\\n");
    format!(
        r#"{{
  "revision": "r42",
  "gateway": {{"id": "gw", "location": "dc-west", "hostnames": [
     {{"hostname": "API.contoso.local", "certificateId": "tls", "http2Enabled": false}},
     {{"hostname": "*.contoso.local"}}]}},
  "namedValues": {{"secret": "s3cr3t", "env": "prod", "host": "backend.local"}},
  "policy": "<policies><inbound><base/></inbound></policies>",
  "policyFragments": {{"f": "<fragment/>"}},
  "apis": [
    {{"id": "orders", "path": "orders", "serviceUrl": "ws://{{{{host}}}}:8080/api/",
      "protocols": ["https"], "subscriptionKeyParameterNames": {{"header": "X-Key", "query": "key"}},
      "type": "websocket", "policy": "<policies>\n  <backend><forward-request timeout=\"10\"/></backend>\n</policies>",
      "operations": [{{"id": "get", "method": "get", "urlTemplate": "/items/{{id}}", "policy": "<policies/>"}}]}},
    {{"id": "free", "name": "Free API", "path": "", "subscriptionRequired": false}}
  ],
  "products": [{{"id": "starter", "apis": ["orders"], "policy": "<policies/>"}}],
  "subscriptions": [{{"id": "s1", "scope": "/products/starter", "primaryKey": "pk", "secondaryKey": "sk", "userId": "u"}}],
  "backends": [
    {{"id": "b1", "url": "https://{{{{host}}}}", "tls": {{"validateCertificateName": false, "caCertificateIds": ["ca"], "clientCertificateId": "tls"}},
      "credentials": {{"header": {{"X-Key": ["{{{{secret}}}}"]}}, "query": {{"k": "v-{{{{env}}}}"}}}}}}
  ],
  "certificates": [
    {{"id": "tls", "pem": "{cert}", "key": "{key}"}},
    {{"id": "ca", "pem": "{cert}", "isTrusted": true}}
  ],
  "caches": [{{"id": "default", "connectionString": "redis://127.0.0.1:6379/0"}}]
}}"#,
        cert = j(&cert),
        key = j(&key)
    )
}

fn load(s: &str) -> Result<Loaded, LoadError> {
    load_document(&mut s.as_bytes().to_vec())
}

fn problems(s: &str) -> Vec<String> {
    match load(s) {
        Ok(_) => panic!("document unexpectedly accepted"),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

fn assert_has(p: &[String], expected: &[&str]) {
    for e in expected {
        assert!(p.iter().any(|m| m.starts_with(e)), "missing {e:?} in {p:#?}");
    }
}

#[test]
fn full_document_compiles() {
    let l = load(&full_doc()).map_err(|e| e.to_string()).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let s = l.snapshot;
    assert_eq!(s.revision, "r42");
    assert_eq!((s.gateway_id.as_deref(), s.gateway_location.as_deref()), (Some("gw"), Some("dc-west")));
    assert!(
        s.hosts.matches(b"api.contoso.local:443")
            && s.hosts.matches(b"x.contoso.local")
            && !s.hosts.matches(b"evil.local")
    );
    assert!(!s.hostnames[0].http2_enabled && s.hostnames[1].http2_enabled);
    let o = &s.apis[0];
    let url = o.service_url.as_ref().unwrap();
    assert_eq!((url.authority.as_str(), url.base_path.as_str()), ("backend.local:8080", "/api"));
    assert_eq!((o.key_header.as_str(), o.key_query.as_str(), o.kind), ("x-key", "key", ApiType::WebSocket));
    assert_eq!(o.protocols, Protocols { http: false, https: true });
    assert_eq!(o.operations[0].method.as_deref(), Some("GET"));
    assert!(o.policy.as_deref().unwrap().contains("forward-request"));
    assert_eq!(s.apis[1].name, "Free API");
    assert_eq!(o.name, "orders");
    assert!(s.products[0].contains(0) && !s.products[0].contains(1));
    let b = s.backend("b1").unwrap();
    assert_eq!(b.credentials.header, vec![("x-key".to_string(), vec!["s3cr3t".to_string()])]);
    assert_eq!(b.credentials.query, vec![("k".to_string(), vec!["v-prod".to_string()])]);
    assert!(!b.tls.validate_certificate_name && b.tls.validate_certificate_chain);
    assert!(s.certificate("ca").unwrap().is_trusted);
    assert_eq!(s.named_values.get("env"), Some("prod"));
    assert_eq!(s.policy_fragments, vec![("f".to_string(), "<fragment/>".to_string())]);
    let dbg = format!("{s:?}");
    for secret in ["s3cr3t", "PRIVATE KEY", "redis://", "\"pk\""] {
        assert!(!dbg.contains(secret), "{secret} leaked into Debug");
    }
    // Workers get deep copies.
    fn assert_send<T: Send + Clone + 'static>(_: &T) {}
    assert_send(&s);
}

#[test]
fn revision_falls_back_to_content_hash() {
    let a = load(r#"{"apis":[]}"#).unwrap().snapshot.revision;
    let b = load(r#"{"apis": []}"#).unwrap().snapshot.revision;
    assert!(a.starts_with("h-") && a.len() == 18, "{a}");
    assert_ne!(a, b);
    assert_eq!(a, load(r#"{"apis":[]}"#).unwrap().snapshot.revision);
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let p = problems(
        r#"{"revision": 3, "apis": [
        {"id": "a", "path": "a", "subscriptionRequired": "yes", "protocols": ["http", "ftp"], "type": "soap",
         "serviceUrl": "ftp://x", "operations": [{"id": "o", "urlTemplate": "/"}]},
        {"id": "b"},
        {"id": "c", "path": "c", "serviceUrl": "http://{{nope}}/", "apiVersion": "v1"},
        7
      ],
      "products": [{"id": "p", "state": "draft"}],
      "gateway": {"hostnames": [{"hostname": "a b", "certificateId": "missing", "tls10Enabled": true, "tls11Enabled": true}]},
      "certificates": [{"id": "c1", "pem": "not a pem", "key": "nope"}],
      "backends": [{"id": "b"}, {"id": "b", "url": "http://h", "tls": {"caCertificateIds": ["zz"]}}],
      "caches": [{"id": "x"}],
      "namedValues": {"n": 1}
    }"#,
    );
    assert_has(
        &p,
        &[
            "revision: expected a string, found a number",
            "apis[0].subscriptionRequired: expected a boolean, found a string",
            "apis[0].protocols[1]: unknown protocol 'ftp'",
            "apis[0].type: unknown API type 'soap'",
            "apis[0].serviceUrl: 'ftp://x' is not an absolute http:// or https:// URL",
            "apis[0].operations[0].method: required field missing",
            "apis[1].path: required field missing",
            "apis[2].serviceUrl: unknown named value 'nope'",
            "apis[2].apiVersion: apiVersion requires apiVersionSet",
            "apis[3]: expected an object, found a number",
            "products[0].state: unknown product state 'draft'",
            "gateway.hostnames[0].tls10Enabled: TLS 1.0/1.1 are not supported; only TLS 1.2 and 1.3",
            "gateway.hostnames[0].tls11Enabled: TLS 1.0/1.1 are not supported",
            "gateway.hostnames[0].hostname: 'a b' is not a valid hostname",
            "certificates[0].pem: no CERTIFICATE block found",
            "certificates[0].key: no private key block found",
            "backends[0].url: required field missing",
            "backends[1].id: duplicate id 'b'",
            "backends[1].tls.caCertificateIds[0]: unknown certificate 'zz'",
            "caches[0].connectionString: required field missing",
            "namedValues.n: expected a string, found a number",
        ],
    );
}

#[test]
fn hostname_certificate_must_exist() {
    let p = problems(r#"{"gateway":{"hostnames":[{"hostname":"a.local","certificateId":"missing"}]}}"#);
    assert_eq!(p, ["gateway.hostnames[0].certificateId: unknown certificate 'missing'"]);
}

#[test]
fn policy_problems_carry_line_and_column() {
    let p = problems(
        r#"{"apis":[{"id":"a","path":"a","operations":[{"id":"o","method":"GET","urlTemplate":"/",
        "policy":"<policies>\n  <inbound>\n    <rate-limt calls=\"1\"/>\n  </inbound>\n</policies>"}]}],
        "policy": "<policies><inbound>{{missing}}</inbound></policies>",
        "policyFragments": {"f": "<fragment><set-header/></fragment>"}}"#,
    );
    assert_has(
        &p,
        &[
            "apis[0].operations[0].policy:3:5: unknown policy element <rate-limt>",
            "policy:1:20: text content is not allowed in <inbound>",
            "policy: unknown named value 'missing'",
            "policyFragments.f:1:11: <set-header> needs the attribute 'name'",
        ],
    );
}

#[test]
fn named_values_substitute_in_policies() {
    let l = load(
        r#"{"namedValues":{"t":"30"},"policy":"<policies><backend><forward-request timeout=\"{{t}}\"/></backend></policies>"}"#,
    );
    // Named values are substituted before the policy is compiled (positions still refer to
    // the text as written), so the timeout is 30 seconds...
    let plan = &l.unwrap().snapshot.policy_plans.global;
    assert_eq!(plan.forward().map(|f| f.timeout.as_secs()), Some(30));
    // ...and the stored text is substituted too.
    let l = load(r#"{"namedValues":{"e":"prod"},"policy":"<policies><!-- {{e}} --><inbound/></policies>"}"#).unwrap();
    assert_eq!(l.snapshot.policy.as_deref(), Some("<policies><!-- prod --><inbound/></policies>"));
}

#[test]
fn unknown_fields_warn_once_per_name() {
    let l =
        load(r#"{"future": 1, "apis": [{"id":"a","path":"a","x-new":1},{"id":"b","path":"b","x-new":2}]}"#).unwrap();
    let w: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w, ["future: unknown field 'future' ignored", "apis[0].x-new: unknown field 'x-new' ignored"]);
}

#[test]
fn invalid_json_is_one_problem() {
    let p = problems("{\n\"apis\": [}");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("$: invalid JSON at byte"), "{p:?}");
    assert!(problems("[1]")[0].starts_with("$: expected an object, found an array"));
    assert!(problems("")[0].starts_with("$: empty document"));
}

#[test]
fn never_panics_on_random_or_mutated_input() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..300 {
        let len = rng.usize(0..200);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let _ = load_document(&mut bytes);
    }
    // A compact document (so mutations land in structure, not PEM text) and the full one.
    let compact = br#"{"namedValues":{"n":"v"},"apis":[{"id":"a","path":"a/b","serviceUrl":"http://[::1]:8/{{n}}","apiVersion":"v1","apiVersionSet":{"versioningScheme":"Header","versionHeaderName":"h"},"operations":[{"id":"o","method":"*","urlTemplate":"/x/{y}/*","policy":"<policies><inbound><base/></inbound></policies>"}]}],"products":[{"id":"p","subscriptionRequired":false,"apis":["a"]}],"subscriptions":[{"id":"s","scope":"/products/p","primaryKey":"k"}],"gateway":{"hostnames":[{"hostname":"*.x.y"}]}}"#;
    assert!(load_document(&mut compact.to_vec()).is_ok());
    let seeds = [compact.to_vec(), full_doc().into_bytes()];
    let alphabet = b"{}[]\":,/*0123456789aez\\ \n<>{{}}-.";
    for i in 0..600 {
        let mut b = seeds[i % 2].clone();
        match i % 3 {
            0 => b.truncate(rng.usize(0..b.len())),
            1 => {
                for _ in 0..rng.usize(1..8) {
                    let at = rng.usize(0..b.len());
                    b[at] = alphabet[rng.usize(0..alphabet.len())];
                }
            }
            _ => {
                let at = rng.usize(0..b.len());
                let chunk: Vec<u8> = (0..rng.usize(1..6)).map(|_| alphabet[rng.usize(0..alphabet.len())]).collect();
                b.splice(at..at, chunk);
            }
        }
        let _ = load_document(&mut b);
    }
}

#[test]
fn deeply_nested_input_does_not_overflow_the_stack() {
    for depth in [1_000usize, 100_000, 2_000_000] {
        let mut doc = format!(r#"{{"x": {}{}}}"#, "[".repeat(depth), "]".repeat(depth)).into_bytes();
        let _ = load_document(&mut doc);
        let mut doc = format!(r#"{{"x": {}1{}}}"#, "{\"a\":".repeat(depth), "}".repeat(depth)).into_bytes();
        let _ = load_document(&mut doc);
    }
}

fn with_backends(backends: &str) -> String {
    format!(
        r#"{{"revision": "r", "apis": [{{"id": "a", "path": "a", "serviceUrl": "http://b.local"}}], "backends": {backends}}}"#
    )
}

#[test]
fn pool_backends_are_refused_at_load_naming_the_backend() {
    let single = r#"{"id": "b1", "url": "http://b.local"}"#;
    for pool in [
        r#"{"id": "lb", "type": "Pool", "pool": {"services": [{"id": "b1", "weight": 2}]}}"#,
        r#"{"id": "lb", "pool": {"services": [{"id": "b1"}]}}"#,
        r#"{"id": "lb", "type": "Pool", "url": "http://b.local"}"#,
    ] {
        let p = problems(&with_backends(&format!("[{single}, {pool}]")));
        assert!(p.iter().any(|m| m.contains("backend 'lb'") && m.contains("pool backends")), "{p:#?}");
    }
    assert!(load(&with_backends(&format!(r#"[{single}, {{"id": "s", "type": "Single", "url": "http://x"}}]"#))).is_ok());
}

#[test]
fn circuit_breakers_are_refused_until_enforced_and_checked_in_both_shapes() {
    let flat = r#"[{"id": "cb", "url": "http://b.local", "circuitBreaker": {"failureCount": 1, "interval": "PT10S", "tripDuration": "PT1M"}}]"#;
    let p = problems(&with_backends(flat));
    assert!(p.iter().any(|m| m.contains("backend 'cb'") && m.contains("not enforced")), "{p:#?}");
    let arm = r#"[{"id": "cb", "url": "http://b.local", "circuitBreaker": {"rules": [{"name": "r", "failureCondition": {"count": 1, "percentage": 50, "interval": "PT10S"}, "tripDuration": "PT1M"}]}}]"#;
    let p = problems(&with_backends(arm));
    assert!(p.iter().any(|m| m.contains("percentage")), "{p:#?}");
    let two = r#"[{"id": "cb", "url": "http://b.local", "circuitBreaker": {"rules": [{}, {}]}}]"#;
    let p = problems(&with_backends(two));
    assert!(p.iter().any(|m| m.contains("exactly one circuit breaker rule")), "{p:#?}");
}
