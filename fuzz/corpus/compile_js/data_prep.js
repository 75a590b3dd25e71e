// Static configuration (given when the evaluator was created) and per-request
// data (added with `prepare`) arrive merged in `ctx`. This script uses the
// `main(ctx)` form: the engine calls it and returns what it returns.
function main(ctx) {
  const config = ctx.config;
  return {
    greeting: `Hello, ${ctx.name}!`,
    message: `Processed by app version ${ctx.app_version} in ${ctx.environment}`,
    user_id: ctx.user_data.id,
    request_info: `${ctx.request.method} ${ctx.request.path}`,
    app_info: {
      version: ctx.app_version,
      environment: ctx.environment,
      timeout: config.timeout,
      max_retries: config.max_retries,
      dark_mode: config.feature_flags.dark_mode,
    },
  };
}
