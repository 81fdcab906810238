/** The part of rtpengine-client (the NG protocol over UDP) this app uses; the package ships no types. */
declare module 'rtpengine-client' {
  import type { Socket } from 'node:dgram';
  import type { EventEmitter } from 'node:events';

  /** An NG dictionary: strings, numbers, lists and nested dictionaries. */
  export type NgValue = string | number | NgValue[] | { [key: string]: NgValue };
  export type NgMessage = Record<string, NgValue>;
  /** rtpengine's answer: `result` is `ok`, `pong` or `error` (with `error-reason`). */
  export interface NgAnswer {
    result: string;
    'error-reason'?: string;
    sdp?: string;
    [key: string]: NgValue | undefined;
  }

  export interface ClientOptions {
    localPort?: number;
    localAddress?: string;
    /** ms before a command fails with "rtpengine timeout". */
    timeout?: number;
    rejectOnError?: boolean;
  }

  type Command = (port: number, host: string, message?: NgMessage) => Promise<NgAnswer>;

  export class Client extends EventEmitter {
    constructor(options: ClientOptions);
    /** The NG socket. */
    readonly socket: Socket;
    ping: Command;
    offer: Command;
    answer: Command;
    delete: Command;
    query: Command;
    blockMedia: Command;
    unblockMedia: Command;
    blockDTMF: Command;
    unblockDTMF: Command;
    playDTMF: Command;
    subscribeRequest: Command;
    subscribeAnswer: Command;
    unsubscribe: Command;
    statistics: Command;
    close(): void;
    on(event: 'listening', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  export class RtpEngineError extends Error {}
}
