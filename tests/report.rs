//! `cinecut report` on a real trailer of a real film, the page loaded in the
//! real headless Chromium (Debian's `chromium`): no console message, no
//! network request, every clip of the manifest in the DOM, a screenshot
//! that is not blank; the contact sheet has one tile per clip, each the
//! film's frame of that clip. A moved manifest still gets a report that
//! says what it could not fill, and an output equal to an input is refused.

mod support;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::*;

/// A title no page may run: it closes the title and opens a script.
const HOSTILE_TITLE: &str = r#"</title><script>alert("pwned")</script> & 'Q'"#;

/// One real trailer for every test here (the TED clip with its subtitles, a
/// film file name full of HTML), with its report from `trailer --report`.
struct Made {
    dir: PathBuf,
    film: PathBuf,
    manifest: PathBuf,
    summary: serde_json::Value,
}

fn made() -> &'static Made {
    static MADE: OnceLock<Made> = OnceLock::new();
    MADE.get_or_init(|| {
        // Cargo's scratch folder for this test target, emptied first: the
        // trailer outlives each test but not the next run.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let film = dir.join(r#"ted <b>&"talk"'.mp4"#);
        std::fs::copy(fixture("ted/test.mp4"), &film).unwrap();
        let subs = fixture("ted/test.srt");
        let out = dir.join("ted_trailer.mp4");
        let o = cinecut(
            os![
                "--json",
                "trailer",
                film,
                "--subs",
                subs,
                "--vibe",
                "drama",
                "--length",
                "24",
                "--title",
                HOSTILE_TITLE,
                "-o",
                out,
                "--report"
            ],
            &dir,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let summary = json(&o);
        let manifest = PathBuf::from(summary["manifest"].as_str().unwrap());
        Made {
            dir,
            film,
            manifest,
            summary,
        }
    })
}

