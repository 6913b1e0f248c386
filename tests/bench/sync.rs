//! `cargo bench --bench sync`: syncsim against docker-compose and the plain `docker run` floor,
//! interleaved in one invocation, on the offline image kit (`compose/build-images.sh`).
//!
//! Contenders, each on the whole `k8s/overlays/local` stack (6 steps: infra, shortlink, admin,
//! PostSync waves 0, 1, 2):
//! * `compose`: `docker-compose up -d` of `compose/docker-compose.bench.yaml` (the PostSync Jobs
//!   chained by `depends_on`, 1 s healthchecks) until the last Job exits; `down -v` is timed
//!   separately. Skipped with a message when `docker-compose` is not installed.
//! * `floor`: each step's containers created and started concurrently through the Docker API
//!   (bind mounts, no file copies), readiness checked every 50 ms with the same checks as the
//!   manifests' readiness probes, Jobs awaited with Docker's wait API, then the next step.
//! * `fast` / `cluster`: the release binary (`SYNCSIM_BENCH_BIN` to choose another), `syncsim sync k8s/overlays/local --timing …`,
//!   measured from process start to the operation's end in its JSON report; teardown (to process
//!   exit) separately.
//!
//! A step's time runs from the end of the previous step (the contender's start for the first),
//! so steps add up to the total. After the rounds, `syncsim test scenarios/ -j N` measures
//! scenario throughput. Settings (environment): `SYNCSIM_BENCH_ROUNDS` (3),
//! `SYNCSIM_BENCH_WARMUP` (1), `SYNCSIM_BENCH_ONLY` (comma list of `compose`, `floor`, `fast`,
//! `cluster`, `scenarios`), `SYNCSIM_BENCH_JOBS` (`-j` of the scenario run, 2).
use bollard::{
    exec::{CreateExecOptions, StartExecResults},
    models::{
        ContainerCreateBody, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig,
    },
    query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder},
    Docker,
};
use futures_util::StreamExt;
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The steps of the example, in Argo CD's order, with the compose services of each.
const STEPS: &[(&str, &[&str])] = &[
    (
        "infra (Sync wave 0)",
        &["postgres", "redis", "kafka", "clickhouse"],
    ),
    ("shortlink (Sync wave 2)", &["shortlink"]),
    ("admin (Sync wave 3)", &["admin"]),
    ("flyway-admin (PostSync 0)", &["flyway-admin"]),
    (
        "flyway-shortlink + topic (PostSync 1)",
        &["flyway-shortlink", "kafka-create-stats-topic"],
    ),
    ("clickhouse-init (PostSync 2)", &["clickhouse-init"]),
];

const JOBS: &[&str] = &[
    "flyway-admin",
    "flyway-shortlink",
    "kafka-create-stats-topic",
    "clickhouse-init",
];

