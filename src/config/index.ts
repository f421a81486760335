export { ConfigError, DEFAULT_CONFIG_DIR, envNameOf, loadConfig, redactConfig, type LoadConfigOptions } from './load';
export { configSchema, proxyHops, type Config, type AccountsConfig, type AuthConfig, type CallsConfig, type LogConfig, type MediaConfig, type MetricsConfig, type TurnConfig, type ClusterConfig, type PolicyConfig, type RoomsConfig, type SignalingConfig } from './schema';
