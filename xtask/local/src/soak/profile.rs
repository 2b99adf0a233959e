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
    /// Per pid: its group and the most ticks sampled.
    samples: BTreeMap<u32, (String, u64)>,
    /// Ticks of every pid at the start (so earlier work is not counted).
    baseline: BTreeMap<u32, u64>,
}

impl Profile {
    /// Records `pid` as a member of `group`, counting from its current CPU time.
    pub fn watch(&mut self, pid: u32, group: &str, from_now: bool) {
        let ticks = if from_now { cpu_ticks(pid).unwrap_or(0) } else { 0 };
        self.baseline.entry(pid).or_insert(ticks);
        self.samples.entry(pid).or_insert_with(|| (group.to_owned(), ticks));
    }

    /// Samples every watched process that still runs.
    pub fn sample(&mut self) {
        for (pid, (_, ticks)) in &mut self.samples {
            if let Some(now) = cpu_ticks(*pid) {
                *ticks = (*ticks).max(now);
            }
        }
    }

    /// CPU time per group, largest first.
    pub fn by_group(&self) -> Vec<(String, Duration)> {
        let mut groups: BTreeMap<&str, u64> = BTreeMap::new();
        for (pid, (group, ticks)) in &self.samples {
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

/// utime + stime of `pid`, or `None` when it is gone.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_ticks(&stat)
}

/// The command name is in parentheses and may hold spaces: fields are counted after the last `)`.
fn parse_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
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
        assert_eq!(parse_ticks(stat), Some(290));
        assert!(cpu_ticks(std::process::id()).is_some(), "this process has a stat");
    }
}
