export type * from './types.js';
export { createTransportLayer } from './layer.js';
export type {
  TransportLayerOptions,
  TransportLogger,
  TransportObserver,
  TransportTlsOptions,
} from './options.js';
export {
  TransportError,
  TransportBindError,
  TransportConfigError,
  NoEndpointError,
  PeerUnreachableError,
  MessageTooLargeError,
  UnroutableResponseError,
} from './errors.js';
export { stampTopVia } from './via-stamp.js';
export { SIP_WS_SUBPROTOCOL } from './websocket.js';
