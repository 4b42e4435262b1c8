export { ConnectionBudget, createProxy, type Proxy, type ProxyOptions } from './create-proxy.js';
export type { DrainResult, TargetSpec } from './target.js';
