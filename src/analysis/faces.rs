//! Face presence with SeetaFace's frontal detector (the `rustface` crate; its
//! model file ships inside the crate's package on crates.io), run on small
//! grey frames sampled during the main pass ([`Sampling`]). Without the
//! model file the analysis falls back to a skin-chroma proxy and says so.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use super::decode::{SideSinkFactory, SideSpec};
use super::{AnalyseOptions, AnalysisError};

/// File name of the SeetaFace frontal model (BSD-2, from rustface 0.1.7's package).
pub const MODEL_FILE: &str = "seeta_fd_frontal_v1.0.bin";

/// Where the model is looked for: `$CINECUT_MODELS_DIR/seetaface/` (default
/// `~/.local/share/cinecut/models/seetaface/`).
pub fn default_model_path() -> Option<PathBuf> {
    let dir = std::env::var_os("CINECUT_MODELS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/cinecut/models"))
        })?;
    Some(dir.join("seetaface").join(MODEL_FILE))
}

/// One face sample: time and the area of the largest face as a fraction of the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceSample {
    pub t: f64,
    pub faces: usize,
    pub largest: f32,
}

/// A loaded detector; not `Send`, so build it on the thread that uses it.
pub struct FaceDetector {
    det: Box<dyn rustface::Detector>,
}

impl FaceDetector {
    pub fn load(model: &Path) -> Result<Self, AnalysisError> {
        let m =
            rustface::load_model(&model.to_string_lossy()).map_err(|e| AnalysisError::BadFile {
                path: model.to_path_buf(),
                problem: format!("cannot load the face model: {e}"),
            })?;
        let mut det = rustface::create_detector_with_model(m);
        // 20 px is the model's smallest window: at 320 px wide that is a face
        // of ~1/9 of the frame height (medium shots and closer), which is what
        // makes a shot a "face" shot; smaller faces would also cost more time.
        det.set_min_face_size(20);
        det.set_score_thresh(2.0);
        det.set_pyramid_scale_factor(0.8);
        det.set_slide_window_step(4, 4);
        Ok(FaceDetector { det })
    }

    pub fn detect(&mut self, t: f64, gray: &[u8], w: u32, h: u32) -> FaceSample {
        if w < 20 || h < 20 || gray.len() < (w * h) as usize {
            return FaceSample {
                t,
                faces: 0,
                largest: 0.0,
            };
        }
        let faces = self.det.detect(&rustface::ImageData::new(gray, w, h));
        let area = (w * h) as f32;
        let largest = faces
            .iter()
            .map(|f| (f.bbox().width() * f.bbox().height()) as f32 / area)
            .fold(0f32, f32::max);
        FaceSample {
            t,
            faces: faces.len(),
            largest,
        }
    }
}

/// How `faces` was measured, as [`super::FilmAnalysis::faces_source`]
/// says: with the detector's samples, or the skin-chroma proxy.
pub fn source_name(samples: Option<&[FaceSample]>) -> &'static str {
    if samples.is_some() {
        "seetaface"
    } else {
        "skin_proxy"
    }
}

/// The face samples of one analysis: the detector's model, the size of the
/// grey side pictures it is given, and the samples the main pass's
/// segments send back (each tagged with the segment that decoded it).
pub(super) struct Sampling {
    /// The model file to use; `None`: the skin-colour proxy.
    model: Option<PathBuf>,
    width: u32,
    height: u32,
}

impl Sampling {
    /// The model the options name (else the one in the models folder, when
    /// there), and the side pictures' size for a `width`×`height` film. A
    /// model the options name that is not there is an error.
    pub(super) fn plan(
        opts: &AnalyseOptions,
        width: u32,
        height: u32,
    ) -> Result<Self, AnalysisError> {
        let model = opts
            .face_model
            .clone()
            .or_else(default_model_path)
            .filter(|p| opts.faces && p.is_file());
        let fw = (opts.face_width.clamp(64, 1280).min(width) / 2) * 2;
        let fh = ((fw as f64 * height as f64 / width as f64 / 2.0).round() as u32 * 2).max(2);
        if let Some(m) = &opts.face_model {
            if !m.is_file() {
                return Err(AnalysisError::BadFile {
                    path: m.clone(),
                    problem: "face model file not found".into(),
                });
            }
        }
        Ok(Sampling {
            model,
            width: fw,
            height: fh,
        })
    }

    /// The side picture the main pass decodes for the detector, one every
    /// `every_s` seconds (at least 0.1); none without a model.
    pub(super) fn side_spec(&self, every_s: f64) -> Option<SideSpec> {
        self.model.as_ref().map(|_| SideSpec {
            width: self.width,
            height: self.height,
            every_s: every_s.max(0.1),
        })
    }

    /// One sink per segment of the main pass (none without a model): each
    /// loads its own detector on the side-picture thread (a detector is not
    /// `Send`) and sends its samples to the receiver returned.
    pub(super) fn sinks(
        &self,
        segments: usize,
    ) -> (Vec<Option<SideSinkFactory>>, Receiver<Tagged>) {
        let (tx, rx) = std::sync::mpsc::channel::<Tagged>();
        let (fw, fh) = (self.width, self.height);
        let sinks = (0..segments)
            .map(|seg| {
                self.model.as_ref().map(|m| {
                    let m = m.clone();
                    let tx = tx.clone();
                    let f: SideSinkFactory = Box::new(move || {
                        let mut det = FaceDetector::load(&m).ok();
                        Box::new(move |t: f64, gray: &[u8]| {
                            if let Some(d) = det.as_mut() {
                                let _ = tx.send((seg, d.detect(t, gray, fw, fh)));
                            }
                        })
                    });
                    f
                })
            })
            .collect();
        (sinks, rx)
    }

    /// The samples of the film once the pass is done, in time order: each
    /// from the segment whose frames were kept there (the first before
    /// `join`, the second from it). `None`: no model, or no sample came
    /// (then the skin-colour proxy stands in).
    pub(super) fn collect(
        &self,
        rx: Receiver<Tagged>,
        join: Option<f64>,
    ) -> Option<Vec<FaceSample>> {
        let mut samples: Vec<FaceSample> = rx
            .try_iter()
            .filter(|(seg, f)| match join {
                None => *seg == 0,
                Some(j) => (*seg == 0 && f.t < j) || (*seg == 1 && f.t >= j),
            })
            .map(|(_, f)| f)
            .collect();
        if self.model.is_none() || samples.is_empty() {
            return None;
        }
        // Side frames arrive in decoding order per segment.
        samples.sort_by(|a, b| a.t.total_cmp(&b.t));
        Some(samples)
    }
}

/// A face sample and the index of the segment that decoded its frame.
pub(super) type Tagged = (usize, FaceSample);
