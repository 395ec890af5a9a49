//! One logging pipeline: the core logs with `tracing`; on Android the events go to logcat
//! through android_logger (tag "sipher"), elsewhere to stderr.

use super::types::LogLevel;

/// Starts logging at this level (later calls change nothing). Call once at app start.
#[uniffi::export]
pub fn init_logging(level: LogLevel) {
    imp::init(level);
}

#[cfg(target_os = "android")]
mod imp {
    use super::LogLevel;

    pub(super) fn init(level: LogLevel) {
        // With no tracing subscriber installed, tracing's `log` feature turns its events into
        // `log` records, which android_logger writes to logcat.
        let filter = match level {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        };
        android_logger::init_once(
            android_logger::Config::default()
                .with_max_level(filter)
                .with_tag("sipher"),
        );
    }
}

#[cfg(not(target_os = "android"))]
mod imp {
    use super::LogLevel;

    pub(super) fn init(level: LogLevel) {
        let level = match level {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        };
        // Fails only when a subscriber is already set: then that one stays.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }
}
