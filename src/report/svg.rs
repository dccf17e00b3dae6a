//! The report's charts as inline SVG (no script, no external file): the
//! film's intensity with its anchors, spoiler line and chosen ranges; the
//! music's level with beats, downbeats and the cuts; the mix loudness
//! against its target. Pure functions from numbers to markup; every label
//! is escaped, and points that are not finite are left out.

use super::html::esc;
use std::fmt::Write;

/// Drawing width in SVG units (the page scales it to its column).
const W: f64 = 1000.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 20.0;

/// One chart under construction: a time axis across, a value axis up.
pub struct Plot {
    h: f64,
    x: (f64, f64),
    y: (f64, f64),
    body: String,
    label: String,
}

/// A marker with a label at a time (an anchor, the spoiler line, a cut).
pub struct Marker<'a> {
    pub t: f64,
    pub class: &'a str,
    pub label: &'a str,
    /// Label at the foot of the line, not its head (so that two markers
    /// close together keep both labels readable).
    pub low: bool,
}

impl Plot {
    /// A chart `h` units high over times `x` and values `y`, described for
    /// screen readers by `label`.
    pub fn new(label: &str, h: f64, x: (f64, f64), y: (f64, f64)) -> Plot {
        let x = if x.1 > x.0 { x } else { (x.0, x.0 + 1.0) };
        let y = if y.1 > y.0 { y } else { (y.0, y.0 + 1.0) };
        Plot {
            h,
            x,
            y,
            body: String::new(),
            label: label.to_string(),
        }
    }

    /// The horizontal position of time `t` (clamped into the chart).
    pub fn px(&self, t: f64) -> f64 {
        let f = ((t - self.x.0) / (self.x.1 - self.x.0)).clamp(0.0, 1.0);
        LEFT + f * (W - LEFT - RIGHT)
    }

    /// The vertical position of value `v` (clamped into the chart).
    pub fn py(&self, v: f64) -> f64 {
        let f = ((v - self.y.0) / (self.y.1 - self.y.0)).clamp(0.0, 1.0);
        self.h - BOTTOM - f * (self.h - TOP - BOTTOM)
    }

    /// A full-height band from `a` to `b`, with a tooltip.
    pub fn band(&mut self, a: f64, b: f64, class: &str, title: &str, data: &str) {
        if !(a.is_finite() && b.is_finite()) {
            return;
        }
        let (x0, x1) = (self.px(a), self.px(b));
        let _ = write!(
            self.body,
            r#"<rect class="{}" {data} x="{x0:.1}" y="{TOP:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
            esc(class),
            (x1 - x0).max(1.0),
            self.h - TOP - BOTTOM,
            esc(title)
        );
    }

    /// A curve through `points`; a point that is not finite breaks it.
    pub fn curve(&mut self, points: &[(f64, f64)], class: &str) {
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, body: &mut String| {
            if run.len() > 1 {
                let _ = write!(
                    body,
                    r#"<polyline class="{}" points="{}"/>"#,
                    esc(class),
                    run.join(" ")
                );
            }
            run.clear();
        };
        for (t, v) in points {
            if t.is_finite() && v.is_finite() {
                run.push(format!("{:.1},{:.1}", self.px(*t), self.py(*v)));
            } else {
                flush(&mut run, &mut self.body);
            }
        }
        flush(&mut run, &mut self.body);
    }

