//! What a finished run writes: the rows of its result files, and how they are read back.

pub mod rows;
