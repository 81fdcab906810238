export { Engine, type EngineOptions } from './core/engine.js';
export type { EngineConfig, EngineLogger } from './core/context.js';
export { EngineMetrics } from './metrics.js';
export { parseCliOptions, parseContact, CliUsageError, type CliOptions } from './cli-options.js';
export { ENGINE_VERSION } from './control/control-server.js';
export { createTransportLayer } from './transport/index.js';
export type * from './transport/types.js';
export { createTransactionLayer } from './transaction/index.js';
export type * from './transaction/types.js';
