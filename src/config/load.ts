import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema, SECRET_KEYS, type Config } from './schema';

/** A config that cannot be used; the message names each bad key, its value and what was expected. */
export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

export type LoadConfigOptions = {
	/** Folder holding default.yaml and $NODE_ENV.yaml. */
	configDir?: string;
	env?: NodeJS.ProcessEnv;
};

type Plain = { [key: string]: unknown };

/** Conventional environment names that stand for a config key. */
const ENV_SHORTCUTS: Record<string, string> = {
	PORT: 'http.port',
	MEDIA_PORT: 'media.port',
};

export const DEFAULT_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'config');

/**
 * Loads config/default.yaml, then config/$NODE_ENV.yaml, then environment
 * variables, validates the result once and returns it frozen.
 * @throws ConfigError naming every bad key.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
	const configDir = options.configDir ?? DEFAULT_CONFIG_DIR;
	const env = options.env ?? process.env;
	const sources = new Map<string, string>();

	const merged = readYaml(path.join(configDir, 'default.yaml'), true) ?? {};
	recordSources(merged, '', 'config/default.yaml', sources);

	if (env.NODE_ENV) {
		const file = path.join(configDir, `${env.NODE_ENV}.yaml`);
		const overrides = readYaml(file, false);
		if (overrides) {
			deepMerge(merged, overrides);
			recordSources(overrides, '', `config/${env.NODE_ENV}.yaml`, sources);
		}
	}

	applyEnv(merged, env, sources);

	const result = configSchema.safeParse(merged, { reportInput: true });
	if (!result.success) {
		throw new ConfigError(formatIssues(result.error.issues, sources));
	}
	return deepFreeze(result.data);
}

/** The environment variable name of a key: media.listenIp -> SWITCHYARD_MEDIA_LISTEN_IP. */
export function envNameOf(keyPath: string): string {
	return `SWITCHYARD_${keyPath.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase()}`;
}

/** The config with secrets replaced, for printing and logging. */
export function redactConfig(config: Readonly<Config>): Plain {
	const copy = JSON.parse(JSON.stringify(config)) as Plain;
	for (const key of SECRET_KEYS) {
		const parts = key.split('.');
		const last = parts.pop() as string;
		let node: unknown = copy;
		for (const part of parts) {
			node = (node as Plain | undefined)?.[part];
		}
		if (node && typeof node === 'object' && (node as Plain)[last] != null) {
			(node as Plain)[last] = '[redacted]';
		}
	}
	return copy;
}

function readYaml(file: string, required: boolean): Plain | undefined {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (err) {
		if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}
		throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
	}
	let parsed: unknown;
	try {
		parsed = YAML.parse(text);
	} catch (err) {
		throw new ConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
	}
	if (parsed == null) {
		return {};
	}
	if (typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw new ConfigError(`${file}: expected a mapping of sections`);
	}
	return parsed as Plain;
}

function isPlain(value: unknown): value is Plain {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(target: Plain, source: Plain): void {
	for (const [key, value] of Object.entries(source)) {
		const existing = target[key];
		if (isPlain(existing) && isPlain(value)) {
			deepMerge(existing, value);
		} else {
			target[key] = value;
		}
	}
}

function recordSources(node: Plain, prefix: string, source: string, sources: Map<string, string>): void {
	for (const [key, value] of Object.entries(node)) {
		const keyPath = prefix ? `${prefix}.${key}` : key;
		if (isPlain(value)) {
			recordSources(value, keyPath, source, sources);
		} else {
			sources.set(keyPath, source);
		}
	}
}

/** Every leaf key path of the config, as read from the default file. */
function leafPaths(node: Plain, prefix = ''): string[] {
	return Object.entries(node).flatMap(([key, value]) => {
		const keyPath = prefix ? `${prefix}.${key}` : key;
		return isPlain(value) ? leafPaths(value, keyPath) : [keyPath];
	});
}

function applyEnv(merged: Plain, env: NodeJS.ProcessEnv, sources: Map<string, string>): void {
	const known = new Map<string, string>();
	for (const keyPath of leafPaths(merged)) {
		known.set(envNameOf(keyPath), keyPath);
	}
	for (const [name, keyPath] of Object.entries(ENV_SHORTCUTS)) {
		known.set(name, keyPath);
	}

	// NOTE: a misspelt variable for a known section is an error, not silently
	// ignored: SWITCHYARD_MEDIA_WORKER=4 must not leave the default in place.
	const sections = new Set(Object.keys(merged).map((s) => envNameOf(s)));
	for (const name of Object.keys(env)) {
		if (!known.has(name) && [...sections].some((s) => name.startsWith(`${s}_`))) {
			throw new ConfigError(`${name}: not a known setting (see config/default.yaml)`);
		}
	}

	for (const [name, keyPath] of known) {
		const raw = env[name];
		if (raw === undefined) {
			continue;
		}
		const parts = keyPath.split('.');
		const last = parts.pop() as string;
		let node = merged;
		for (const part of parts) {
			if (!isPlain(node[part])) {
				node[part] = {};
			}
			node = node[part] as Plain;
		}
		// NOTE: a list setting takes a comma-separated value.
		node[last] = Array.isArray(node[last])
			? raw.split(',').map((item) => item.trim()).filter(Boolean)
			: parseEnvValue(raw);
		sources.set(keyPath, `env ${name}`);
	}
}

/** Environment values are text; numbers, booleans and null are read as such. */
function parseEnvValue(raw: string): unknown {
	const value = raw.trim();
	if (/^-?\d+(\.\d+)?$/.test(value)) {
		return Number(value);
	}
	if (value === 'true' || value === 'false') {
		return value === 'true';
	}
	if (value === 'null' || value === '') {
		return null;
	}
	return raw;
}

function formatIssues(issues: z.core.$ZodIssue[], sources: Map<string, string>): string {
	const lines = issues.map((issue) => {
		const keyPath = issue.path.join('.');
		if (issue.code === 'unrecognized_keys') {
			return `${keyPath || '(top level)'}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
		}
		// zod's own messages read "Invalid input: expected number, received string".
		let expected = issue.message.replace(/^(Invalid input|Invalid option|Too small|Too big): /, '');
		expected = expected.replace(/, received \w+$/, '');
		// NOTE: a list of secrets (auth.apiKeys) reports its items as auth.apiKeys.0, ...: their key counts.
		const secretKey = [...SECRET_KEYS].find((key) => keyPath === key || keyPath.startsWith(`${key}.`));
		const source = sources.get(secretKey ?? keyPath);
		const shown = secretKey ? '[redacted]' : JSON.stringify(issue.input);
		const got = issue.input !== undefined ? `, got ${shown}` : '';
		return `${keyPath}: ${expected}${got}${source ? ` (from ${source})` : ''}`;
	});
	return `invalid configuration:\n  ${lines.join('\n  ')}`;
}

function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object') {
		for (const child of Object.values(value)) {
			deepFreeze(child);
		}
		Object.freeze(value);
	}
	return value;
}
