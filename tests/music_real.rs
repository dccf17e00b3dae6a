//! Real-media tests of the music module: the four Muldjord songs with known
//! beat grids, the built-in bed judged by our own tracker and ffmpeg ebur128,
//! and the file/folder sources on real files.

mod support;

use cinecut::music::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::media::loudness_between;

fn song(name: &str) -> PathBuf {
    support::fixture(&format!("music/{name}/mix.ogg"))
}

/// F-measure with a ±70 ms window and one-to-one matching, ignoring the
/// first 5 s as mir_eval does.
fn f_measure(est: &[f64], truth: &[f64]) -> f64 {
    let est: Vec<f64> = est.iter().cloned().filter(|&t| t >= 5.0).collect();
    let truth: Vec<f64> = truth.iter().cloned().filter(|&t| t >= 5.0).collect();
    let mut used = vec![false; est.len()];
    let mut hits = 0usize;
    for &t in &truth {
        let best = est
            .iter()
            .enumerate()
            .filter(|(i, e)| !used[*i] && (*e - t).abs() <= 0.07)
            .min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()));
        if let Some((i, _)) = best {
            used[i] = true;
            hits += 1;
        }
    }
    if hits == 0 {
        return 0.0;
    }
    let (p, r) = (
        hits as f64 / est.len() as f64,
        hits as f64 / truth.len() as f64,
    );
    2.0 * p * r / (p + r)
}

#[test]
fn muldjord_songs_tempo_and_beats_match_the_truth() {
    for (name, bpm) in [
        ("Armygeddon", 170.0),
        ("Chaos_God", 170.0),
        ("Internal_Degeneration", 190.0),
        ("Mutilated_Mime", 180.0),
    ] {
        let mono = decode_mono(&song(name), ANALYSIS_SR).unwrap();
        let g = track_beats(&mono, ANALYSIS_SR, None);
        assert!(
            (g.bpm / bpm - 1.0).abs() < 0.02,
            "{name}: {:.2} BPM, truth {bpm}",
            g.bpm
        );
        let truth: Vec<f64> = (0..)
            .map(|k| k as f64 * 60.0 / bpm)
            .take_while(|&t| t <= g.duration_s)
            .collect();
        let f = f_measure(&g.beats, &truth);
        assert!(f >= 0.93, "{name}: F = {f:.3}");
        assert_eq!(g.meter, 4);
        // Downbeats are every 4th beat and sections tile the song.
        assert!(g.downbeats.len() * 4 >= g.beats.len() - 4);
        assert_eq!(g.sections.first().map(|s| s.start_s), Some(0.0));
        assert!((g.sections.last().unwrap().end_s - g.duration_s).abs() < 1e-6);
        assert!(g
            .sections
            .iter()
            .any(|s| s.energy == 1.0 && s.start_s == g.peak_s));
        // A vibe prior an octave below must not pull it to half tempo.
        let g2 = track_beats(&mono, ANALYSIS_SR, Some(bpm / 2.0));
        assert!(
            (g2.bpm / bpm - 1.0).abs() < 0.02,
            "{name} with prior: {:.2}",
            g2.bpm
        );
    }
}

#[test]
fn built_in_bed_sounds_like_music_at_the_vibe_tempo() {
    let dir = tempfile::tempdir().unwrap();
    for (vibe, bpm) in [
        ("action", 140.0),
        ("horror", 84.0),
        ("comedy", 112.0),
        ("drama", 96.0),
    ] {
        let mut params = BedParams::for_vibe(vibe, bpm);
        params.peak_at_s = Some(40.0);
        let layout = bed_layout(&params, 60.0);
        let samples = synthesize_bed(&params, 60.0, 48_000);
        let path = dir.path().join(format!("{vibe}.wav"));
        write_wav_atomic(&path, &samples, 48_000, 2).unwrap();
        // ffmpeg reads it as 48 kHz stereo.
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=sample_rate,channels",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "48000,2");
        // Our tracker hears the intended tempo and bar grid.
        let mono = decode_mono(&path, ANALYSIS_SR).unwrap();
        let g = track_beats(&mono, ANALYSIS_SR, None);
        assert!(
            (g.bpm / bpm - 1.0).abs() < 0.02,
            "{vibe}: bed tracked at {:.2} BPM",
            g.bpm
        );
        let bar = layout.bar_s;
        let on_bar = g
            .downbeats
            .iter()
            .filter(|&&d| ((d / bar).round() * bar - d).abs() < 0.07)
            .count();
        assert!(
            on_bar * 10 >= g.downbeats.len() * 8,
            "{vibe}: {on_bar}/{} downbeats on the bar grid",
            g.downbeats.len()
        );
        let peak_s = layout.peak_bar as f64 * bar;
        assert!(
            (g.peak_s - peak_s).abs() <= 4.0 * bar + 0.1,
            "{vibe}: peak {:.1} vs {peak_s:.1}",
            g.peak_s
        );
        // Loud enough to be a bed, and the peak clearly louder than the intro.
        let whole = loudness_between(&path, 0.0, 60.0);
        assert!((-24.0..=-8.0).contains(&whole), "{vibe}: {whole} LUFS");
        let intro = loudness_between(&path, 0.0, 4.0 * bar);
        let peak = loudness_between(&path, peak_s, peak_s + 4.0 * bar);
        assert!(
            peak - intro >= 4.0,
            "{vibe}: intro {intro} LUFS, peak {peak} LUFS"
        );
    }
}

