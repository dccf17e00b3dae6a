//! The report page: one HTML file with its style, its charts (inline SVG),
//! its thumbnails (inline base64 JPEG) and a few lines of script inside, so
//! it opens anywhere without a network. Every text that reaches the page —
//! titles, dialogue, reasons, file names — goes through [`esc`].

use super::data::{ClipView, Filled, ReportData};
use super::sheet::SheetLayout;
use super::svg::{self, Marker, Range};
use crate::check::rules::{Rule, Verdict, RULES};
use crate::check::CheckReport;
use crate::manifest::Item;
use base64::Engine;
use std::fmt::{self, Write};

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not text.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as `m:ss.s` (`h:mm:ss.s` past an hour).
pub fn clock(t: f64) -> String {
    if !t.is_finite() {
        return "?".into();
    }
    let (sign, t) = if t < 0.0 { ("-", -t) } else { ("", t) };
    let tenths = (t * 10.0).round() as u64;
    let (h, m, s) = (tenths / 36_000, tenths / 600 % 60, tenths % 600);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{:02}.{}", s / 10, s % 10)
    } else {
        format!("{sign}{m}:{:02}.{}", s / 10, s % 10)
    }
}

const STYLE: &str = r#"
:root{--bg:#111317;--fg:#e8e6e3;--dim:#9aa0a6;--card:#1b1e24;--line:#2c313a;--accent:#f5a623}
*{box-sizing:border-box}body{margin:0;padding:24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif}
h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 8px;font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--dim)}.meta b{color:var(--fg);font-weight:600}
.gaps{background:#3a2a12;border:1px solid #7a5a22;padding:8px 12px;border-radius:6px;margin:12px 0}
.gap{color:#f0c674;font-style:italic}
.chart{width:100%;height:auto;background:var(--card);border-radius:6px;display:block}
.chart text{fill:var(--dim);font-size:11px}.axis line{stroke:var(--line)}
.intensity,.energy,.loudness{fill:none;stroke:var(--accent);stroke-width:1.6}
.range{fill:#4a90e2;opacity:.35}.range.hot{opacity:.85}
.anchor line{stroke:#7ed321;stroke-dasharray:4 3}.anchor text{fill:#7ed321}
.tp line{stroke:#50616f;stroke-dasharray:2 4}.tp text{fill:#6c7a86}
.spoiler line{stroke:#e74c3c;stroke-width:2}.spoiler text{fill:#e74c3c}
.beat{stroke:#6c7a86}.downbeat{stroke:#cfd8dc;stroke-width:1.5}.cut line{stroke:#4a90e2;opacity:.7}
.target line{stroke:#7ed321;stroke-dasharray:5 4}.target text{fill:#7ed321}
.integrated line{stroke:#e8e6e3;stroke-dasharray:2 3}.integrated text{fill:#e8e6e3}
.board{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}
.clip,.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px}
.clip.hot{border-color:var(--accent)}.clip img{width:100%;height:auto;display:block;border-radius:4px}
.clip .n{font-weight:700;color:var(--accent)}.tags span{display:inline-block;background:#2a2f38;border-radius:3px;padding:0 5px;margin:2px 3px 0 0;font-size:12px}
.clip blockquote{margin:6px 0;padding-left:8px;border-left:3px solid var(--accent);font-style:italic}
.why,.desc{color:var(--dim);font-size:12px}.card{display:flex;align-items:center;justify-content:center;min-height:80px;font-weight:700;letter-spacing:.08em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
.ok{color:#7ed321}.fail{color:#e74c3c;font-weight:700}.unk{color:var(--dim)}pre{white-space:pre-wrap;margin:0;font-size:12px;color:var(--dim)}
"#;

/// Hovering a clip lights its range on the intensity chart, and back.
const SCRIPT: &str = r#"
document.querySelectorAll('[data-clip]').forEach(function(el){
  var n=el.getAttribute('data-clip');
  var all=function(){return document.querySelectorAll('[data-clip="'+n+'"]');};
  el.addEventListener('mouseenter',function(){all().forEach(function(e){e.classList.add('hot');});});
  el.addEventListener('mouseleave',function(){all().forEach(function(e){e.classList.remove('hot');});});
});
"#;

/// The whole page.
pub fn page(d: &ReportData, sheet: Option<&SheetLayout>) -> String {
    let m = &d.manifest;
    let mut body = String::new();
    header(&mut body, d, sheet);
    section(&mut body, "Intensity of the film", intensity(d));
    section(&mut body, "Storyboard", Ok(storyboard(d)));
    section(&mut body, "Music", music(d));
    section(&mut body, "Mix loudness", loudness(d));
    section(
        &mut body,
        "Check",
        d.check.as_ref().map(check).map_err(Clone::clone),
    );
    section(&mut body, "Notes", Ok(notes(d)));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} — CineCut report</title><style>{STYLE}</style></head>\
         <body>{body}<script>{SCRIPT}</script></body></html>\n",
        esc(&m.film.title)
    )
}

/// A section: its heading, then its content or why it is empty.
fn section(out: &mut String, title: &str, content: Filled<String>) {
    let _ = write!(out, "<section><h2>{}</h2>", esc(title));
    match content {
        Ok(c) => out.push_str(&c),
        Err(why) => {
            let _ = write!(out, r#"<p class="gap">Not shown: {}</p>"#, esc(&why));
        }
    }
    out.push_str("</section>");
}

fn header(out: &mut String, d: &ReportData, sheet: Option<&SheetLayout>) {
    let m = &d.manifest;
    let path = |p: &Filled<std::path::PathBuf>| match p {
        Ok(p) => esc(&p.display().to_string()),
        Err(why) => format!(r#"<span class="gap">{}</span>"#, esc(why)),
    };
    let _ = write!(
        out,
        r#"<h1>{}</h1><p class="meta"><b>{}</b> trailer · <b>{}</b> clips · <b>{}</b> long (asked {}) · film <b>{}</b> ({}, {}×{}, {:.3} fps)<br>manifest {} · trailer {}{}<br>made by CineCut {}</p>"#,
        esc(&m.film.title),
        esc(&m.vibe),
        d.clips.len(),
        clock(m.total_duration_s()),
        clock(m.target_length_s),
        path(&d.film),
        clock(m.film.duration_s),
        m.film.width,
        m.film.height,
        m.film.fps,
        esc(&d.manifest_path.display().to_string()),
        path(&d.trailer),
        sheet.map_or(String::new(), |s| format!(
            " · contact sheet {}",
            esc(&s.file_name)
        )),
        esc(&m.cinecut_version)
    );
    let gaps = d.gaps();
    if !gaps.is_empty() {
        out.push_str(r#"<div class="gaps"><b>Sections this report could not fill</b><ul>"#);
        for g in gaps {
            let _ = write!(out, "<li><b>{}</b>: {}</li>", esc(&g.section), esc(&g.why));
        }
        out.push_str("</ul></div>");
    }
}

/// The intensity chart with the anchors, the spoiler line and the ranges.
fn intensity(d: &ReportData) -> Filled<String> {
    let i = d.intensity.as_ref().map_err(Clone::clone)?;
    let s = &d.manifest.structure;
    let tps: Vec<(String, f64)> = i
        .turning_points
        .iter()
        .flatten()
        .enumerate()
        .map(|(k, t)| (format!("TP{}", k + 1), *t))
        .collect();
    let mut markers: Vec<Marker> = tps
        .iter()
        .map(|(l, t)| Marker {
            t: *t,
            class: "tp",
            label: l,
            low: true,
        })
        .collect();
    for (label, t) in [
        ("BEGIN", s.begin_t),
        ("ESCALATION", s.escalation_t),
        ("CLIMAX", s.climax_t),
    ] {
        markers.push(Marker {
            t,
            class: "anchor",
            label,
            low: false,
        });
    }
    markers.push(Marker {
        t: d.manifest.spoiler_line_s,
        class: "spoiler",
        label: "spoiler line",
        low: false,
    });
    let ranges: Vec<Range> = d
        .clips
        .iter()
        .map(|c| Range {
            number: c.number,
            source_in_s: c.clip.source_in_s,
            source_out_s: c.clip.source_out_s,
        })
        .collect();
    Ok(format!(
        "{}<p class=\"meta\">{} shots · anchors from <b>{}</b>: {}</p>",
        svg::intensity_chart(&i.points, i.runtime_s, &ranges, &markers),
        i.shots,
        esc(&s.source),
        esc(&s.reasoning)
    ))
}

/// Every item of the timeline in order: a card per clip, a tile per card.
fn storyboard(d: &ReportData) -> String {
    let mut out = String::from(r#"<div class="board">"#);
    let mut clips = d.clips.iter().peekable();
    for (i, it) in d.manifest.timeline.iter().enumerate() {
        match it {
            Item::Clip(_) => {
                if let Some(c) = clips.next_if(|c| c.item == i) {
                    clip_card(&mut out, c);
                }
            }
            Item::Card(card) => {
                let _ = write!(
                    out,
                    r#"<div class="card" title="{} at {}">{}</div>"#,
                    card.act.label(),
                    clock(d.starts[i]),
                    esc(&card.text)
                );
            }
        }
    }
    out.push_str("</div>");
    out.push_str(&voice_over(d));
    out
}

fn clip_card(out: &mut String, c: &ClipView) {
    let k = &c.clip;
    let _ = write!(
        out,
        r#"<article class="clip" id="clip-{n}" data-clip="{n}" data-source-in="{:.3}" data-source-out="{:.3}">"#,
        k.source_in_s,
        k.source_out_s,
        n = c.number
    );
    match &c.thumbnail {
        Ok(jpeg) => {
            let _ = write!(
                out,
                r#"<img alt="clip {} at {}" src="data:image/jpeg;base64,{}">"#,
                c.number,
                clock((k.source_in_s + k.source_out_s) / 2.0),
                base64::engine::general_purpose::STANDARD.encode(jpeg)
            );
        }
        Err(why) => {
            let _ = write!(out, r#"<p class="gap">no thumbnail: {}</p>"#, esc(why));
        }
    }
    let opt = |s: &Option<String>| s.as_deref().map(esc).unwrap_or_else(|| "—".into());
    let _ = write!(
        out,
        r#"<div><span class="n">{}</span> · film {} – {} · trailer {} (+{:.2} s)</div><div class="tags"><span>{}</span><span>zone {}</span><span>{}</span><span>score {:.2}</span><span>{} {:.2} s</span></div>"#,
        c.number,
        clock(k.source_in_s),
        clock(k.source_out_s),
        clock(c.at_s),
        c.len_s,
        k.act.label(),
        opt(&k.zone),
        opt(&k.beat_type),
        k.score,
        esc(k.transition.name()),
        k.transition_s
    );
    if let Some(line) = &k.dialogue {
        let _ = write!(out, "<blockquote>{}</blockquote>", esc(line));
    }
    if !k.reasoning.is_empty() {
        let _ = write!(out, r#"<div class="why">{}</div>"#, esc(&k.reasoning));
    }
    if let Some((text, source)) = &c.description {
        let _ = write!(
            out,
            r#"<div class="desc">{} <i>({})</i></div>"#,
            esc(text),
            esc(source)
        );
    }
    out.push_str("</article>");
}

fn voice_over(d: &ReportData) -> String {
    let vo = &d.manifest.voice_over;
    if vo.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h3>Voice-over</h3><table><tr><th>trailer</th><th>film</th><th>speaker</th><th>line</th></tr>");
    for v in vo {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td></tr>",
            clock(v.at_s),
            clock(v.source_in_s),
            clock(v.source_out_s),
            esc(v.speaker.as_deref().unwrap_or("—")),
            esc(&v.text)
        );
    }
    out.push_str("</table>");
    out
}

/// The music's level with the beats, downbeats and the cuts, and the track.
fn music(d: &ReportData) -> Filled<String> {
    let mv = d.music.as_ref().map_err(Clone::clone)?;
    let m = &d.manifest;
    let mut out = String::new();
    let cuts: Vec<f64> = d.starts.iter().skip(1).copied().collect();
    match &mv.energy_db {
        Ok(e) => out.push_str(&svg::music_chart(
            e,
            &mv.beats,
            &mv.downbeats,
            &cuts,
            m.total_duration_s(),
        )),
        Err(why) => {
            let _ = write!(out, r#"<p class="gap">No level curve: {}</p>"#, esc(why));
        }
    }
    if let Some(mu) = &m.music {
        let _ = write!(
            out,
            r#"<p class="meta"><b>{}</b>{} · {} · {:.1} BPM · track {} – {} enters at {} · gain {:.1} dB<br>licence {}{}<br>{}</p>"#,
            esc(&mu.title),
            mu.artist
                .as_deref()
                .map(|a| format!(" by {}", esc(a)))
                .unwrap_or_default(),
            esc(&mu.source),
            mv.bpm,
            clock(mu.in_s),
            clock(mu.out_s),
            clock(mu.at_s),
            mu.gain_db,
            esc(mu.licence.as_deref().unwrap_or("—")),
            // Shown as text, never as a link: the page fetches nothing.
            mu.licence_url
                .as_deref()
                .map(|u| format!(" ({})", esc(u)))
                .unwrap_or_default(),
            esc(&mu.reason)
        );
    }
    for s in &d.music_skipped {
        let _ = write!(out, r#"<p class="why">skipped: {}</p>"#, esc(s));
    }
    Ok(out)
}

fn loudness(d: &ReportData) -> Filled<String> {
    let l = d.loudness.as_ref().map_err(Clone::clone)?;
    let target = d.manifest.render.loudness_lufs;
    let tp = l
        .true_peak_db
        .map(|p| {
            format!(
                " · true peak <b>{p:.1} dBTP</b> (limit {:.1})",
                d.manifest.render.true_peak_db
            )
        })
        .unwrap_or_default();
    Ok(format!(
        r#"{}<p class="meta">integrated <b>{}</b> · target <b>{target:.1} LUFS</b>{tp}</p>"#,
        svg::loudness_chart(
            &l.curve,
            target,
            l.integrated_lufs,
            d.manifest.total_duration_s()
        ),
        l.integrated_lufs
            .map(|i| format!("{i:.1} LUFS"))
            .unwrap_or_else(|| "—".into())
    ))
}

/// A rule's own lines of `cinecut check`'s text report.
struct RuleLines<'a>(&'a dyn Rule, &'a CheckReport);

impl fmt::Display for RuleLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(self.1, f)
    }
}

/// Every rule's verdict, as `cinecut check` decides it.
fn check(r: &CheckReport) -> String {
    let fails = r.hard_failures();
    let mut out = format!(
        r#"<p>{} — <span class="{}">{}</span></p><table><tr><th></th><th>rule</th><th>what it measures</th><th>found</th></tr>"#,
        esc(&r.trailer.display().to_string()),
        if fails.is_empty() { "ok" } else { "fail" },
        if fails.is_empty() {
            "PASS".to_string()
        } else {
            esc(&format!("FAIL: {}", fails.join("; ")))
        }
    );
    for rule in RULES {
        let (class, mark) = match rule.verdict(r) {
            Verdict::Holds => ("ok", "ok"),
            Verdict::Broken(_) => ("fail", "FAIL"),
            Verdict::Unchecked => ("unk", "—"),
        };
        let _ = write!(
            out,
            r#"<tr><td class="{class}">{mark}</td><td>{}{}</td><td>{}</td><td><pre>{}</pre></td></tr>"#,
            esc(rule.name()),
            if rule.hard() {
                " <small>(hard)</small>"
            } else {
                ""
            },
            esc(rule.measures()),
            esc(RuleLines(*rule, r).to_string().trim_end())
        );
    }
    out.push_str("</table>");
    out
}

fn notes(d: &ReportData) -> String {
    let mut out = String::from("<ul>");
    for n in &d.manifest.notes {
        let _ = write!(out, "<li>{}</li>", esc(n));
    }
    out.push_str("</ul>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_open_a_tag_or_leave_an_attribute() {
        let hostile = "</title><script>alert('x')</script>\"onload=\"x\"&amp;\u{0}\u{1b}[31m";
        let e = esc(hostile);
        assert_eq!(
            e,
            "&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;onload=&quot;x&quot;&amp;amp;\u{FFFD}\u{FFFD}[31m"
        );
        for bad in ['<', '>', '"', '\'', '\u{0}'] {
            assert!(!e.contains(bad), "{bad:?} in {e}");
        }
        // Text that is already safe is kept as it is, accents and all.
        assert_eq!(esc("Amélie — 2:30\nend"), "Amélie — 2:30\nend");
    }

    #[test]
    fn clock_formats_minutes_hours_and_oddities() {
        assert_eq!(clock(0.0), "0:00.0");
        assert_eq!(clock(62.34), "1:02.3");
        assert_eq!(clock(3725.06), "1:02:05.1");
        assert_eq!(clock(59.96), "1:00.0");
        assert_eq!(clock(-1.5), "-0:01.5");
        assert_eq!(clock(f64::NAN), "?");
    }
}
