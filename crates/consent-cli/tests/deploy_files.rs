//! deploy/ starts: the ledger as docker-compose.yml and the Kubernetes
//! manifests run it, with exactly their command, arguments and environment
//! (the image's entrypoint and environment from deploy/Dockerfile, the
//! init steps that provision its keys, the Secret's and ConfigMap's
//! values), on a real broker. Container paths are mapped to temporary
//! directories, container ports to free loopback ports, the Kafka brokers
//! to the test broker and (Kubernetes) the subject key store to a
//! throwaway PostgreSQL; nothing else is changed. Each reaches ready,
//! refuses an unauthenticated call with 401, answers a check made with an
//! API key the deploy files provisioned, passes the health checks the
//! files declare, and uses the keys they provision, none generated. The
//! Kubernetes replicas (all of them, started together) share the
//! contact-digest key and the subject key store (an address appended
//! through one pod is matched and opened through another), and an API key
//! added to the Secret works on every pod without a restart.

mod support;

use consent_kafka::test_support::TestBroker;
use consent_keystore_postgres::test_support::{TestPostgres, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::deployed::{
    deploy_dir, environment, free_port, listens, run_to_success, Deployed, Mapping,
};

/// How long the ledger may take to be ready (topics created, view caught up).
const READY_WITHIN: Duration = Duration::from_secs(90);
const ORGANISATION: &str = "example-org";
const ADDRESS: &str = "ada.lovelace@example.com";

/// A YAML file as JSON values, one per document, YAML merge keys applied.
fn read_yaml_documents(path: &Path) -> Vec<Value> {
    use serde::Deserialize;
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = serde_norway::Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()));
            value
                .apply_merge()
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            serde_json::to_value(value)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        })
        .filter(|document| !document.is_null())
        .collect()
}

fn read_yaml(path: &Path) -> Value {
    let mut documents = read_yaml_documents(path);
    assert_eq!(documents.len(), 1, "{} holds one document", path.display());
    documents.remove(0)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(text)
        .collect()
}

/// The image's entrypoint and environment (deploy/Dockerfile's last stage).
struct Image {
    entrypoint: Vec<String>,
    env: BTreeMap<String, String>,
}

fn image() -> Image {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("Dockerfile");
    let last_stage = dockerfile
        .rsplit_once("\nFROM ")
        .map_or(dockerfile.as_str(), |(_, stage)| stage);
    let mut entrypoint = None;
    let mut env = BTreeMap::new();
    for line in last_stage.lines() {
        if let Some(json) = line.strip_prefix("ENTRYPOINT ") {
            let parsed: Vec<String> =
                serde_json::from_str(json).expect("ENTRYPOINT in exec (JSON) form");
            entrypoint = Some(parsed);
        } else if let Some(assignment) = line.strip_prefix("ENV ") {
            let (key, value) = assignment.split_once('=').expect("ENV KEY=VALUE");
            env.insert(key.to_owned(), value.to_owned());
        }
    }
    Image {
        entrypoint: entrypoint.expect("the image has an ENTRYPOINT"),
        env,
    }
}

/// The program and arguments of an image entrypoint naming the ledger:
/// the binary under test.
fn ledger_program(entrypoint: &[String]) {
    assert_eq!(
        entrypoint,
        ["/usr/local/bin/consent-ledger"],
        "the image's entrypoint is the ledger binary"
    );
}

fn check_request() -> Value {
    json!({"organisationId": ORGANISATION, "subjectId": "cust-1",
           "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "cars",
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true})
}

/// What every deployment must answer once ready: 401 without a key, a
/// decision with the organisation's key, and a gRPC listener.
async fn answers_as_deployed(ledger: &Deployed, http: u16, grpc: u16, key: &str) {
    let url = format!("http://127.0.0.1:{http}/v1/checks");
    let anonymous = ledger
        .client
        .post(&url)
        .json(&check_request())
        .send()
        .await
        .expect("POST /v1/checks");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let keyed = ledger
        .client
        .post(&url)
        .bearer_auth(key.trim())
        .json(&check_request())
        .send()
        .await
        .expect("POST /v1/checks");
    let status = keyed.status();
    let decision: Value = keyed.json().await.expect("a JSON decision");
    assert_eq!(status, StatusCode::OK, "{decision}");
    // Nothing is known of this subject: no lawful basis, refused, with reasons.
    assert_eq!(decision["allowed"], json!(false), "{decision}");
    assert!(
        decision["reasonsAgainst"]
            .as_array()
            .is_some_and(|reasons| !reasons.is_empty()),
        "{decision}"
    );
    assert!(
        listens(SocketAddr::from((Ipv4Addr::LOCALHOST, grpc))),
        "the gRPC API listens on the mapped port {grpc}"
    );
}

