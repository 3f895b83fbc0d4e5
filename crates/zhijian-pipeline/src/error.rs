use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a pipeline file, located to line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The pipeline file.
    pub file: PathBuf,
    /// Line, from 1; 0 when the problem concerns the whole file.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The text at fault, as written (first line of it).
    pub snippet: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn at(file: &Path, text: &str, span: Option<Range<usize>>, message: String) -> ConfigError {
        let Some(span) = span else {
            return ConfigError::whole_file(file, message);
        };
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let before = text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text.get(line_start..start).map_or(1, |s| s.chars().count() + 1);
        let snippet = text.get(start..end).unwrap_or("").lines().next().unwrap_or("").to_string();
        ConfigError { file: file.to_path_buf(), line, column, snippet, message }
    }

    pub(crate) fn whole_file(file: &Path, message: String) -> ConfigError {
        ConfigError { file: file.to_path_buf(), line: 0, column: 0, snippet: String::new(), message }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.snippet.is_empty() {
            write!(f, " (at `{}`)", self.snippet)?;
        }
        Ok(())
    }
}

/// Every problem found in a pipeline file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{} in the pipeline file", if n == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}
