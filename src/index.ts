/**
 * `agent-progress-gateway`: the gateway as a library, for embedding it in another Node process
 * (`buildApp(loadConfig())` and `start()`). Agents import `agent-progress-gateway/agent` instead.
 */
export { buildApp, type App, type AppOptions } from './app.js';
export { loadConfig, DEFAULT_CONFIG, type GatewayConfig } from './config.js';
