//! The report: one markdown table per part, each row with a headline figure (a rate, or a
//! peak RSS) that callers can check, and the formatting of rates, latencies and sizes.

use std::fmt::Write as _;
use std::time::Duration;

/// Every table of one run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub tables: Vec<Table>,
    /// Lines printed under the tables (settings, what a figure means).
    pub notes: Vec<String>,
}

/// One table.
#[derive(Clone, Debug)]
pub struct Table {
    pub title: String,
    /// Column headers; the first names the case, the second the headline figure.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// How the headline figure is printed.
    pub headline: fn(f64) -> String,
}

/// One measured case.
#[derive(Clone, Debug)]
pub struct Row {
    pub case: String,
    /// The headline figure (operations, requests or deliveries per second; MiB for memory).
    pub value: f64,
    /// The other cells, already formatted, in column order after the headline.
    pub cells: Vec<String>,
}

impl Table {
    pub fn new(title: &str, columns: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            headline: rate,
        }
    }

    /// Prints the headline figure with `format` instead of as a rate.
    pub fn with_headline(mut self, format: fn(f64) -> String) -> Self {
        self.headline = format;
        self
    }

    /// Adds a row.
    pub fn push(&mut self, case: impl Into<String>, value: f64, cells: Vec<String>) {
        self.rows.push(Row {
            case: case.into(),
            value,
            cells,
        });
    }

    /// The headline of the row named `case`.
    pub fn value(&self, case: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.case == case).map(|r| r.value)
    }
}

impl Report {
    /// The whole report as markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for table in &self.tables {
            let _ = writeln!(out, "### {}\n", table.title);
            let _ = writeln!(out, "| {} |", table.columns.join(" | "));
            let rule: Vec<&str> = table.columns.iter().map(|_| "---").collect();
            let _ = writeln!(out, "|{}|", rule.join("|"));
            for row in &table.rows {
                let mut cells = vec![row.case.clone(), (table.headline)(row.value)];
                cells.extend(row.cells.iter().cloned());
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        out
    }

    /// Every row of every table.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.tables.iter().flat_map(|t| t.rows.iter())
    }
}

/// A rate or count, rounded: `12345`, or `3.4` below ten.
pub fn rate(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// A latency in milliseconds with sensible precision.
pub fn millis(latency: Duration) -> String {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// One decimal.
pub fn one_decimal(value: f64) -> String {
    format!("{value:.1}")
}

/// Two decimals.
pub fn two_decimals(value: f64) -> String {
    format!("{value:.2}")
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
