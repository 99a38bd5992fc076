//! Alerts on their way out: kept across restarts and `--once` runs in
//! `log_dir/alerts.json`, and sent to people. Their kinds and life cycle are rules
//! (`rules::alert`).

pub mod notify;
pub mod state;