    /// Vertical ticks at `times`, `frac` of the chart's height, from the bottom.
    pub fn ticks(&mut self, times: &[f64], class: &str, frac: f64) {
        let (y1, len) = (self.h - BOTTOM, (self.h - TOP - BOTTOM) * frac);
        let mut d = String::new();
        for t in times.iter().filter(|t| t.is_finite()) {
            if *t < self.x.0 || *t > self.x.1 {
                continue;
            }
            let _ = write!(d, "M{:.1} {y1:.1}v-{len:.1}", self.px(*t));
        }
        if !d.is_empty() {
            let _ = write!(self.body, r#"<path class="{}" d="{d}"/>"#, esc(class));
        }
    }

    /// A full-height line with its label at the top.
    pub fn marker(&mut self, m: &Marker) {
        if !m.t.is_finite() {
            return;
        }
        let x = self.px(m.t);
        let label_y = if m.low {
            self.h - BOTTOM - 4.0
        } else {
            TOP - 6.0
        };
        let _ = write!(
            self.body,
            r#"<g class="{}"><line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            esc(m.class),
            TOP - 4.0,
            self.h - BOTTOM,
            x + 3.0,
            label_y,
            esc(m.label)
        );
    }

    /// A horizontal line at value `v` with its label at the right end, or
    /// at the left end when `left`.
    pub fn level(&mut self, v: f64, class: &str, label: &str, left: bool) {
        if !v.is_finite() {
            return;
        }
        let y = self.py(v);
        let (x, anchor) = if left {
            (LEFT + 4.0, "start")
        } else {
            (W - RIGHT - 2.0, "end")
        };
        let _ = write!(
            self.body,
            r#"<g class="{}"><line x1="{LEFT:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text x="{x:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"#,
            esc(class),
            W - RIGHT,
            y - 3.0,
            esc(label)
        );
    }

    /// The time axis, a label every `step` seconds, and the value axis's
    /// two ends labelled `lo` and `hi`.
    fn axes(&mut self, lo: &str, hi: &str) {
        let span = self.x.1 - self.x.0;
        let step = [
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0,
        ]
        .into_iter()
        .find(|s| span / s <= 12.0)
        .unwrap_or(1800.0);
        let y = self.h - BOTTOM;
        let mut out = format!(
            r#"<g class="axis"><line x1="{LEFT:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/>"#,
            W - RIGHT
        );
        let mut t = (self.x.0 / step).ceil() * step;
        while t <= self.x.1 + 1e-9 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                self.px(t),
                y + 14.0,
                esc(&super::html::clock(t))
            );
            t += step;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text></g>"#,
            LEFT - 4.0,
            y,
            esc(lo),
            LEFT - 4.0,
            TOP + 8.0,
            esc(hi)
        );
        self.body.insert_str(0, &out);
    }

    /// The finished `<svg>` element.
    pub fn finish(mut self, lo: &str, hi: &str) -> String {
        self.axes(lo, hi);
        format!(
            r#"<svg class="chart" viewBox="0 0 {W} {:.0}" role="img" aria-label="{}">{}</svg>"#,
            self.h,
            esc(&self.label),
            self.body
        )
    }
}

/// A clip's range on the film's time line, for the intensity chart.
pub struct Range {
    pub number: usize,
    pub source_in_s: f64,
    pub source_out_s: f64,
}

/// The film's intensity over its runtime, the chosen ranges as bands, the
/// structure anchors and the spoiler line as markers.
pub fn intensity_chart(
    points: &[(f64, f32)],
    runtime_s: f64,
    ranges: &[Range],
    markers: &[Marker],
) -> String {
    let mut p = Plot::new(
        "the film's intensity over its runtime, with the chosen clips",
        220.0,
        (0.0, runtime_s),
        (0.0, 1.0),
    );
    for r in ranges {
        let title = format!(
            "clip {}: {} – {}",
            r.number,
            super::html::clock(r.source_in_s),
            super::html::clock(r.source_out_s)
        );
        let data = format!(r#"data-clip="{}""#, r.number);
        p.band(r.source_in_s, r.source_out_s, "range", &title, &data);
    }
    let pts: Vec<(f64, f64)> = points.iter().map(|(t, v)| (*t, *v as f64)).collect();
    p.curve(&pts, "intensity");
    for m in markers {
        p.marker(m);
    }
    p.finish("calm", "intense")
}

/// The music's level under the trailer, its beats (short ticks) and
/// downbeats (long ticks), and the cuts as markers.
pub fn music_chart(
    energy_db: &[(f64, f64)],
    beats: &[f64],
    downbeats: &[f64],
    cuts: &[f64],
    duration_s: f64,
) -> String {
    let lo = energy_db
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min)
        .max(-60.0);
    let lo = if lo.is_finite() { lo.floor() } else { -60.0 };
    let mut p = Plot::new(
        "the music's level with its beats, downbeats and the cuts",
        200.0,
        (0.0, duration_s),
        (lo, 0.0),
    );
    p.curve(energy_db, "energy");
    p.ticks(beats, "beat", 0.12);
    p.ticks(downbeats, "downbeat", 0.25);
    for t in cuts {
        p.marker(&Marker {
            t: *t,
            class: "cut",
            label: "",
            low: false,
        });
    }
    p.finish(&format!("{lo:.0} dB"), "0 dB")
}

