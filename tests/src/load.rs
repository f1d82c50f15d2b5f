//! A steady load of GET requests from a few keep-alive clients, counting every answer, for
//! tests that change the fleet under traffic and must lose nothing. Bounded by a count per
//! client and by time, whatever the test does meanwhile.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

/// What the clients saw.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    /// Answers outside 2xx.
    pub non_2xx: u64,
    /// Requests that got no answer at all: refused, reset, closed, timed out.
    pub connection_errors: u64,
    /// The first few failures, as said, for the assertion message.
    pub failures: Vec<String>,
}

impl Tally {
    pub fn failed(&self) -> u64 {
        self.non_2xx + self.connection_errors
    }

    fn add(&mut self, other: Tally) {
        self.sent += other.sent;
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.connection_errors += other.connection_errors;
        self.failures.extend(other.failures);
        self.failures.truncate(MAX_FAILURES_KEPT);
    }
}

const MAX_FAILURES_KEPT: usize = 20;

/// Clients looping on one URL until [`Load::finish`], their count or their time is up.
pub struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Tally>>,
}

/// How the load runs.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub url: String,
    /// The `Host` header (an execute-api host or a custom domain).
    pub host: String,
    pub clients: usize,
    /// Pause between one client's requests: a steady rate that leaves the fleet's own
    /// processes the CPU they need on a small machine.
    pub pause: Duration,
    pub max_requests_per_client: u64,
    pub max_time: Duration,
}

impl Load {
    pub fn start(plan: LoadPlan) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..plan.clients)
            .map(|_| tokio::spawn(client_loop(plan.clone(), stop.clone())))
            .collect();
        Load { stop, clients }
    }

    /// Stops the clients and adds up what they saw.
    pub async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Tally::default();
        for client in self.clients {
            total.add(client.await.expect("a load client panicked"));
        }
        total
    }
}

async fn client_loop(plan: LoadPlan, stop: Arc<AtomicBool>) -> Tally {
    // One client, one keep-alive connection pool: connections are reused until the
    // balancer closes them.
    let client = crate::http_client();
    let until = tokio::time::Instant::now() + plan.max_time;
    let mut tally = Tally::default();
    while tally.sent < plan.max_requests_per_client
        && !stop.load(Ordering::Relaxed)
        && tokio::time::Instant::now() < until
    {
        tally.sent += 1;
        match client
            .get(&plan.url)
            .header("host", &plan.host)
            .send()
            .await
        {
            Ok(res) if res.status().is_success() => {
                // The whole body, so the connection goes back to the pool.
                match res.bytes().await {
                    Ok(_) => tally.ok += 1,
                    Err(e) => {
                        tally.connection_errors += 1;
                        note(&mut tally, format!("body cut short: {e}"));
                    }
                }
            }
            Ok(res) => {
                tally.non_2xx += 1;
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                note(&mut tally, format!("{status}: {body}"));
            }
            Err(e) => {
                tally.connection_errors += 1;
                note(&mut tally, format!("no answer: {e:?}"));
            }
        }
        tokio::time::sleep(plan.pause).await;
    }
    tally
}

fn note(tally: &mut Tally, failure: String) {
    if tally.failures.len() < MAX_FAILURES_KEPT {
        tally.failures.push(failure);
    }
}
