//! Fuzzes the subtitle reader: any bytes must give Ok or Err, never a panic, and
//! an Ok must keep the invariants the pipeline relies on (`Dialogue::check`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use cinecut::subtitles::parse_bytes;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the caller's options so that the fps and film-end
    // paths are fuzzed too.
    let (opts, body) = match data.split_first() {
        Some((o, b)) => (*o, b),
        None => (0, data),
    };
    let fps = (opts & 1 == 1).then_some(f64::from(opts >> 1) * 0.5);
    let film = (opts & 2 == 2).then_some(f64::from(opts) * 3.0);
    if let Ok(d) = parse_bytes(body, "fuzz", fps, film) {
        if let Err(e) = d.check() {
            panic!("invariant broken: {e}");
        }
    }
});
