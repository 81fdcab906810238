export { createTimeSeriesWriter, type TimeSeriesOptions, type TimeSeriesWriter } from './writer.js';
export type { BatcherStats } from './batcher.js';
export {
  DATABASES,
  SCHEMAS,
  alertPoint,
  callCountPoint,
  cdrPoint,
  type AlertRecord,
  type CallCount,
  type Cdr,
  type Database,
} from './measurements.js';
