pub mod simulator;
pub mod stack;
