mod background;
pub mod simulator;
pub mod stack;