/// The manifest's clips as (source_in_s, source_out_s), in playing order.
fn clips(manifest: &Path) -> Vec<(f64, f64)> {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest).unwrap()).unwrap();
    m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|it| it["type"] == "clip")
        .map(|c| {
            (
                c["source_in_s"].as_f64().unwrap(),
                c["source_out_s"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// What Chromium made of a page: its DOM after the scripts ran, every
/// console message, and every URL the page asked the network for.
struct Loaded {
    dom: String,
    console: Vec<String>,
    requests: Vec<String>,
}

fn chromium() -> Command {
    let ok = Command::new("chromium").arg("--version").output();
    assert!(
        ok.is_ok_and(|o| o.status.success()),
        "the report tests need Debian's chromium: apt-get install chromium (./setup.sh test installs it)"
    );
    let mut c = Command::new("chromium");
    // Root in a container has no sandbox; the background services are off
    // so that the net log holds the page's requests only.
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
    ]);
    c
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// Loads `page` in headless Chromium with console logging and a net log.
fn load(page: &Path) -> Loaded {
    let tmp = tempfile::tempdir().unwrap();
    let net = tmp.path().join("net.json");
    let o = chromium()
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--log-net-log={}", net.display()))
        .arg("--dump-dom")
        .arg(file_url(page))
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "chromium: {}", stderr(&o));
    let console = stderr(&o)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Loaded {
        dom: String::from_utf8_lossy(&o.stdout).into_owned(),
        console,
        requests: page_requests(&net),
    }
}

/// The URLs the page itself asked for, from Chromium's net log (requests
/// made for the file:// page carry its isolation key; Chromium's own
/// background requests do not).
fn page_requests(net: &Path) -> Vec<String> {
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(net).unwrap())
        .unwrap_or_else(|e| panic!("{}: no net log ({e})", net.display()));
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect()
}

/// Gray pixels of a picture, decoded by ffmpeg, and its size.
fn gray(png: &Path) -> (Vec<u8>, usize, usize) {
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height", "-of", "csv=p=0"])
        .arg(png)
        .output()
        .unwrap();
    let dims = String::from_utf8_lossy(&probe.stdout);
    let mut wh = dims.trim().split(',').map(|v| v.parse::<usize>().unwrap());
    let (w, h) = (wh.next().unwrap(), wh.next().unwrap());
    let raw = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(png)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    assert_eq!(raw.stdout.len(), w * h, "{}", png.display());
    (raw.stdout, w, h)
}

fn stddev(px: &[u8]) -> f64 {
    let n = px.len().max(1) as f64;
    let mean = px.iter().map(|p| *p as f64).sum::<f64>() / n;
    (px.iter().map(|p| (*p as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn the_harness_sees_console_messages_and_network_requests() {
    // A page that logs an error and asks the network for an image: if the
    // harness missed these, the report's clean load would prove nothing.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("control")</script></body></html>"#,
    )
    .unwrap();
    let l = load(&page);
    assert!(
        l.console.iter().any(|c| c.contains("control")),
        "{:?}",
        l.console
    );
    assert_eq!(l.requests, ["http://127.0.0.1:9/x.png"]);
}

#[test]
fn the_report_of_a_real_trailer_loads_clean_and_shows_every_clip() {
    let m = made();
    let rep = &m.summary["report"];
    let html = PathBuf::from(rep["html"].as_str().expect("trailer --report wrote a page"));
    assert_eq!(html, m.dir.join("ted_trailer_report.html"));
    let text = std::fs::read_to_string(&html).unwrap();
    let lower = text.to_lowercase();
    assert!(!lower.contains("http://") && !lower.contains("https://"));
    // The hostile title and file name arrive as text, never as markup.
    assert!(!text.contains("<script>alert"), "unescaped title");
    assert!(text.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;pwned&quot;)"));
    assert!(text.contains("ted &lt;b&gt;&amp;&quot;talk&quot;&#39;.mp4"));
    assert_eq!(rep["gaps"], serde_json::json!([]), "{rep}");

    let l = load(&html);
    assert_eq!(l.console, Vec::<String>::new(), "console messages");
    assert_eq!(l.requests, Vec::<String>::new(), "network requests");
    assert_eq!(
        l.dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    let want = clips(&m.manifest);
    assert!(want.len() >= 4, "{want:?}");
    assert_eq!(rep["clips"].as_u64(), Some(want.len() as u64));
    let cards: Vec<&str> = l.dom.split(r#"<article class="clip""#).skip(1).collect();
    assert_eq!(cards.len(), want.len(), "one storyboard card per clip");
    for (card, (a, b)) in cards.iter().zip(&want) {
        assert!(
            card.contains(&format!(
                r#"data-source-in="{a:.3}" data-source-out="{b:.3}""#
            )),
            "card for {a}–{b}: {}",
            &card[..200.min(card.len())]
        );
        assert!(
            card.contains(r#"src="data:image/jpeg;base64,/9j/"#),
            "no thumbnail"
        );
    }
    // Each clip is a band on the intensity chart, and the check ran.
    for n in 1..=want.len() {
        assert!(l
            .dom
            .contains(&format!(r#"<rect class="range" data-clip="{n}""#)));
    }
    assert!(
        l.dom.contains(">PASS<") || l.dom.contains(">FAIL"),
        "no check verdict"
    );

    let tmp = tempfile::tempdir().unwrap();
    let shot = tmp.path().join("shot.png");
    let o = chromium()
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("p").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2400")
        .arg(file_url(&html))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (px, _, _) = gray(&shot);
    assert!(stddev(&px) > 20.0, "the screenshot is blank");
}

#[test]
fn the_contact_sheet_has_one_tile_per_clip_each_its_frame() {
    let m = made();
    let s = &m.summary["report"]["sheet"];
    let sheet = PathBuf::from(s["path"].as_str().expect("a contact sheet"));
    assert_eq!(sheet, m.dir.join("ted_trailer_report_sheet.png"));
    let want = clips(&m.manifest);
    let u = |k: &str| s[k].as_u64().unwrap() as usize;
    let (n, cols, rows, tw, th) = (
        u("tiles"),
        u("columns"),
        u("rows"),
        u("tile_width"),
        u("tile_height"),
    );
    assert_eq!(n, want.len());
    assert_eq!(rows, n.div_ceil(cols));
    let (px, w, h) = gray(&sheet);
    // ffmpeg's tile filter: a 4 px margin around, 4 px between tiles.
    assert_eq!(
        (w, h),
        (
            8 + cols * tw + (cols - 1) * 4,
            8 + rows * th + (rows - 1) * 4
        )
    );
    let tile = |i: usize| -> Vec<u8> {
        let (x0, y0) = (4 + (i % cols) * (tw + 4), 4 + (i / cols) * (th + 4));
        (y0..y0 + th)
            .flat_map(|y| px[y * w + x0..y * w + x0 + tw].to_vec())
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    for (i, (a, b)) in want.iter().enumerate() {
        // The film's frame at the clip's middle, cut out by ffmpeg itself.
        let frame = dir.path().join(format!("f{i}.png"));
        ffmpeg(&[
            "-ss".to_string(),
            format!("{:.3}", (a + b) / 2.0),
            "-i".into(),
            m.film.display().to_string(),
            "-frames:v".into(),
            "1".into(),
            "-vf".into(),
            format!("scale={tw}:{th}:flags=bicubic"),
            frame.display().to_string(),
        ]);
        let (f, _, _) = gray(&frame);
        let t = tile(i);
        assert!(stddev(&t) > 10.0, "tile {i} is blank");
        let mad = t
            .iter()
            .zip(&f)
            .map(|(p, q)| (*p as f64 - *q as f64).abs())
            .sum::<f64>()
            / t.len() as f64;
        assert!(
            mad < 8.0,
            "tile {i} is not the frame of clip {i} (MAD {mad:.1})"
        );
    }
    for i in n..cols * rows {
        assert!(stddev(&tile(i)) < 0.5, "padding tile {i} is not empty");
    }
}

#[test]
fn a_moved_manifest_gets_a_report_that_says_what_it_could_not_fill() {
    let m = made();
    let moved = tempfile::tempdir().unwrap();
    let manifest = moved.path().join("TRAILER_MANIFEST.json");
    std::fs::copy(&m.manifest, &manifest).unwrap();
    let before = sha256(&manifest);
    let o = cinecut(os!["--json", "report", manifest], moved.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let w = json(&o);
    assert_eq!(
        PathBuf::from(w["html"].as_str().unwrap()),
        moved.path().join("TRAILER_REPORT.html")
    );
    let gaps: Vec<(String, String)> = w["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["section"].as_str().unwrap().into(),
                g["why"].as_str().unwrap().into(),
            )
        })
        .collect();
    let sections: Vec<&str> = gaps.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(sections, ["intensity", "loudness", "check"], "{gaps:?}");
    assert!(gaps[0].1.contains("analysis.json is not there"), "{gaps:?}");
    assert!(gaps[1].1.contains("render.json"), "{gaps:?}");
    let text = std::fs::read_to_string(moved.path().join("TRAILER_REPORT.html")).unwrap();
    assert_eq!(
        text.matches(r#"class="gap">Not shown: "#).count(),
        3,
        "intensity, loudness, check"
    );
    // The film and the music are still where the manifest says: the
    // storyboard is whole and the music's level is drawn.
    assert_eq!(text.matches(r#"<polyline class="energy""#).count(), 1);
    assert_eq!(
        text.matches(r#"src="data:image/jpeg;base64,"#).count(),
        clips(&manifest).len()
    );
    assert!(moved.path().join("TRAILER_REPORT_sheet.png").is_file());
    assert_eq!(sha256(&manifest), before, "the report changed the manifest");
    let l = load(&moved.path().join("TRAILER_REPORT.html"));
    assert_eq!(l.console, Vec::<String>::new());

    // A film that is gone: no thumbnails and no sheet, and the page says so.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    v["film"]["path"] = "/nonexistent/film.mp4".into();
    let edited = moved.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let out = moved.path().join("edited.html");
    let o = cinecut(os!["--json", "report", edited, "-o", out], moved.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let w = json(&o);
    assert!(w["sheet"].is_null(), "{w}");
    assert_eq!(w["gaps"][0]["section"], "thumbnails", "{w}");
    assert!(w["gaps"][0]["why"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/film.mp4 is missing"));
    assert!(!moved.path().join("edited_sheet.png").exists());
}

#[test]
fn an_output_equal_to_an_input_is_refused_and_nothing_is_written() {
    let m = made();
    let before = sha256(&m.manifest);
    let film_before = sha256(&m.film);
    for target in [
        m.manifest.clone(),
        m.film.clone(),
        m.dir.join("ted_trailer.mp4"),
    ] {
        let o = cinecut(os!["report", m.manifest, "-o", target], &m.dir);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("the report would overwrite its input")
                && err.contains(&target.display().to_string()),
            "{err}"
        );
    }
    // The sheet beside the page is an output too: a page whose sheet
    // (`clip_sheet.png` beside `clip.html`) would be the film is refused.
    let sneaky_film = m.dir.join("clip_sheet.png");
    std::fs::copy(&m.film, &sneaky_film).unwrap();
    let v_path = m.dir.join("sneaky.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&m.manifest).unwrap()).unwrap();
    v["film"]["path"] = sneaky_film.display().to_string().into();
    std::fs::write(&v_path, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = cinecut(os!["report", v_path, "-o", m.dir.join("clip.html")], &m.dir);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!m.dir.join("clip.html").exists());
    assert_eq!(sha256(&m.manifest), before);
    assert_eq!(sha256(&m.film), film_before);
    // A missing manifest names itself.
    let o = cinecut(os!["report", m.dir.join("nope.json")], &m.dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nope.json: no such manifest"),
        "{}",
        stderr(&o)
    );
}
