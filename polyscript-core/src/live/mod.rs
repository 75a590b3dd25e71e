//! Live evaluators (feature `live`): a script that is reloaded when it
//! changes, without a restart and without dropping an eval.
//!
//! A [`LiveEvaluator`] holds the current version of a script as an
//! [`AnyEvaluator`] behind an atomic pointer (`arc-swap`). A new version is
//! compiled off the eval path, by the thread that noticed the change; when it
//! compiles, the pointer is swapped: new evals use it, and evals already
//! running finish on the version they started with (they hold their own
//! reference). The eval path takes no lock — one atomic load more than a
//! plain evaluator. [`Response::script_id`](crate::Response::script_id)
//! says which version ran.
//!
//! A version that does not compile never replaces a good one: the old
//! version keeps serving, and the failure is reported three ways — in
//! [`LiveEvaluator::status`] (the last error and when), as a `tracing`
//! warning, and to the callback given to [`LiveEvaluatorBuilder::on_event`].
//! A deleted file or an unreachable URL is reported the same way and also
//! keeps the old version.
//!
//! Sources of new versions:
//!
//! * a file, watched with `notify` (its directory is watched, so editors that
//!   replace the file by a rename are seen) and debounced
//!   ([`LiveEvaluatorBuilder::watch_file`]);
//! * an HTTP(S) URL, polled with `If-None-Match` / `If-Modified-Since` so an
//!   unchanged script costs a `304` (feature `http`,
//!   [`LiveEvaluatorBuilder::poll_http`]);
//! * explicit calls: [`LiveEvaluator::reload`] (read the file or URL again
//!   now) and [`LiveEvaluator::replace`] (a given source).
//!
//! [`LiveEvaluator::evaluator`] gives an [`AnyEvaluator`] that always runs
//! the current version, so a live script can go wherever an evaluator goes
//! (a [`Coordinator`](crate::Coordinator) stage, `eval_async`, ...).

#[cfg(feature = "http")]
mod poll;
mod watch;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::any::AnyEvaluator;
use crate::async_eval::EvalFuture;
use crate::context::EvalContext;
use crate::error::{Error, Result};
use crate::loader::{FileLoader, Loader};
use crate::response::Response;
use crate::script_id::ScriptId;
use crate::source::Source;

/// Compiles a version: the source to an evaluator (with the engine, limits,
/// pool and provider the program wants for every version).
pub type Build = dyn Fn(Source) -> Result<AnyEvaluator> + Send + Sync;

/// The callback of [`LiveEvaluatorBuilder::on_event`].
type Callback = dyn Fn(&LiveEvent) + Send + Sync;

/// What happened to a live script.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LiveEvent {
    /// A new version compiled and now serves.
    Reloaded {
        /// The new version's script id.
        script_id: ScriptId,
    },
    /// A new version did not compile; the old one keeps serving.
    Rejected {
        /// The version that was refused.
        script_id: ScriptId,
        /// Why (the compile error, as text).
        error: String,
    },
    /// The file or URL could not be read; the old version keeps serving.
    Unavailable {
        /// Why (the load error, as text).
        error: String,
    },
}

/// The state of a live script, for a status page.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveStatus {
    /// The version serving now.
    pub script_id: ScriptId,
    /// When it started serving.
    pub since: SystemTime,
    /// How many times a new version replaced the one before.
    pub reloads: u64,
    /// The last failure (a rejected version or an unreadable source) and when
    /// it happened, if any happened after the current version started.
    pub last_error: Option<(String, SystemTime)>,
}

/// Where versions come from.
enum Origin {
    /// Only [`LiveEvaluator::replace`].
    Manual,
    File(PathBuf),
    #[cfg(feature = "http")]
    Http(poll::Poller),
}

struct Inner {
    current: ArcSwap<AnyEvaluator>,
    /// The first version's limits (what [`AnyEvaluator::limits`] reports).
    limits: crate::limits::Limits,
    /// Where versions come from, for [`AnyEvaluator::origin`].
    source_origin: crate::source::Origin,
    build: Box<Build>,
    origin: Origin,
    status: Mutex<LiveStatus>,
    on_event: Option<Box<Callback>>,
    /// Serialises reloads: two changes seen at once compile one after the
    /// other, and the later one wins.
    reloading: Mutex<()>,
    /// The file watcher, kept alive with the evaluator.
    _watcher: Mutex<Option<watch::Watcher>>,
}

/// A script that is replaced by its new version when it changes (see the
/// [module docs](self)). Cheap to clone; `Send + Sync`. Dropping the last
/// clone stops watching or polling.
#[derive(Clone)]
pub struct LiveEvaluator {
    inner: Arc<Inner>,
}

