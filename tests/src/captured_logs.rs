//! Every log line a test binary writes, to search for secrets.

use std::sync::OnceLock;

use intaj_test_support::LogLines;

/// The binary's log lines, from whichever test installs the capture first: a process-wide
/// subscriber (JSON, as the functions write), since a thread's own one misses the lines of
/// tasks on other threads.
pub fn captured_logs() -> &'static LogLines {
    static LOGS: OnceLock<LogLines> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogLines::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
        logs
    })
}
