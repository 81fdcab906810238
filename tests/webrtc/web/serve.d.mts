export interface PageServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the web phone over HTTPS; `config` becomes `config.json` (the form's defaults). */
export function startPageServer(options: {
  host?: string;
  port?: number;
  key: string | Buffer;
  cert: string | Buffer;
  config?: Record<string, string>;
}): Promise<PageServer>;
