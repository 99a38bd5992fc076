//! What serde says about a `config.json` it could not read, in the operator's words:
//! the key to blame (`notify.email.smtp_hots`), and the line and column of bad JSON.

use crate::invalid::Invalid;
use crate::keys;

/// Turns serde's message into the key at fault and the problem, in the operator's words.
pub(super) fn describe_serde_error(e: serde_path_to_error::Error<serde_json::Error>) -> Invalid {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let (line, column) = (inner.line(), inner.column());
    let msg = inner.to_string();
    // serde_json appends " at line L column C"; we say it our own way.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof => {
            Invalid::whole(format!("not valid JSON at line {line}, column {column}: {msg}"))
        }
        Category::Io => Invalid::whole(format!("cannot read the configuration file: {msg}")),
        Category::Data => {
            if let Some(field) = msg
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                // Inside a section (`notify.email`): serde lists that section's keys.
                if let Some(section) = path
                    .rsplit_once('.')
                    .map(|(s, _)| s)
                    .filter(|s| !s.is_empty() && *s != "?")
                {
                    let known = msg.split(", expected ").nth(1).unwrap_or("");
                    return Invalid::at(
                        format!("{section}.{field}"),
                        format!(
                            "unknown key (line {line}); the known keys there are {}",
                            known.trim_start_matches("one of ").replace('`', "")
                        ),
                    );
                }
                return Invalid::at(
                    field,
                    format!("unknown key (line {line}); the known keys are {}", keys::names()),
                );
            }
            if let Some(field) = msg
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                return Invalid::at(field, "is required but missing");
            }
            let key = if path == "." { None } else { Some(path) };
            Invalid {
                key,
                problem: format!("{msg} (line {line}, column {column})"),
            }
        }
    }
}
