//! The kit's Flyway-compatible migrator (`syncsim-kit/flyway:refinery-0.10.0`, built by
//! `compose/build-images.sh` from `compose/images/flyway`) against a real PostgreSQL
//! (`syncsim-kit/postgres:15`), both run by testcontainers: a fixture outside syncsim's own
//! runtime, so the migrator's promises are checked on their own: migrations are applied in
//! version order (not file-name order), and a failing migration exits non-zero with the history
//! keeping exactly the versions that succeeded.
//!
//! testcontainers 0.28 creates the container first and pulls only when the engine answers 404,
//! so the locally built kit images are used as they are (no registry is contacted); the two
//! containers share a user-defined network that testcontainers creates and removes.
//!
//! Needs Docker and the kit images: `#[ignore = "needs docker"]`, like the other Docker tests.
mod common;

use std::time::Duration;
use testcontainers::{
    core::{wait::ExitWaitStrategy, ExecCommand, WaitFor},
    runners::AsyncRunner,
    ContainerAsync, GenericImage, ImageExt,
};

const POSTGRES: (&str, &str) = ("syncsim-kit/postgres", "15");
const MIGRATOR: (&str, &str) = ("syncsim-kit/flyway", "refinery-0.10.0");
const DB: &str = "shop";
const USER: &str = "shop";
const PASSWORD: &str = "shop-test-password";

/// A migrations folder's files: `(name, sql)`.
type Migrations<'a> = &'a [(&'a str, &'a str)];

/// Runs the migrator once with `migrations` in `/flyway/sql`; returns its exit code and output.
async fn migrate(network: &str, db_host: &str, migrations: Migrations<'_>) -> (i64, String) {
    let mut request = GenericImage::new(MIGRATOR.0, MIGRATOR.1)
        .with_wait_for(WaitFor::exit(ExitWaitStrategy::new()))
        .with_cmd(["migrate"])
        .with_network(network)
        .with_env_var(
            "FLYWAY_URL",
            format!("jdbc:postgresql://{db_host}:5432/{DB}"),
        )
        .with_env_var("FLYWAY_USER", USER)
        .with_env_var("FLYWAY_PASSWORD", PASSWORD)
        .with_env_var("FLYWAY_CONNECT_RETRIES", "10")
        .with_startup_timeout(Duration::from_secs(120));
    for (name, sql) in migrations {
        request = request.with_copy_to(format!("/flyway/sql/{name}"), sql.as_bytes().to_vec());
    }
    let container = request.start().await.expect("start the migrator");
    let code = container
        .exit_code()
        .await
        .expect("inspect the migrator")
        .expect("the migrator has exited");
    let out = String::from_utf8_lossy(&container.stdout_to_vec().await.unwrap()).into_owned();
    let err = String::from_utf8_lossy(&container.stderr_to_vec().await.unwrap()).into_owned();
    (code, format!("{out}{err}"))
}

/// One query through `psql` inside the PostgreSQL container, unaligned, one row per line.
async fn query(pg: &ContainerAsync<GenericImage>, sql: &str) -> String {
    let mut result = pg
        .exec(ExecCommand::new([
            "psql",
            "-X",
            "-At",
            "-h",
            "127.0.0.1",
            "-U",
            USER,
            "-d",
            DB,
            "-c",
            sql,
        ]))
        .await
        .expect("exec psql");
    let out = result.stdout_to_vec().await.unwrap();
    String::from_utf8_lossy(&out).trim().to_string()
}

async fn history(pg: &ContainerAsync<GenericImage>) -> Vec<String> {
    query(
        pg,
        "SELECT version FROM public.flyway_schema_history ORDER BY version",
    )
    .await
    .lines()
    .map(str::to_string)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs docker"]
async fn migrations_apply_in_version_order_and_a_failure_keeps_only_the_succeeded_ones() {
    common::ensure_kit();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let network = format!("syncsim-tc-{}", &id[..12]);
    let db_host = format!("{network}-pg");
    let pg = GenericImage::new(POSTGRES.0, POSTGRES.1)
        .with_wait_for(WaitFor::message_on_stdout(
            "PostgreSQL init process complete",
        ))
        .with_network(&network)
        .with_container_name(&db_host)
        .with_env_var("POSTGRES_USER", USER)
        .with_env_var("POSTGRES_PASSWORD", PASSWORD)
        .with_env_var("POSTGRES_DB", DB)
        .with_startup_timeout(Duration::from_secs(120))
        .start()
        .await
        .expect("start syncsim-kit/postgres:15 (built by compose/build-images.sh)");

    // V10 needs V9's column: applied by file name (V1, V10, V2, V9) it would fail.
    let first: Migrations = &[
        (
            "V1__create_items.sql",
            "CREATE TABLE items (id int PRIMARY KEY);",
        ),
        ("V2__first_item.sql", "INSERT INTO items VALUES (1);"),
        (
            "V9__add_name.sql",
            "ALTER TABLE items ADD COLUMN name text;",
        ),
        ("V10__name_items.sql", "UPDATE items SET name = 'ten';"),
    ];
    let (code, output) = migrate(&network, &db_host, first).await;
    assert_eq!(code, 0, "migrate failed:\n{output}");
    assert_eq!(history(&pg).await, ["1", "2", "9", "10"], "{output}");
    assert_eq!(
        query(&pg, "SELECT id || ':' || name FROM items").await,
        "1:ten"
    );

    // Up to date: a second run applies nothing and succeeds.
    let (code, output) = migrate(&network, &db_host, first).await;
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("up to date"), "{output}");

    // V11 succeeds, V12 fails half-way (its table is rolled back), V13 never runs.
    let mut second = first.to_vec();
    second.extend_from_slice(&[
        (
            "V11__second_item.sql",
            "INSERT INTO items VALUES (2, 'eleven');",
        ),
        (
            "V12__broken.sql",
            "CREATE TABLE half_done (x int);\nINSERT INTO no_such_table VALUES (1);",
        ),
        ("V13__never.sql", "CREATE TABLE never_applied (x int);"),
    ]);
    let (code, output) = migrate(&network, &db_host, &second).await;
    assert_ne!(
        code, 0,
        "a failing migration must fail the migrator:\n{output}"
    );
    assert!(
        output.contains("no_such_table"),
        "the cause is shown:\n{output}"
    );
    assert_eq!(history(&pg).await, ["1", "2", "9", "10", "11"], "{output}");
    assert_eq!(query(&pg, "SELECT count(*) FROM items").await, "2");
    assert_eq!(
        query(
            &pg,
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('half_done', 'never_applied')"
        )
        .await,
        "0",
        "the failed migration is rolled back and the next one never ran"
    );
}
