//! Drives a program in a detached tmux session the way a person at a terminal
//! would: type text, press keys, read the screen. Each session has its own
//! tmux server (`-L socket`), killed when the handle drops (also on panic).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// How long any single wait for the screen may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// Whether the `tmux` program can be run.
pub fn available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// One tmux server with one session running one program.
pub struct Tmux {
    socket: String,
    /// The server's socket file, removed on drop (tmux leaves it behind).
    socket_path: Option<std::path::PathBuf>,
    /// Where the wrapping shell writes the program's exit status.
    status_path: std::path::PathBuf,
}

impl Tmux {
    /// Starts `program args` in a `width`x`height` session with exactly the
    /// environment `env` (plus `PATH`). The pane stays after the program exits
    /// so its exit status can be read.
    pub fn start(program: &str, args: &[&str], env: &[(&str, &str)], width: u16, height: u16) -> Tmux {
        let socket = format!("stripe-sql-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let status_path = std::env::temp_dir().join(format!("{socket}.status"));
        let _ = std::fs::remove_file(&status_path);
        let mut tmux = Tmux { socket, socket_path: None, status_path };
        // tmux sometimes marks a pane dead without ever reaping its process
        // (a zombie with no status), so a shell waits for the program and
        // writes its status to a file. The shell ignores SIGINT so that
        // Ctrl-C reaches only the program, which installs its own handler.
        let mut command: Vec<String> = vec![
            "sh".into(),
            "-c".into(),
            "trap '' INT; status=\"$1\"; shift; \"$@\"; echo $? > \"$status\"".into(),
            "sh".into(),
            tmux.status_path.to_string_lossy().into_owned(),
            "env".into(),
            "-i".into(),
            format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
        ];
        command.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        command.push(program.into());
        command.extend(args.iter().map(|a| a.to_string()));
        let (w, h) = (width.to_string(), height.to_string());
        let mut tmux_args = vec!["-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", &w, "-y", &h, "--"];
        tmux_args.extend(command.iter().map(String::as_str));
        tmux.run(&tmux_args);
        tmux.socket_path = Some(tmux.run(&["display-message", "-p", "#{socket_path}"]).trim().into());
        tmux.run(&["set-option", "-t", "main", "remain-on-exit", "on"]);
        tmux.run(&["set-option", "-t", "main", "history-limit", "10000"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` literally. Sent as hex bytes: tmux would read a trailing
    /// `;` of a literal argument as its own command separator.
    pub fn type_text(&self, text: &str) {
        let bytes: Vec<String> = text.bytes().map(|b| format!("{b:02x}")).collect();
        let mut args = vec!["send-keys", "-t", "main", "-H"];
        args.extend(bytes.iter().map(String::as_str));
        self.run(&args);
    }

    /// Presses keys by tmux name (`Enter`, `Tab`, `C-c`).
    pub fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "main", key]);
    }

    /// The whole pane: scrollback and screen, wrapped lines joined.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "main"])
    }

    /// Polls the screen until `done` holds; fails with the screen after [`WAIT`].
    pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls until the program put its terminal back in cooked mode (`isig`
    /// on), i.e. it stopped reading a line and is running what was entered:
    /// only then does Ctrl-C become SIGINT instead of a byte for the line editor.
    pub fn wait_for_cooked_mode(&self) {
        let tty = self.run(&["display-message", "-p", "-t", "main", "#{pane_tty}"]);
        let tty = tty.trim();
        let deadline = Instant::now() + WAIT;
        loop {
            let out = Command::new("stty").args(["-a", "-F", tty]).output().expect("run stty");
            let flags = String::from_utf8_lossy(&out.stdout);
            if flags.split_whitespace().any(|f| f == "isig") {
                return;
            }
            assert!(Instant::now() < deadline, "the program never left raw mode; stty: {flags}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the program to exit and returns its exit status.
    pub fn wait_for_exit(&self) -> i32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.status_path)
                && let Ok(status) = text.trim().parse()
            {
                return status;
            }
            assert!(Instant::now() < deadline, "the program did not exit; screen:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The path of a program's history file under `home`.
    pub fn history_file(home: &Path) -> std::path::PathBuf {
        home.join(".local/share/stripe-sql/history")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(&self.status_path);
    }
}
