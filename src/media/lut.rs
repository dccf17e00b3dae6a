//! A vibe's colour grade baked into a 3D LUT (.cube) for ffmpeg's `lut3d`.
//!
//! One table lookup per pixel replaces the `eq` + `colorbalance` chain; the
//! vignette is spatial, so it stays a filter. The maths mirrors those filters.

use crate::vibes::Grade;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The usual .cube resolution: 33 points per axis.
pub const CUBE_SIZE: usize = 33;

#[derive(Debug, thiserror::Error)]
pub enum LutError {
    #[error("{}: cannot write the LUT: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("LUT size {0} is outside 2..=256")]
    Size(usize),
}

impl From<LutError> for crate::error::Error {
    fn from(e: LutError) -> Self {
        match e {
            LutError::Io { path, source } => crate::error::Error::io(path, source),
            other => crate::error::Error::Internal(other.to_string()),
        }
    }
}

// Rec.709 luma weights: the grade splits a colour into luma and chroma so that
// contrast/brightness/gamma act on lightness (as `eq` does on Y) and saturation
// scales chroma only.
const KR: f64 = 0.2126;
const KG: f64 = 0.7152;
const KB: f64 = 0.0722;

/// The grade applied to one RGB colour in 0..1 (the LUT's sampling function).
pub fn apply(g: &Grade, rgb: [f64; 3]) -> [f64; 3] {
    let [r, gr, b] = rgb;
    let y = KR * r + KG * gr + KB * b;
    // eq: contrast around mid-grey, then brightness, then gamma.
    let mut y2 = (y - 0.5) * g.contrast + 0.5 + g.brightness;
    if g.gamma != 1.0 && g.gamma > 0.0 {
        y2 = y2.clamp(0.0, 1.0).powf(1.0 / g.gamma);
    }
    let mut out = [
        y2 + (r - y) * g.saturation,
        y2 + (gr - y) * g.saturation,
        y2 + (b - y) * g.saturation,
    ];
    if g.warmth != 0.0 || g.tint != 0.0 {
        // As the filter chain's colorbalance: warmth lifts red and lowers blue,
        // tint moves green, strongest in shadows/mids, fading in highlights.
        let weight = 1.0 - 0.3 * y2.clamp(0.0, 1.0);
        let w = g.warmth * 0.12 * weight;
        let t = -g.tint * 0.08 * weight;
        out[0] += w;
        out[1] += t;
        out[2] -= w;
    }
    out.map(|v| v.clamp(0.0, 1.0))
}

/// The .cube text of `grade` at `size` points per axis (red varies fastest).
pub fn cube_text(grade: &Grade, size: usize) -> Result<String, LutError> {
    if !(2..=256).contains(&size) {
        return Err(LutError::Size(size));
    }
    let mut s = String::with_capacity(size * size * size * 28 + 128);
    s.push_str("TITLE \"cinecut grade\"\n");
    let _ = writeln!(s, "LUT_3D_SIZE {size}");
    s.push_str("DOMAIN_MIN 0.0 0.0 0.0\nDOMAIN_MAX 1.0 1.0 1.0\n");
    let step = 1.0 / (size - 1) as f64;
    for bi in 0..size {
        for gi in 0..size {
            for ri in 0..size {
                let o = apply(
                    grade,
                    [ri as f64 * step, gi as f64 * step, bi as f64 * step],
                );
                let _ = writeln!(s, "{:.6} {:.6} {:.6}", o[0], o[1], o[2]);
            }
        }
    }
    Ok(s)
}