/// Compose's environment: a mapping, or a list of KEY=VALUE.
fn compose_environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Null => BTreeMap::new(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Value::Array(list) => list
            .iter()
            .map(|entry| {
                let entry = text(entry);
                let (key, value) = entry.split_once('=').expect("KEY=VALUE");
                (key.to_owned(), value.to_owned())
            })
            .collect(),
        other => panic!("environment: {other}"),
    }
}

/// Compose interpolation: `$$` is a literal `$`; this test knows no
/// variables, so any other `$` is an error in the file.
fn compose_literal(text: &str) -> String {
    assert!(
        !text.replace("$$", "").contains('$'),
        "docker-compose.yml interpolates a variable in `{text}`: the ledger's service must be self-contained"
    );
    text.replace("$$", "$")
}

#[tokio::test]
async fn the_compose_ledger_starts_with_the_keys_its_init_step_creates() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let compose = read_yaml(&deploy_dir().join("docker-compose.yml"));
    let services = &compose["services"];
    let keys_service = &services["ledger-keys"];
    let ledger_service = &services["ledger"];
    assert_eq!(
        ledger_service["depends_on"]["ledger-keys"]["condition"],
        json!("service_completed_successfully"),
        "the ledger starts after its keys exist"
    );
    let image = image();
    let root = tempfile::tempdir().expect("temp dir");

    // Named volumes become directories: both services mount ledger-keys,
    // so the init step's files are the ledger's.
    let mut mapping = Mapping::default();
    for service in [keys_service, ledger_service] {
        for volume in strings(&service["volumes"]) {
            let mut parts = volume.split(':');
            let (name, target) = (parts.next().expect("volume"), parts.next().expect("target"));
            let dir = root.path().join(name.trim_start_matches("./"));
            std::fs::create_dir_all(&dir).expect("volume dir");
            mapping.path(target, &dir);
        }
    }
    mapping.path("/run/secrets", &root.path().join("compose-secrets"));
    let mut http = None;
    let mut grpc = None;
    for port in strings(&ledger_service["ports"]) {
        let inside: u16 = port
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let outside = free_port();
        mapping.port(inside, outside);
        match inside {
            8080 => http = Some(outside),
            50051 => grpc = Some(outside),
            _ => {}
        }
    }
    let (http, grpc) = (
        http.expect("the HTTP port is published"),
        grpc.expect("the gRPC port is published"),
    );

    // The init step, as compose runs it.
    let mut init = strings(&keys_service["entrypoint"]);
    init.extend(strings(&keys_service["command"]));
    let init: Vec<String> = init
        .iter()
        .map(|part| mapping.apply(&compose_literal(part)))
        .collect();
    let mut init_env = image.env.clone();
    init_env.extend(compose_environment(keys_service));
    let init_env: BTreeMap<_, _> = init_env
        .iter()
        .map(|(k, v)| (k.clone(), mapping.apply(&compose_literal(v))))
        .collect();
    run_to_success(&init[0], &init[1..], &environment(&init_env));
    // Run twice, as `docker compose up` does on every start: keeps the keys.
    let organisation = init_env["ORGANISATION"].clone();
    let key_file = root
        .path()
        .join("ledger-keys")
        .join(format!("{organisation}.api-key"));
    let key = std::fs::read_to_string(&key_file).expect("the organisation's API key");
    let digest_key_file = root.path().join("ledger-keys/contact-digest.key");
    let digest_key = std::fs::read_to_string(&digest_key_file).expect("the contact-digest key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&digest_key_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", digest_key_file.display());
    }
    run_to_success(&init[0], &init[1..], &environment(&init_env));
    assert_eq!(std::fs::read_to_string(&key_file).expect("key"), key);
    assert_eq!(
        std::fs::read_to_string(&digest_key_file).expect("digest key"),
        digest_key,
        "the contact-digest key is kept"
    );
    assert_eq!(organisation, ORGANISATION);

    // The ledger, as compose runs it.
    ledger_program(&image.entrypoint);
    let args: Vec<String> = strings(&ledger_service["command"])
        .iter()
        .map(|arg| mapping.apply(&compose_literal(arg)))
        .collect();
    let mut env = image.env.clone();
    env.extend(compose_environment(ledger_service));
    assert_eq!(
        env.get("CONSENT_KAFKA_BROKERS").map(String::as_str),
        Some("kafka:9092"),
        "the ledger uses the compose file's broker"
    );
    env.insert("CONSENT_KAFKA_BROKERS".to_owned(), broker.bootstrap());
    let env: BTreeMap<_, _> = env
        .iter()
        .map(|(k, v)| (k.clone(), mapping.apply(&compose_literal(v))))
        .collect();
    let mut ledger = Deployed::start(&args, &environment(&env), &root.path().join("ledger.out"));
    ledger
        .wait_for_ok(&format!("http://127.0.0.1:{http}/readyz"), READY_WITHIN)
        .await;
    answers_as_deployed(&ledger, http, grpc, &key).await;
    // The keys the init step created are the ledger's, none generated in
    // its data volume; subject keys stay in that volume (one instance).
    let data = root.path().join("ledger-data");
    for generated in ["contact-digest.key", "checkpoint.key", "unsubscribe.key"] {
        assert!(
            !data.join(generated).exists(),
            "{generated} generated in ledger-data: the ledger-keys volume's is not used"
        );
    }
    let output = ledger.output();
    assert!(
        output.contains("CONSENT_CONTACT_DIGEST_KEY_FILE"),
        "the digest key from ledger-keys:\n{output}"
    );
    assert!(
        data.join("subject-keys.sqlite").exists(),
        "the SQLite subject key store in ledger-data"
    );

    // The healthcheck compose runs in the container.
    let healthcheck = strings(&ledger_service["healthcheck"]["test"]);
    assert_eq!(
        healthcheck[..2],
        ["CMD", "consent-ledger"],
        "{healthcheck:?}"
    );
    let probe: Vec<String> = healthcheck[2..].iter().map(|a| mapping.apply(a)).collect();
    assert!(probe.iter().any(|a| a.ends_with("/readyz")), "{probe:?}");
    run_to_success(support::BIN, &probe, &environment(&BTreeMap::new()));
    // And it fails where nothing answers.
    let nowhere = std::process::Command::new(support::BIN)
        .args(["probe", &format!("http://127.0.0.1:{}/readyz", free_port())])
        .output()
        .expect("run the probe");
    assert_eq!(nowhere.status.code(), Some(1), "{nowhere:?}");
}

