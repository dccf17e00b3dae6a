//! Describes each keyframe as {visual_content, mood, action, setting}: by a vision
//! LLM when one is configured, else from the measured signals (phrased by the
//! text LLM when there is one, by templates otherwise). Answers are cached in
//! msgpack so a rerun never asks a server about a keyframe it already described.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::llm::{LlmClient, LlmError, Message};

/// Bump when SceneDescription or the cache layout changes: old caches are rebuilt.
pub const CACHE_SCHEMA_VERSION: u32 = 1;
const CACHE_MAGIC: &str = "cinecut-scene-descriptions";
/// Confidence given to each kind of description (the score's vision signal).
const CONF_VISION: f32 = 0.8;
const CONF_TEXT_LLM: f32 = 0.4;
const CONF_MEASURED: f32 = 0.3;
/// After this many transient failures in a row the vision server is taken to
/// be down and the rest of the film is described from measurements.
const BREAKER: usize = 3;
/// New entries between two cache saves, so an interrupted run keeps its work.
const SAVE_EVERY: usize = 16;
const FIELD_MAX: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("cannot write the scene cache {path}: {source}")]
    CacheWrite {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the scene cache {path}: {detail}")]
    CacheEncode { path: PathBuf, detail: String },
}

/// What the analysis measured around a keyframe.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeasuredSignals {
    /// Mean luma, 0..1.
    pub brightness: f32,
    /// Mean saturation, 0..1.
    pub saturation: f32,
    /// Motion, 0..1 relative to the film.
    pub motion: f32,
    /// Faces detected in the frame.
    pub faces: u32,
    /// Loudness around the keyframe, 0..1 relative to the film.
    pub loudness: f32,
    /// Name of the dominant colour ("blue", "orange", ...).
    pub dominant_colour: String,
    /// Dialogue spoken around the keyframe (may be empty).
    pub dialogue_around: String,
}

#[derive(Debug, Clone)]
pub struct Keyframe {
    pub shot_index: usize,
    pub time_s: f64,
    /// The keyframe as a JPEG.
    pub path: PathBuf,
    pub measured: MeasuredSignals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneDescription {
    pub visual_content: String,
    pub mood: String,
    pub action: String,
    pub setting: String,
    /// "vision:<model>", "text-llm:<model>" or "measured".
    pub source: String,
    pub confidence: f32,
    /// Why a configured model was not used for this keyframe.
    #[serde(default)]
    pub fallback_reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    magic: String,
    schema_version: u32,
    film_fingerprint: String,
    entries: BTreeMap<String, SceneDescription>,
}

#[derive(Deserialize)]
struct CacheHeader {
    magic: String,
    schema_version: u32,
    film_fingerprint: String,
}

/// The answer's schema. The length cap keeps four fields inside max_tokens:
/// small models otherwise repeat a phrase until the answer is cut off.
fn scene_schema(max_len: u32) -> serde_json::Value {
    let s = serde_json::json!({ "type": "string", "minLength": 3, "maxLength": max_len });
    serde_json::json!({
        "type": "object",
        "properties": { "action": s, "mood": s, "setting": s, "visual_content": s },
        "required": ["action", "mood", "setting", "visual_content"],
        "additionalProperties": false
    })
}

/// Describe every keyframe, in order. Vision first (at most `parallel`
/// requests at once), then text-LLM phrasing, then templates; every result
/// records its source. Cached answers are reused; `cache_path` is rewritten
/// atomically. `progress(done, total)` runs on the calling thread.
pub fn describe_scenes(
    kfs: &[Keyframe],
    vision: Option<&LlmClient>,
    text_llm: Option<&LlmClient>,
    parallel: usize,
    cache_path: &Path,
    film_fingerprint: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<SceneDescription>, DescribeError> {
    // The describer is part of the key: adding --vision later re-describes.
    let describer = match (vision, text_llm) {
        (Some(v), _) => format!("vision:{}", v.label()),
        (None, Some(t)) => format!("text-llm:{}", t.label()),
        (None, None) => "measured".to_string(),
    };
    let mut cache = CacheWriter::load(cache_path, film_fingerprint);
    let keys: Vec<String> = kfs.iter().map(|k| cache_key(k, &describer)).collect();
    let mut out: Vec<Option<SceneDescription>> =
        keys.iter().map(|k| cache.entries.get(k).cloned()).collect();
    let todo: Vec<usize> = (0..kfs.len()).filter(|&i| out[i].is_none()).collect();
    let total = kfs.len();
    let mut done = total - todo.len();
    progress(done, total);
    if todo.is_empty() {
        return Ok(out.into_iter().flatten().collect());
    }

    let next = AtomicUsize::new(0);
    let breaker = VisionBreaker::default();
    let workers = parallel.max(1).min(todo.len());
    let (tx, rx) = mpsc::channel::<(usize, SceneDescription, bool)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, todo, breaker) = (&next, &todo, &breaker);
            scope.spawn(move || {
                while let Some(&i) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let (d, cacheable) = describe_one(&kfs[i], vision, text_llm, breaker);
                    let _ = tx.send((i, d, cacheable));
                }
            });
        }
        drop(tx);
        for (i, d, cacheable) in rx {
            if cacheable {
                cache.insert(keys[i].clone(), d.clone());
            }
            out[i] = Some(d);
            done += 1;
            progress(done, total);
            cache.save_if_due();
        }
    });
    cache.finish()?;
    // Every index was either cached or sent by a worker; a worker that
    // panicked would leave a gap, which is described from measurements.
    Ok(out
        .into_iter()
        .zip(kfs)
        .map(|(d, kf)| d.unwrap_or_else(|| describe_measured(&kf.measured)))
        .collect())
}

