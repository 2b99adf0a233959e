//! Where the CPU went during a soak: user + system time of each process, read from
//! `/proc/<pid>/stat` (fields 14 and 15, in clock ticks; proc(5)), sampled while the soak runs so
//! processes that exit (a killed region's) are still counted: the emulator (moto), this process
//! (the runtime's host, mappings, replication, gateways and the soak's client), and the function
//! processes by binary.

use std::collections::BTreeMap;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`sysconf(_SC_CLK_TCK)`: 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time of each process seen, grouped.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Per pid: its group, the most ticks sampled, and its start time: a pid is used again once
    /// its process exited (a killed region's functions, a build's compilers), and the new
    /// process's time is not the old one's.
    samples: BTreeMap<u32, (String, u64, Option<u64>)>,
    /// Ticks of every pid at the start (so earlier work is not counted).
    baseline: BTreeMap<u32, u64>,
}

impl Profile {
    /// Records `pid` as a member of `group`, counting from its current CPU time.
    pub fn watch(&mut self, pid: u32, group: &str, from_now: bool) {
        let stat = process_stat(pid);
        let ticks = if from_now { stat.map_or(0, |s| s.ticks) } else { 0 };
        self.baseline.entry(pid).or_insert(ticks);
        self.samples.entry(pid).or_insert_with(|| (group.to_owned(), ticks, stat.map(|s| s.started)));
    }

    /// Samples every watched process that still runs (and is still the process first seen).
    pub fn sample(&mut self) {
        for (pid, (_, ticks, started)) in &mut self.samples {
            let Some(now) = process_stat(*pid) else { continue };
            match started {
                Some(started) if *started != now.started => {}
                _ => {
                    *started = Some(now.started);
                    *ticks = (*ticks).max(now.ticks);
                }
            }
        }
    }

    /// CPU time per group, largest first.
    pub fn by_group(&self) -> Vec<(String, Duration)> {
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        for (pid, (group, ticks, _)) in &self.samples {
            let start = self.baseline.get(pid).copied().unwrap_or(0);
            *groups.entry(group.as_str()).or_default() += ticks.saturating_sub(start);
        }
        let mut groups: Vec<(String, Duration)> = groups
            .into_iter()
            .map(|(group, ticks)| (group.to_owned(), Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND)))
            .collect();
        groups.sort_by_key(|group| std::cmp::Reverse(group.1));
        groups
    }
}

/// What the profile reads of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcessStat {
    /// utime + stime.
    ticks: u64,
    /// When it started (clock ticks after boot): tells a pid's processes apart.
    started: u64,
}

/// utime + stime of `pid`, or `None` when it is gone.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    process_stat(pid).map(|s| s.ticks)
}

fn process_stat(pid: u32) -> Option<ProcessStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// The command name is in parentheses and may hold spaces: fields are counted after the last `)`.
fn parse_stat(stat: &str) -> Option<ProcessStat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, so utime (14) is 11, stime (15) is 12 and
    // starttime (22) is 19.
    let field = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some(ProcessStat { ticks: field(11)? + field(12)?, started: field(19)? })
}

/// The pid of the moto server listening on `port`, found by its command line.
pub fn emulator_pid(port: u16) -> Option<u32> {
    let port = port.to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let moto = args.iter().any(|a| a.ends_with(b"moto_server") || a.ends_with(b"moto_server.py"));
        let on_port = args.windows(2).any(|w| w[0] == b"-p" && w[1] == port.as_bytes());
        (moto && on_port).then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_user_plus_system_time_after_the_command_name() {
        let stat = "4242 (moto server) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 40 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_stat(stat), Some(ProcessStat { ticks: 290, started: 100 }));
        assert!(cpu_ticks(std::process::id()).is_some(), "this process has a stat");
    }

    #[test]
    fn a_pid_used_again_by_another_process_adds_nothing_to_the_first_ones_group() {
        let mut profile = Profile::default();
        let pid = std::process::id();
        // This process has used CPU time, so a sample that read it would count some.
        let busy_until = std::time::Instant::now() + Duration::from_secs(2);
        let mut spun = 0u64;
        while cpu_ticks(pid).unwrap_or(0) == 0 && std::time::Instant::now() < busy_until {
            spun = std::hint::black_box(spun.wrapping_add(1));
        }
        assert!(cpu_ticks(pid).unwrap_or(0) > 0, "spun {spun} times");
        profile.watch(pid, "function api", false);
        // As if the watched process had been an earlier one with this pid.
        if let Some((_, _, started)) = profile.samples.get_mut(&pid) {
            *started = started.map(|s| s + 1);
        }
        profile.sample();
        assert_eq!(profile.by_group(), [("function api".to_owned(), Duration::ZERO)]);
    }
}
