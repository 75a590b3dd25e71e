//! The paired measurement: two sides run in alternating batches, one ratio
//! per round, the median ratio reported with its quartiles.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Runs its work `iters` times and says how long that took.
pub type Side = Box<dyn FnMut(u64) -> Duration>;

/// Builds both sides of a comparison (only when it is run: building an
/// engine's state takes time and filtered-out cases should cost nothing).
type Build = Box<dyn FnOnce() -> (Side, Side)>;

/// One ratio to measure: time per eval of side `a` ÷ that of side `b`.
pub struct Comparison {
    engine: &'static str,
    what: &'static str,
    build: Build,
}

/// Each batch runs this long, roughly: long enough that the clock reads
/// around it are noise-free, short enough that the machine's speed does not
/// change within a round.
const BATCH: Duration = Duration::from_millis(4);
/// Both sides run this long before any round is kept.
const WARM_UP: Duration = Duration::from_millis(600);

impl Comparison {
    /// A comparison whose sides are built independently.
    pub fn new(
        engine: &'static str,
        what: &'static str,
        a: Box<dyn FnOnce() -> Side>,
        b: Box<dyn FnOnce() -> Side>,
    ) -> Comparison {
        Comparison {
            engine,
            what,
            build: Box::new(move || (a(), b())),
        }
    }

    /// A comparison whose sides are built together (they share state).
    pub fn new_pair(engine: &'static str, what: &'static str, build: Build) -> Comparison {
        Comparison {
            engine,
            what,
            build,
        }
    }

    /// `<engine>/<what>`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.engine, self.what)
    }

    /// Measures `rounds` rounds and summarises them.
    pub fn run(self, rounds: usize) -> Summary {
        let name = self.name();
        let (mut a, mut b) = (self.build)();
        let iters = calibrate(&mut a);
        let warm_until = Instant::now() + WARM_UP;
        while Instant::now() < warm_until {
            a(iters);
            b(iters);
        }
        let per_eval = |d: Duration| d.as_secs_f64() * 1e9 / iters as f64;
        let mut a_ns = Vec::with_capacity(rounds);
        let mut b_ns = Vec::with_capacity(rounds);
        let mut ratios = Vec::with_capacity(rounds);
        for round in 0..rounds {
            // Swap the order every round so that neither side always runs
            // right after the other (caches, frequency).
            let (ta, tb) = if round % 2 == 0 {
                let ta = a(iters);
                (ta, b(iters))
            } else {
                let tb = b(iters);
                (a(iters), tb)
            };
            let (ta, tb) = (per_eval(ta), per_eval(tb));
            a_ns.push(ta);
            b_ns.push(tb);
            ratios.push(ta / tb);
        }
        Summary {
            engine: self.engine,
            what: self.what,
            a_ns: quantile(&mut a_ns, 0.5),
            b_ns: quantile(&mut b_ns, 0.5),
            ratio: quantile(&mut ratios, 0.5),
            ratio_q1: quantile(&mut ratios, 0.25),
            ratio_q3: quantile(&mut ratios, 0.75),
            rounds,
            iters_per_batch: iters,
            name,
        }
    }
}

/// How many evals make one batch of about [`BATCH`] on side `a`.
fn calibrate(a: &mut Side) -> u64 {
    let mut iters = 1u64;
    loop {
        let took = a(iters);
        if took >= BATCH || iters >= 1 << 24 {
            return iters;
        }
        // Aim straight at the batch length once the time is measurable.
        iters = if took >= Duration::from_micros(100) {
            (iters as f64 * BATCH.as_secs_f64() / took.as_secs_f64()).ceil() as u64
        } else {
            iters * 8
        };
    }
}

/// The `q` quantile (0..=1) of `values`, by linear interpolation.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let pos = q * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

/// The result of one comparison.
pub struct Summary {
    name: String,
    engine: &'static str,
    what: &'static str,
    /// Median time per eval of side a and of side b, in nanoseconds.
    a_ns: f64,
    b_ns: f64,
    /// Median, first and third quartile of the per-round ratios a ÷ b.
    ratio: f64,
    ratio_q1: f64,
    ratio_q3: f64,
    rounds: usize,
    iters_per_batch: u64,
}

impl Summary {
    /// The summary as `benches/report.py` reads it.
    pub fn to_json(&self) -> Value {
        json!({
            "engine": self.engine,
            "what": self.what,
            "a_ns": self.a_ns,
            "b_ns": self.b_ns,
            "ratio": self.ratio,
            "ratio_q1": self.ratio_q1,
            "ratio_q3": self.ratio_q3,
            "rounds": self.rounds,
            "iters_per_batch": self.iters_per_batch,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<42} {:>12.1} ns vs {:>12.1} ns   ratio {:.3} [{:.3}–{:.3}]  ({} rounds × {})",
            self.name,
            self.a_ns,
            self.b_ns,
            self.ratio,
            self.ratio_q1,
            self.ratio_q3,
            self.rounds,
            self.iters_per_batch
        )
    }
}