/// Configures a [`LiveEvaluator`].
#[must_use]
pub struct LiveEvaluatorBuilder {
    build: Box<Build>,
    origin: Option<OriginConfig>,
    debounce: Duration,
    on_event: Option<Box<Callback>>,
}

enum OriginConfig {
    Manual(Source),
    File(PathBuf),
    #[cfg(feature = "http")]
    Http(crate::loader::HttpLoader, Duration),
}

impl LiveEvaluator {
    /// Starts configuring a live evaluator whose versions `build` compiles;
    /// say where versions come from with
    /// [`source`](LiveEvaluatorBuilder::source),
    /// [`watch_file`](LiveEvaluatorBuilder::watch_file) or
    /// [`poll_http`](LiveEvaluatorBuilder::poll_http).
    pub fn builder(
        build: impl Fn(Source) -> Result<AnyEvaluator> + Send + Sync + 'static,
    ) -> LiveEvaluatorBuilder {
        LiveEvaluatorBuilder {
            build: Box::new(build),
            origin: None,
            debounce: Duration::from_millis(100),
            on_event: None,
        }
    }

    /// A live evaluator of the file at `path`, reloaded when it changes.
    /// The first version must compile (its error is returned).
    pub fn watch_file(
        path: impl Into<PathBuf>,
        build: impl Fn(Source) -> Result<AnyEvaluator> + Send + Sync + 'static,
    ) -> Result<Self> {
        Self::builder(build).watch_file(path).build()
    }

    /// Runs the current version once.
    pub fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        self.inner.current.load().eval(ctx)
    }

    /// Runs the current version once, asynchronously (see
    /// [`AnyEvaluator::eval_async`]).
    pub fn eval_async(&self, ctx: EvalContext) -> EvalFuture {
        self.inner.current.load().eval_async(ctx)
    }

    /// The version serving now (it keeps working after a reload: evals on
    /// it finish on it).
    pub fn current(&self) -> AnyEvaluator {
        AnyEvaluator::clone(&self.inner.current.load())
    }

    /// An evaluator that always runs the current version: for code that
    /// takes an [`AnyEvaluator`].
    pub fn evaluator(&self) -> AnyEvaluator {
        AnyEvaluator::live(self.clone())
    }

    /// The current version's script id.
    pub fn script_id(&self) -> ScriptId {
        self.inner.current.load().script_id()
    }

    /// The state: current version, reloads, last failure.
    pub fn status(&self) -> LiveStatus {
        lock(&self.inner.status).clone()
    }

    /// Reads the watched file or URL again now and swaps in the new version
    /// if it differs and compiles. `Ok(true)`: a new version serves;
    /// `Ok(false)`: nothing changed. A compile or load failure is returned
    /// (and reported) and the old version keeps serving.
    pub fn reload(&self) -> Result<bool> {
        let source = match &self.inner.origin {
            Origin::Manual => return Ok(false),
            Origin::File(path) => FileLoader::new(path).load(),
            #[cfg(feature = "http")]
            Origin::Http(poller) => match poller.fetch() {
                Ok(Some(source)) => Ok(source),
                Ok(None) => return Ok(false),
                Err(e) => Err(e),
            },
        };
        match source {
            Ok(source) => self.inner.offer(source),
            Err(error) => {
                self.inner.report(LiveEvent::Unavailable {
                    error: error.to_string(),
                });
                Err(error)
            }
        }
    }

    /// Compiles `source` and swaps it in (if it differs from the current
    /// version); a compile error keeps the old version and is returned.
    pub fn replace(&self, source: Source) -> Result<bool> {
        self.inner.offer(source)
    }

    pub(crate) fn current_arc(&self) -> arc_swap::Guard<Arc<AnyEvaluator>> {
        self.inner.current.load()
    }

    pub(crate) fn limits_ref(&self) -> &crate::limits::Limits {
        &self.inner.limits
    }

    pub(crate) fn origin_ref(&self) -> &crate::source::Origin {
        &self.inner.source_origin
    }

    fn weak(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }
}

impl Inner {
    /// Compiles `source` and, if it is a new version that compiles, makes it
    /// the current one.
    fn offer(&self, source: Source) -> Result<bool> {
        let _one_at_a_time = lock(&self.reloading);
        let script_id = source.id();
        if script_id == self.current.load().script_id() {
            return Ok(false);
        }
        match (self.build)(source) {
            Ok(evaluator) => {
                self.current.store(Arc::new(evaluator));
                {
                    let mut status = lock(&self.status);
                    status.script_id = script_id;
                    status.since = SystemTime::now();
                    status.reloads += 1;
                    status.last_error = None;
                }
                tracing::info!(%script_id, "live script reloaded");
                self.emit(&LiveEvent::Reloaded { script_id });
                Ok(true)
            }
            Err(error) => {
                self.report(LiveEvent::Rejected {
                    script_id,
                    error: error.to_string(),
                });
                Err(error)
            }
        }
    }

