//! Documents that say a thing twice (issue #23, class 5): repeated JSON members anywhere (top
//! level, an API, an operation, the named values) and operations of one API whose method and
//! URL template match the same requests are refused at load, the whole document, every problem
//! named with its path (and, for repeated members, line and column). Through `ringgate
//! validate`, a running gateway's reload (the running document stays) and the control plane.

mod common;

use std::time::Duration;

use common::gateway::{run_cli, ControlPlane};
use common::*;

fn validate(text: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("doc.json");
    std::fs::write(&file, text).unwrap();
    let (code, out, err) = run_cli(&["validate", file.to_str().unwrap()]);
    (code, format!("{out}{err}"))
}

fn repeated(url: &str) -> String {
    format!(
        r#"{{
  "revision": "d1",
  "namedValues": {{"env": "prod", "env": "dev"}},
  "apis": [
    {{"id": "a", "path": "a", "serviceUrl": "{url}", "subscriptionRequired": false,
      "path": "b",
      "operations": [{{"id": "op", "method": "GET", "urlTemplate": "/x", "urlTemplate": "/y"}}]}}
  ],
  "revision": "d2"
}}"#
    )
}

#[test]
fn repeated_members_are_refused_everywhere_with_their_paths() {
    let b = Backend::normal();
    let (code, out) = validate(&repeated(&b.url()));
    assert_eq!(code, 1, "{out}");
    for (path, line) in [
        ("namedValues.env", "line 3"),
        ("apis[0].path", "line 6"),
        ("apis[0].operations[0].urlTemplate", "line 7"),
        ("revision", "line 9"),
    ] {
        let hit = out.lines().find(|l| l.starts_with(&format!("{path}: member")));
        let hit = hit.unwrap_or_else(|| panic!("{path} not named:\n{out}"));
        assert!(hit.contains(line) && hit.contains("column"), "{hit}");
    }

    // A running gateway refuses it whole; the running document stays.
    let ok = format!(
        r#"{{"revision":"r1","apis":[{{"id":"a","path":"a","serviceUrl":"{}","subscriptionRequired":false}}]}}"#,
        b.url()
    );
    let gw = Gateway::start(&ok, &[]);
    gw.write_config(&repeated(&b.url()));
    let status = wait_until("the rejection", Duration::from_secs(5), || {
        let s = gw.status();
        s["lastError"].as_str().is_some_and(|e| e.contains("appears more than once")).then_some(s)
    });
    assert_eq!(status["revision"], "r1");
    assert_eq!(gw.get("/a/x", &[]).status, 200);

    // The control plane refuses a master with a repeated member (its JSON parser would keep
    // the last one silently).
    let tmp = tempfile::tempdir().unwrap();
    let cp = ControlPlane::start(&tmp.path().join("cp"), "127.0.0.1:0", &[]);
    let master = format!(
        r#"{{"apis":[{{"id":"a","path":"a","serviceUrl":"{}","subscriptionRequired":false}}],
            "gateways":[{{"id":"west","apis":["a"],"apis":[]}}]}}"#,
        b.url()
    );
    let bearer = format!("Bearer {}", cp.key);
    let r = cp.raw("PUT", "/admin/document", Some(&bearer), master.as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("gateways[0].apis: member 'apis' appears more than once"), "{}", r.text());
}

#[test]
fn ambiguous_operation_templates_are_refused_with_both_paths() {
    let b = Backend::normal();
    let doc = format!(
        r#"{{"revision":"t1","apis":[{{"id":"users","path":"users","serviceUrl":"{}","subscriptionRequired":false,
        "operations":[
          {{"id":"by-id","method":"GET","urlTemplate":"/users/{{id}}"}},
          {{"id":"me","method":"GET","urlTemplate":"/users/me"}},
          {{"id":"by-name","method":"GET","urlTemplate":"/users/{{name}}/"}},
          {{"id":"put","method":"PUT","urlTemplate":"/users/{{name}}"}},
          {{"id":"any1","method":"*","urlTemplate":"/files/*"}},
          {{"id":"any2","method":"*","urlTemplate":"/files/*"}}
        ]}}]}}"#,
        b.url()
    );
    let (code, out) = validate(&doc);
    assert_eq!(code, 1, "{out}");
    let problems: Vec<&str> = out.lines().filter(|l| l.contains("ambiguous")).collect();
    assert_eq!(problems.len(), 2, "exactly the two ambiguous pairs:\n{out}");
    assert!(
        problems[0].starts_with("apis[0].operations[2].urlTemplate:") && problems[0].contains("apis[0].operations[0]"),
        "{out}"
    );
    assert!(
        problems[1].starts_with("apis[0].operations[5].urlTemplate:") && problems[1].contains("apis[0].operations[4]"),
        "{out}"
    );
}
