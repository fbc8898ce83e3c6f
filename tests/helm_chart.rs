//! The Helm chart (deploy/helm/ringgate) rendered by Helm's own engine (helm-python-sdk, Helm
//! v4's Go SDK in a PyPI wheel) for the default values and three value sets (managed with the
//! configuration backup, standalone from a ConfigMap, the control plane); every manifest
//! validated offline against the Kubernetes schemas of a current release (kubernetes-validate,
//! strict). Then: probes, ports, security context, grace period and drain, the objects each
//! mode needs, every setting the chart passes is one ringgate reads (and `ringgate settings`
//! accepts them without a warning), the standalone document loads, values the chart must refuse
//! are refused, and deploy/kubernetes.yaml matches the chart's standalone render.
//!
//! scripts/test.sh installs the Python packages; this test installs them too when they are
//! missing, and skips (saying so) only when they cannot be installed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

const PACKAGES: &[&str] = &["helm-python-sdk", "kubernetes-validate", "pyyaml"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chart() -> PathBuf {
    root().join("deploy/helm/ringgate")
}

fn tools_present() -> bool {
    Command::new("python3")
        .args(["-c", "import helm_python, kubernetes_validate, yaml"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The renderer and validator, installed if need be; `false` only when they cannot be.
fn tools() -> bool {
    if tools_present() {
        return true;
    }
    for extra in [&[][..], &["--break-system-packages"][..]] {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(extra)
            .args(PACKAGES)
            .status();
        if tools_present() {
            return true;
        }
    }
    false
}

/// The value sets, rendered once: name -> {"manifests": [...]} or {"error": "..."}.
fn rendered() -> Option<&'static BTreeMap<String, Value>> {
    static CELL: OnceLock<Option<BTreeMap<String, Value>>> = OnceLock::new();
    CELL.get_or_init(|| {
        if !tools() {
            eprintln!(
                "SKIPPED: the Helm renderer and the Kubernetes schema validator (python3 -m pip install {}) \
                 cannot be installed here",
                PACKAGES.join(" ")
            );
            return None;
        }
        let c = chart();
        let sets = [
            "default=-".to_string(),
            format!("managed={}", c.join("ci/managed-backup-values.yaml").display()),
            format!("standalone={}", c.join("ci/standalone-values.yaml").display()),
            format!("control-plane={}", c.join("values-control-plane.yaml").display()),
            format!("kubernetes-yaml=file:{}", root().join("deploy/kubernetes.yaml").display()),
            // Values the chart must refuse.
            r#"short-grace=@{"gateway":{"deployment":{"terminationGracePeriodSeconds":8}}}"#.to_string(),
            r#"long-drain=@{"gateway":{"deployment":{"drainTimeoutSeconds":58}}}"#.to_string(),
            r#"managed-no-token=@{"gateway":{"configuration":{"uri":"https://cp:9000"}}}"#.to_string(),
            r#"azure-ad=@{"gateway":{"configuration":{"uri":"https://cp:9000"},"auth":{"type":"AzureAdApp"}}}"#
                .to_string(),
            r#"typo=@{"gateway":{"configuraton":{"uri":"https://cp:9000"}}}"#.to_string(),
            r#"both-sources=@{"gateway":{"configuration":{"uri":"https://cp:9000","local":{"enabled":true,"document":"{}"}},"auth":{"key":"GatewayKey x"}}}"#.to_string(),
        ];
        let out = Command::new("python3")
            .arg(root().join("tests/helm/render_chart.py"))
            .arg(&c)
            .args(&sets)
            .output()
            .expect("python3 runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "render or validation failed (exit {:?}):\n{stderr}", out.status.code());
        let v: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
        Some(v)
    })
    .as_ref()
}

macro_rules! rendered_or_skip {
    () => {
        match rendered() {
            Some(r) => r,
            None => return,
        }
    };
}

fn manifests<'a>(r: &'a BTreeMap<String, Value>, set: &str) -> Vec<&'a Value> {
    let s = &r[set];
    assert!(s.get("error").is_none(), "{set} failed to render: {}", s["error"]);
    let list = s["manifests"].as_array().expect("manifests");
    for m in list {
        let schema = m["schema"].as_str().unwrap_or("");
        assert!(schema.starts_with("kubernetes ") || schema == "crd", "{set}: {} not validated", m["template"]);
    }
    list.iter().map(|m| &m["doc"]).collect()
}

fn kinds(docs: &[&Value]) -> Vec<String> {
    let mut k: Vec<String> = docs.iter().map(|d| d["kind"].as_str().unwrap().to_string()).collect();
    k.sort();
    k
}

fn one<'a>(docs: &[&'a Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> =
        docs.iter().copied().filter(|d| d["kind"] == kind && d["metadata"]["name"] == name).collect();
    assert_eq!(found.len(), 1, "one {kind} {name} in {:?}", kinds(docs));
    found[0]
}

fn container(deploy: &Value) -> &Value {
    let cs = deploy["spec"]["template"]["spec"]["containers"].as_array().expect("containers");
    assert_eq!(cs.len(), 1);
    &cs[0]
}

fn settings(docs: &[&Value], name: &str) -> BTreeMap<String, String> {
    let cm = one(docs, "ConfigMap", name);
    cm["data"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

fn secs(v: &str) -> u64 {
    v.strip_suffix('s').and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("seconds: {v}"))
}

/// What every gateway pod has, whatever the mode: APIM's probes and ports, uid 1001 with nothing
/// else, a grace period that covers the preStop sleep and the whole drain.
fn assert_gateway_pod(deploy: &Value, settings: &BTreeMap<String, String>) {
    let pod = &deploy["spec"]["template"]["spec"];
    let c = container(deploy);
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        assert_eq!(c[probe]["httpGet"], json!({"path": "/status-0123456789abcdef", "port": "http"}), "{probe}");
    }
    assert_eq!(c["readinessProbe"]["periodSeconds"], 5);
    assert_eq!(c["readinessProbe"]["failureThreshold"], 3);
    let ports: Vec<(String, u64)> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["containerPort"].as_u64().unwrap()))
        .collect();
    assert!(ports.starts_with(&[("http".into(), 8080), ("https".into(), 8081)]), "{ports:?}");
    assert_eq!(settings.get("net.server.http.port").map(String::as_str), Some("8080"));
    assert_eq!(settings.get("net.server.https.port").map(String::as_str), Some("8081"));
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsUser"], 1001);
    assert_eq!(sc["runAsGroup"], 1001);
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(pod["securityContext"]["fsGroup"], 1001);
    assert!(pod["securityContext"]["seccompProfile"]["type"].is_string());
    // Read-only root: the only writable places are volumes.
    let mounts: Vec<&str> =
        c["volumeMounts"].as_array().unwrap().iter().map(|m| m["mountPath"].as_str().unwrap()).collect();
    assert!(mounts.contains(&"/tmp"), "{mounts:?}");
    for m in c["volumeMounts"].as_array().unwrap() {
        assert!(m.get("subPath").is_none(), "a subPath mount never sees ConfigMap updates: {m}");
    }
    // Grace period = preStop sleep + drain + margin.
    let grace = pod["terminationGracePeriodSeconds"].as_u64().expect("grace");
    let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().expect("preStop sleep");
    let drain = secs(&settings["shutdown.drain.timeout"]);
    assert!(pre_stop >= 1 && drain >= 1, "preStop {pre_stop}, drain {drain}");
    assert!(pre_stop + drain < grace, "preStop {pre_stop} s + drain {drain} s must end before the grace {grace} s");
    assert_eq!(c["args"], json!(["run"]));
}

