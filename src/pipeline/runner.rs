//! Runs one stage the way every stage is run: derive its fingerprint from its
//! row in the stage table and the options it declares, load its artifact when
//! that fingerprint matches (unless `--fresh`), else run it under a progress
//! line, save its artifact atomically and time it.

use super::{Context, Spec, Stage, StageReport, Status};
use crate::error::Result;
use crate::ui::Ui;
use crate::workdir::{self, Artifact};
use std::collections::HashMap;

pub struct Runner<'t> {
    ui: Ui,
    table: &'t [Spec],
    fresh: bool,
    /// The fingerprint of every stage seen so far, for the stages that read it.
    fingerprints: HashMap<&'static str, String>,
    /// What happened to each stage, in order.
    pub reports: Vec<StageReport>,
}

impl<'t> Runner<'t> {
    pub fn new(ui: &Ui, table: &'t [Spec], fresh: bool) -> Self {
        Runner {
            ui: *ui,
            table,
            fresh,
            fingerprints: HashMap::new(),
            reports: Vec::new(),
        }
    }

    /// The stage's row; every stage has one (a missing row is a bug in the table).
    pub fn spec(&self, name: &str) -> &'t Spec {
        self.table
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("internal: stage {name} is not in the stage table"))
    }

    /// A stage's fingerprint: its name and version, the options it reads,
    /// and the fingerprints of the stages it reads (so a change upstream
    /// reaches every stage downstream).
    pub fn fingerprint(&self, spec: &Spec, options: &[String]) -> String {
        let version = spec.version.to_string();
        let mut parts: Vec<&str> = vec!["stage", spec.name, &version];
        parts.extend(options.iter().map(String::as_str));
        for r in spec.reads {
            let fp = self
                .fingerprints
                .get(r)
                .map(String::as_str)
                .unwrap_or("not made in this run");
            parts.extend(["reads", r, fp]);
        }
        workdir::fingerprint(&parts)
    }

    /// Takes the fingerprint of a stage that this run does not run from its
    /// saved artifact (`cinecut render` on a manifest made by an earlier run).
    pub fn adopt_saved(&mut self, cx: &Context, name: &str) {
        let spec = self.spec(name);
        if let Some(fp) = workdir::saved_fingerprint(&cx.work.join(spec.artifact)) {
            self.fingerprints.insert(spec.name, fp);
        }
    }

    /// The stage's artifact: loaded when up to date, else made and saved.
    pub fn stage<S: Stage + ?Sized>(&mut self, stage: &S, cx: &Context) -> Result<S::Output> {
        let spec = self.spec(stage.name());
        let fp = self.fingerprint(spec, &stage.options(cx)?);
        self.fingerprints.insert(spec.name, fp.clone());
        let art = Artifact::new(&cx.work, spec.artifact, fp);
        if !self.fresh {
            if let Some(v) = stage.load(cx, &art)? {
                self.ui
                    .info(&format!("· {:<10} up to date (skipped)", spec.name));
                self.report(spec, Status::Skipped, 0.0);
                return Ok(v);
            }
        }
        super::fault::point(spec.name, "begin");
        let bar = self.ui.stage(spec.name, stage.progress_total(cx));
        let made = stage.run(cx, &bar).and_then(|(v, summary)| {
            super::fault::point(spec.name, "made");
            let v = stage.save(cx, &art, v)?;
            super::fault::point(spec.name, "saved");
            Ok((v, summary))
        });
        match made {
            Ok((v, summary)) => {
                let secs = bar.finish(&summary);
                self.report(spec, Status::Ran, secs);
                Ok(v)
            }
            Err(e) => {
                bar.abandon();
                Err(e)
            }
        }
    }

    fn report(&mut self, spec: &Spec, status: Status, seconds: f64) {
        self.reports.push(StageReport {
            name: spec.name.into(),
            status,
            seconds,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::STAGES;
    use super::*;

    /// Every stage's fingerprint for the given table, in table order, as the
    /// runner derives them when each stage declares the same options.
    fn fingerprints(table: &[Spec]) -> Vec<String> {
        let ui = Ui::new(true, false);
        let mut r = Runner::new(&ui, table, false);
        table
            .iter()
            .map(|s| {
                let fp = r.fingerprint(s, &["opts".to_string()]);
                r.fingerprints.insert(s.name, fp.clone());
                fp
            })
            .collect()
    }

    /// The stages that read `name`, directly or through others.
    fn downstream(name: &str) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for s in STAGES {
            if s.reads.iter().any(|r| *r == name || out.contains(r)) {
                out.push(s.name);
            }
        }
        out
    }

    #[test]
    fn a_version_bump_changes_that_stage_and_those_downstream_only() {
        let base = fingerprints(&STAGES);
        for (i, bumped) in STAGES.iter().enumerate() {
            let mut table = STAGES;
            table[i].version += 1;
            let fps = fingerprints(&table);
            let changed: Vec<&str> = STAGES
                .iter()
                .zip(base.iter().zip(&fps))
                .filter(|(_, (a, b))| a != b)
                .map(|(s, _)| s.name)
                .collect();
            let mut expected = vec![bumped.name];
            expected.extend(downstream(bumped.name));
            assert_eq!(changed, expected, "bumping {}", bumped.name);
        }
    }

    #[test]
    fn the_table_reads_only_earlier_stages() {
        for (i, s) in STAGES.iter().enumerate() {
            for r in s.reads {
                let j = STAGES.iter().position(|t| t.name == *r);
                assert!(matches!(j, Some(j) if j < i), "{} reads {r}", s.name);
            }
        }
        let names: Vec<_> = super::super::trailer_steps()
            .iter()
            .map(|s| s.name())
            .collect();
        let table: Vec<_> = STAGES.iter().map(|s| s.name).collect();
        assert_eq!(names, table, "the steps run in the table's order");
    }
}
