//! The memory ingest may hold in request bodies at once. Each request
//! reserves the bytes of its body as they arrive and keeps them until it
//! is answered (once spooled); a request that would pass the budget is
//! answered 429 at once, so that a flood of large requests costs a
//! bounded amount of memory instead of growing the process.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Seconds a client is asked to wait when the budget is spent.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The budget, shared by every request.
#[derive(Clone)]
pub struct MemoryBudget {
    bytes: Arc<Semaphore>,
}

impl MemoryBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        Self {
            bytes: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// An empty reservation, to grow as a body arrives.
    pub fn reservation(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            permit: None,
        }
    }

    /// Bytes not reserved now.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

/// Bytes a request holds; given back when dropped.
pub struct Reservation {
    budget: MemoryBudget,
    permit: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// Reserves `bytes` more.
    ///
    /// # Errors
    ///
    /// 429 with `Retry-After` when the budget has not that much left.
    pub fn grow(&mut self, bytes: usize) -> Result<(), ApiError> {
        if bytes == 0 {
            return Ok(());
        }
        let busy = || {
            ApiError::too_many_requests(
                "the server holds as many requests as it may; retry later",
                BUSY_RETRY_AFTER_SECS,
            )
        };
        let count = u32::try_from(bytes).map_err(|_| busy())?;
        let permit = Arc::clone(&self.budget.bytes)
            .try_acquire_many_owned(count)
            .map_err(|_| busy())?;
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_bounded_and_given_back() {
        let budget = MemoryBudget::new(100);
        let mut first = budget.reservation();
        first.grow(60).unwrap();
        first.grow(30).unwrap();
        let mut second = budget.reservation();
        let refused = second.grow(20).unwrap_err();
        assert_eq!(refused.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        second.grow(10).unwrap();
        assert_eq!(budget.available(), 0);
        drop(first);
        assert_eq!(budget.available(), 90);
        drop(second);
        assert_eq!(budget.available(), 100);
    }
}
