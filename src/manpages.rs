//! Man pages generated from the clap definition (section 1); sections 5 and 7 are hand-written in man/.

use std::path::Path;

use crate::error::Result;
use crate::not_yet;

/// Writes agent-runner(1) and one page per subcommand into `dir`.
pub fn write(_dir: &Path) -> Result<()> {
    Err(not_yet("man"))
}
