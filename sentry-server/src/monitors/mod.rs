//! Cron monitors: when check-ins are due ([`schedule`]), the periodic
//! check that records missed and timed-out runs ([`watch`]), and the
//! issues that failed runs raise ([`failure`]).

pub mod failure;
pub mod schedule;
pub mod watch;
