//! Manual runs: `cargo run --example finish_demo -- VIBE OUT_DIR` writes the
//! vibe's grade LUT and every sound effect into OUT_DIR and prints the filters.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut a = std::env::args().skip(1);
    let vibe = cinecut::vibes::get(&a.next().unwrap_or_else(|| "action".into()))?;
    let dir = PathBuf::from(a.next().unwrap_or_else(|| "finish_demo".into()));
    std::fs::create_dir_all(&dir)?;
    let cube = dir.join(format!("{}.cube", vibe.name));
    cinecut::render::lut::write_cube(&vibe.grade, cinecut::render::lut::CUBE_SIZE, &cube)?;
    println!("lut    {}", cinecut::render::lut::lut_filter(&cube));
    println!(
        "filter {}",
        cinecut::render::grade_chains(&vibe.grade, 1280, 720, 24.0, "in", "out").join(";")
    );
    for t in cinecut::vibes::Transition::ALL {
        for b in [false, true] {
            let spec = cinecut::render::sfx::sfx_for(t, b);
            let p = cinecut::render::sfx::render_sfx(&spec, &dir)?;
            println!(
                "sfx    {:<16} act_boundary={b:<5} cut at {:.2} s  {}",
                t.name(),
                spec.cut_offset_s(),
                p.display()
            );
        }
    }
    Ok(())
}
