/** Parses `host:port` (or `[v6]:port`) from a SBC_TEST_* variable, naming the variable when it is wrong. */
export function parseHostPort(spec: string, variable: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(spec.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port < 1 || port > 65535) {
    throw new Error(`${variable}=${spec} is not host:port`);
  }
  return { host: match[1], port };
}
