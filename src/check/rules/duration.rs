//! Duration: the file's video as long as the manifest's timeline, to a frame.

use super::{headline, Evidence, Rule, Verdict};
use crate::check::CheckReport;
use std::fmt;

pub struct Duration;

impl Rule for Duration {
    fn name(&self) -> &'static str {
        "duration"
    }
    fn measures(&self) -> &'static str {
        "the video stream's length against the manifest's, in frames"
    }
    fn hard(&self) -> bool {
        true
    }

    fn evaluate(&self, ev: &Evidence, r: &mut CheckReport) {
        r.duration_s = ev.media.duration_s;
        r.expected_duration_s = ev.expected_duration_s;
        r.duration_off_frames = (ev.media.duration_s - ev.expected_duration_s).abs() * ev.fps;
    }

    fn verdict(&self, r: &CheckReport) -> Verdict {
        Verdict::of(r.duration_off_frames <= 1.0 + 1e-6, || {
            format!(
                "duration {:.3} s is {:.1} frames off the manifest's {:.3} s",
                r.duration_s, r.duration_off_frames, r.expected_duration_s
            )
        })
    }

    fn write(&self, r: &CheckReport, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = format!(
            "{:.3} s (manifest {:.3} s, {:.1} frames off)",
            r.duration_s, r.expected_duration_s, r.duration_off_frames
        );
        headline(f, self, &self.verdict(r), found)
    }
}
