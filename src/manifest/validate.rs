//! The manifest's validation: every field a renderer relies on, section by
//! section (schema, render settings, timeline items, music, voice-over,
//! sound effects); the first bad field found is named in the error.

use super::{Card, Clip, Item, Manifest, MANIFEST_SCHEMA, MAX_SOUND_TAIL_S};

/// A manifest field a renderer cannot use, and why: its text is the message
/// users see after the manifest's path (`timeline[3].source_out_s: 912.000
/// is past the film's end (900.000 s)`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    /// The field's path in the JSON (`render.fps`, `timeline[3].source_out_s`).
    pub field: String,
    pub problem: String,
}

type Checked = Result<(), InvalidField>;

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Checked {
    Err(InvalidField {
        field: field.into(),
        problem: problem.into(),
    })
}

impl Manifest {
    /// Checks every field a renderer relies on; the error names the field.
    pub fn validate(&self) -> Checked {
        self.check_schema()?;
        self.check_render()?;
        self.check_timeline()?;
        self.check_music()?;
        // Overlays must lie inside the trailer as the renderer makes it.
        let total = self.total_duration_s();
        self.check_voice_over(total)?;
        self.check_sfx(total)
    }

    fn check_schema(&self) -> Checked {
        if self.schema_version != MANIFEST_SCHEMA {
            return invalid(
                "schema_version",
                format!(
                    "{} is not supported (this cinecut reads {MANIFEST_SCHEMA})",
                    self.schema_version
                ),
            );
        }
        Ok(())
    }

    fn check_render(&self) -> Checked {
        let r = &self.render;
        if !(r.width >= 16 && r.height >= 16 && r.width % 2 == 0 && r.height % 2 == 0) {
            return invalid("render.width/height", "must be even and at least 16");
        }
        if !(r.fps > 1.0 && r.fps <= 120.0) {
            return invalid("render.fps", format!("{} is outside 1..120", r.fps));
        }
        if r.crf > 51 {
            return invalid("render.crf", "must be 0..51");
        }
        if !(-40.0..=-5.0).contains(&r.loudness_lufs) {
            return invalid("render.loudness_lufs", "must be within -40..-5");
        }
        if r.true_peak_db > 0.0 {
            return invalid("render.true_peak_db", "must be at most 0");
        }
        Ok(())
    }

    /// Each item in order: its own fields, then its transition.
    fn check_timeline(&self) -> Checked {
        if self.timeline.is_empty() {
            return invalid("timeline", "is empty");
        }
        for (i, it) in self.timeline.iter().enumerate() {
            let at = |f: &str| format!("timeline[{i}].{f}");
            match it {
                Item::Clip(c) => check_clip(c, self.film.duration_s, at)?,
                Item::Card(c) => check_card(c, at)?,
            }
            let (_, d) = it.transition();
            if !(0.0..=it.duration_s() / 2.0 + 1e-9).contains(&d) {
                return invalid(
                    at("transition_s"),
                    "must be between 0 and half the item's length",
                );
            }
        }
        Ok(())
    }

    fn check_music(&self) -> Checked {
        if let Some(m) = &self.music {
            if !(m.out_s > m.in_s && m.in_s >= 0.0) {
                return invalid("music.out_s", "must be after music.in_s");
            }
        }
        Ok(())
    }

    fn check_voice_over(&self, total: f64) -> Checked {
        let film_end = self.film.duration_s;
        for (i, v) in self.voice_over.iter().enumerate() {
            if !(v.source_out_s > v.source_in_s
                && v.source_in_s >= 0.0
                && v.source_out_s <= film_end + 1e-3)
            {
                return invalid(
                    format!("voice_over[{i}].source_out_s"),
                    "the line must lie inside the film",
                );
            }
            if !(v.at_s >= 0.0 && v.at_s < total) {
                return invalid(
                    format!("voice_over[{i}].at_s"),
                    format!("must lie inside the trailer (0..{total:.2} s)"),
                );
            }
        }
        Ok(())
    }

