//! Process metrics, read by observable instruments on the periodic
//! reader's thread, never on a request.
//!
//! | metric | type | unit | attributes |
//! |---|---|---|---|
//! | `process.cpu.time` | counter | `s` | `cpu.mode` = `user` \| `system` |
//! | `process.cpu.utilization` | gauge | `1` | `cpu.mode` = `user` \| `system` |
//! | `process.memory.usage` | up-down counter | `By` | (resident set) |
//! | `process.memory.virtual` | up-down counter | `By` | |
//! | `process.thread.count` | up-down counter | `{thread}` | |
//! | `process.unix.file_descriptor.count` | up-down counter | `{file_descriptor}` | |
//! | `process.uptime` | gauge | `s` | |

use std::sync::Mutex;
use std::time::Instant;

use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use crate::names;

/// Clock ticks per second for `/proc/self/stat`; 100 on every Linux ABI
/// wingspan targets.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct ProcStat {
    pub user_secs: f64,
    pub system_secs: f64,
    pub threads: i64,
    pub virtual_bytes: i64,
    pub resident_bytes: i64,
}

/// Parses `/proc/self/stat`; the command name may contain spaces and
/// parentheses, so fields are counted from the last `)`.
pub(crate) fn parse_stat(stat: &str, page_size: i64) -> Option<ProcStat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state(0) ppid(1) ... utime(11) stime(12) ... num_threads(17) ... vsize(20) rss(21)
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<i64>().ok());
    Some(ProcStat {
        user_secs: num(11)? as f64 / TICKS_PER_SEC,
        system_secs: num(12)? as f64 / TICKS_PER_SEC,
        threads: num(17)?,
        virtual_bytes: num(20)?,
        resident_bytes: num(21)? * page_size,
    })
}

fn read_stat() -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?, 4096)
}

fn open_fds() -> Option<i64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as i64)
}

/// The two `cpu.mode` values wingspan reads.
fn cpu_modes() -> [[KeyValue; 1]; 2] {
    [
        [KeyValue::new(names::CPU_MODE, "user")],
        [KeyValue::new(names::CPU_MODE, "system")],
    ]
}

pub(crate) fn register(meter: &Meter) {
    register_cpu(meter);
    register_memory(meter);
    let started = Instant::now();
    meter
        .i64_observable_up_down_counter(names::PROCESS_THREAD_COUNT)
        .with_unit("{thread}")
        .with_description("Process threads count.")
        .with_callback(|o| {
            if let Some(s) = read_stat() {
                o.observe(s.threads, &[]);
            }
        })
        .build();
    meter
        .i64_observable_up_down_counter(names::PROCESS_UNIX_FILE_DESCRIPTOR_COUNT)
        .with_unit("{file_descriptor}")
        .with_description("Number of unix file descriptors in use by the process.")
        .with_callback(|o| {
            if let Some(n) = open_fds() {
                o.observe(n, &[]);
            }
        })
        .build();
    meter
        .f64_observable_gauge(names::PROCESS_UPTIME)
        .with_unit("s")
        .with_description("The time the process has been running.")
        .with_callback(move |o| o.observe(started.elapsed().as_secs_f64(), &[]))
        .build();
}

fn register_cpu(meter: &Meter) {
    let [user, system] = cpu_modes();
    meter
        .f64_observable_counter(names::PROCESS_CPU_TIME)
        .with_unit("s")
        .with_description("Total CPU seconds broken down by mode.")
        .with_callback(move |o| {
            if let Some(s) = read_stat() {
                o.observe(s.user_secs, &user);
                o.observe(s.system_secs, &system);
            }
        })
        .build();
    // (time, user seconds, system seconds) of the previous reading.
    let last: Mutex<Option<(Instant, f64, f64)>> = Mutex::new(None);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let [user, system] = cpu_modes();
    meter
        .f64_observable_gauge(names::PROCESS_CPU_UTILIZATION)
        .with_unit("1")
        .with_description(
            "CPU time used over the last interval, divided by elapsed time and cores, by mode.",
        )
        .with_callback(move |o| {
            let Some(s) = read_stat() else { return };
            let now = Instant::now();
            let Ok(mut last) = last.lock() else { return };
            if let Some((t, u, sys)) = *last {
                let wall = now.duration_since(t).as_secs_f64() * cores;
                if wall > 0.0 {
                    o.observe(((s.user_secs - u) / wall).clamp(0.0, 1.0), &user);
                    o.observe(((s.system_secs - sys) / wall).clamp(0.0, 1.0), &system);
                }
            }
            *last = Some((now, s.user_secs, s.system_secs));
        })
        .build();
}

fn register_memory(meter: &Meter) {
    meter
        .i64_observable_up_down_counter(names::PROCESS_MEMORY_USAGE)
        .with_unit("By")
        .with_description("The amount of physical memory in use (resident set).")
        .with_callback(|o| {
            if let Some(s) = read_stat() {
                o.observe(s.resident_bytes, &[]);
            }
        })
        .build();
    meter
        .i64_observable_up_down_counter(names::PROCESS_MEMORY_VIRTUAL)
        .with_unit("By")
        .with_description("The amount of committed virtual memory.")
        .with_callback(|o| {
            if let Some(s) = read_stat() {
                o.observe(s.virtual_bytes, &[]);
            }
        })
        .build();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_name() {
        let line = "1234 (my (odd) app) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 7 0 100 104857600 2560 18446744073709551615";
        let s = parse_stat(line, 4096).unwrap();
        assert_eq!(s.user_secs, 2.5);
        assert_eq!(s.system_secs, 0.5);
        assert_eq!(s.threads, 7);
        assert_eq!(s.virtual_bytes, 104857600);
        assert_eq!(s.resident_bytes, 2560 * 4096);
    }

    #[test]
    fn reads_own_process() {
        let s = read_stat().unwrap();
        assert!(s.threads >= 1 && s.resident_bytes > 0);
    }
}