/// One keyframe: by vision unless the breaker is open, else by the text LLM
/// or the templates, with the reason vision or the text LLM was not used.
/// Also whether the result may be cached: not when its cause may pass.
fn describe_one(
    kf: &Keyframe,
    vision: Option<&LlmClient>,
    text_llm: Option<&LlmClient>,
    breaker: &VisionBreaker,
) -> (SceneDescription, bool) {
    let mut failure = None;
    if let Some(v) = vision {
        match breaker.describe(v, kf) {
            Ok(d) => return (d, true),
            Err(f) => failure = f,
        }
    }
    // A hiccup must not stick: a rerun asks again.
    let mut cacheable = failure.as_ref().is_none_or(|f| !f.transient);
    let mut reason = failure.map(|f| f.reason);
    let mut d = match text_llm.map(|t| describe_with_text_llm(t, kf)) {
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            cacheable &= !e.is_transient();
            let d = describe_measured(&kf.measured);
            let r = format!("text LLM failed: {e}");
            reason = Some(match reason.take() {
                Some(prev) => format!("{prev}; {r}"),
                None => r,
            });
            d
        }
        None => describe_measured(&kf.measured),
    };
    d.fallback_reason = reason;
    (d, cacheable)
}

/// Why a keyframe was not described by vision, and whether that may pass.
#[derive(Clone)]
struct VisionFailure {
    reason: String,
    transient: bool,
}

/// Shared by the workers: switches vision off for the rest of the film after
/// a permanent failure (no image support) or [`BREAKER`] transient ones in a
/// row, and remembers the first reason it was switched off for.
#[derive(Default)]
struct VisionBreaker {
    off: AtomicBool,
    off_because: Mutex<Option<VisionFailure>>,
    transient_streak: AtomicUsize,
}

