//! Manual run: `cargo run --example check_with_subs -- TRAILER MANIFEST SUBS.srt`
//! checks a trailer with cues read straight from a subtitle file.
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let m = cinecut::manifest::Manifest::load(Path::new(&a[1]))?;
    let d = cinecut::subtitles::load_subtitles(
        Path::new(&a[2]),
        Some(m.film.fps),
        Some(m.film.duration_s),
    )?;
    let ctx = cinecut::check::load_context(Path::new(&a[1]));
    let r = cinecut::check::check(Path::new(&a[0]), &m, ctx.shots.as_deref(), Some(&d.cues))?;
    println!("{r}");
    Ok(())
}
