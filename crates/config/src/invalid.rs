//! What is wrong in a configuration's text: the key at fault and why.

use std::fmt;

/// What is wrong in the text of a configuration: the key at fault (none: the whole
/// text) and why, never repeating a secret written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: Option<String>,
    pub problem: String,
}

impl Invalid {
    pub fn at(key: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid {
            key: Some(key.into()),
            problem: problem.into(),
        }
    }

    pub fn whole(problem: impl Into<String>) -> Invalid {
        Invalid {
            key: None,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{key}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}
