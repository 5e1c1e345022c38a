//! The bar charts of recent events beside each issue: SVG images drawn on
//! the server (so they show without JavaScript), each at its own URL, so
//! that the list is sent without waiting for 25 series queries, as
//! Sentry's issue list loads its stats apart from the issues.

use std::fmt::Write as _;

/// Width of the chart in pixels.
const WIDTH: u32 = 96;
/// Height of the chart in pixels.
const HEIGHT: u32 = 24;
/// The colour of a bar with events.
const BAR_FILL: &str = "#a29bd8";
/// The colour of the baseline of an hour without events.
const EMPTY_FILL: &str = "#e7e1ec";

/// An SVG bar chart of counts, oldest first; every bar is at least one
/// pixel high so that the time axis shows, and the tallest fills the chart.
pub fn svg(counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let slots = u32::try_from(counts.len()).unwrap_or(u32::MAX).max(1);
    let slot = f64::from(WIDTH) / f64::from(slots);
    let bar = (slot - 1.0).max(1.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">"
    );
    for (index, count) in counts.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "counts for pixels")]
        let height = (*count as f64 / max as f64 * f64::from(HEIGHT)).max(1.0);
        #[allow(clippy::cast_precision_loss, reason = "a bar index")]
        let x = index as f64 * slot;
        let y = f64::from(HEIGHT) - height;
        let fill = if *count == 0 { EMPTY_FILL } else { BAR_FILL };
        let _ = write!(
            out,
            "<rect fill=\"{fill}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\"><title>{count}</title></rect>"
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_the_tallest_bar_to_the_chart() {
        let chart = svg(&[0, 2, 4]);
        assert_eq!(chart.matches("<rect").count(), 3);
        assert!(
            chart.contains("y=\"0.0\" width=\"31.0\" height=\"24.0\""),
            "{chart}"
        );
        assert!(
            chart.contains("y=\"12.0\" width=\"31.0\" height=\"12.0\""),
            "{chart}"
        );
        assert!(
            chart.contains(&format!("fill=\"{EMPTY_FILL}\" x=\"0.0\" y=\"23.0\"")),
            "{chart}"
        );
    }

    #[test]
    fn draws_an_empty_series() {
        let chart = svg(&[]);
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert_eq!(chart.matches("<rect").count(), 0);
    }
}
