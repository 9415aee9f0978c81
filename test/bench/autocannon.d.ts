/** The part of autocannon's API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
    total: number;
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    headers?: Record<string, string>;
    /** Called with each connection's client as it is created. */
    setupClient?: (client: Client) => void;
  }
  /** The connection object autocannon hands to setupClient (lib/httpClient.js); only what the bench touches. */
  export interface Client {
    pipelinedRequests: { addBody(data: Buffer): void };
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
