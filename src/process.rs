//! Child processes and this process's place: commands that never outlive
//! the studio, capped memory, whether a process runs, the machine's name.

use tokio::process::Command;

/// Whether a process runs (Linux: /proc; elsewhere assumed, to be safe).
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.split_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    } else {
        true
    }
}

/// This machine's name, as jobs record who runs them.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A command for an external program (ffmpeg, ffprobe, espeak-ng, Piper)
/// that never outlives the studio: it is killed when its handle is dropped
/// and, on Linux, when the studio process dies, even by `kill -9`.
pub fn program(name: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(name);
    cmd.kill_on_drop(true);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Caps the address space a child may map (Linux; elsewhere nothing).
pub fn limit_memory(cmd: &mut Command, bytes: u64) {
    #[cfg(target_os = "linux")]
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (cmd, bytes);
}

/// The last `n` lines of a process's output, for error messages.
pub fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