/// One measured run: per-step durations, total, teardown, and syncsim's extra figures.
#[derive(Debug, Default, Clone)]
struct Run {
    steps: Vec<f64>,
    total: f64,
    teardown: Option<f64>,
    between: Option<f64>,
    predicted: Option<f64>,
    /// syncsim's `readinessObservedWithinSeconds`.
    readiness_lag: Option<f64>,
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn secs_since(t0: SystemTime, t: SystemTime) -> f64 {
    t.duration_since(t0).unwrap_or_default().as_secs_f64()
}

/// Cumulative step ends (seconds since the start) → per-step durations.
fn durations(ends: &[f64]) -> Vec<f64> {
    let mut prev = 0.0;
    ends.iter()
        .map(|&e| {
            let d = e - prev;
            prev = e;
            d
        })
        .collect()
}

fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn has_docker_compose() -> bool {
    Command::new("docker-compose")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// docker-compose

struct Compose {
    file: PathBuf,
}

impl Compose {
    fn cmd(&self, project: &str) -> Command {
        let mut c = Command::new("docker-compose");
        c.arg("-p").arg(project).arg("-f").arg(&self.file);
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        c
    }

    fn run(&self, round: usize) -> Run {
        let project = format!("syncsimbench{round}");
        let t0 = SystemTime::now();
        // The engine keeps only its last 256 events (healthcheck execs flood it): listen live.
        let mut listener = Command::new("docker")
            .args([
                "events",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
                "--filter",
                "type=container",
                "--filter",
                "event=die",
                "--filter",
                "event=health_status",
                "--format",
                "{{.TimeNano}}|{{.Status}}|{{index .Actor.Attributes \"com.docker.compose.service\"}}",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker events");
        std::thread::sleep(Duration::from_millis(200));
        let out = self
            .cmd(&project)
            .args(["up", "-d"])
            .output()
            .expect("docker-compose up");
        assert!(
            out.status.success(),
            "docker-compose up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8(
            self.cmd(&project)
                .args(["ps", "-q", "clickhouse-init"])
                .stdout(Stdio::piped())
                .output()
                .expect("docker-compose ps")
                .stdout,
        )
        .expect("utf-8");
        let code = Command::new("docker")
            .args(["wait", id.trim()])
            .output()
            .expect("docker wait");
        assert_eq!(
            String::from_utf8_lossy(&code.stdout).trim(),
            "0",
            "clickhouse-init failed"
        );
        std::thread::sleep(Duration::from_millis(300));
        let _ = listener.kill();
        let events = listener.wait_with_output().expect("docker events");
        let unix = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .expect("clock")
                .as_secs_f64()
        };
        let mut done: HashMap<String, f64> = HashMap::new();
        for line in String::from_utf8_lossy(&events.stdout).lines() {
            let mut parts = line.splitn(3, '|');
            let (Some(nanos), Some(status), Some(service)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let at = nanos.parse::<f64>().unwrap_or(0.0) / 1e9 - unix(t0);
            let finished = if JOBS.contains(&service) {
                status == "die"
            } else {
                status.starts_with("health_status: healthy")
            };
            if finished {
                done.entry(service.to_string()).or_insert(at);
            }
        }
        let ends: Vec<f64> = STEPS
            .iter()
            .map(|(name, services)| {
                services
                    .iter()
                    .map(|s| {
                        *done
                            .get(*s)
                            .unwrap_or_else(|| panic!("compose: no end of {s} ({name})"))
                    })
                    .fold(0.0, f64::max)
            })
            .collect();
        let down = Instant::now();
        let out = self
            .cmd(&project)
            .args(["down", "-v", "--remove-orphans"])
            .output()
            .expect("docker-compose down");
        assert!(out.status.success(), "docker-compose down");
        let steps = durations(&ends);
        Run {
            total: steps.iter().sum(),
            steps,
            teardown: Some(down.elapsed().as_secs_f64()),
            ..Run::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the floor: plain containers through the Docker API

/// How the floor decides a service is ready: the manifests' readiness probes.
enum Check {
    Exec(Vec<String>),
    Tcp(u16),
    Http(u16, &'static str),
}

fn check_of(service: &str) -> Check {
    let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
    match service {
        "postgres" => Check::Exec(v(&[
            "sh",
            "-c",
            "pg_isready -h 127.0.0.1 -p 5432 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"",
        ])),
        "redis" => Check::Exec(v(&["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"])),
        "kafka" => Check::Tcp(9092),
        "clickhouse" => Check::Http(8123, "/ping"),
        "shortlink" | "admin" => Check::Http(8080, "/ready"),
        other => panic!("no readiness check for {other}"),
    }
}

/// A service of the benchmark compose file, as `docker run` arguments.
struct Service {
    image: String,
    env: Vec<String>,
    cmd: Option<Vec<String>>,
    binds: Vec<String>,
}

fn services(compose_file: &Path) -> BTreeMap<String, Service> {
    let text = std::fs::read_to_string(compose_file).expect("compose file");
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("compose yaml");
    doc.apply_merge().expect("merge keys");
    let dir = compose_file.parent().expect("dir");
    let mut out = BTreeMap::new();
    for (name, svc) in doc["services"].as_mapping().expect("services") {
        let name = name.as_str().expect("name").to_string();
        let env = svc["environment"]
            .as_mapping()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_yaml::Value::String(s) => s.clone(),
                            other => serde_yaml::to_string(other).expect("v").trim().to_string(),
                        };
                        format!("{}={}", k.as_str().expect("key"), v.replace("$$", "$"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cmd = svc["command"].as_sequence().map(|s| {
            s.iter()
                .map(|a| a.as_str().expect("arg").replace("$$", "$"))
                .collect()
        });
        // Bind mounts only: named data volumes become the image's anonymous volumes.
        let binds = svc["volumes"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(|v| v.strip_prefix("./"))
                    .map(|v| format!("{}/{v}", dir.display()))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            name,
            Service {
                image: svc["image"].as_str().expect("image").to_string(),
                env,
                cmd,
                binds,
            },
        );
    }
    out
}

struct Floor {
    docker: Docker,
    services: BTreeMap<String, Service>,
}

impl Floor {
    async fn exec_ok(&self, id: &str, cmd: &[String]) -> bool {
        let Ok(created) = self
            .docker
            .create_exec(
                id,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd.to_vec()),
                    ..Default::default()
                },
            )
            .await
        else {
            return false;
        };
        if let Ok(StartExecResults::Attached { mut output, .. }) =
            self.docker.start_exec(&created.id, None).await
        {
            while let Some(Ok(_)) = output.next().await {}
        }
        loop {
            match self.docker.inspect_exec(&created.id).await {
                Ok(i) if i.running == Some(false) => return i.exit_code == Some(0),
                Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                Err(_) => return false,
            }
        }
    }

    async fn ready(&self, id: &str, ip: &str, check: &Check) -> bool {
        let connect = |port: u16| {
            tokio::time::timeout(
                Duration::from_secs(1),
                TcpStream::connect((ip.to_string(), port)),
            )
        };
        match check {
            Check::Exec(cmd) => self.exec_ok(id, cmd).await,
            Check::Tcp(port) => matches!(connect(*port).await, Ok(Ok(_))),
            Check::Http(port, path) => {
                let Ok(Ok(mut s)) = connect(*port).await else {
                    return false;
                };
                let req = format!("GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n");
                if s.write_all(req.as_bytes()).await.is_err() {
                    return false;
                }
                let mut buf = [0u8; 16];
                let read = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await;
                matches!(read, Ok(Ok(n)) if n >= 12 && (buf[9] == b'2' || buf[9] == b'3'))
            }
        }
    }

    async fn start(&self, network: &str, name: &str, round: usize) -> String {
        let svc = &self.services[name];
        let body = ContainerCreateBody {
            image: Some(svc.image.clone()),
            env: Some(svc.env.clone()),
            cmd: svc.cmd.clone(),
            labels: Some(HashMap::from([(
                "dev.syncsim.bench".to_string(),
                "floor".to_string(),
            )])),
            host_config: Some(HostConfig {
                binds: Some(svc.binds.clone()),
                network_mode: Some(network.to_string()),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    network.to_string(),
                    EndpointSettings {
                        aliases: Some(vec![name.to_string()]),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::new()
            .name(&format!("syncsim-bench-floor-{round}-{name}"))
            .build();
        let id = self
            .docker
            .create_container(Some(opts), body)
            .await
            .expect("create")
            .id;
        self.docker.start_container(&id, None).await.expect("start");
        id
    }

    async fn until_ready(&self, network: &str, name: &str, id: &str) {
        if JOBS.contains(&name) {
            let mut wait = self.docker.wait_container(id, None);
            match wait.next().await {
                Some(Ok(r)) => assert_eq!(r.status_code, 0, "floor: {name} failed"),
                Some(Err(e)) => panic!("floor: {name}: {e}"),
                None => panic!("floor: {name}: no wait result"),
            }
            return;
        }
        let inspect = self
            .docker
            .inspect_container(id, None)
            .await
            .expect("inspect");
        let ip = inspect
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|n| n.get(network).and_then(|e| e.ip_address.clone()))
            .expect("container ip");
        let check = check_of(name);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self.ready(id, &ip, &check).await {
            assert!(Instant::now() < deadline, "floor: {name} never ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn run(&self, round: usize) -> Run {
        let network = format!("syncsim-bench-floor-{round}");
        let t0 = Instant::now();
        self.docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                ..Default::default()
            })
            .await
            .expect("network");
        let mut ids = Vec::new();
        let mut ends = Vec::new();
        for (_, names) in STEPS {
            let started = futures_util::future::join_all(
                names.iter().map(|n| self.start(&network, n, round)),
            )
            .await;
            futures_util::future::join_all(
                names
                    .iter()
                    .zip(&started)
                    .map(|(n, id)| self.until_ready(&network, n, id)),
            )
            .await;
            ids.extend(started);
            ends.push(t0.elapsed().as_secs_f64());
        }
        let rm = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        futures_util::future::join_all(
            ids.iter()
                .map(|id| self.docker.remove_container(id, Some(rm.clone()))),
        )
        .await;
        let _ = self.docker.remove_network(&network).await;
        let steps = durations(&ends);
        Run {
            total: steps.iter().sum(),
            steps,
            ..Run::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// syncsim

/// The syncsim binary to measure: `SYNCSIM_BENCH_BIN`, else the release build next to this
/// profile's (so `cargo bench --profile dev` still measures the optimized binary when built),
/// else this profile's.
fn syncsim_bin() -> String {
    if let Ok(bin) = std::env::var("SYNCSIM_BENCH_BIN") {
        return bin;
    }
    let own = env!("CARGO_BIN_EXE_syncsim");
    let release = own.replace("/debug/", "/release/");
    if Path::new(&release).exists() {
        release
    } else {
        own.to_string()
    }
}

fn syncsim(bin: &str, root: &str, timing: &str, round: usize) -> Run {
    let t0 = SystemTime::now();
    let out = Command::new(bin)
        .args([
            "sync",
            &format!("{root}/k8s/overlays/local"),
            "--no-build",
            "-o",
            "json",
        ])
        .args([
            "--app",
            &format!("bench-{timing}-{round}"),
            "--timing",
            timing,
        ])
        .stderr(Stdio::piped())
        .output()
        .expect("syncsim");
    let exited = SystemTime::now();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "syncsim --timing {timing}: no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["outcome"], "Succeeded", "{report:#}");
    let at = |v: &Value| humantime::parse_rfc3339(v.as_str().expect("timestamp")).expect("rfc3339");
    let ends: Vec<f64> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| secs_since(t0, at(&s["finishedAt"])))
        .collect();
    assert_eq!(
        ends.len(),
        STEPS.len(),
        "syncsim's steps differ from the benchmark's: {:#}",
        report["steps"]
    );
    let op = &report["operation"];
    let finished = at(&op["finishedAt"]);
    let steps = durations(&ends);
    Run {
        total: secs_since(t0, finished),
        steps,
        teardown: Some(
            exited
                .duration_since(finished)
                .unwrap_or_default()
                .as_secs_f64(),
        ),
        between: op["betweenStepsSeconds"].as_f64(),
        predicted: op["predictedClusterSeconds"].as_f64(),
        readiness_lag: op["readinessObservedWithinSeconds"].as_f64(),
    }
}

// ---------------------------------------------------------------------------------------------

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn summary(v: &[f64]) -> String {
    if v.is_empty() {
        return "—".into();
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    format!("{:.2} s ({min:.2}–{max:.2})", median(v.to_vec()))
}

#[tokio::main]
async fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    if !image_exists("syncsim-kit/postgres:15") {
        println!("offline kit not built: run compose/build-images.sh first; nothing measured");
        return;
    }
    let rounds = env_num("SYNCSIM_BENCH_ROUNDS", 3).max(1);
    let warmup = env_num("SYNCSIM_BENCH_WARMUP", 1);
    let only = std::env::var("SYNCSIM_BENCH_ONLY").unwrap_or_default();
    let wanted = |c: &str| only.is_empty() || only.split(',').any(|o| o.trim() == c);
    let st = Command::new(format!("{root}/compose/render-configmaps.sh"))
        .stdout(Stdio::null())
        .status()
        .expect("render-configmaps.sh");
    assert!(st.success(), "compose/render-configmaps.sh failed");
    let compose_file = PathBuf::from(format!("{root}/compose/docker-compose.bench.yaml"));
    let compose = if !wanted("compose") {
        None
    } else if has_docker_compose() {
        Some(Compose {
            file: compose_file.clone(),
        })
    } else {
        println!("docker-compose is not installed: skipping the compose contender");
        None
    };
    let docker = Docker::connect_with_local_defaults()
        .expect("docker")
        .negotiate_version()
        .await
        .expect("docker version");
    let floor = wanted("floor").then(|| Floor {
        docker,
        services: services(&compose_file),
    });
    let timings: Vec<&str> = ["fast", "cluster"]
        .into_iter()
        .filter(|t| wanted(t))
        .collect();
    let bin = syncsim_bin();
    if !timings.is_empty() {
        println!("syncsim: {bin}");
    }
    let mut results: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    println!("{warmup} warm-up round(s), then {rounds} measured round(s), contenders interleaved");
    for round in 0..warmup + rounds {
        let measured = round >= warmup;
        let label = if measured {
            format!("round {}", round - warmup + 1)
        } else {
            "warm-up".to_string()
        };
        let mut record = |name: &'static str, r: Run| {
            println!(
                "  {label:<8} {name:<8} total {:>6.2} s{}",
                r.total,
                r.teardown
                    .map(|t| format!("  teardown {t:.2} s"))
                    .unwrap_or_default()
            );
            if measured {
                results.entry(name).or_default().push(r);
            }
        };
        if let Some(c) = &compose {
            record("compose", c.run(round));
        }
        if let Some(f) = &floor {
            record("floor", f.run(round).await);
        }
        for t in &timings {
            let name: &'static str = if *t == "fast" { "fast" } else { "cluster" };
            record(name, syncsim(&bin, root, t, round));
        }
    }
    print_table(&results, rounds);
    if wanted("scenarios") && !timings.is_empty() {
        scenario_throughput(&bin, root);
    }
}

/// `syncsim test scenarios/ -j N` (fast timing, `SYNCSIM_BENCH_JOBS`, default 2): scenarios per
/// minute, and how much running them side by side gains over their summed durations.
fn scenario_throughput(bin: &str, root: &str) {
    let jobs = env_num("SYNCSIM_BENCH_JOBS", 2).max(1);
    let t0 = Instant::now();
    let out = Command::new(bin)
        .args([
            "test",
            &format!("{root}/scenarios"),
            "-j",
            &jobs.to_string(),
        ])
        .output()
        .expect("syncsim test");
    let wall = t0.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        println!(
            "\nscenario throughput: `syncsim test scenarios -j {jobs}` failed ({}); not measured:\n{}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    // `PASS  name (path) in 27.4s`
    let each: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("PASS"))
        .filter_map(|l| l.rsplit(" in ").next()?.strip_suffix('s')?.parse().ok())
        .collect();
    let summed: f64 = each.iter().sum();
    println!(
        "\nscenario throughput: {} scenarios in {wall:.1} s with `syncsim test scenarios -j {jobs}`: \
         {:.1} per minute (their own durations add up to {summed:.1} s: {:.2}x from -j {jobs})",
        each.len(),
        each.len() as f64 / wall * 60.0,
        summed / wall
    );
}

fn print_table(results: &BTreeMap<&str, Vec<Run>>, rounds: usize) {
    let order = ["floor", "compose", "fast", "cluster"];
    let cols: Vec<&str> = order
        .into_iter()
        .filter(|c| results.contains_key(c))
        .collect();
    let col_name = |c: &str| match c {
        "floor" => "docker run floor",
        "compose" => "docker-compose",
        "fast" => "syncsim fast",
        _ => "syncsim cluster",
    };
    println!(
        "\nmedians of {rounds} round(s), seconds; a step runs from the end of the previous one"
    );
    print!("| step |");
    for c in &cols {
        print!(" {} |", col_name(c));
    }
    println!();
    println!("|---|{}", "---:|".repeat(cols.len()));
    for (i, (step, _)) in STEPS.iter().enumerate() {
        print!("| {step} |");
        for c in &cols {
            print!(
                " {:.2} |",
                median(results[c].iter().map(|r| r.steps[i]).collect())
            );
        }
        println!();
    }
    print!("| **total**, median (min–max) |");
    for c in &cols {
        let v: Vec<f64> = results[c].iter().map(|r| r.total).collect();
        print!(" **{}** |", summary(&v));
    }
    println!();
    print!("| teardown (compose: `down -v`) |");
    for c in &cols {
        let v: Vec<f64> = results[c].iter().filter_map(|r| r.teardown).collect();
        print!(" {} |", summary(&v));
    }
    println!();
    let total = |c: &str| {
        results
            .get(c)
            .map(|r| median(r.iter().map(|r| r.total).collect()))
    };
    let teardown = |c: &str| {
        results
            .get(c)
            .map(|r| median(r.iter().filter_map(|r| r.teardown).collect()))
    };
    println!();
    for s in ["fast", "cluster"] {
        let Some(t) = total(s) else { continue };
        if let Some(c) = total("compose") {
            println!("syncsim {s} / compose: {:.2}", t / c);
        }
        if let Some(f) = total("floor") {
            println!("syncsim {s} / floor:   {:.2}", t / f);
        }
        if let (Some(td), Some(cd)) = (teardown(s), teardown("compose")) {
            println!("syncsim {s} teardown / compose down -v: {:.2}", td / cd);
        }
        let lag: Vec<f64> = results[s].iter().filter_map(|r| r.readiness_lag).collect();
        if !lag.is_empty() {
            println!(
                "syncsim {s} readiness seen at most {:.0} ms after the probe could first pass (median of the runs' medians)",
                median(lag) * 1000.0
            );
        }
        let between: Vec<f64> = results[s].iter().filter_map(|r| r.between).collect();
        if !between.is_empty() {
            println!(
                "syncsim {s} time between steps: {:.3} s per step (median of the run totals / {})",
                median(between) / STEPS.len() as f64,
                STEPS.len()
            );
        }
    }
    let predicted: Vec<f64> = results
        .get("fast")
        .map(|r| r.iter().filter_map(|r| r.predicted).collect())
        .unwrap_or_default();
    if !predicted.is_empty() {
        let p = median(predicted);
        print!("predicted duration on a cluster (printed by the fast run): {p:.2} s");
        match total("cluster") {
            Some(c) => println!(
                "; measured with --timing cluster: {c:.2} s ({:+.1} %)",
                (c - p) / p * 100.0
            ),
            None => println!(),
        }
    }
}
