/**
 * The slice of drachtio-srf's API these tests drive, typed (srf's bundled declarations lack the
 * per-method handlers and the callback form of request()).
 */
import type { Server } from 'node:net';
import Srf from 'drachtio-srf';

export interface TestRequest {
  method: string;
  protocol: string;
  source_address: string;
  source_port: number;
  body: string;
  get(name: string): string;
  has(name: string): boolean;
  /** The txnId the engine gave the request (drachtio's transaction id). */
  stackTxnId: string;
  on(event: 'cancel', listener: () => void): void;
  /** An UPDATE in the early dialog of this (unanswered) INVITE. */
  on(event: 'update', listener: (req: TestRequest, res: TestResponse) => void): void;
}
export interface TestResponse {
  status: number;
  source_address: string;
  get(name: string): string;
  send(status: number, opts?: { headers?: Record<string, string>; body?: string }): void;
  send(status: number, reason: string, opts?: { headers?: Record<string, string>; body?: string }): void;
  /** A reliable provisional: `onPrack` runs when its PRACK arrives (srf answers the PRACK itself). */
  send(
    status: number,
    opts: { headers?: Record<string, string>; body?: string },
    callback: ((err: Error | undefined) => void) | undefined,
    onPrack: (prack: TestRequest) => void,
  ): void;
}
export interface TestDialog {
  id: string;
  on(event: 'destroy' | 'ack', listener: (...args: unknown[]) => void): void;
  on(event: 'info' | 'modify', listener: (req: TestRequest, res: TestResponse) => void): void;
  destroy(): Promise<void>;
  modify(sdp: string): Promise<void>;
  request(opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
}
export interface SentRequest {
  on(event: 'response', listener: (res: TestResponse) => void): void;
}
export type Handler = (req: TestRequest, res: TestResponse) => void;
export interface TestSrf {
  connect(opts: { host: string; port: number; secret: string }): void;
  listen(opts: { server: Server; secret: string }): void;
  disconnect(): void;
  on(event: 'connect', listener: (err: Error | undefined, hostport: string) => void): void;
  on(event: 'error' | 'disconnect', listener: (...args: unknown[]) => void): void;
  register(handler: Handler): void;
  options(handler: Handler): void;
  invite(handler: Handler): void;
  request(
    uri: string,
    opts: {
      method: string;
      headers?: Record<string, string>;
      body?: string;
      auth?: { username: string; password: string };
    },
    callback: (err: Error | undefined, req: SentRequest) => void,
  ): void;
  createB2BUA(
    req: TestRequest,
    res: TestResponse,
    uri: string,
    opts: { localSdpB?: string; auth?: { username: string; password: string } },
  ): Promise<{ uas: TestDialog; uac: TestDialog }>;
  createUAS(req: TestRequest, res: TestResponse, opts: { localSdp: string }): Promise<TestDialog>;
  proxyRequest(
    req: TestRequest,
    destination: string | string[],
    opts: { recordRoute?: boolean; followRedirects?: boolean; forking?: 'simultaneous' | 'sequential' },
  ): Promise<ProxyResult>;
}

/** What srf.proxyRequest resolves with: every final response a target sent, by target. */
export interface ProxyResult {
  connected: boolean;
  finalStatus: number;
  responses: { address: string; port: number; msgs: { status: number }[] }[];
}

export function newSrf(): TestSrf {
  return new Srf() as unknown as TestSrf;
}