    /// Records a failure, logs it and tells the callback.
    fn report(&self, event: LiveEvent) {
        let text = match &event {
            LiveEvent::Rejected { error, .. } | LiveEvent::Unavailable { error } => error.clone(),
            LiveEvent::Reloaded { .. } => String::new(),
        };
        lock(&self.status).last_error = Some((text.clone(), SystemTime::now()));
        tracing::warn!(error = %text, "live script not reloaded; the previous version keeps serving");
        self.emit(&event);
    }

    fn emit(&self, event: &LiveEvent) {
        if let Some(callback) = &self.on_event {
            callback(event);
        }
    }
}

impl LiveEvaluatorBuilder {
    /// Starts from `initial`, replaced only by [`LiveEvaluator::replace`].
    pub fn source(mut self, initial: Source) -> Self {
        self.origin = Some(OriginConfig::Manual(initial));
        self
    }

    /// Watches the file at `path` (the first version is read from it).
    pub fn watch_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.origin = Some(OriginConfig::File(path.into()));
        self
    }

    /// Polls `loader`'s URL every `interval` (the first version is fetched
    /// from it), with its authentication and limits.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn poll_http(mut self, loader: crate::loader::HttpLoader, interval: Duration) -> Self {
        self.origin = Some(OriginConfig::Http(loader, interval));
        self
    }

    /// How long a file must stay unchanged before it is reloaded (default
    /// 100 ms: an editor's save is several writes).
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// Called on every reload and every failure (from the thread that saw
    /// the change).
    pub fn on_event(mut self, callback: impl Fn(&LiveEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Box::new(callback));
        self
    }

    /// Compiles the first version and starts watching or polling.
    pub fn build(self) -> Result<LiveEvaluator> {
        let Some(origin) = self.origin else {
            return Err(Error::Unsupported {
                message: "a live evaluator needs a first version: call source, watch_file or \
                          poll_http on its builder"
                    .into(),
            });
        };
        let source_origin;
        let (first, origin) = match origin {
            OriginConfig::Manual(source) => {
                source_origin = source.origin().clone();
                (source, Origin::Manual)
            }
            OriginConfig::File(path) => {
                source_origin = crate::source::Origin::File(path.clone());
                (FileLoader::new(&path).load()?, Origin::File(path))
            }
            #[cfg(feature = "http")]
            OriginConfig::Http(loader, interval) => {
                source_origin = crate::source::Origin::Url(loader.url().to_owned());
                let poller = poll::Poller::new(loader, interval);
                let first = poller.fetch()?.ok_or_else(|| {
                    Error::load(poller.url(), "the first fetch answered 304 Not Modified")
                })?;
                (first, Origin::Http(poller))
            }
        };
        let script_id = first.id();
        let evaluator = (self.build)(first)?;
        let limits = *evaluator.limits();
        let live = LiveEvaluator {
            inner: Arc::new(Inner {
                limits,
                source_origin,
                current: ArcSwap::from_pointee(evaluator),
                build: self.build,
                origin,
                status: Mutex::new(LiveStatus {
                    script_id,
                    since: SystemTime::now(),
                    reloads: 0,
                    last_error: None,
                }),
                on_event: self.on_event,
                reloading: Mutex::new(()),
                _watcher: Mutex::new(None),
            }),
        };
        match &live.inner.origin {
            Origin::Manual => {}
            Origin::File(path) => {
                let watcher = watch::Watcher::start(path, self.debounce, live.weak())?;
                *lock(&live.inner._watcher) = Some(watcher);
            }
            #[cfg(feature = "http")]
            Origin::Http(poller) => poller.start(live.weak()),
        }
        Ok(live)
    }
}

impl fmt::Debug for LiveEvaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveEvaluator")
            .field("current", &self.script_id())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// A poisoned lock only means a panic elsewhere (e.g. in a callback); the
/// data is plain.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reloads the live evaluator behind `weak`, if it still exists (for the
/// watcher and the poller threads).
fn reload_weak(weak: &Weak<Inner>) -> bool {
    match weak.upgrade() {
        Some(inner) => {
            let _ = LiveEvaluator { inner }.reload();
            true
        }
        None => false,
    }
}
