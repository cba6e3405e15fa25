//! Prometheus text, as the intake and the worker and dispatcher processes serve it.

use std::collections::HashMap;

use super::servers::free_port;

/// Parses the text exposition format strictly enough to catch a malformed line; returns
/// each sample (`name{labels}`) with its value.
pub fn parse_exposition(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT"].contains(&kind),
                "bad comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

/// A free address for a process's `--metrics-listen`, and the URL of its `/metrics`.
pub fn free_address() -> (String, String) {
    let address = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{address}/metrics");
    (address, url)
}

/// Every sample at `url`, a `/metrics` endpoint; `None` while it does not answer.
pub async fn samples(client: &reqwest::Client, url: &str) -> Option<HashMap<String, f64>> {
    let text = client.get(url).send().await.ok()?.text().await.ok()?;
    Some(parse_exposition(&text))
}

/// The value of the counter `name` with the one label `label`, 0 when absent.
pub fn count(samples: &HashMap<String, f64>, name: &str, label: (&str, &str)) -> f64 {
    let (key, value) = label;
    samples
        .get(&format!("{name}{{{key}=\"{value}\"}}"))
        .copied()
        .unwrap_or(0.0)
}