#[test]
fn default_values() {
    let r = rendered_or_skip!();
    let docs = manifests(r, "default");
    assert_eq!(
        kinds(&docs),
        ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "Service", "ServiceAccount"],
        "no Secret, PVC, HPA or ServiceMonitor by default"
    );
    let deploy = one(&docs, "Deployment", "rg-ringgate");
    let s = settings(&docs, "rg-ringgate");
    assert_gateway_pod(deploy, &s);
    assert_eq!(deploy["spec"]["replicas"], 3, "APIM's replicaCount");
    assert_eq!(deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 60, "APIM's grace period");
    assert_eq!(s["shutdown.drain.timeout"], "50s", "60 s grace - 5 s preStop - 5 s margin");
    assert_eq!(
        deploy["spec"]["template"]["spec"]["securityContext"]["seccompProfile"],
        json!({"type": "RuntimeDefault"})
    );
    assert_eq!(deploy["spec"]["strategy"]["rollingUpdate"], json!({"maxSurge": "25%", "maxUnavailable": 0}));
    // Neither an endpoint nor a document: the built-in demo.
    for k in ["config.service.endpoint", "config.local.path", "config.backup.path", "net.server.admin.bind"] {
        assert!(!s.contains_key(k), "{k} set by default");
    }
    assert!(container(deploy).get("env").is_none(), "no token without an endpoint");
    let svc = one(&docs, "Service", "rg-ringgate");
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(
        svc["spec"]["ports"],
        json!([
            {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"},
            {"name": "https", "port": 8081, "targetPort": "https", "protocol": "TCP"}
        ])
    );
    let headless = one(&docs, "Service", "rg-ringgate-instance-discovery");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    assert_eq!(headless["spec"]["selector"], svc["spec"]["selector"]);
    let pdb = one(&docs, "PodDisruptionBudget", "rg-ringgate-disruption");
    assert_eq!(pdb["spec"]["maxUnavailable"], "25%");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], deploy["spec"]["selector"]["matchLabels"]);
    let spread = deploy["spec"]["template"]["spec"]["topologySpreadConstraints"].as_array().unwrap();
    assert_eq!(spread[0]["topologyKey"], "topology.kubernetes.io/zone");
    assert_eq!(spread[0]["whenUnsatisfiable"], "ScheduleAnyway");
    assert_eq!(spread[0]["labelSelector"]["matchLabels"], deploy["spec"]["selector"]["matchLabels"]);
    let notes = r["default"]["notes"].as_str().unwrap();
    assert!(notes.contains("built-in echo demo"), "{notes}");
}

