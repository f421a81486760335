import { configSchema, loadConfig, type Config } from '../../src/config';

/** The default config with test overrides, validated like the real thing. */
export function testConfig(overrides: { [K in keyof Config]?: Partial<Config[K]> } = {}): Config {
	const base = loadConfig({ env: {} });
	const config = JSON.parse(JSON.stringify(base)) as Config;
	for (const [section, values] of Object.entries(overrides)) {
		Object.assign((config as Record<string, object>)[section] as object, values);
	}
	return configSchema.parse(config);
}
