//! What a finished run leaves: its [`Outcome`], the rows of its result files (written and
//! read back by column name), and the files, summary and figures rendered from them.

pub mod attack;
pub mod double_spend;
pub mod files;
pub mod folder;
pub mod invalid_data;
pub mod outcome;
pub mod report;
pub mod rows;
pub mod sink;
pub mod spill;
pub mod trace;
pub mod transactions;

pub use outcome::{DoubleSpendOutcome, MainChain, NodeOutcome, Outcome};