#[test]
fn managed_mode_with_backup() {
    let r = rendered_or_skip!();
    let docs = manifests(r, "managed");
    assert_eq!(
        kinds(&docs),
        [
            "ConfigMap",
            "Deployment",
            "HorizontalPodAutoscaler",
            "PersistentVolumeClaim",
            "PodDisruptionBudget",
            "Service",
            "Service",
            "ServiceAccount",
            "ServiceMonitor"
        ],
        "the token comes from an existing Secret: none created"
    );
    let deploy = one(&docs, "Deployment", "rg-ringgate");
    let s = settings(&docs, "rg-ringgate");
    assert_gateway_pod(deploy, &s);
    assert_eq!(s["config.service.endpoint"], "https://cp-ringgate.ringgate.svc:9000");
    assert_eq!(s["config.service.endpoint.ca-file"], "/etc/ringgate/endpoint-ca/ca.crt");
    assert_eq!(s["config.backup.path"], "/apim/config");
    assert_eq!(s["gateway.name"], "west");
    assert_eq!(s["observability.opentelemetry.enabled"], "true");
    assert_eq!(s["observability.opentelemetry.collector.uri"], "http://otel-collector.observability.svc:4318");
    assert!(s["net.server.tls.ciphers.allowed-suites"].starts_with("TLS_AES_256_GCM_SHA384,"));
    // The container's CA store, with a private CA mounted where ringgate reads it.
    assert_eq!(s["certificates.local.ca.enabled"], "true");
    let corp = container(deploy)["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "private-ca")
        .expect("the extra mount");
    assert!(corp["mountPath"].as_str().unwrap().starts_with("/usr/local/share/ca-certificates/"));
    let c = container(deploy);
    assert_eq!(
        c["env"],
        json!([{"name": "config.service.auth",
                "valueFrom": {"secretKeyRef": {"name": "ringgate-west-token", "key": "gateway-key"}}}])
    );
    // The backup volume at /apim/config, on the PVC the chart made (APIM's 50Mi RWX).
    let mounts = c["volumeMounts"].as_array().unwrap();
    let backup = mounts.iter().find(|m| m["mountPath"] == "/apim/config").expect("backup mount");
    let vols = deploy["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    let vol = vols.iter().find(|v| v["name"] == backup["name"]).expect("backup volume");
    let pvc = one(&docs, "PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"].as_str().unwrap());
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteMany"]));
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "50Mi");
    assert_eq!(pvc["spec"]["storageClassName"], "azurefile-csi");
    let ca = mounts.iter().find(|m| m["mountPath"] == "/etc/ringgate/endpoint-ca").expect("CA mount");
    let ca_vol = vols.iter().find(|v| v["name"] == ca["name"]).unwrap();
    assert_eq!(ca_vol["configMap"]["name"], "ringgate-control-plane-ca");
    // The io_uring seccomp profile, by the name the file in deploy/ has.
    let seccomp = &deploy["spec"]["template"]["spec"]["securityContext"]["seccompProfile"];
    assert_eq!(seccomp["type"], "Localhost");
    let profile = seccomp["localhostProfile"].as_str().unwrap();
    assert!(root().join("deploy").join(profile).is_file(), "deploy/{profile}");
    // HPA: the Deployment leaves replicas to it.
    assert!(deploy["spec"].get("replicas").is_none(), "replicas with an HPA");
    let hpa = one(&docs, "HorizontalPodAutoscaler", "rg-ringgate");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "rg-ringgate"})
    );
    assert_eq!(hpa["spec"]["minReplicas"], 3);
    // The ServiceMonitor scrapes /metrics on the admin port, which is then bound beyond loopback
    // and named on the container and on the headless service it selects.
    assert_eq!(s["net.server.admin.bind"], "0.0.0.0");
    assert_eq!(s["net.server.admin.port"], "8082");
    assert!(c["ports"].as_array().unwrap().iter().any(|p| p["name"] == "admin" && p["containerPort"] == 8082));
    let sm = one(&docs, "ServiceMonitor", "rg-ringgate");
    assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "admin");
    assert_eq!(sm["spec"]["endpoints"][0]["path"], "/metrics");
    let headless = one(&docs, "Service", "rg-ringgate-instance-discovery");
    let labels = headless["metadata"]["labels"].as_object().unwrap();
    for (k, v) in sm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(labels.get(k), Some(v), "the ServiceMonitor's selector {k} matches the headless service");
    }
    let plain = one(&docs, "Service", "rg-ringgate");
    assert!(
        plain["metadata"]["labels"].get("ringgate.io/service").is_none(),
        "only the headless service is scraped (each pod once)"
    );
    assert!(headless["spec"]["ports"].as_array().unwrap().iter().any(|p| p["name"] == "admin"));
}

