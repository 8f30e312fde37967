pub mod config;
pub mod demo;
pub mod keys;
pub mod mock_upstream;
pub mod serve;