/// Every Kubernetes object in deploy/k8s.
fn k8s_objects() -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join("k8s"))
        .expect("deploy/k8s")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| read_yaml_documents(f)).collect()
}

fn k8s_object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == json!(kind) && o["metadata"]["name"] == json!(name))
        .unwrap_or_else(|| panic!("deploy/k8s has no {kind} {name}"))
}

fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item["name"] == json!(name)))
        .unwrap_or_else(|| panic!("no `{name}` in {list}"))
}

/// A container's environment: its envFrom ConfigMaps and Secrets, then
/// its env entries (values, or references into ConfigMaps and Secrets).
fn k8s_environment(objects: &[Value], container: &Value) -> BTreeMap<String, String> {
    let data = |kind: &str, name: &Value| -> BTreeMap<String, String> {
        let object = k8s_object(objects, kind, name.as_str().expect("a name"));
        let mut values = BTreeMap::new();
        for field in ["data", "stringData"] {
            if let Some(map) = object[field].as_object() {
                for (key, value) in map {
                    let value = text(value);
                    let value = if kind == "Secret" && field == "data" {
                        panic!("test support decodes stringData only; {key} is base64 data")
                    } else {
                        value
                    };
                    values.insert(key.clone(), value);
                }
            }
        }
        values
    };
    let mut env = BTreeMap::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        if !source["configMapRef"].is_null() {
            env.extend(data("ConfigMap", &source["configMapRef"]["name"]));
        }
        if !source["secretRef"].is_null() {
            env.extend(data("Secret", &source["secretRef"]["name"]));
        }
    }
    for variable in container["env"].as_array().into_iter().flatten() {
        let name = text(&variable["name"]);
        let value = if !variable["value"].is_null() {
            text(&variable["value"])
        } else if !variable["valueFrom"]["configMapKeyRef"].is_null() {
            let reference = &variable["valueFrom"]["configMapKeyRef"];
            data("ConfigMap", &reference["name"])[&text(&reference["key"])].clone()
        } else if !variable["valueFrom"]["secretKeyRef"].is_null() {
            let reference = &variable["valueFrom"]["secretKeyRef"];
            data("Secret", &reference["name"])[&text(&reference["key"])].clone()
        } else {
            panic!("env {name}: no value this test can resolve: {variable}")
        };
        env.insert(name, value);
    }
    env
}

