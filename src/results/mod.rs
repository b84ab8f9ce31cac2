//! What a finished run leaves: its [`Outcome`], the rows of its result files (written and
//! read back by column name), and the files, summary and figures rendered from them.

pub mod outcome;
pub mod rows;

pub use outcome::{DoubleSpendOutcome, MainChain, NodeOutcome, Outcome};