    fn check_sfx(&self, total: f64) -> Checked {
        for (i, x) in self.sfx.iter().enumerate() {
            if !(x.at_s >= 0.0 && x.at_s < total) {
                return invalid(
                    format!("sfx[{i}].at_s"),
                    format!("must lie inside the trailer (0..{total:.2} s)"),
                );
            }
        }
        Ok(())
    }
}

/// A clip's source span (inside the film, in after out), its sound tail,
/// its decode start and its film gain.
fn check_clip(c: &Clip, film_end: f64, at: impl Fn(&str) -> String) -> Checked {
    if !(c.source_in_s >= 0.0 && c.source_in_s.is_finite()) {
        return invalid(at("source_in_s"), "must be >= 0");
    }
    if c.source_out_s.partial_cmp(&c.source_in_s) != Some(std::cmp::Ordering::Greater) {
        return invalid(at("source_out_s"), "must be after source_in_s");
    }
    if c.source_out_s > film_end + 1e-3 {
        return invalid(
            at("source_out_s"),
            format!(
                "{:.3} is past the film's end ({film_end:.3} s)",
                c.source_out_s
            ),
        );
    }
    if !(0.0..=MAX_SOUND_TAIL_S).contains(&c.sound_tail_s) {
        return invalid(
            at("sound_tail_s"),
            format!("must be within 0..{MAX_SOUND_TAIL_S} s"),
        );
    }
    if let Some(k) = c.decode_from_s {
        if !(k >= 0.0 && k <= c.source_in_s) {
            return invalid(at("decode_from_s"), "must be within 0..source_in_s");
        }
    }
    if !(-60.0..=12.0).contains(&c.film_gain_db) {
        return invalid(at("film_gain_db"), "must be within -60..12 dB");
    }
    Ok(())
}

fn check_card(c: &Card, at: impl Fn(&str) -> String) -> Checked {
    if !(c.duration_s > 0.0 && c.duration_s <= 30.0) {
        return invalid(at("duration_s"), "must be within 0..30 s");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::test_manifest as manifest;

    fn problem(m: &Manifest) -> String {
        m.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_good_manifest_passes() {
        assert_eq!(manifest().validate(), Ok(()));
    }

    #[test]
    fn each_section_names_its_bad_field() {
        let mut m = manifest();
        m.schema_version = 7;
        assert_eq!(
            problem(&m),
            "schema_version: 7 is not supported (this cinecut reads 1)"
        );
        let mut m = manifest();
        m.render.fps = 0.5;
        assert_eq!(problem(&m), "render.fps: 0.5 is outside 1..120");
        let mut m = manifest();
        if let Item::Clip(c) = &mut m.timeline[0] {
            c.source_out_s = 61.0;
        }
        assert_eq!(
            problem(&m),
            "timeline[0].source_out_s: 61.000 is past the film's end (60.000 s)"
        );
        let mut m = manifest();
        if let Item::Card(c) = &mut m.timeline[1] {
            c.transition_s = 1.5;
        }
        assert_eq!(
            problem(&m),
            "timeline[1].transition_s: must be between 0 and half the item's length"
        );
        let mut m = manifest();
        m.timeline.clear();
        assert_eq!(problem(&m), "timeline: is empty");
        let mut m = manifest();
        m.sfx.push(crate::manifest::SfxCue {
            kind: "whoosh".into(),
            path: "w.wav".into(),
            at_s: 4.0,
            duration_s: 1.0,
            gain_db: 0.0,
        });
        assert_eq!(
            problem(&m),
            "sfx[0].at_s: must lie inside the trailer (0..4.00 s)"
        );
    }

    #[test]
    fn the_first_bad_field_is_named() {
        // Render settings come before the timeline.
        let mut m = manifest();
        m.render.crf = 60;
        m.timeline.clear();
        assert_eq!(problem(&m), "render.crf: must be 0..51");
    }
}
