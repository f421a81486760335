export { ConfigError, DEFAULT_CONFIG_DIR, envNameOf, loadConfig, redactConfig, type LoadConfigOptions } from './load';
export { configSchema, type Config, type LogConfig, type MediaConfig } from './schema';
