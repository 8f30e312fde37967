//! End-to-end tests of the gateway on real loopback sockets. Only the model
//! is a stand-in (`support::TestUpstream`); clients, TLS and the SQLite store
//! are real.

mod gateway {
    pub mod python;
    pub mod support;

    mod access;
    mod admin;
    mod alerts;
    mod audit;
    mod auth;
    mod failclosed;
    mod jwt;
    mod limits;
    mod privacy;
    mod proxy;
    mod records;
    mod tls;
    mod uploads;
}