impl VisionBreaker {
    /// The vision description, or why there is none (`None`: switched off,
    /// its reason not yet recorded by the worker that tripped it).
    fn describe(
        &self,
        client: &LlmClient,
        kf: &Keyframe,
    ) -> Result<SceneDescription, Option<VisionFailure>> {
        if self.off.load(Ordering::SeqCst) {
            return Err(self.off_because.lock().ok().and_then(|r| r.clone()));
        }
        match describe_with_vision(client, kf) {
            Ok(d) => {
                self.transient_streak.store(0, Ordering::SeqCst);
                Ok(d)
            }
            Err(e) => Err(Some(self.record_failure(&e))),
        }
    }

    fn record_failure(&self, e: &LlmError) -> VisionFailure {
        let permanent = matches!(e, LlmError::ImagesUnsupported { .. });
        let streak = if e.is_transient() {
            self.transient_streak.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            self.transient_streak.store(0, Ordering::SeqCst);
            0
        };
        let failure = VisionFailure {
            reason: format!("vision failed: {e}"),
            transient: e.is_transient(),
        };
        if permanent || streak >= BREAKER {
            self.off.store(true, Ordering::SeqCst);
            if let Ok(mut r) = self.off_because.lock() {
                r.get_or_insert_with(|| failure.clone());
            }
        }
        failure
    }
}

/// The cache being filled: saved every [`SAVE_EVERY`] new entries, so an
/// interrupted run keeps its work, and once more at the end.
struct CacheWriter<'a> {
    path: &'a Path,
    fingerprint: &'a str,
    entries: BTreeMap<String, SceneDescription>,
    unsaved: usize,
    /// The first failed save; later saves are not tried.
    error: Option<DescribeError>,
}

impl<'a> CacheWriter<'a> {
    fn load(path: &'a Path, fingerprint: &'a str) -> Self {
        CacheWriter {
            path,
            fingerprint,
            entries: load_cache(path, fingerprint),
            unsaved: 0,
            error: None,
        }
    }

    fn insert(&mut self, key: String, d: SceneDescription) {
        self.entries.insert(key, d);
        self.unsaved += 1;
    }

    fn save_if_due(&mut self) {
        if self.unsaved >= SAVE_EVERY && self.error.is_none() {
            match save_cache(self.path, self.fingerprint, &self.entries) {
                Ok(()) => self.unsaved = 0,
                Err(e) => self.error = Some(e),
            }
        }
    }

    fn finish(self) -> Result<(), DescribeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.unsaved > 0 {
            save_cache(self.path, self.fingerprint, &self.entries)?;
        }
        Ok(())
    }
}

/// Keyframe identity: shot, time (ms) and a hash of the image bytes, plus the
/// describer, so a re-extracted or changed frame is described again.
fn cache_key(kf: &Keyframe, describer: &str) -> String {
    let hash = match std::fs::read(&kf.path) {
        Ok(bytes) => {
            let h = Sha256::digest(&bytes);
            h.iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }
        Err(_) => "no-image".to_string(),
    };
    format!(
        "{}|{}|{}|{}|{}",
        kf.shot_index,
        (kf.time_s * 1000.0).round() as i64,
        kf.path.display(),
        hash,
        describer
    )
}

/// The cached entries, or nothing when the file is missing, corrupt, of
/// another schema version or of another film. Never an error: a bad cache
/// only costs a rebuild.
fn load_cache(path: &Path, fingerprint: &str) -> BTreeMap<String, SceneDescription> {
    let Ok(bytes) = std::fs::read(path) else {
        return BTreeMap::new();
    };
    let header: CacheHeader = match rmp_serde::from_slice(&bytes) {
        Ok(h) => h,
        Err(_) => return BTreeMap::new(),
    };
    if header.magic != CACHE_MAGIC
        || header.schema_version != CACHE_SCHEMA_VERSION
        || header.film_fingerprint != fingerprint
    {
        return BTreeMap::new();
    }
    match rmp_serde::from_slice::<CacheFile>(&bytes) {
        Ok(c) => c.entries,
        Err(_) => BTreeMap::new(),
    }
}

