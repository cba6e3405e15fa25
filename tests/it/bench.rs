//! The benchmark's smoke test: `participant-bench --quick --only intake` for a second or
//! two, run in process (its library's `run`) against the test servers, with the roles as
//! processes of this build's binary. The full benchmark stays out of the suite's time.

use clap::Parser as _;
use futures::TryStreamExt as _;

use crate::support::servers;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_benchmark_measures_the_intake_and_cleans_up() {
    let servers = servers::shared();
    let options = bench::Options::try_parse_from([
        "participant-bench",
        "--quick",
        "--only",
        "intake",
        "--duration",
        "1s",
        "--nats-url",
        &servers.nats_url(),
        "--valkey-url",
        &servers.valkey_url(),
        "--participant-bin",
        env!("CARGO_BIN_EXE_participant"),
    ])
    .expect("the bench's options");

    let report = bench::run(options).await.expect("the benchmark runs");

    let table = report.to_markdown();
    for title in ["Intake", "Peak RSS", "CPU"] {
        assert!(
            table.contains(&format!("### {title}")),
            "no {title} table:\n{table}"
        );
    }
    assert!(report.rows().count() >= 4, "rows missing:\n{table}");
    for row in report.rows() {
        assert!(row.value > 0.0, "`{}` measured nothing:\n{table}", row.case);
    }

    let nats = async_nats::connect(servers.nats_url()).await.expect("NATS");
    let streams: Vec<String> = async_nats::jetstream::new(nats)
        .stream_names()
        .try_collect()
        .await
        .expect("stream names");
    assert!(
        !streams.iter().any(|s| s.starts_with("bench_")),
        "streams left behind: {streams:?}"
    );
    let valkey = redis::Client::open(servers.valkey_url()).expect("Valkey URL");
    let mut valkey = valkey
        .get_multiplexed_async_connection()
        .await
        .expect("Valkey");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("bench_*")
        .query_async(&mut valkey)
        .await
        .expect("KEYS");
    assert!(keys.is_empty(), "{} keys left behind", keys.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_hostile_part_holds_its_crowd_beside_the_burst() {
    let servers = servers::shared();
    let options = bench::Options::try_parse_from([
        "participant-bench",
        "--quick",
        "--only",
        "hostile",
        "--duration",
        "1s",
        "--idle-clients",
        "200",
        "--slowloris-clients",
        "100",
        "--nats-url",
        &servers.nats_url(),
        "--valkey-url",
        &servers.valkey_url(),
        "--participant-bin",
        env!("CARGO_BIN_EXE_participant"),
    ])
    .expect("the bench's options");

    let report = bench::run(options).await.expect("the benchmark runs");

    let table = report.to_markdown();
    let hostile = report
        .tables
        .iter()
        .find(|t| t.title.starts_with("Hostile clients"))
        .unwrap_or_else(|| panic!("no hostile table:\n{table}"));
    assert_eq!(hostile.rows.len(), 3, "{table}");
    for row in &hostile.rows {
        assert!(row.value > 0.0, "`{}` measured nothing:\n{table}", row.case);
        assert_eq!(row.cells[4], "0", "`{}` had errors:\n{table}", row.case);
    }
    assert_eq!(
        hostile.rows[1].cells[5], "30",
        "the crowd was not held:\n{table}"
    );
}