/// Writes the grade as a .cube file, atomically (temp file in the same folder,
/// then rename), so a render never reads a half-written table.
pub fn write_cube(grade: &Grade, size: usize, path: &Path) -> Result<(), LutError> {
    let text = cube_text(grade, size)?;
    let io = |source| LutError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    // tempfile creates 0600; a cache/work file is as readable as any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The filter text applying the LUT, with the path escaped for a filtergraph.
pub fn lut_filter(path: &Path) -> String {
    format!(
        "lut3d=file={}:interp=tetrahedral",
        crate::media::escape::filter_value(&path.to_string_lossy())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_cube(text: &str) -> (usize, Vec<[f64; 3]>) {
        let mut size = 0;
        let mut rows = Vec::new();
        for l in text.lines() {
            if let Some(v) = l.strip_prefix("LUT_3D_SIZE ") {
                size = v.trim().parse().unwrap();
            } else if l.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                assert_eq!(v.len(), 3, "row {l:?}");
                rows.push([v[0], v[1], v[2]]);
            }
        }
        (size, rows)
    }

    #[test]
    fn identity_grade_gives_identity_lut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id.cube");
        write_cube(&Grade::neutral(), CUBE_SIZE, &p).unwrap();
        let (size, rows) = parse_cube(&std::fs::read_to_string(&p).unwrap());
        assert_eq!(size, 33);
        assert_eq!(rows.len(), 33 * 33 * 33);
        let step = 1.0 / 32.0;
        for (i, row) in rows.iter().enumerate() {
            let want = [
                (i % 33) as f64 * step,
                ((i / 33) % 33) as f64 * step,
                (i / 1089) as f64 * step,
            ];
            for c in 0..3 {
                // 6 decimals in the file: the rounding is the only error.
                assert!((row[c] - want[c]).abs() <= 5e-7 + 1e-12, "{i}: {row:?}");
            }
        }
        // The exact maths, without the file's rounding.
        for v in [[0.1, 0.5, 0.9], [0.0, 1.0, 0.3], [0.5; 3]] {
            let o = apply(&Grade::neutral(), v);
            for c in 0..3 {
                assert!((o[c] - v[c]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn warm_grade_raises_red_lowers_blue_on_grey() {
        let g = Grade {
            warmth: 0.5,
            ..Grade::neutral()
        };
        let o = apply(&g, [0.5; 3]);
        assert!(o[0] > 0.52, "{o:?}");
        assert!(o[2] < 0.48, "{o:?}");
        assert!((o[1] - 0.5).abs() < 1e-9, "{o:?}");
        let cool = apply(
            &Grade {
                warmth: -0.5,
                ..Grade::neutral()
            },
            [0.5; 3],
        );
        assert!(cool[0] < 0.5 && cool[2] > 0.5);
    }

    #[test]
    fn contrast_saturation_brightness_gamma_move_the_right_way() {
        let n = Grade::neutral();
        let c = apply(&Grade { contrast: 1.3, ..n }, [0.8; 3]);
        assert!(c[0] > 0.8);
        let c = apply(&Grade { contrast: 1.3, ..n }, [0.2; 3]);
        assert!(c[0] < 0.2);
        let s = apply(
            &Grade {
                saturation: 0.0,
                ..n
            },
            [0.9, 0.2, 0.1],
        );
        assert!((s[0] - s[1]).abs() < 1e-9 && (s[1] - s[2]).abs() < 1e-9);
        let b = apply(
            &Grade {
                brightness: 0.1,
                ..n
            },
            [0.5; 3],
        );
        assert!((b[0] - 0.6).abs() < 1e-9);
        let gm = apply(&Grade { gamma: 1.5, ..n }, [0.25; 3]);
        assert!(gm[0] > 0.25);
        let t = apply(&Grade { tint: 0.5, ..n }, [0.5; 3]);
        assert!(t[1] < 0.5);
        assert!(cube_text(&n, 1).is_err());
    }

    #[test]
    fn filter_text_escapes_the_path() {
        let f = lut_filter(Path::new("/tmp/a'b:c/grade.cube"));
        assert!(f.starts_with("lut3d=file="));
        assert!(f.contains(r"\\\'") && f.contains(r"\\:"), "{f}");
    }
}
