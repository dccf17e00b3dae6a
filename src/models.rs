//! The optional model servers a run uses: a text LLM and a vision LLM, each
//! either a running OpenAI-compatible server (`--llm URL`) or a GGUF file
//! that CineCut serves itself with llama-server (the text LLM for the whole
//! run, shared by the stages that use it; the vision LLM for its stage).

use crate::llm::{LlmClient, LlmError, ManagedServer, ServerOptions};
use crate::ui::Ui;
use std::cell::RefCell;
use std::path::PathBuf;

/// Why a model server could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--llm-model` / `--vision-model` names a file that is not there: the
    /// user's to fix.
    #[error("{}: no such model file", .0.display())]
    NoModelFile(PathBuf),
    #[error(transparent)]
    Llm(#[from] LlmError),
}

type Result<T, E = ServeError> = std::result::Result<T, E>;

/// The models directory: `$CINECUT_MODELS_DIR`, else `<data dir>/cinecut/models`.
pub fn models_dir() -> PathBuf {
    match std::env::var_os("CINECUT_MODELS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("cinecut")
            .join("models"),
    }
}

#[derive(Debug, Clone, Default)]
pub struct Models {
    pub llm: Option<String>,
    pub llm_model: Option<PathBuf>,
    pub vision: Option<String>,
    pub vision_model: Option<PathBuf>,
    pub vision_mmproj: Option<PathBuf>,
    pub vision_parallel: usize,
}

/// A client, and the server behind it when we started one (stopped on drop).
pub struct Served {
    pub client: Option<LlmClient>,
    _server: Option<ManagedServer>,
}

impl Models {
    /// Identifies the text model for stage fingerprints.
    pub fn llm_key(&self) -> String {
        match (&self.llm, &self.llm_model) {
            (Some(u), _) => format!("url:{u}"),
            (_, Some(m)) => format!("gguf:{}", m.display()),
            _ => "none".into(),
        }
    }

    pub fn vision_key(&self) -> String {
        match (&self.vision, &self.vision_model) {
            (Some(u), _) => format!("url:{u}"),
            (_, Some(m)) => format!("gguf:{}", m.display()),
            _ => "none".into(),
        }
    }

    pub fn start_llm(&self, ui: &Ui) -> Result<Served> {
        serve(self.llm.as_deref(), self.llm_model.as_ref(), None, 1, ui)
    }

    pub fn start_vision(&self, ui: &Ui) -> Result<Served> {
        serve(
            self.vision.as_deref(),
            self.vision_model.as_ref(),
            self.vision_mmproj.as_ref(),
            self.vision_parallel.max(1) as u32,
            ui,
        )
    }
}

/// The text LLM of one run, started on first use and kept until the run
/// ends, so the structure and scene stages share one server (a llama-server
/// start costs seconds) and a run whose stages are all cached starts none.
pub struct TextLlm<'a> {
    models: &'a Models,
    served: RefCell<Option<Served>>,
}

impl<'a> TextLlm<'a> {
    pub fn new(models: &'a Models) -> Self {
        TextLlm {
            models,
            served: RefCell::new(None),
        }
    }

    pub fn models(&self) -> &'a Models {
        self.models
    }

    /// The client, starting the server if this is the first call; None when
    /// no text LLM is configured.
    pub fn client(&self, ui: &Ui) -> Result<Option<LlmClient>> {
        let mut served = self.served.borrow_mut();
        if served.is_none() {
            *served = Some(self.models.start_llm(ui)?);
        }
        Ok(served.as_ref().and_then(|s| s.client.clone()))
    }
}

fn serve(
    url: Option<&str>,
    gguf: Option<&PathBuf>,
    mmproj: Option<&PathBuf>,
    parallel: u32,
    ui: &Ui,
) -> Result<Served> {
    if let Some(u) = url {
        return Ok(Served {
            client: Some(LlmClient::new(u)),
            _server: None,
        });
    }
    let Some(model) = gguf else {
        return Ok(Served {
            client: None,
            _server: None,
        });
    };
    if !model.is_file() {
        return Err(ServeError::NoModelFile(model.clone()));
    }
    let mut o = ServerOptions::new(model.clone());
    o.mmproj = mmproj.cloned();
    o.parallel = parallel;
    ui.info(&format!("starting llama-server with {}", model.display()));
    let srv = ManagedServer::start(&o)?;
    Ok(Served {
        client: Some(srv.client()),
        _server: Some(srv),
    })
}