/// Atomic write: temp file in the same folder, fsync, rename.
fn save_cache(
    path: &Path,
    fingerprint: &str,
    entries: &BTreeMap<String, SceneDescription>,
) -> Result<(), DescribeError> {
    let file = CacheFile {
        magic: CACHE_MAGIC.into(),
        schema_version: CACHE_SCHEMA_VERSION,
        film_fingerprint: fingerprint.into(),
        entries: entries.clone(),
    };
    let bytes = rmp_serde::to_vec_named(&file).map_err(|e| DescribeError::CacheEncode {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let werr = |source| DescribeError::CacheWrite {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(werr)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(werr)?;
    tmp.write_all(&bytes).map_err(werr)?;
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    Ok(())
}

fn describe_with_vision(client: &LlmClient, kf: &Keyframe) -> Result<SceneDescription, LlmError> {
    let jpeg = std::fs::read(&kf.path).map_err(|e| {
        LlmError::Invalid(format!("cannot read keyframe {}: {e}", kf.path.display()))
    })?;
    let question = "Describe this film frame for a trailer editor. Answer with JSON: \
        visual_content (what is shown), mood (one or two words), action (what happens), \
        setting (where).";
    let answer = client.chat_json_full(
        &[Message::user_with_jpeg(question, &jpeg)],
        &scene_schema(200),
        400,
    )?;
    let model = answer.model.clone().unwrap_or_else(|| client.label());
    from_answer(&answer.value, format!("vision:{model}"), CONF_VISION)
}

fn describe_with_text_llm(client: &LlmClient, kf: &Keyframe) -> Result<SceneDescription, LlmError> {
    let facts = measured_facts(&kf.measured);
    let prompt = format!(
        "A film shot was measured as follows:\n{facts}\n\nDescribe the shot for a trailer \
         editor as JSON with four short fields:\n\
         visual_content: what the frame probably shows, from the light, colour and faces;\n\
         mood: one adjective such as tense, calm, joyful, sombre or eerie;\n\
         action: what is happening, from the motion, sound and dialogue;\n\
         setting: the likely place and time of day.\n\
         Use only what the measurements and the dialogue suggest."
    );
    let answer = client.chat_json_full(&[Message::user(prompt)], &scene_schema(100), 300)?;
    let model = answer.model.clone().unwrap_or_else(|| client.label());
    from_answer(&answer.value, format!("text-llm:{model}"), CONF_TEXT_LLM)
}

/// Fields of a model's answer, each non-empty and of sane length.
fn from_answer(
    v: &serde_json::Value,
    source: String,
    confidence: f32,
) -> Result<SceneDescription, LlmError> {
    let field = |k: &str| -> Result<String, LlmError> {
        let s = v
            .get(k)
            .and_then(|x| x.as_str())
            .map(str::trim)
            .unwrap_or("");
        if s.is_empty() {
            return Err(LlmError::Invalid(format!("description lacks {k}: {v}")));
        }
        Ok(crate::llm::shorten(s, FIELD_MAX))
    };
    Ok(SceneDescription {
        visual_content: field("visual_content")?,
        mood: field("mood")?,
        action: field("action")?,
        setting: field("setting")?,
        source,
        confidence,
        fallback_reason: None,
    })
}

fn measured_facts(m: &MeasuredSignals) -> String {
    let mut s = format!(
        "brightness {:.2} (0 dark, 1 bright); saturation {:.2}; dominant colour {}; \
         motion {:.2} (0 still, 1 fast); faces {}; loudness {:.2}",
        m.brightness,
        m.saturation,
        if m.dominant_colour.is_empty() {
            "unknown"
        } else {
            &m.dominant_colour
        },
        m.motion,
        m.faces,
        m.loudness
    );
    if !m.dialogue_around.trim().is_empty() {
        s.push_str(&format!(
            "\ndialogue: \"{}\"",
            crate::llm::shorten(m.dialogue_around.trim(), 300)
        ));
    }
    s
}

fn level(x: f32, words: [&'static str; 3]) -> &'static str {
    if x < 0.33 {
        words[0]
    } else if x < 0.66 {
        words[1]
    } else {
        words[2]
    }
}

/// A description from measurements alone, phrased by templates.
pub fn describe_measured(m: &MeasuredSignals) -> SceneDescription {
    let light = level(m.brightness, ["dark", "dimly lit", "bright"]);
    let colour = level(m.saturation, ["muted", "natural", "vivid"]);
    let hue = if m.dominant_colour.trim().is_empty() {
        String::new()
    } else {
        format!(", mostly {}", m.dominant_colour.trim())
    };
    let people = match m.faces {
        0 => "no visible faces".to_string(),
        1 => "one face".to_string(),
        2 => "two faces".to_string(),
        n => format!("a group of {n} faces"),
    };
    let visual_content = format!("A {light}, {colour} frame{hue} with {people}");
    let movement = level(
        m.motion,
        ["a still moment", "steady movement", "fast action"],
    );
    let sound = level(m.loudness, ["quiet", "moderate sound", "loud"]);
    let dialogue = m.dialogue_around.trim();
    let action = if dialogue.is_empty() {
        format!("{movement}, {sound}")
    } else {
        format!(
            "{movement}, {sound}; someone says \"{}\"",
            crate::llm::shorten(dialogue, 120)
        )
    };
    let energy = (m.motion + m.loudness) / 2.0;
    let mood = match (m.brightness < 0.33, energy >= 0.6, energy < 0.3) {
        (true, true, _) => "tense",
        (true, false, true) => "sombre",
        (true, false, false) => "mysterious",
        (false, true, _) => "energetic",
        (false, false, true) => "calm",
        (false, false, false) => "lively",
    };
    let setting = match (m.brightness >= 0.6, m.saturation >= 0.5) {
        (true, true) => "a colourful daylight scene",
        (true, false) => "a bright scene",
        (false, true) => "a richly coloured interior or dusk",
        (false, false) => "a low-light scene",
    };
    SceneDescription {
        visual_content,
        mood: mood.into(),
        action,
        setting: setting.into(),
        source: "measured".into(),
        confidence: CONF_MEASURED,
        fallback_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_measurements() {
        let dark = describe_measured(&MeasuredSignals {
            brightness: 0.1,
            motion: 0.9,
            loudness: 0.9,
            faces: 2,
            dialogue_around: "Get down!".into(),
            ..Default::default()
        });
        assert_eq!(dark.mood, "tense");
        assert!(dark.visual_content.contains("dark") && dark.visual_content.contains("two faces"));
        assert!(dark.action.contains("Get down!"));
        let calm = describe_measured(&MeasuredSignals {
            brightness: 0.8,
            saturation: 0.8,
            dominant_colour: "green".into(),
            ..Default::default()
        });
        assert_eq!(calm.mood, "calm");
        assert!(calm.visual_content.contains("mostly green"));
        assert_eq!(calm.source, "measured");
    }

    #[test]
    fn answer_fields_are_required() {
        let ok = serde_json::json!({"visual_content":"a", "mood":"b", "action":"c", "setting":"d"});
        assert!(from_answer(&ok, "vision:x".into(), 0.8).is_ok());
        let missing =
            serde_json::json!({"visual_content":"a", "mood":" ", "action":"c", "setting":"d"});
        assert!(from_answer(&missing, "vision:x".into(), 0.8).is_err());
    }

    #[test]
    fn cache_roundtrip_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scenes.msgpack");
        let mut m = BTreeMap::new();
        m.insert(
            "k".to_string(),
            describe_measured(&MeasuredSignals::default()),
        );
        save_cache(&p, "film-a", &m).unwrap();
        assert_eq!(load_cache(&p, "film-a"), m);
        assert!(load_cache(&p, "film-b").is_empty());
        std::fs::write(&p, b"\x93garbage").unwrap();
        assert!(load_cache(&p, "film-a").is_empty());
    }
}