#[test]
fn decode_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.ogg");
    let e = decode_mono(&missing, ANALYSIS_SR).unwrap_err().to_string();
    assert!(
        e.contains("nope.ogg") && e.contains("does not exist"),
        "{e}"
    );
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "this is not audio").unwrap();
    let e = decode_mono(&text, ANALYSIS_SR).unwrap_err().to_string();
    assert!(
        e.contains("notes.mp3") && e.contains("not a decodable audio file"),
        "{e}"
    );
}

fn request(dir: &Path) -> MusicRequest {
    let mut r = MusicRequest::new("action", vec!["rock".into(), "epic".into()], 170.0, 30.0);
    r.jamendo_client_id = None;
    r.cache_dir = dir.join("cache");
    r.work_dir = dir.join("work");
    r
}

#[test]
fn file_source_wins_and_a_bad_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path());
    req.file = Some(song("Chaos_God"));
    let (t, skipped) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "file");
    assert!(skipped.is_empty());
    let bad = dir.path().join("cover.ogg");
    std::fs::write(&bad, [0u8; 2000]).unwrap();
    req.file = Some(bad);
    let e = choose_music(&req, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("cover.ogg"), "{e}");
}

#[test]
fn folder_source_picks_by_tag_and_tempo_and_skips_junk() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("tracks");
    std::fs::create_dir_all(&music).unwrap();
    // A slow piano-like bed and the 170 BPM metal song with a matching tag.
    let mut calm = BedParams::for_vibe("drama", 70.0);
    calm.peak_at_s = Some(10.0);
    write_wav_atomic(
        &music.join("calm.wav"),
        &synthesize_bed(&calm, 20.0, 48_000),
        48_000,
        2,
    )
    .unwrap();
    std::fs::copy(song("Armygeddon"), music.join("epic_rock_anthem.ogg")).unwrap();
    std::fs::write(music.join("broken.mp3"), "garbage").unwrap();
    std::fs::write(music.join("cover.jpg"), "jpeg").unwrap();
    let mut req = request(dir.path());
    req.dir = Some(music.clone());
    let (t, _) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t.source, "folder");
    assert!(t.path.ends_with("epic_rock_anthem.ogg"), "{t:?}");
    assert!(t.reason.contains("tag match"), "{}", t.reason);
    // A folder that does not exist is the user's error, said plainly.
    req.dir = Some(dir.path().join("missing"));
    let e = choose_music(&req, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn offline_without_anything_gets_the_built_in_bed_and_fits_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path());
    req.length_s = 40.0;
    req.tempo_bpm = 120.0;
    req.peak_at_s = Some(24.0);
    let mut log = vec![];
    let (t, skipped) = choose_music(&req, &mut |m| log.push(m.to_string())).unwrap();
    assert_eq!(t.source, "synth");
    assert!(t.path.starts_with(dir.path().join("work")));
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(!log.is_empty());
    let mono = decode_mono(&t.path, ANALYSIS_SR).unwrap();
    let g = track_beats(&mono, ANALYSIS_SR, Some(120.0));
    let fit = fit_music(&g, 40.0, 24.0);
    assert!(g
        .downbeats
        .iter()
        .any(|&d| (d - fit.music_in_s).abs() < 1e-9));
    assert!(
        (fit.peak_trailer_s - 24.0).abs() <= 2.1,
        "{fit:?} peak {}",
        g.peak_s
    );
    assert_ne!(fit.ending, "fade");
    // Second call reuses the bed file.
    let before = std::fs::metadata(&t.path).unwrap().modified().unwrap();
    let (t2, _) = choose_music(&req, &mut |_| {}).unwrap();
    assert_eq!(t2.path, t.path);
    assert_eq!(
        std::fs::metadata(&t2.path).unwrap().modified().unwrap(),
        before
    );
}