#[test]
fn standalone_mode_from_a_configmap() {
    let r = rendered_or_skip!();
    let docs = manifests(r, "standalone");
    assert_eq!(
        kinds(&docs),
        ["ConfigMap", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "Service", "ServiceAccount"]
    );
    let deploy = one(&docs, "Deployment", "rg-ringgate");
    let s = settings(&docs, "rg-ringgate");
    assert_gateway_pod(deploy, &s);
    assert!(!s.contains_key("config.service.endpoint"));
    let path = Path::new(&s["config.local.path"]);
    assert_eq!(path, Path::new("/etc/ringgate/config/gateway.json"));
    let c = container(deploy);
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| path.starts_with(m["mountPath"].as_str().unwrap()) && m["mountPath"] != "/")
        .expect("the document's directory is mounted");
    let vol = deploy["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let doc_cm = one(&docs, "ConfigMap", vol["configMap"]["name"].as_str().unwrap());
    let doc = doc_cm["data"]["gateway.json"].as_str().expect("the document under its key");
    // The gateway's own loader takes the document.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.json");
    std::fs::write(&file, doc).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ringgate")).arg("validate").arg(&file).output().unwrap();
    assert!(out.status.success(), "ringgate validate: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn control_plane_values() {
    let r = rendered_or_skip!();
    let docs = manifests(r, "control-plane");
    assert_eq!(
        kinds(&docs),
        ["Deployment", "PersistentVolumeClaim", "Service", "ServiceAccount"],
        "no gateway objects"
    );
    let deploy = one(&docs, "Deployment", "rg-ringgate");
    assert_eq!(deploy["spec"]["replicas"], 1, "one store, one replica");
    assert_eq!(deploy["spec"]["strategy"]["type"], "Recreate");
    let c = container(deploy);
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(&args[..5], ["control-plane", "--data", "/data", "--listen", "0.0.0.0:9000"]);
    assert!(args.windows(2).any(|w| w == ["--tls-name", "rg-ringgate.ringgate.svc"]), "{args:?}");
    // The flags are the ones `ringgate control-plane` takes.
    let help = Command::new(env!("CARGO_BIN_EXE_ringgate")).args(["control-plane", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(help.contains(flag), "`ringgate control-plane` has no {flag}:\n{help}");
    }
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsUser"], 1001);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    let data = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == "/data").expect("data");
    let vol = deploy["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == data["name"])
        .unwrap();
    let pvc = one(&docs, "PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"].as_str().unwrap());
    assert_eq!(pvc["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(c["readinessProbe"]["tcpSocket"]["port"], "control");
    let svc = one(&docs, "Service", "rg-ringgate");
    assert_eq!(svc["spec"]["ports"][0]["port"], 9000);
}

/// Every setting the chart passes (the settings ConfigMap, the env) is a key ringgate knows, and
/// `ringgate settings` takes them all without a warning.
#[test]
fn chart_sets_only_settings_ringgate_reads() {
    let r = rendered_or_skip!();
    for set in ["default", "managed", "standalone"] {
        let docs = manifests(r, set);
        let mut env = settings(&docs, "rg-ringgate");
        let deploy = one(&docs, "Deployment", "rg-ringgate");
        for e in container(deploy)["env"].as_array().into_iter().flatten() {
            env.insert(e["name"].as_str().unwrap().to_string(), "GatewayKey gw&20991231&c2ln".into());
        }
        for k in env.keys() {
            assert!(
                ringgate::settings::keys::find(k).is_some(),
                "{set}: the chart sets {k}, which ringgate does not read"
            );
        }
        let out = Command::new(env!("CARGO_BIN_EXE_ringgate")).arg("settings").env_clear().envs(&env).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{set}: ringgate settings refused the chart's settings: {stderr}");
        assert!(!stderr.contains("warning"), "{set}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("shutdown.drain.timeout"), "{stdout}");
    }
}

#[test]
fn values_the_chart_refuses() {
    let r = rendered_or_skip!();
    let error = |set: &str| {
        r[set]["error"].as_str().unwrap_or_else(|| panic!("{set} rendered; it must be refused")).to_string()
    };
    assert!(error("short-grace").contains("leaves no time to drain"), "{}", error("short-grace"));
    assert!(error("long-drain").contains("exceed terminationGracePeriodSeconds"), "{}", error("long-drain"));
    assert!(error("managed-no-token").contains("gateway.auth.key"), "{}", error("managed-no-token"));
    assert!(error("azure-ad").contains("GatewayToken"), "{}", error("azure-ad"));
    assert!(error("typo").contains("configuraton"), "values.schema.json refuses unknown values: {}", error("typo"));
    assert!(error("both-sources").contains("exclude each other"), "{}", error("both-sources"));
}

/// deploy/kubernetes.yaml is the chart's standalone render without Helm: the same pod contract.
#[test]
fn kubernetes_yaml_matches_the_chart() {
    let r = rendered_or_skip!();
    let plain = manifests(r, "kubernetes-yaml");
    let chart = manifests(r, "standalone");
    assert_eq!(kinds(&plain), ["ConfigMap", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service"]);
    let (pd, cd) = (one(&plain, "Deployment", "ringgate"), one(&chart, "Deployment", "rg-ringgate"));
    let (ps, cs) = (settings(&plain, "ringgate"), settings(&chart, "rg-ringgate"));
    assert_gateway_pod(pd, &ps);
    assert_eq!(ps, cs, "the same settings");
    let (pc, cc) = (container(pd), container(cd));
    for field in [
        "args",
        "ports",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "lifecycle",
        "resources",
        "securityContext",
    ] {
        assert_eq!(pc[field], cc[field], "container {field}");
    }
    let mounts = |c: &Value| -> Vec<String> {
        c["volumeMounts"].as_array().unwrap().iter().map(|m| m["mountPath"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(mounts(pc), mounts(cc));
    let (pp, cp) = (&pd["spec"]["template"]["spec"], &cd["spec"]["template"]["spec"]);
    for field in ["terminationGracePeriodSeconds", "securityContext", "automountServiceAccountToken"] {
        assert_eq!(pp[field], cp[field], "pod {field}");
    }
    assert_eq!(pd["spec"]["replicas"], cd["spec"]["replicas"]);
    assert_eq!(pd["spec"]["strategy"], cd["spec"]["strategy"]);
    assert_eq!(pp["topologySpreadConstraints"][0]["topologyKey"], cp["topologySpreadConstraints"][0]["topologyKey"]);
    let doc = |docs: &[&Value], name: &str| -> Value {
        serde_json::from_str(one(docs, "ConfigMap", name)["data"]["gateway.json"].as_str().unwrap()).unwrap()
    };
    assert_eq!(doc(&plain, "ringgate-document"), doc(&chart, "rg-ringgate-document"), "the same document");
    let (psvc, csvc) = (one(&plain, "Service", "ringgate"), one(&chart, "Service", "rg-ringgate"));
    assert_eq!(psvc["spec"]["ports"], csvc["spec"]["ports"]);
    assert_eq!(
        one(&plain, "PodDisruptionBudget", "ringgate-disruption")["spec"]["maxUnavailable"],
        one(&chart, "PodDisruptionBudget", "rg-ringgate-disruption")["spec"]["maxUnavailable"]
    );
}
