pub mod config;
pub mod demo;
pub mod grants;
pub mod keys;
pub mod mock_upstream;
pub mod roles;
pub mod serve;
pub mod users;