/// One pod of the StatefulSet, started as the kubelet starts it.
struct Pod {
    ledger: Deployed,
    http: u16,
    grpc: u16,
    /// The pod's view volume (its claim).
    view: PathBuf,
    /// The startup, readiness and liveness probes' URLs.
    startup: String,
    readiness: String,
    liveness: String,
}

/// Starts pod `ordinal` of the StatefulSet: its own empty directories and
/// claim under `root`, the Secret's volume in `secrets` (one Secret for
/// every pod, as the kubelet projects it), its init containers run in
/// order, then the ledger container with the ConfigMap's environment and
/// `overrides` (the test's broker and database).
fn start_pod(
    objects: &[Value],
    root: &Path,
    secrets: &Path,
    ordinal: usize,
    overrides: &BTreeMap<String, String>,
) -> Pod {
    let statefulset = k8s_object(objects, "StatefulSet", "consent-ledger");
    let pod = &statefulset["spec"]["template"]["spec"];
    let ledger_container = named(&pod["containers"], "ledger");
    let image = image();
    let pod_dir = root.join(format!("consent-ledger-{ordinal}"));
    let mut volumes = BTreeMap::new();
    for volume in pod["volumes"].as_array().expect("volumes") {
        let name = text(&volume["name"]);
        let dir = if volume["secret"]["secretName"].is_string() {
            secrets.join(&name)
        } else {
            pod_dir.join(&name)
        };
        std::fs::create_dir_all(&dir).expect("volume dir");
        volumes.insert(name, dir);
    }
    for claim in statefulset["spec"]["volumeClaimTemplates"]
        .as_array()
        .expect("claims")
    {
        let name = text(&claim["metadata"]["name"]);
        let dir = pod_dir.join(&name);
        std::fs::create_dir_all(&dir).expect("claim dir");
        volumes.insert(name, dir);
    }
    let mut mapping = Mapping::default();
    let init_containers = pod["initContainers"].as_array().expect("init containers");
    for container in init_containers.iter().chain([ledger_container]) {
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            let volume = text(&mount["name"]);
            let dir = volumes
                .get(&volume)
                .unwrap_or_else(|| panic!("a mount of the undeclared volume {volume}"));
            mapping.path(&text(&mount["mountPath"]), dir);
        }
    }
    let mut port_names = BTreeMap::new();
    for port in ledger_container["ports"].as_array().expect("ports") {
        let inside: u16 = port["containerPort"]
            .as_u64()
            .and_then(|p| p.try_into().ok())
            .expect("a port");
        let outside = free_port();
        mapping.port(inside, outside);
        port_names.insert(text(&port["name"]), outside);
    }
    // The Services route to ports the container names.
    for service in objects.iter().filter(|o| o["kind"] == json!("Service")) {
        for port in service["spec"]["ports"].as_array().expect("ports") {
            assert!(
                port_names.contains_key(&text(&port["targetPort"])),
                "{port} targets a port the ledger container does not name"
            );
        }
    }

    // The init containers, in order.
    for init in init_containers {
        let mut command = strings(&init["command"]);
        command.extend(
            init["args"]
                .as_array()
                .map(|_| strings(&init["args"]))
                .unwrap_or_default(),
        );
        let command: Vec<String> = command.iter().map(|part| mapping.apply(part)).collect();
        let env: BTreeMap<_, _> = k8s_environment(objects, init)
            .iter()
            .map(|(k, v)| (k.clone(), mapping.apply(v)))
            .collect();
        run_to_success(&command[0], &command[1..], &environment(&env));
    }

    // The ledger container: the image's entrypoint (no command), its args.
    assert!(
        ledger_container["command"].is_null(),
        "the image's entrypoint runs"
    );
    ledger_program(&image.entrypoint);
    let args: Vec<String> = strings(&ledger_container["args"])
        .iter()
        .map(|arg| mapping.apply(arg))
        .collect();
    let mut env = image.env.clone();
    env.extend(k8s_environment(objects, ledger_container));
    let mut env: BTreeMap<_, _> = env
        .iter()
        .map(|(k, v)| (k.clone(), mapping.apply(v)))
        .collect();
    for (name, value) in overrides {
        assert!(
            env.contains_key(name),
            "the manifests set {name}, which the test replaces"
        );
        env.insert(name.clone(), value.clone());
    }
    let ledger = Deployed::start(&args, &environment(&env), &pod_dir.join("ledger.out"));

    // The probes, as the kubelet makes them.
    let probe_url = |probe: &str| -> String {
        let get = &ledger_container[probe]["httpGet"];
        assert!(!get.is_null(), "{probe} is an httpGet probe");
        let port = match &get["port"] {
            Value::String(name) => port_names[name],
            other => mapping
                .host_port(other.as_u64().expect("a port").try_into().expect("u16"))
                .expect("a mapped port"),
        };
        format!("http://127.0.0.1:{port}{}", text(&get["path"]))
    };
    Pod {
        ledger,
        http: port_names["http"],
        grpc: port_names["grpc"],
        view: volumes["view"].clone(),
        startup: probe_url("startupProbe"),
        readiness: probe_url("readinessProbe"),
        liveness: probe_url("livenessProbe"),
    }
}

