use std::fmt;
use std::path::PathBuf;

/// One problem in one seed file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SeedError {
    /// The seed file.
    pub file: PathBuf,
    /// Line in the file, from 1; 0 when the problem concerns the whole file.
    pub line: u64,
    /// The column at fault, if one is.
    pub field: Option<String>,
    /// The offending value, if there is one.
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value `{value}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found while loading a seeds folder.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SeedErrors(pub Vec<SeedError>);

impl fmt::Display for SeedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the seeds", self.0.len())?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}