/// The mix's short-term loudness, its target and its integrated loudness.
pub fn loudness_chart(
    curve: &[(f64, f64)],
    target_lufs: f64,
    integrated: Option<f64>,
    duration_s: f64,
) -> String {
    let mut p = Plot::new(
        "the mix's short-term loudness against its target",
        200.0,
        (0.0, duration_s),
        (-40.0, 0.0),
    );
    p.level(
        target_lufs,
        "target",
        &format!("target {target_lufs:.1} LUFS"),
        true,
    );
    if let Some(i) = integrated {
        p.level(i, "integrated", &format!("integrated {i:.1} LUFS"), false);
    }
    p.curve(curve, "loudness");
    p.finish("-40 LUFS", "0 LUFS")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of an attribute of the `<rect>` elements, in document order.
    fn attr_values(svg: &str, name: &str) -> Vec<f64> {
        let key = format!(" {name}=\"");
        let rects: String = svg
            .split("<rect")
            .skip(1)
            .map(|r| &r[..r.find('>').unwrap()])
            .collect();
        rects
            .match_indices(&key)
            .map(|(i, _)| {
                let rest = &rects[i + key.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn ranges_sit_at_their_share_of_the_runtime() {
        let ranges = [
            Range {
                number: 1,
                source_in_s: 0.0,
                source_out_s: 10.0,
            },
            Range {
                number: 2,
                source_in_s: 50.0,
                source_out_s: 100.0,
            },
        ];
        let svg = intensity_chart(&[(0.5, 0.2), (99.5, 0.9)], 100.0, &ranges, &[]);
        assert_eq!(svg.matches(r#"<rect class="range""#).count(), 2, "{svg}");
        let xs = attr_values(&svg, "x");
        let widths = attr_values(&svg, "width");
        let span = W - LEFT - RIGHT;
        assert!((xs[0] - LEFT).abs() < 0.1, "{xs:?}");
        assert!((widths[0] - span * 0.1).abs() < 0.1, "{widths:?}");
        assert!((xs[1] - (LEFT + span * 0.5)).abs() < 0.1, "{xs:?}");
        assert!((widths[1] - span * 0.5).abs() < 0.1, "{widths:?}");
        assert!(svg.contains(r#"data-clip="2""#));
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains("http"), "inline SVG needs no namespace URL");
    }

    #[test]
    fn curves_break_at_values_that_are_not_finite() {
        let pts = [
            (0.0, -20.0),
            (1.0, -18.0),
            (2.0, f64::NEG_INFINITY),
            (3.0, -15.0),
            (4.0, -14.0),
            (5.0, f64::NAN),
        ];
        let svg = loudness_chart(&pts, -14.0, Some(-14.2), 5.0);
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // Louder is higher: -14 LUFS sits above -20 LUFS.
        let p = Plot::new("", 200.0, (0.0, 5.0), (-40.0, 0.0));
        assert!(p.py(-14.0) < p.py(-20.0));
        assert!(svg.contains("target -14.0 LUFS") && svg.contains("integrated -14.2 LUFS"));
    }

    #[test]
    fn beats_downbeats_and_cuts_are_each_drawn() {
        let svg = music_chart(
            &[(0.0, -30.0), (10.0, -10.0)],
            &[0.5, 1.0, 1.5, 2.0, 99.0],
            &[0.5, 2.5],
            &[3.0, 6.0, 9.0],
            10.0,
        );
        let beat_path = svg.split(r#"<path class="beat" d=""#).nth(1).unwrap();
        // The beat past the end of the trailer is not drawn.
        assert_eq!(
            beat_path[..beat_path.find('"').unwrap()]
                .matches('M')
                .count(),
            4
        );
        let down = svg.split(r#"<path class="downbeat" d=""#).nth(1).unwrap();
        assert_eq!(down[..down.find('"').unwrap()].matches('M').count(), 2);
        assert_eq!(svg.matches(r#"<g class="cut">"#).count(), 3);
    }

    #[test]
    fn labels_are_escaped() {
        let hostile = r#"</text><script>alert("x")</script>&"#;
        let svg = intensity_chart(
            &[],
            60.0,
            &[],
            &[Marker {
                t: 30.0,
                class: "anchor\" onclick=\"x",
                label: hostile,
                low: false,
            }],
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"));
        assert!(!svg.contains("\" onclick=\""), "{svg}");
    }
}