/// `POST path` with `key`; panics unless 200.
async fn post_ok(pod: &Pod, path: &str, key: &str, body: &Value) -> Value {
    let response = pod
        .ledger
        .client
        .post(format!("http://127.0.0.1:{}{path}", pod.http))
        .bearer_auth(key.trim())
        .json(body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"));
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON answer");
    assert_eq!(status, StatusCode::OK, "POST {path}: {answer}");
    answer
}

/// The status a check made with `key` gets.
async fn check_status(pod: &Pod, key: &str) -> StatusCode {
    pod.ledger
        .client
        .post(format!("http://127.0.0.1:{}/v1/checks", pod.http))
        .bearer_auth(key.trim())
        .json(&check_request())
        .send()
        .await
        .expect("POST /v1/checks")
        .status()
}

/// Sets the Secret's file `name` to `content` in its volume as the kubelet
/// projects a Secret (its atomic writer): every file written, mode 0440
/// (`defaultMode` with fsGroup's group read), into a new hidden directory;
/// the `..data` symlink swapped to it at once; each file a symlink through
/// `..data`; the previous directory removed.
fn kubelet_writes(secret_dir: &Path, name: &str, content: &[u8]) {
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::sync::atomic::{AtomicUsize, Ordering};
    static GENERATION: AtomicUsize = AtomicUsize::new(0);
    let data = secret_dir.join("..data");
    let previous = std::fs::read_link(&data).ok();
    let generation = format!("..generation-{}", GENERATION.fetch_add(1, Ordering::SeqCst));
    let next = secret_dir.join(&generation);
    std::fs::create_dir(&next).expect("the Secret's new generation");
    if let Some(previous) = &previous {
        for entry in std::fs::read_dir(secret_dir.join(previous)).expect("the Secret's files") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), next.join(entry.file_name())).expect("copy");
        }
    }
    let file = next.join(name);
    let _ = std::fs::remove_file(&file);
    std::fs::write(&file, content).expect("the Secret's file");
    for entry in std::fs::read_dir(&next).expect("the new generation") {
        std::fs::set_permissions(
            entry.expect("entry").path(),
            std::fs::Permissions::from_mode(0o440),
        )
        .expect("chmod");
    }
    let staged = secret_dir.join("..data_tmp");
    symlink(&generation, &staged).expect("the new ..data");
    std::fs::rename(&staged, &data).expect("swap ..data");
    let visible = secret_dir.join(name);
    if std::fs::symlink_metadata(&visible).is_err() {
        symlink(Path::new("..data").join(name), &visible).expect("the file's symlink");
    }
    if let Some(previous) = previous {
        std::fs::remove_dir_all(secret_dir.join(previous)).expect("remove the old generation");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_replicas_share_the_secrets_keys_and_key_store_and_rotate_api_keys() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let postgres = TestPostgres::start().unwrap_or_else(|error| panic!("{error}"));
    let objects = k8s_objects();
    let statefulset = k8s_object(&objects, "StatefulSet", "consent-ledger");
    let replicas = usize::try_from(statefulset["spec"]["replicas"].as_u64().expect("replicas"))
        .expect("a replica count fits in usize");
    assert!(replicas >= 2, "the StatefulSet runs full replicas");
    let config = &k8s_object(&objects, "ConfigMap", "consent-ledger")["data"];
    let store = text(&config["CONSENT_SUBJECT_KEY_STORE_URL"]);
    assert!(store.starts_with("postgres://"), "{store}");
    let user = store["postgres://".len()..]
        .split_once('@')
        .map_or("", |(user, _)| user);
    assert!(
        !user.contains(':'),
        "no password in the key store's URL: {store}"
    );
    let root = tempfile::tempdir().expect("temp dir");

    // The Secret's files as the kubelet writes them: group-readable, as
    // with fsGroup (the init container must fix that for the keys).
    let secrets = root.path().join("secrets");
    let pod_spec = &statefulset["spec"]["template"]["spec"];
    let secret_volume = pod_spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["secret"]["secretName"].is_string())
        .expect("a Secret volume");
    let secret_dir = secrets.join(text(&secret_volume["name"]));
    std::fs::create_dir_all(&secret_dir).expect("secret dir");
    let secret = k8s_object(
        &objects,
        "Secret",
        secret_volume["secret"]["secretName"]
            .as_str()
            .expect("name"),
    );
    let secret_data = secret["stringData"].as_object().expect("stringData");
    for (file, content) in secret_data {
        kubelet_writes(&secret_dir, file, text(content).as_bytes());
    }
    // The Secret holds the test database's password.
    assert!(secret_data.contains_key("subject-key-store-password"));
    kubelet_writes(
        &secret_dir,
        "subject-key-store-password",
        PASSWORD.as_bytes(),
    );
    // What the Secret's comment tells the operator to do: add a key for
    // an organisation to the key file (the ledger keeps only its hash).
    let staging = root.path().join("api-keys.toml");
    let key = add_api_key(&secret_dir, &staging);
    kubelet_writes(
        &secret_dir,
        "api-keys.toml",
        &std::fs::read(&staging).expect("the key file"),
    );

    let overrides = BTreeMap::from([
        ("CONSENT_KAFKA_BROKERS".to_owned(), broker.bootstrap()),
        ("CONSENT_SUBJECT_KEY_STORE_URL".to_owned(), postgres.url()),
    ]);
    // Started together (podManagementPolicy: Parallel), on a new log.
    let mut pods: Vec<Pod> = (0..replicas)
        .map(|ordinal| start_pod(&objects, root.path(), &secrets, ordinal, &overrides))
        .collect();
    for pod in &mut pods {
        pod.ledger.wait_for_ok(&pod.startup, READY_WITHIN).await;
        pod.ledger.wait_for_ok(&pod.readiness, READY_WITHIN).await;
        pod.ledger
            .wait_for_ok(&pod.liveness, Duration::from_secs(5))
            .await;
        assert!(pod.readiness.ends_with("/readyz"));
        assert!(pod.liveness.ends_with("/healthz"));
        answers_as_deployed(&pod.ledger, pod.http, pod.grpc, &key).await;
        // The Secret's keys are used, none generated in the view's volume.
        let output = pod.ledger.output();
        for generated in ["contact-digest.key", "checkpoint.key", "unsubscribe.key"] {
            assert!(
                !pod.view.join(generated).exists(),
                "{generated} generated in the view volume: the Secret's is not used"
            );
        }
        assert!(
            output.contains("CONSENT_CONTACT_DIGEST_KEY_FILE"),
            "the digest key from the Secret:\n{output}"
        );
        assert!(
            !pod.view.join("subject-keys.sqlite").exists()
                && output.contains("subject keys are shared by every instance"),
            "the PostgreSQL key store:\n{output}"
        );
    }

    // An address appended through one pod matches a check through another
    // (one digest key), which also opens the sealed value (one key store:
    // with a store per pod it could not).
    let (first, last) = (&pods[0], &pods[replicas - 1]);
    let mut events = support::car_dealer(ORGANISATION);
    events.push(support::car_sale(
        ORGANISATION,
        "cust-sold",
        ADDRESS,
        "2026-03-01T14:30:00Z",
    ));
    let sold = post_ok(first, "/v1/events", &key, &json!({ "events": events })).await;
    let decision = post_ok(
        last,
        "/v1/checks",
        &key,
        &support::servicing_email(
            ORGANISATION,
            "cust-sold",
            ADDRESS,
            support::positions(&sold),
        ),
    )
    .await;
    assert_eq!(decision["allowed"], json!(true), "{decision:#}");
    let history: Value = last
        .ledger
        .client
        .get(format!(
            "http://127.0.0.1:{}/v1/organisations/{ORGANISATION}/subjects/cust-sold/history",
            last.http
        ))
        .bearer_auth(key.trim())
        .send()
        .await
        .expect("GET history")
        .json()
        .await
        .expect("JSON history");
    let contact = history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let point = &e["event"]["saleRecorded"]["collection"]["contactPoint"];
            (!point.is_null()).then(|| point.clone())
        })
        .unwrap_or_else(|| panic!("no sale in {history}"));
    assert_eq!(contact["value"], json!(ADDRESS), "{history:#}");

    // An API key added to the Secret works on every pod without a
    // restart: the key file is read from the Secret's volume again every
    // CONSENT_API_KEYS_RELOAD_SECS.
    let reload: u64 = text(&config["CONSENT_API_KEYS_RELOAD_SECS"])
        .parse()
        .expect("seconds");
    assert!(reload > 0, "the key file is read again");
    let new_key = add_api_key(&secret_dir, &staging);
    for pod in &pods {
        assert_eq!(check_status(pod, &new_key).await, StatusCode::UNAUTHORIZED);
    }
    kubelet_writes(
        &secret_dir,
        "api-keys.toml",
        &std::fs::read(&staging).expect("the key file"),
    );
    let within = Duration::from_secs(reload * 3 + 5);
    let started = std::time::Instant::now();
    for pod in &pods {
        while check_status(pod, &new_key).await != StatusCode::OK {
            assert!(
                started.elapsed() < within,
                "the new API key is not accepted within {within:?}:\n{}",
                pod.ledger.output_tail()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(check_status(pod, &key).await, StatusCode::OK);
    }
}

/// `api-key create` for the organisation on a private copy of the
/// Secret's key file (`staging`); returns the key.
fn add_api_key(secret_dir: &Path, staging: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(secret_dir.join("api-keys.toml"), staging).expect("copy the key file");
    std::fs::set_permissions(staging, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let created = run_to_success(
        support::BIN,
        &[
            "api-key".to_owned(),
            "create".to_owned(),
            "--organisation".to_owned(),
            ORGANISATION.to_owned(),
            "--api-keys".to_owned(),
            staging.display().to_string(),
        ],
        &environment(&BTreeMap::new()),
    );
    String::from_utf8(created.stdout).expect("the key")
}

#[test]
fn the_kubernetes_objects_fit_together() {
    let objects = k8s_objects();
    let statefulset = k8s_object(&objects, "StatefulSet", "consent-ledger");
    let labels = &statefulset["spec"]["template"]["metadata"]["labels"];
    let budget = k8s_object(&objects, "PodDisruptionBudget", "consent-ledger");
    for (key, value) in budget["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels")
    {
        assert_eq!(&labels[key], value, "the budget selects the ledger's pods");
    }
    let ledger = named(
        &statefulset["spec"]["template"]["spec"]["containers"],
        "ledger",
    );
    assert!(
        !ledger["resources"]["requests"]["memory"].is_null()
            && !ledger["resources"]["limits"]["memory"].is_null(),
        "memory requests and limits"
    );
    // The caches fit the limit, by docs/OPERATIONS.md "Memory":
    // 3 x view + 4 x state + log index + 200, plus librdkafka's producer queue
    // and read-ahead (bounded in the ConfigMap: their defaults would not fit).
    let config = &k8s_object(&objects, "ConfigMap", "consent-ledger")["data"];
    let mib = |name: &str| -> u64 {
        text(&config[name])
            .parse()
            .unwrap_or_else(|_| panic!("the ConfigMap sets {name} in MiB"))
    };
    let kafka: BTreeMap<String, u64> = text(&config["CONSENT_KAFKA_SETTINGS"])
        .split(';')
        .filter_map(|s| s.trim().split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect();
    let kib = |name: &str| -> u64 {
        *kafka
            .get(name)
            .unwrap_or_else(|| panic!("CONSENT_KAFKA_SETTINGS bounds {name}"))
    };
    let needed = 3 * mib("CONSENT_VIEW_CACHE_MIB")
        + 4 * mib("CONSENT_STATE_CACHE_MIB")
        + mib("CONSENT_LOG_INDEX_MIB")
        + 200
        + kib("queue.buffering.max.kbytes") / 1024
        + kib("queued.max.messages.kbytes") / 1024;
    let limit = text(&ledger["resources"]["limits"]["memory"]);
    let limit_mib = if let Some(gib) = limit.strip_suffix("Gi") {
        gib.parse::<u64>().expect("GiB") * 1024
    } else if let Some(mib) = limit.strip_suffix("Mi") {
        mib.parse::<u64>().expect("MiB")
    } else {
        panic!("a memory limit in Gi or Mi: {limit}")
    };
    // And room for at least two concurrent 16 MiB batches (48 MiB each).
    assert!(
        needed + 2 * 48 <= limit_mib,
        "the ConfigMap's caches need {needed} MiB (+96 for batches) of the {limit_mib} MiB limit"
    );
    // Every key comes from the Secret, through the _FILE variables.
    let secret = k8s_object(&objects, "Secret", "consent-ledger-keys");
    for variable in [
        "CONSENT_CONTACT_DIGEST_KEY_FILE",
        "CONSENT_CHECKPOINT_KEY_FILE",
        "CONSENT_UNSUBSCRIBE_KEY_FILE",
        "CONSENT_API_KEYS_FILE",
        "CONSENT_SUBJECT_KEY_STORE_PASSWORD_FILE",
    ] {
        let path = text(&config[variable]);
        let file = path.rsplit('/').next().expect("a file name");
        assert!(
            !secret["stringData"][file].is_null(),
            "{variable} names {file}, which the Secret holds"
        );
    }
    // The PodDisruptionBudget keeps one full replica answering.
    let replicas = statefulset["spec"]["replicas"].as_u64().expect("replicas");
    let unavailable = budget["spec"]["maxUnavailable"]
        .as_u64()
        .expect("maxUnavailable");
    assert!(
        replicas > unavailable,
        "{replicas} replicas, {unavailable} may go"
    );
    // The pod's user is the image's.
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("Dockerfile");
    let user = statefulset["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        .as_u64()
        .expect("runAsUser");
    assert!(
        dockerfile.contains(&format!("\nUSER {user}:")),
        "the image runs as {user}"
    );
}

#[test]
fn the_tls_sasl_override_keeps_the_password_out_of_the_file_and_the_environment() {
    let path = deploy_dir().join("docker-compose.tls-sasl.yml");
    let text = std::fs::read_to_string(&path).expect("the override");
    // `!override` is a compose tag: parse the file as plain YAML.
    let override_file: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let ledger = &override_file["services"]["ledger"]["environment"];
    let settings = ledger["CONSENT_KAFKA_SETTINGS"].as_str().expect("settings");
    let settings: BTreeMap<&str, &str> = settings
        .split(';')
        .filter_map(|s| s.trim().split_once('='))
        .collect();
    assert_eq!(settings.get("security.protocol"), Some(&"SASL_SSL"));
    assert_eq!(settings.get("sasl.mechanisms"), Some(&"SCRAM-SHA-512"));
    assert!(settings.contains_key("ssl.ca.location"));
    assert!(
        settings
            .keys()
            .all(|k| !k.contains("password") && !k.contains("secret")),
        "{settings:?}"
    );
    assert!(ledger["CONSENT_KAFKA_SECRETS_FILE"].as_str().is_some());
    assert!(
        text.lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .all(|line| !line.contains("sasl.password")),
        "no password in the file"
    );
}

#[test]
fn container_paths_and_ports_are_mapped_only_where_whole() {
    let mut mapping = Mapping::default();
    mapping.path("/var/lib/consent-ledger", Path::new("/tmp/x/data"));
    mapping.path("/etc/consent-ledger/keys", Path::new("/tmp/x/keys"));
    mapping.path("/tmp", Path::new("/tmp/x/tmp"));
    mapping.port(8080, 41000);
    assert_eq!(
        mapping.apply("--data-dir /var/lib/consent-ledger /var/lib/consent-ledger-old"),
        "--data-dir /tmp/x/data /var/lib/consent-ledger-old"
    );
    assert_eq!(
        mapping.apply("cp \"$f\" /etc/consent-ledger/keys/a http://127.0.0.1:8080/readyz :80801"),
        "cp \"$f\" /tmp/x/keys/a http://127.0.0.1:41000/readyz :80801"
    );
    // A host path under a mapped container path is not mapped again.
    assert_eq!(
        mapping.apply("/tmp/a KEY=/tmp /var/tmp x/tmp"),
        "/tmp/x/tmp/a KEY=/tmp/x/tmp /var/tmp x/tmp"
    );
}
